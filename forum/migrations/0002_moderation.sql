-- Moderation: per-board modes and moderators, trust, flags, sanctions, the public journal,
-- and the notifications that tell authors about decisions.

-- 'a-priori': everything from non-moderators waits; 'a-posteriori': published at once unless
-- the author is not trusted yet.
alter table boards add column moderation_mode text not null default 'a-posteriori'
    check (moderation_mode in ('a-priori', 'a-posteriori'));

-- Trust: automatic after enough approved posts, unless a moderator granted (1) or withdrew (0) it.
alter table users add column approved_count integer not null default 0;
alter table users add column rejected_count integer not null default 0;
alter table users add column trust_override integer check (trust_override in (0, 1));
-- Sanctions in force: a suspended or banned member can read but not write.
alter table users add column suspended_until text;
alter table users add column suspension_reason text;

-- A hidden post waits for review after enough flags from trusted members.
alter table posts add column hidden integer not null default 0 check (hidden in (0, 1));
alter table posts add column decided_by integer references users (id);
alter table posts add column decided_at text;
alter table posts add column reject_reason text;
create index posts_pending on posts (status, id) where status = 'pending';
create index posts_hidden on posts (id) where hidden = 1;

-- Moderators of one board (members with the global role 'moderator' moderate every board).
create table board_moderators (
    board_id integer not null references boards (id) on delete cascade,
    user_id integer not null references users (id) on delete cascade,
    primary key (board_id, user_id)
);
create index board_moderators_by_user on board_moderators (user_id);

-- A member's report that a post breaks the rules; one per member and post.
create table flags (
    id integer primary key,
    post_id integer not null references posts (id),
    user_id integer not null references users (id),
    reason text not null,
    created_at text not null,
    resolved_at text,
    resolved_by integer references users (id),
    unique (post_id, user_id)
);
create index flags_open on flags (post_id) where resolved_at is null;

-- Warnings, suspensions and bans, kept after they end.
create table sanctions (
    id integer primary key,
    user_id integer not null references users (id),
    moderator_id integer not null references users (id),
    kind text not null check (kind in ('warn', 'suspend', 'ban', 'lift')),
    until text,
    reason text not null,
    created_at text not null
);
create index sanctions_by_user on sanctions (user_id, id);

-- The public moderation journal: one row per action, written in the action's transaction.
create table moderation_log (
    id integer primary key,
    moderator_id integer not null references users (id),
    action text not null check (action in ('approve', 'reject', 'edit', 'delete', 'restore',
        'lock', 'unlock', 'pin', 'unpin', 'move', 'warn', 'suspend', 'ban', 'lift', 'trust',
        'distrust', 'dismiss_flags', 'hide')),
    target_kind text not null check (target_kind in ('post', 'thread', 'user')),
    target_id integer not null,
    board_id integer references boards (id),
    reason text not null default '',
    reason_private integer not null default 0 check (reason_private in (0, 1)),
    created_at text not null
);
create index moderation_log_recent on moderation_log (id desc);

-- What a member is told: here, moderation decisions about their posts (more kinds later).
create table notifications (
    id integer primary key,
    user_id integer not null references users (id) on delete cascade,
    kind text not null,
    post_id integer references posts (id),
    thread_id integer references threads (id),
    actor_id integer references users (id),
    text text not null default '',
    created_at text not null,
    read_at text
);
create index notifications_by_user on notifications (user_id, id desc);
create index notifications_unread on notifications (user_id) where read_at is null;
