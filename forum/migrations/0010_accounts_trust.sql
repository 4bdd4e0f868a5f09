-- Trust in accounts: look-alike pseudonyms are refused, API tokens can be seen and ended.

-- The pseudonym's UTS #39 skeleton (forum/confusables.py; migrate.py provides the SQL function):
-- "аdmin" with a Cyrillic а has the skeleton of "admin", so it cannot be registered beside it.
alter table users add column name_skeleton text;
update users set name_skeleton = pseudonym_skeleton(name);
-- Look-alikes registered before this check keep their pseudonym (nothing is renamed behind
-- anyone's back); the earliest holds the skeleton, so no new one can join them.
update users set name_skeleton = null where exists (
    select 1 from users as earlier
    where earlier.name_skeleton = users.name_skeleton and earlier.id < users.id);
create unique index users_by_skeleton on users (name_skeleton);

-- The day an API token was last used (a day, not a time: enough to spot a forgotten token).
alter table api_tokens add column last_used_on text;
create index api_tokens_by_user on api_tokens (user_id);
