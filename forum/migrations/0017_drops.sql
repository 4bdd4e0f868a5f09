-- A protected drop for sources (issue 18): anyone, without an account, sends files and a short
-- message to a city's moderators. Nothing here can name the sender: no address, no user agent,
-- no time finer than the day, and the sender's code is kept only as its SHA-256. A drop is
-- erased for good (rows and files, no tombstone) when a moderator deletes it, or after
-- Config.drop_days. Never public: only the city's moderators (and global ones) see it.

create table drops (
    id integer primary key,
    board_id integer not null references boards (id),
    code_hash text not null unique check (length(code_hash) = 64),  -- sha256 of the code
    day text not null check (day glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')
);
create index drops_by_board on drops (board_id, id);
create index drops_by_day on drops (day);

-- The conversation: the sender's first message and replies, the moderators' answers.
create table drop_messages (
    id integer primary key,
    drop_id integer not null references drops (id) on delete cascade,
    moderator_id integer references users (id),  -- null: written by the sender
    body text not null check (body <> ''),
    day text not null check (day glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')
);
create index drop_messages_by_drop on drop_messages (drop_id, id);

-- A drop's files, cleaned like attachments and stored under data/drops/ (apart from members'
-- files: erasing a drop never touches them). Published, a file is copied into a post.
create table drop_files (
    id integer primary key,
    drop_id integer not null references drops (id) on delete cascade,
    sha256 text not null check (length(sha256) = 64 and sha256 not glob '*[^0-9a-f]*'),
    filename text not null check (filename <> ''),
    kind text not null,
    content_type text not null,
    size integer not null check (size > 0),
    width integer,
    height integer,
    thumbnail_sha256 text check (thumbnail_sha256 is null or length(thumbnail_sha256) = 64),
    removed text not null default '',
    published_post_id integer references posts (id)  -- the post it was published in, if any
);
create index drop_files_by_drop on drop_files (drop_id, id);
create index drop_files_by_sha on drop_files (sha256);
