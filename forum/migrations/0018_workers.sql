-- Several server processes on one data folder (issue 13): what one process changed, so that the
-- others drop the same cached pages, and which process runs the jobs only one may run.

-- One row per committed transaction of forum.db.Database: the cache tags it changed (a row
-- with kind null when it changed no cached page). Every process follows the rows written by
-- the others (forum/db.py: Database.catch_up) and drops exactly the pages they name. Kept a few
-- minutes only (forum/app.py prunes): a process that fell further behind drops every page.
-- autoincrement: ids never come back after a prune, so a gap means rows were missed.
create table invalidations (
    id integer primary key autoincrement,
    origin text not null,  -- the Database (a process) that committed it
    kind text,  -- a cache tag's kind ("thread", "board", "all"...), null: nothing cached
    key text,  -- its key as JSON (null, a number or a text)
    at real not null  -- unix time of the commit, for the prune
);
create index invalidations_by_time on invalidations (at);

-- A job only one process may run at a time (the outbox sender, the purge of unattached
-- files): held by one process until expires_at, renewed by it, taken over once expired.
create table leases (
    name text primary key,
    holder text not null,
    expires_at real not null  -- unix time
);
