-- Records requests (demandes CADA, issue 14): a member records a request for administrative
-- documents they sent to an administration about a city (CRPA L. 311-1), and follows it to the
-- end: the answer, the implicit refusal after a month of silence, the referral to the CADA, its
-- opinion, the documents obtained. Moderated like posts; every status change is kept.
-- The rules (order of statuses, deadlines) live in forum/models/requests.py.

create table records_requests (
    id integer primary key,
    board_id integer not null references boards (id),
    author_id integer not null references users (id),
    administration text not null check (administration <> ''),
    documents text not null check (documents <> ''),   -- the documents asked, as written
    channel text not null check (channel in ('mail', 'email', 'online', 'hand')),
    sent_on text not null check (sent_on glob '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    -- When the administration received it, if the requester knows (a receipt): deadlines run
    -- from it; otherwise from sent_on, and the pages say so.
    received_on text check (received_on is null
        or received_on glob '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    -- The latest recorded status and its date (request_events holds them all).
    status text not null default 'sent' check (status in ('sent', 'answered',
        'answered_part', 'refused', 'cada_referral', 'cada_favourable', 'cada_unfavourable',
        'obtained', 'abandoned')),
    status_on text not null,
    -- The computed dates (models/requests.py), stored so lists and filters read them in SQL.
    refusal_on text not null,        -- implicit refusal if still unanswered: received + 1 month
    review text not null default 'published' check (review in ('published', 'pending',
        'rejected')),
    decided_by integer references users (id),
    decided_at text,
    reject_reason text,
    created_at text not null,
    published_at text
);
create index records_requests_by_board on records_requests (board_id, sent_on);
create index records_requests_by_author on records_requests (author_id, id);
create index records_requests_pending on records_requests (review, id) where review = 'pending';
create index records_requests_open on records_requests (status, refusal_on);

-- Every status a request went through, with its date and the requester's note (a status that
-- goes back needs one: why the earlier record was wrong).
create table request_events (
    id integer primary key,
    request_id integer not null references records_requests (id),
    status text not null,
    happened_on text not null check (happened_on glob '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    note text not null default '',
    author_id integer not null references users (id),
    created_at text not null
);
create index request_events_by_request on request_events (request_id, id);

-- The files of a request: a copy of the letter sent, the documents received. Uploaded and
-- cleaned as attachments (forum/uploads); seen by whoever may see the request.
create table request_files (
    request_id integer not null references records_requests (id),
    upload_id integer not null unique references uploads (id),
    role text not null check (role in ('letter', 'document')),
    event_id integer references request_events (id),
    position integer not null,
    primary key (request_id, upload_id)
);

-- Deadlines already told (the periodic job in models/requests.py): each once, whatever the
-- number of servers' rounds or restarts.
create table request_deadline_notices (
    request_id integer not null references records_requests (id),
    deadline text not null check (deadline in ('implicit_refusal', 'cada_referral',
        'cada_opinion', 'administration_reply')),
    due_on text not null,
    notified_at text not null,
    primary key (request_id, deadline, due_on)
);

alter table notifications add column request_id integer references records_requests (id);

-- The journal records decisions on requests: SQLite cannot change a CHECK in place.
create table moderation_log_new (
    id integer primary key,
    moderator_id integer not null references users (id),
    action text not null check (action in ('approve', 'reject', 'edit', 'delete', 'restore',
        'lock', 'unlock', 'pin', 'unpin', 'move', 'warn', 'suspend', 'ban', 'lift', 'trust',
        'distrust', 'dismiss_flags', 'hide', 'purge')),
    target_kind text not null check (target_kind in ('post', 'thread', 'user', 'finding',
        'request')),
    target_id integer not null,
    board_id integer references boards (id),
    reason text not null default '',
    reason_private integer not null default 0 check (reason_private in (0, 1)),
    created_at text not null
);
insert into moderation_log_new select id, moderator_id, action, target_kind, target_id,
    board_id, reason, reason_private, created_at from moderation_log;
drop table moderation_log;
alter table moderation_log_new rename to moderation_log;
create index moderation_log_recent on moderation_log (id desc);
