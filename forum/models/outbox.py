"""The mail outbox: mails queued in the caller's transaction, drained by forum.mail's sender."""
from __future__ import annotations

import json
from datetime import timedelta

from forum import clock
from forum.db import Conn, Row, Transaction
from forum.dialect import skip_locked
from forum.text import clean_line, email_problem

SUBJECT_MAX = 200
ERROR_MAX = 500
MAX_ATTEMPTS = 10  # then the row is kept, marked given up, and never retried
RETRY_CAP_SECONDS = 6 * 3600  # the back-off doubles up to this
KEEP_SENT_DAYS = 7  # sent mails hold addresses and links: kept only long enough to debug


def valid_address(address: str | None) -> bool:
    """One plain address, by the rule members' addresses were checked with (forum.text)."""
    return address is not None and address != "" and email_problem(address) is None


async def enqueue(tx: Transaction, to_address: str, subject: str, text_body: str,
                  html_body: str, headers: dict[str, str] | None = None) -> int:
    """Queue a mail in the caller's transaction; the sender wakes when it commits."""
    to_address = to_address.strip()
    if not valid_address(to_address):
        raise ValueError("not a single e-mail address")
    # Header values never carry a line break (no header injection), whatever the caller passed.
    extra = {clean_line(name): clean_line(value) for name, value in (headers or {}).items()}
    now = clock.now()
    mail_id = await tx.insert(
        "insert into outbox (to_address, subject, text_body, html_body, headers, created_at,"
        " next_attempt_at) values (?, ?, ?, ?, ?, ?, ?) returning id",
        (to_address, clean_line(subject)[:SUBJECT_MAX], text_body, html_body,
         json.dumps(extra, ensure_ascii=False), now, now))
    tx.changed("outbox", mail_id)  # forum.mail wakes the sender after the commit
    return mail_id


# Mails to try at `?`, oldest first; _FREE: but those another sender is sending (a claim
# not yet expired at `?`).
_DUE = "from outbox where sent_at is null and given_up_at is null and next_attempt_at <= ?"
_FREE = "(claimed_until is null or claimed_until < ?)"
_OLDEST = "order by next_attempt_at, id"


async def due(conn: Conn, now: str, limit: int = 50) -> list[Row]:
    """Mails to try now, oldest first (none that another sender is sending)."""
    return await conn.all(f"select * {_DUE} and {_FREE} {_OLDEST} limit ?", (now, now, limit))


async def claim(tx: Transaction, claimer: str, seconds: float) -> Row | None:
    """The oldest mail due, now `claimer`'s for `seconds`: no other sender takes it before
    (forum/mail/send.py says why that outlasts its sending). On PostgreSQL a mail another
    server is claiming at this moment is skipped (forum/dialect.py: skip_locked)."""
    now = clock.now()
    return await tx.one(
        f"update outbox set claimed_by = ?, claimed_until = ? where id = (select id {_DUE}"
        f" and {_FREE} {_OLDEST} limit 1{skip_locked(tx.dialect)}) returning *",
        (claimer, clock.later(seconds=seconds), now, now))


async def claimable(tx: Transaction, claimer: str, limit: int) -> list[int]:
    """The mails due that no other sender is sending (`claimer`'s own included), locked
    until the end of `tx` on PostgreSQL: those a failed connection puts off."""
    now = clock.now()
    rows = await tx.all(f"select id {_DUE} and ({_FREE} or claimed_by = ?) {_OLDEST}"
                        f" limit ?{skip_locked(tx.dialect)}", (now, now, claimer, limit))
    return [row[0] for row in rows]


def headers_of(row: Row) -> dict[str, str]:
    return dict(json.loads(row["headers"] or "{}"))


async def mark_sent(tx: Transaction, mail_id: int) -> None:
    """Sent: never tried again (its claim ends with it)."""
    await tx.execute("update outbox set sent_at = ?, last_error = null, claimed_by = null,"
                     " claimed_until = null where id = ?", (clock.now(), mail_id))


def backoff_seconds(attempts: int, base_seconds: float) -> float:
    """Wait after the `attempts`-th failure: base, 2×base, 4×base… up to the cap."""
    return min(base_seconds * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)


async def mark_failed(tx: Transaction, mail_id: int, error: str, base_seconds: float,
                      permanent: bool = False) -> None:
    """Count a failed attempt: try again later, or give up (the row stays) after too many;
    its claim ends (the back-off, not the claim, now says when it is tried again)."""
    attempts = int(await tx.value("select attempts from outbox where id = ?", (mail_id,)) or 0)
    attempts += 1
    now = clock.parse(clock.now())
    later = clock.iso(now + timedelta(seconds=backoff_seconds(attempts, base_seconds)))
    given_up = clock.iso(now) if permanent or attempts >= MAX_ATTEMPTS else None
    await tx.execute(
        "update outbox set attempts = ?, next_attempt_at = ?, last_error = ?, given_up_at = ?,"
        " claimed_by = null, claimed_until = null where id = ?",
        (attempts, later, clean_line(error)[:ERROR_MAX], given_up, mail_id))


async def purge_sent(tx: Transaction) -> None:
    """Forget mails sent more than KEEP_SENT_DAYS ago (addresses, links: personal data)."""
    await tx.execute("delete from outbox where sent_at is not null and sent_at < ?",
                     (clock.later(days=-KEEP_SENT_DAYS),))


async def waiting(conn: Conn) -> int:
    """Mails not sent yet and still to be tried."""
    return int(await conn.value(
        "select count(*) from outbox where sent_at is null and given_up_at is null"))


async def oldest_waiting(conn: Conn) -> str | None:
    """When the oldest mail still to be sent was queued (None: nothing waits)."""
    return await conn.value(
        "select min(created_at) from outbox where sent_at is null and given_up_at is null")
