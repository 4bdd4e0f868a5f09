-- The watch board: structured facts about a city's surveillance equipment, each with its
-- sources, moderated like posts, every version kept.

-- Boards that stand for a city have a watch page and findings; national boards do not.
alter table boards add column is_city integer not null default 1 check (is_city in (0, 1));

-- Kinds of equipment. The built-in labels are English msgids translated on display
-- (forum/models/findings.py lists them); an administrator's new kinds show as typed.
create table finding_kinds (
    id integer primary key,
    slug text not null unique check (
        slug <> '' and slug not glob '*[^a-z0-9-]*' and slug not glob '-*' and slug not glob '*-'),
    label text not null check (label <> ''),
    position integer not null default 0,
    created_at text not null
);
insert into finding_kinds (slug, label, position, created_at) values
    ('cameras', 'Video-surveillance cameras', 10, '2026-11-23T00:00:00.000Z'),
    ('thermal-cameras', 'Thermal cameras', 20, '2026-11-23T00:00:00.000Z'),
    ('sound-sensors', 'Sound sensors', 30, '2026-11-23T00:00:00.000Z'),
    ('drones', 'Drones', 40, '2026-11-23T00:00:00.000Z'),
    ('facial-recognition', 'Facial recognition', 50, '2026-11-23T00:00:00.000Z'),
    ('video-analysis', 'Automated video analysis', 60, '2026-11-23T00:00:00.000Z'),
    ('plate-readers', 'Licence-plate readers', 70, '2026-11-23T00:00:00.000Z'),
    ('body-cameras', 'Body cameras', 80, '2026-11-23T00:00:00.000Z'),
    ('supervision-centre', 'Supervision centre', 90, '2026-11-23T00:00:00.000Z'),
    ('data-platform', 'Data platform', 100, '2026-11-23T00:00:00.000Z'),
    ('other', 'Other', 1000, '2026-11-23T00:00:00.000Z');

-- A fact about a city: a kind of equipment, maybe a quantity, its status at a date.
-- `observed` is the date it holds for, as precise as the source: 2008, 2014-11 or 2020-03-10.
-- `review` is the moderation state (as posts.status); `status` is the equipment's.
create table findings (
    id integer primary key,
    board_id integer not null references boards (id),
    kind_id integer not null references finding_kinds (id),
    quantity real check (quantity is null or quantity >= 0),
    unit text check (unit in ('count', 'eur', 'eur-per-year', 'km2', 'agents', 'days',
        'percent')),
    observed text not null check (
        observed glob '[12][0-9][0-9][0-9]'
        or observed glob '[12][0-9][0-9][0-9]-[01][0-9]'
        or observed glob '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    status text not null check (status in ('planned', 'voted', 'installed', 'in-use',
        'abandoned', 'removed', 'forbidden')),
    place text not null default '',
    latitude real check (latitude between -90 and 90),
    longitude real check (longitude between -180 and 180),
    note text not null default '',
    author_id integer not null references users (id),
    review text not null default 'published' check (review in ('published', 'pending',
        'rejected')),
    decided_by integer references users (id),
    decided_at text,
    reject_reason text,
    created_at text not null,
    published_at text,                     -- when it became public: the order of the feed
    edited_at text,
    deleted_at text,                       -- tombstone: kept for moderators and the history
    deleted_by integer references users (id),
    delete_reason text,
    check ((quantity is null) = (unit is null)),
    check ((latitude is null) = (longitude is null))
);
create index findings_by_board on findings (board_id, observed);
create index findings_by_kind on findings (kind_id, observed);
create index findings_by_author on findings (author_id, id);
create index findings_pending on findings (review, id) where review = 'pending';
create index findings_published on findings (published_at) where review = 'published';

-- Where a finding comes from: a post of the forum, a file attached to a post (post_id is then
-- that post: the file is seen by whoever sees it), or a page elsewhere. At least one each.
create table finding_sources (
    id integer primary key,
    finding_id integer not null references findings (id),
    position integer not null,
    kind text not null check (kind in ('post', 'file', 'link')),
    post_id integer references posts (id),
    upload_id integer references uploads (id),
    url text,
    label text not null default '',
    check (kind <> 'post' or (post_id is not null and upload_id is null and url is null)),
    check (kind <> 'file' or (post_id is not null and upload_id is not null and url is null)),
    check (kind <> 'link' or (post_id is null and upload_id is null and url is not null))
);
create index finding_sources_by_finding on finding_sources (finding_id, position);
create index finding_sources_by_post on finding_sources (post_id) where post_id is not null;

-- Every version of a finding, the first one included: its fields and sources as JSON, who
-- made it and why (a correction says what it corrects).
create table finding_revisions (
    id integer primary key,
    finding_id integer not null references findings (id),
    editor_id integer not null references users (id),
    data text not null check (json_valid(data)),
    reason text not null default '',
    created_at text not null
);
create index finding_revisions_by_finding on finding_revisions (finding_id, id);

-- Authors are told about decisions on their findings as on their posts.
alter table notifications add column finding_id integer references findings (id);

-- The journal now records decisions on findings: SQLite cannot change a CHECK in place.
create table moderation_log_new (
    id integer primary key,
    moderator_id integer not null references users (id),
    action text not null check (action in ('approve', 'reject', 'edit', 'delete', 'restore',
        'lock', 'unlock', 'pin', 'unpin', 'move', 'warn', 'suspend', 'ban', 'lift', 'trust',
        'distrust', 'dismiss_flags', 'hide')),
    target_kind text not null check (target_kind in ('post', 'thread', 'user', 'finding')),
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
