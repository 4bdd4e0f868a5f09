-- Full-text search over public posts, thread titles included (FTS5).
-- Only public text is ever indexed: a query cannot find a pending, rejected, hidden or deleted
-- post, whoever runs it. Triggers on posts and threads keep the index in step inside the
-- writer's transaction, so it commits (or rolls back) with the change itself.

-- What a search may find: the public posts, each with the title of its thread on the first one
-- (a thread whose first post is hidden or deleted is no longer found by its title).
-- The condition is permissions.PUBLIC_POST, less tombstones, in a published thread: keep both
-- in step (tests/test_search.py checks the index against what an anonymous reader sees).
-- Bytes 2 and 3 mark matches in snippets (models/search.py), so they never come from the text.
create view search_source as
select posts.id, posts.thread_id, threads.board_id, posts.author_id, posts.created_at,
    case when posts.id = (select min(first.id) from posts as first
                          where first.thread_id = posts.thread_id)
        then threads.title else '' end as title,
    replace(replace(posts.body_source, char(2), ' '), char(3), ' ') as body
from posts join threads on threads.id = posts.thread_id
where posts.status = 'published' and posts.hidden = 0 and posts.deleted_at is null
    and threads.status = 'published';

-- The indexed copy of each public post (id = posts.id): the content table of post_search, which
-- reads titles and bodies here to build snippets. `tags` puts the board and the author in the
-- index ("b12 u345"), so that these filters are cheap intersections inside FTS5.
create table search_docs (
    id integer primary key references posts (id) on delete cascade,
    board_id integer not null,             -- copies, kept in step by the triggers below
    author_id integer not null,
    created_at text not null,
    title text not null,
    body text not null,
    tags text not null generated always as ('b' || board_id || ' u' || author_id) virtual
);

-- Accent- and case-insensitive words ("equipement" finds "Équipement").
create virtual table post_search using fts5(
    title, body, tags,
    content = 'search_docs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Thread titles alone (rowid = the thread's first post): putting the posts whose title matches
-- first would cost a second walk through post_search, slow for words common in bodies; this
-- index is small. It stores its own text (titles are short).
create virtual table title_search using fts5(
    title, tags,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The first and last post id of each UTC day that has public posts: turns a date filter into a
-- rowid range FTS5 can seek to. Rows only grow (a post leaving the index does not narrow its
-- day): the range always covers the day, and created_at itself is still checked.
create table search_days (
    day text primary key,                  -- 'YYYY-MM-DD', UTC
    first_id integer not null,
    last_id integer not null
) without rowid;

-- search_docs -> post_search and title_search: the index only ever changes with its content row,
-- so the old values given to FTS5's 'delete' are always exactly those it indexed.
create trigger search_docs_insert after insert on search_docs begin
    insert into post_search (rowid, title, body, tags)
        values (new.id, new.title, new.body, new.tags);
    insert into title_search (rowid, title, tags)
        select new.id, new.title, new.tags where new.title <> '';
    insert into search_days (day, first_id, last_id)
        values (substr(new.created_at, 1, 10), new.id, new.id)
        on conflict (day) do update set first_id = min(first_id, excluded.first_id),
                                        last_id = max(last_id, excluded.last_id);
end;

create trigger search_docs_delete after delete on search_docs begin
    insert into post_search (post_search, rowid, title, body, tags)
        values ('delete', old.id, old.title, old.body, old.tags);
    delete from title_search where rowid = old.id;
end;

-- (The triggers below never update a row, they replace it; this one is for hands at a prompt.)
create trigger search_docs_update after update on search_docs begin
    insert into post_search (post_search, rowid, title, body, tags)
        values ('delete', old.id, old.title, old.body, old.tags);
    insert into post_search (rowid, title, body, tags)
        values (new.id, new.title, new.body, new.tags);
    delete from title_search where rowid = old.id;
    insert into title_search (rowid, title, tags)
        select new.id, new.title, new.tags where new.title <> '';
    insert into search_days (day, first_id, last_id)
        values (substr(new.created_at, 1, 10), new.id, new.id)
        on conflict (day) do update set first_id = min(first_id, excluded.first_id),
                                        last_id = max(last_id, excluded.last_id);
end;

-- posts and threads -> search_docs: a changed post (or every post of a changed thread) is taken
-- out and put back as search_source now sees it, that is, only if it is public. Updates of
-- other columns (counters, decided_by, body_html by `rerender`) leave the index alone.
create trigger search_post_insert after insert on posts begin
    insert into search_docs (id, board_id, author_id, created_at, title, body)
        select id, board_id, author_id, created_at, title, body from search_source
        where id = new.id;
end;

create trigger search_post_update after update of body_source, status, hidden, deleted_at,
    thread_id, author_id, created_at on posts
begin
    delete from search_docs where id = new.id;
    insert into search_docs (id, board_id, author_id, created_at, title, body)
        select id, board_id, author_id, created_at, title, body from search_source
        where id = new.id;
end;

create trigger search_thread_update after update of title, status, board_id on threads
begin
    delete from search_docs where id in (select id from posts where thread_id = new.id);
    insert into search_docs (id, board_id, author_id, created_at, title, body)
        select id, board_id, author_id, created_at, title, body from search_source
        where thread_id = new.id;
end;

-- What was public before this migration.
insert into search_docs (id, board_id, author_id, created_at, title, body)
    select id, board_id, author_id, created_at, title, body from search_source;
