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
-- Bytes 2 and 3 never occur in it (they mark matches in snippets).
create table document_pages (
    id integer primary key,
    upload_id integer not null references uploads (id) on delete cascade,
    page integer not null check (page >= 0),
    text text not null check (text <> '')
);
create index document_pages_by_upload on document_pages (upload_id, page);

create virtual table document_search using fts5(
    text,
    content = 'document_pages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

create trigger document_pages_insert after insert on document_pages begin
    insert into document_search (rowid, text) values (new.id, new.text);
end;

create trigger document_pages_delete after delete on document_pages begin
    insert into document_search (document_search, rowid, text) values ('delete', old.id, old.text);
end;

create trigger document_pages_update after update on document_pages begin
    insert into document_search (document_search, rowid, text) values ('delete', old.id, old.text);
    insert into document_search (rowid, text) values (new.id, new.text);
end;
