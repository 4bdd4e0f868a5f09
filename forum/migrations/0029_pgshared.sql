-- An export being prepared by one process (forum/account_export.py): the others skip it
-- until then. (Rate limits: SQLite's workers share a file of their own, forum/ratelimit.py.)
alter table account_exports add column claimed_until text;
-- One waiting export per member, even asked through two servers at once.
update account_exports set status = 'failed' where status = 'waiting' and id not in
    (select min(id) from account_exports where status = 'waiting' group by user_id);
create unique index account_exports_one_waiting on account_exports (user_id)
    where status = 'waiting';
