-- Search on PostgreSQL (issue 19): migrations/postgresql/0028_pgsearch.sql. Nothing changes on
-- SQLite, whose FTS5 tables already search; this step keeps the two dialects' numbers paired.
select 1;
