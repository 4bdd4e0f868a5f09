-- Logging in: two-factor codes (TOTP), recovery codes, the step between password and code,
-- what a member sees of their sessions, and log-in notices by mail.

-- A member's TOTP key. Kept as is: checking a code needs it (a hash would not do).
-- enabled_at is null while the member is setting it up (the key shown, no code typed yet).
create table two_factor (
    user_id integer primary key references users (id) on delete cascade,
    secret text not null,                  -- base32, as authenticator apps read it
    created_at text not null,
    enabled_at text,
    last_step integer not null default 0   -- the last time step accepted: a code is used once
);

-- Ten single-use codes for a lost phone; only their SHA-256 is kept (80 random bits each).
create table recovery_codes (
    id integer primary key,
    user_id integer not null references users (id) on delete cascade,
    code_hash text not null unique,
    used_at text
);
create index recovery_codes_by_user on recovery_codes (user_id);

-- A password that was right, waiting for its code: a few minutes at most, never a session.
create table pending_logins (
    id text primary key,                   -- sha256(token); the cookie holds the token
    user_id integer not null references users (id) on delete cascade,
    next text not null,                    -- where the member was going
    expires_at text not null
);

-- What a member sees of each session: a device summary from a small fixed vocabulary (never
-- the User-Agent itself) and the day it was last used (written at most once a day).
alter table sessions add column browser text not null default '';
alter table sessions add column os text not null default '';
alter table sessions add column last_used_on text;

-- 1: mail the member at each new log-in (device summary and day, no address).
alter table users add column login_notices integer not null default 0
    check (login_notices in (0, 1));
