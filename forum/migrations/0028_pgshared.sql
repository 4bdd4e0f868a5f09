-- An export being prepared by one process (forum/account_export.py): the others skip it
-- until then. (Rate limits: SQLite's workers share a file of their own, forum/ratelimit.py.)
alter table account_exports add column claimed_until text;
