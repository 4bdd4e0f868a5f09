-- A mail is claimed by the sender about to send it (forum/mail/send.py): until claimed_until
-- no other sender takes it, even when the mail lease has passed to another process meanwhile
-- (a stalled process, a lost database connection), so a send still running is never doubled.
-- A sender that died leaves its claim behind: once expired, the mail is taken up again.
-- Both are cleared when the mail is sent or its failure recorded.
alter table outbox add column claimed_by text;      -- the sending process (pid-random)
alter table outbox add column claimed_until text;
