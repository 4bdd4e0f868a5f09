-- Closed boards (issue 17): a board only its members, its moderators, global moderators and
-- admins may read ("Metz — préparation", where a group drafts a request before publishing).
-- For anyone else it does not exist. The rule is spelt in forum/permissions.py (its SQL
-- builders read `boards.closed` and `board_members`); nothing here decides who sees what.
-- The search index keeps the public posts of closed boards too (its triggers cannot tell who
-- reads): models/search.py leaves out the closed boards a reader may not read.
alter table boards add column closed integer not null default 0 check (closed in (0, 1));

-- The members of a closed board, managed by its moderators (kept when a board opens again, so
-- that closing it later gives the same group back).
create table board_members (
    board_id integer not null references boards (id) on delete cascade,
    user_id integer not null references users (id) on delete cascade,
    added_by integer references users (id) on delete set null,
    added_at text not null,
    primary key (board_id, user_id)
) without rowid;
create index board_members_by_user on board_members (user_id, board_id);
