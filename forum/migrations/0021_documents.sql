-- Text inside attached files is searchable (issue 18). The upload worker reads the text of each
-- cleaned document (forum/uploads/text.py); it is stored here, a row per PDF page (one row for
-- other documents), and indexed with the same accent-insensitive words as posts.
-- Unlike post_search, this index holds the text of every document, attached or not: who may
-- find a page is decided at query time from the post the file is attached to
-- (permissions.post_filter, in forum/models/documents.py), so that a file follows its post
-- through every state without triggers on posts.

-- What became of a file's text: 'pending' (not read yet: files from before this migration,
-- until `vigie reindex-files`), 'none' (a picture), 'indexed', 'partial' (too long: the first
-- part is searchable), 'empty' (no text), 'scanned' (a PDF whose pages are pictures),
-- 'stopped' (reading was stopped: text_note says why, the file itself is kept).
alter table uploads add column text_status text not null default 'pending'
    check (text_status in ('pending', 'none', 'indexed', 'partial', 'empty', 'scanned',
                           'stopped'));
alter table uploads add column text_note text not null default '';  -- text.py: 'pages', 'stream'…
update uploads set text_status = 'none'
    where kind not in ('pdf', 'odt', 'ods', 'odp', 'docx', 'xlsx', 'pptx', 'csv', 'text');

-- A page of a document's text (page 0: a document without pages). Erased with its file.
-- Its id is upload_id * 4096 + page, so that a search reads the document and the page of each
-- match from the index alone (a PDF has at most 2 000 pages read: text.MAX_PAGES).
-- `tags` copies, for the index, who may find it: '' while the file is attached to no post (or
-- to a deleted one), else 'att b<board> u<author>' and ' pub' when anyone may read the post —
-- the tokens of permissions.post_filter, kept by the triggers below as post_search's are.
-- models/documents.py checks post_filter again on every result it shows.
-- Bytes 2 and 3 never occur in the text (they mark matches in snippets).
create table document_pages (
    id integer primary key check (id = upload_id * 4096 + page),
    upload_id integer not null references uploads (id) on delete cascade,
    page integer not null check (page >= 0 and page < 4096),
    text text not null check (text <> ''),
    tags text not null default ''
);
create index document_pages_by_upload on document_pages (upload_id, page);
-- Also without `pragma foreign_keys` (vigie backup edits its copy with a plain connection).
create trigger document_pages_of_upload after delete on uploads begin
    delete from document_pages where upload_id = old.id;
end;

create virtual table document_search using fts5(
    text, tags,
    content = 'document_pages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

create trigger document_pages_insert after insert on document_pages begin
    insert into document_search (rowid, text, tags) values (new.id, new.text, new.tags);
end;

create trigger document_pages_delete after delete on document_pages begin
    insert into document_search (document_search, rowid, text, tags)
        values ('delete', old.id, old.text, old.tags);
end;

create trigger document_pages_update after update on document_pages begin
    insert into document_search (document_search, rowid, text, tags)
        values ('delete', old.id, old.text, old.tags);
    insert into document_search (rowid, text, tags) values (new.id, new.text, new.tags);
end;

-- The tags of each attached file, from its post and thread: permissions.readable_post for
-- ' pub' (keep them in step; tests/test_leak_matrix.py checks every state and role).
create view document_tags as
select post_attachments.upload_id,
    case when posts.deleted_at is not null then ''
        else 'att b' || threads.board_id || ' u' || posts.author_id
            || case when posts.status = 'published' and posts.hidden = 0
                         and threads.status = 'published' then ' pub' else '' end
    end as tags
from post_attachments join posts on posts.id = post_attachments.post_id
    join threads on threads.id = posts.thread_id;

-- Attached, detached, a post or thread changed: the pages whose tags change are indexed again
-- (only those: `tags <> …`), in the writer's transaction.
create trigger document_tags_attach after insert on post_attachments begin
    update document_pages set tags = coalesce(
            (select tags from document_tags where upload_id = new.upload_id), '')
        where upload_id = new.upload_id and tags <> coalesce(
            (select tags from document_tags where upload_id = new.upload_id), '');
end;

create trigger document_tags_detach after delete on post_attachments begin
    update document_pages set tags = '' where upload_id = old.upload_id and tags <> '';
end;

create trigger document_tags_post after update of status, hidden, deleted_at, author_id,
    thread_id on posts
begin
    update document_pages set tags = coalesce(
            (select tags from document_tags where upload_id = document_pages.upload_id), '')
        where upload_id in (select upload_id from post_attachments where post_id = new.id)
            and tags <> coalesce((select tags from document_tags
                                  where upload_id = document_pages.upload_id), '');
end;

create trigger document_tags_thread after update of status, board_id on threads begin
    update document_pages set tags = coalesce(
            (select tags from document_tags where upload_id = document_pages.upload_id), '')
        where upload_id in (select post_attachments.upload_id from post_attachments
                            join posts on posts.id = post_attachments.post_id
                            where posts.thread_id = new.id)
            and tags <> coalesce((select tags from document_tags
                                  where upload_id = document_pages.upload_id), '');
end;
