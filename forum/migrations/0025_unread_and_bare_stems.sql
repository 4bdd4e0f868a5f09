-- Unread tracking (issue 16): where each member stopped reading, kept compactly; and search
-- stems of words without their accents. Reads are counted in memory on the read path and
-- written in batches by each process (forum/reads.py), always with max(): a read mark never
-- goes back, whatever process flushes last.

-- The last post a member read in a thread (the highest id of a page they were shown). A post
-- with a higher id, that they may see and did not write, is new to them.
create table thread_reads (
    user_id integer not null references users (id),
    thread_id integer not null references threads (id),
    last_read_post_id integer not null,
    primary key (user_id, thread_id)
) without rowid;
create index thread_reads_by_thread on thread_reads (thread_id);

-- "Mark the board as read": every post up to `read_before` (the highest post id then) counts as
-- read in that board, read or not, so that one row replaces a row per thread.
create table board_reads (
    user_id integer not null references users (id),
    board_id integer not null references boards (id),
    read_before integer not null,
    primary key (user_id, board_id)
) without rowid;

-- Search (issue 16): the stems of a post now include its words without accents (and the parts
-- of compounds such as "vidéoprotection"), so that "camera" finds "caméras" (forum/stems.py).
-- Every indexed post is stemmed again here (search_stems: registered by migrate.py).
delete from stem_search;
insert into stem_search (rowid, title, body, tags, context)
    select search_docs.id, search_stems(search_docs.title), search_stems(search_docs.body),
        search_docs.tags, search_stems(threads.title || ' ' || boards.name)
    from search_docs join posts on posts.id = search_docs.id
    join threads on threads.id = posts.thread_id join boards on boards.id = threads.board_id;
delete from stem_queue;
