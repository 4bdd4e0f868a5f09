-- Attachments. A file is cleaned of its metadata (GPS position, device, author...) before it is
-- stored, once per content, as data/files/ab/cd/<sha256>; the name a member gave it is only
-- shown, never used on disk.

-- A file a member sent. Not attached to any post, it is visible to its owner only and removed
-- after a delay (Config.orphan_upload_hours).
create table uploads (
    id integer primary key,
    owner_id integer not null references users (id),
    sha256 text not null check (length(sha256) = 64 and sha256 not glob '*[^0-9a-f]*'),
    filename text not null check (filename <> ''),   -- cleaned: no path, controls or overrides
    kind text not null,                              -- forum/uploads/kinds.py: 'jpeg', 'pdf'...
    content_type text not null,
    size integer not null check (size > 0),          -- of the stored (cleaned) file
    width integer,                                   -- images only, in pixels
    height integer,
    thumbnail_sha256 text check (thumbnail_sha256 is null or length(thumbnail_sha256) = 64),
    removed text not null default '',                -- metadata taken out: codes, comma-separated
    created_at text not null
);
create index uploads_by_owner on uploads (owner_id, created_at);
create index uploads_by_sha on uploads (sha256);
create index uploads_by_thumbnail on uploads (thumbnail_sha256)
    where thumbnail_sha256 is not null;
create index uploads_by_age on uploads (created_at);

-- The files listed under a post, in order. A file belongs to one post at most, and only its
-- owner may attach it: it is seen by whoever may see that post.
create table post_attachments (
    post_id integer not null references posts (id),
    upload_id integer not null unique references uploads (id),
    position integer not null,
    primary key (post_id, upload_id)
);
