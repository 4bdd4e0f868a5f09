-- Mentions, quotes and following: who is told when a post becomes public.

-- A member follows (every new post, or every new thread of a board) or mutes a thread/board.
create table follows (
    user_id integer not null references users (id) on delete cascade,
    target_kind text not null check (target_kind in ('board', 'thread')),
    target_id integer not null,
    mode text not null check (mode in ('follow', 'mute')),
    created_at text not null,
    primary key (user_id, target_kind, target_id)
);
create index follows_by_target on follows (target_kind, target_id, mode);

-- Starting or replying to a thread follows it, unless the member said otherwise.
alter table users add column follow_on_post integer not null default 1
    check (follow_on_post in (0, 1));

-- Members named with @pseudonym in a post (outside code, links and quotes), found at write
-- time from the parser's tokens; `notified` once the post is public and they were told.
create table post_mentions (
    post_id integer not null references posts (id),
    user_id integer not null references users (id),
    notified integer not null default 0 check (notified in (0, 1)),
    primary key (post_id, user_id)
);

-- Posts a post quotes (a link to /p/N introducing a quote), for telling their authors.
create table post_quotes (
    post_id integer not null references posts (id),
    quoted_post_id integer not null references posts (id),
    notified integer not null default 0 check (notified in (0, 1)),
    primary key (post_id, quoted_post_id)
);

-- Whether the followers of the thread (or board) were told about this post already.
alter table posts add column followers_notified integer not null default 0
    check (followers_notified in (0, 1));

create index notifications_by_thread on notifications (user_id, thread_id, read_at);

-- E-mails are built from notifications by the background mailer (never in a request):
-- `mailed_at` says it was handled (sent, queued in the outbox, or skipped).
alter table notifications add column mailed_at text;
create index notifications_to_mail on notifications (id) where mailed_at is null;
update posts set followers_notified = 1 where status = 'published';
-- Notifications made before e-mail existed are not mailed now.
update notifications set mailed_at = created_at;
