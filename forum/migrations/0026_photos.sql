-- Photos in posts and files kept with drafts (issue 16).

-- The smaller copies of an image, made when it is stored (forum/uploads/images.py save_sizes):
-- a post shows the one that fits the screen (srcset). Each is a JPEG re-encoded from the
-- cleaned pixels, stored once by content like the file itself. An image with no row here was
-- stored before this migration: `vigie thumbnails` makes its copies.
create table upload_sizes (
    upload_id integer not null references uploads (id) on delete cascade,
    width integer not null check (width > 0),
    height integer not null check (height > 0),
    sha256 text not null check (length(sha256) = 64 and sha256 not glob '*[^0-9a-f]*'),
    primary key (upload_id, width)
);
create index upload_sizes_by_sha on upload_sizes (sha256);

-- The files sent with a draft, in order: kept (not purged as unattached) while the draft is, and
-- given back with its text on any device.
create table draft_attachments (
    draft_id integer not null references drafts (id) on delete cascade,
    upload_id integer not null references uploads (id) on delete cascade,
    position integer not null,
    primary key (draft_id, upload_id)
);
create index draft_attachments_by_upload on draft_attachments (upload_id);
