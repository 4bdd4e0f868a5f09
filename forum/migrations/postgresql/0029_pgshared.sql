-- Several servers on one database (issue 19).
-- Rate limits counted together by every server (forum/ratelimit.py: DatabaseHits): keyed
-- hashes of the keys, never an address; UNLOGGED, so never in the WAL, a replica or a
-- restored base backup (lost at a crash: the limits start again).
create unlogged table rate_hits (
    id bigint generated always as identity primary key,
    key bytea not null,
    at double precision not null
);
create index rate_hits_by_key on rate_hits (key, at);
create index rate_hits_by_at on rate_hits (at);
-- An export being prepared by one process (forum/account_export.py): the others skip it
-- until then.
alter table account_exports add column claimed_until text;
-- One waiting export per member, even asked through two servers at once.
update account_exports set status = 'failed' where status = 'waiting' and id not in
    (select min(id) from account_exports where status = 'waiting' group by user_id);
create unique index account_exports_one_waiting on account_exports (user_id)
    where status = 'waiting';
