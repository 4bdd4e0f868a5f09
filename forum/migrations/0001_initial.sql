-- Accounts, sessions, city boards, threads, posts and their revisions.
-- Times are ISO 8601 UTC text ('2026-11-23T14:42:00.000Z'): readable and sortable.

-- A member: pseudonymous; e-mail optional; password hashed with argon2id.
create table users (
    id integer primary key,
    name text not null,
    name_key text not null unique,        -- casefolded name: uniqueness ignores case
    email text,
    password_hash text not null,
    role text not null default 'member' check (role in ('member', 'moderator', 'admin')),
    locale text check (locale is null or locale in ('fr', 'en')),
    post_count integer not null default 0,
    created_at text not null
);

-- A server-side session; the cookie holds a random token, the table only its SHA-256.
create table sessions (
    id text primary key,                  -- sha256(token), hex
    user_id integer not null references users (id) on delete cascade,
    csrf_token text not null,
    created_at text not null,
    expires_at text not null
);
create index sessions_by_user on sessions (user_id);
create index sessions_by_expiry on sessions (expires_at);

-- A token for scripts (Authorization: Bearer); the table only keeps its SHA-256.
create table api_tokens (
    id integer primary key,
    user_id integer not null references users (id) on delete cascade,
    token_hash text not null unique,
    label text not null default '',
    created_at text not null,
    revoked_at text
);

-- A city board (or a general one): the home of a town's threads.
create table boards (
    id integer primary key,
    slug text not null unique check (
        slug <> '' and slug not glob '*[^a-z0-9-]*' and slug not glob '-*' and slug not glob '*-'),
    name text not null,
    region text not null default '',
    description text not null default '',
    position integer not null default 0,
    thread_count integer not null default 0,   -- public threads
    post_count integer not null default 0,     -- public posts
    last_post_at text,
    created_at text not null
);

-- Former slugs of renamed boards, so that old links keep working.
create table board_aliases (
    slug text primary key,
    board_id integer not null references boards (id) on delete cascade
);

-- A thread in a board; counters cover public posts only.
create table threads (
    id integer primary key,
    board_id integer not null references boards (id),
    author_id integer not null references users (id),
    title text not null,
    status text not null default 'published' check (status in ('published', 'pending', 'rejected')),
    pinned integer not null default 0 check (pinned in (0, 1)),
    locked integer not null default 0 check (locked in (0, 1)),
    post_count integer not null default 0,
    views integer not null default 0,
    created_at text not null,
    last_post_at text not null,
    last_post_id integer
);
create index threads_by_board_activity on threads (board_id, pinned desc, last_post_at desc);
create index threads_by_author on threads (author_id);

-- A message: its Markdown source and the sanitized HTML cooked once at write time.
create table posts (
    id integer primary key,
    thread_id integer not null references threads (id),
    author_id integer not null references users (id),
    body_source text not null,
    body_html text not null,
    status text not null default 'published' check (status in ('published', 'pending', 'rejected')),
    created_at text not null,
    edited_at text,
    deleted_at text,                       -- tombstone: the text stays for moderators
    deleted_by integer references users (id),
    delete_reason text
);
create index posts_by_thread on posts (thread_id, id);
create index posts_by_author on posts (author_id, id);

-- Every version of a post, the first one included: nothing a member wrote is lost.
create table post_revisions (
    id integer primary key,
    post_id integer not null references posts (id),
    editor_id integer not null references users (id),
    body_source text not null,
    body_html text not null,
    created_at text not null
);
create index post_revisions_by_post on post_revisions (post_id, id);
