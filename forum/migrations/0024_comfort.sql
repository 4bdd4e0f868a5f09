-- Everyday comfort (issue 16): French stems for search, and drafts kept on the server.

-- The stems of each indexed post (rowid = search_docs.id = posts.id), so that "drone" finds
-- "drones" and "oeuvre" "œuvre" (forum/stems.py). SQLite cannot stem: the triggers below only
-- queue the ids of changed search_docs rows, and the writer stems them in Python before its
-- COMMIT (forum/stems.py index_waiting), so the stems commit with the post. The table stores
-- its stems (not search_docs' text): deleting a row needs no recomputation. `context` holds the
-- thread's title and board's name on every post, so that "Metz drones" finds a reply about
-- drones in a thread of the Metz board (a board renamed later keeps its old name here until
-- its posts change).
create virtual table stem_search using fts5(
    title, body, tags, context,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Ids of search_docs rows whose stems are to be (re)computed or removed.
create table stem_queue (
    id integer primary key
);

create trigger stem_docs_insert after insert on search_docs begin
    insert or ignore into stem_queue (id) values (new.id);
end;

create trigger stem_docs_delete after delete on search_docs begin
    insert or ignore into stem_queue (id) values (old.id);
end;

create trigger stem_docs_update after update on search_docs begin
    insert or ignore into stem_queue (id) values (old.id);
    insert or ignore into stem_queue (id) values (new.id);
end;

-- What is indexed already (search_stems is registered by migrate.py, as forum/stems.py stems).
insert into stem_search (rowid, title, body, tags, context)
    select search_docs.id, search_stems(search_docs.title), search_stems(search_docs.body),
        search_docs.tags, search_stems(threads.title || ' ' || boards.name)
    from search_docs join posts on posts.id = search_docs.id
    join threads on threads.id = posts.thread_id join boards on boards.id = threads.board_id;

-- What a member was writing and has not sent: one draft per member and thread (a reply) and
-- per member and board (a new thread). Private to its author; erased when the message is sent.
create table drafts (
    id integer primary key,
    user_id integer not null references users (id) on delete cascade,
    thread_id integer references threads (id) on delete cascade,   -- a reply
    board_id integer references boards (id) on delete cascade,     -- a new thread
    title text not null default '',
    body text not null default '',
    updated_at text not null,
    check ((thread_id is null) <> (board_id is null))
);
create unique index drafts_reply on drafts (user_id, thread_id) where thread_id is not null;
create unique index drafts_thread on drafts (user_id, board_id) where board_id is not null;
