-- Search on PostgreSQL (issue 19): the same behaviour as SQLite's FTS5 tables (0003, 0020,
-- 0021, 0024, 0027), with tsvector columns and GIN indexes; forum/search_postgresql.py queries
-- them. Needs the `unaccent` extension (in PostgreSQL's contrib; Debian's server ships it).
--
-- Words are cut as FTS5's unicode61 tokenizer cuts them (letters and digits, anything else
-- between them a separator: no URLs, e-mails or HTML tags as PostgreSQL's parser would see
-- them), then lower-cased and stripped of their accents by the `vigie_words` configuration.
-- French stems are not PostgreSQL's own: they come from forum/stems.py (the same Snowball
-- French as on SQLite, with its compounds and accent variants), computed by the writer in
-- the same transaction (stems.index_waiting) and stored in stem_search.

create extension if not exists unaccent;

create text search configuration vigie_words (copy = pg_catalog.simple);
alter text search configuration vigie_words
    alter mapping for asciiword, word, numword, asciihword, hword, numhword,
        hword_asciipart, hword_part, hword_numpart
    with unaccent, pg_catalog.simple;

-- The words of a text, as tsvector (immutable: generated columns and indexes use it).
create function vigie_words(text) returns tsvector language sql immutable parallel safe
    return to_tsvector('vigie_words'::regconfig,
                       regexp_replace($1, '[^[:alnum:]]+', ' ', 'g'));

-- Posts: search_docs holds the public posts (its rows decided by the triggers below, in the
-- writer's transaction, as on SQLite); the title weighs A, the body D.
alter table search_docs add column words tsvector not null generated always as (
    setweight(vigie_words(title), 'A') || vigie_words(body)) stored;
create index search_docs_words on search_docs using gin (words);
-- The board and author filters walk these newest first (the matches are the most recent);
-- the date filters read their days' posts only (SQLite's search_days is not kept here).
create index search_docs_by_board on search_docs (board_id, id);
create index search_docs_by_author on search_docs (author_id, id);
create index search_docs_by_time on search_docs (created_at);

create function search_docs_of_post() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE' then
        delete from search_docs where id = new.id;
    end if;
    insert into search_docs (id, board_id, author_id, created_at, title, body)
        select id, board_id, author_id, created_at, title, body from search_source
        where id = new.id;
    return null;
end $$;
create trigger search_post_insert after insert on posts
    for each row execute function search_docs_of_post();
create trigger search_post_update after update of body_source, status, hidden, deleted_at,
    thread_id, author_id, created_at on posts
    for each row execute function search_docs_of_post();

create function search_docs_of_thread() returns trigger language plpgsql as $$
begin
    delete from search_docs where id in (select id from posts where thread_id = new.id);
    insert into search_docs (id, board_id, author_id, created_at, title, body)
        select id, board_id, author_id, created_at, title, body from search_source
        where thread_id = new.id;
    return null;
end $$;
create trigger search_thread_update after update of title, status, board_id on threads
    for each row execute function search_docs_of_thread();

-- The stems of each search_docs row (forum/stems.py stems): title A, body B, the thread's
-- title and board's name C. Rows whose stems are to be recomputed wait in stem_queue.
create table stem_search (
    id bigint primary key,
    title text not null,
    body text not null,
    context text not null,
    stems tsvector not null generated always as (
        setweight(to_tsvector('pg_catalog.simple'::regconfig, title), 'A')
        || setweight(to_tsvector('pg_catalog.simple'::regconfig, body), 'B')
        || setweight(to_tsvector('pg_catalog.simple'::regconfig, context), 'C')) stored
);
create index stem_search_stems on stem_search using gin (stems);

create function stem_queue_of_docs() returns trigger language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        insert into stem_queue (id) values (old.id) on conflict do nothing;
    end if;
    if tg_op <> 'DELETE' then
        insert into stem_queue (id) values (new.id) on conflict do nothing;
    end if;
    return null;
end $$;
create trigger stem_docs_change after insert or update or delete on search_docs
    for each row execute function stem_queue_of_docs();

-- What was public before this step (its stems: forum/migrate.py, right after this step).
insert into search_docs (id, board_id, author_id, created_at, title, body)
    select id, board_id, author_id, created_at, title, body from search_source
    on conflict (id) do nothing;

-- Documents' pages (0021): every page indexed, who may find it decided by its tags.
alter table document_pages add column words tsvector not null
    generated always as (vigie_words(text)) stored;
create index document_pages_words on document_pages using gin (words);

-- Findings' place and note (0020).
create index findings_words on findings using gin (vigie_words(place || ' ' || note));
