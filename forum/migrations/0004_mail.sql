-- Mail: the outbox a background task drains, password-reset links, members' choice of e-mails,
-- and the site's own secrets (the key that signs unsubscribe links).

-- A mail to send, written in the transaction of the change it tells about: it exists if and only
-- if that change committed, and survives a restart. Sent rows are purged after a few days.
create table outbox (
    id integer primary key,
    to_address text not null,
    subject text not null,
    text_body text not null,
    html_body text not null default '',
    headers text not null default '{}',    -- JSON object: extra headers (List-Unsubscribe…)
    created_at text not null,
    attempts integer not null default 0,
    next_attempt_at text not null,         -- not before: exponential back-off after a failure
    sent_at text,
    last_error text,
    given_up_at text                       -- too many failures: kept for the admin, not retried
);
create index outbox_due on outbox (next_attempt_at)
    where sent_at is null and given_up_at is null;
create index outbox_sent on outbox (sent_at) where sent_at is not null;

-- A password-reset link: the table keeps only the SHA-256 of its token; single use, expiring.
create table password_resets (
    token_hash text primary key,
    user_id integer not null references users (id) on delete cascade,
    created_at text not null,
    expires_at text not null,
    used_at text
);
create index password_resets_by_user on password_resets (user_id);
create index password_resets_by_expiry on password_resets (expires_at);

-- Which e-mails a member wants about notifications; the digest covers what came since the last.
alter table users add column email_notifications text not null default 'immediate'
    check (email_notifications in ('immediate', 'digest', 'never'));
alter table users add column digest_sent_at text;
-- "Forgot my password" finds accounts by address, whatever its case.
create index users_by_email on users (email collate nocase) where email is not null;

-- Secrets made by the site itself at first start (random, never in the configuration).
create table site_secrets (
    name text primary key,
    value text not null,
    created_at text not null
);
