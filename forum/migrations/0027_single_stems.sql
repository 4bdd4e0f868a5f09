-- Search (issue 11): stem_search held each post twice since 0025, its stems as typed then
-- without accents, so that common words had twice the positions to read and searches cost up
-- to twice as much CPU. It now holds one stem per word, without accents, then once each the few
-- stems as typed that differ ("caméras": cam ... camer): the same words are found, phrases by
-- the stems without accents (forum/stems.py). Every indexed post is stemmed again here
-- (search_stems: registered by migrate.py; a forum's vocabulary is small, its words' stems are
-- cached).
-- Made again rather than emptied: a delete would read every row to write its tombstones.
drop table stem_search;
create virtual table stem_search using fts5(
    title, body, tags, context,
    tokenize = 'unicode61 remove_diacritics 2'
);
insert into stem_search (rowid, title, body, tags, context)
    select search_docs.id, search_stems(search_docs.title), search_stems(search_docs.body),
        search_docs.tags, search_stems(threads.title || ' ' || boards.name)
    from search_docs join posts on posts.id = search_docs.id
    join threads on threads.id = posts.thread_id join boards on boards.id = threads.board_id;
delete from stem_queue;
-- One segment: the rows above were written in batches of the insert's memory.
insert into stem_search (stem_search) values ('optimize');
