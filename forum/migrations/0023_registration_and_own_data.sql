-- Registration modes and invitations, the admins' question, exports of one's own data, and
-- accounts that left (issue 17: "Registration", "One's own data").

-- Settings an admin changes while the site runs (admin page or `vigie registration`): a row
-- here wins over the FORUM_ default of the same name (forum/models/invitations.py).
create table site_settings (
    name text primary key check (name in ('registration_mode', 'registration_question')),
    value text not null,
    updated_at text not null
);

-- A single-use invitation link; only the SHA-256 of its token is kept.
create table invitations (
    id integer primary key,
    token_hash text not null unique check (length(token_hash) = 64),
    inviter_id integer not null references users (id) on delete cascade,
    created_at text not null,
    expires_at text not null,
    used_at text,
    used_by integer references users (id)
);
create index invitations_by_inviter on invitations (inviter_id, created_at);

-- The answer to the admins' question, given at sign-up: for moderators' eyes only.
alter table users add column registration_answer text;
-- Who invited this member (null: registered while registration was open).
alter table users add column invited_by integer references users (id);
-- Set when the member deleted their account: the row stays, emptied, under "membre parti", so
-- that the posts they chose to leave still have an author.
alter table users add column left_at text;

-- The moderators' journal of accounts: new accounts (and who invited them) and departures.
-- Never public; a departure says nothing but that the account left.
create table account_events (
    id integer primary key,
    kind text not null check (kind in ('registered', 'left')),
    user_id integer not null references users (id),
    inviter_id integer references users (id),
    created_at text not null
);
create index account_events_recent on account_events (id desc);

-- Pseudonyms of members who left: nobody may take them (nor a look-alike) before `until`.
create table retired_pseudonyms (
    name_key text primary key,
    name_skeleton text,
    until text not null
);
create index retired_pseudonyms_by_skeleton on retired_pseudonyms (name_skeleton);

-- A member's request for a ZIP of their own data, prepared in the background and kept for
-- Config.export_hours; the file lives in data/exports/ under a server-made name.
create table account_exports (
    id integer primary key,
    user_id integer not null references users (id) on delete cascade,
    status text not null default 'waiting' check (status in ('waiting', 'ready', 'failed')),
    file_name text check (file_name is null or file_name not glob '*[^0-9a-f.zip]*'),
    size integer,
    requested_at text not null,
    ready_at text,
    expires_at text
);
create index account_exports_by_user on account_exports (user_id, id desc);
