"""The outbox sender: due mails over one SMTP connection, failures retried with back-off."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal
from urllib.parse import urlsplit

import aiosmtplib
from aiohttp import web

from forum import clock, keys
from forum.config import Config
from forum.db import Row
from forum.mail.render import SITE_NAME
from forum.models import outbox

log = logging.getLogger("forum.mail")

SEND_BATCH = 50  # mails per SMTP connection
SMTP_TIMEOUT = 30.0  # seconds for each answer of the server (aiosmtplib's timeout)
# One mail waits for four answers (MAIL, RCPT, DATA, the end of the data): its whole exchange
# is cut after that long, whatever the server does.
SEND_SECONDS = 4 * SMTP_TIMEOUT
# A mail is claimed before it is sent (models/outbox.py: claim), for twice the longest send:
# the send ends SEND_SECONDS at most after a moment taken before the claim was written, so
# its claim still has SEND_SECONDS left to record it as sent and to cover other servers'
# clocks running ahead. No other sender can take a mail whose send is still running, even
# when the mail lease has passed to another process meanwhile (this one stalled, or lost
# the database): a mail goes out twice only if it was sent and then not recorded in time.
CLAIM_SECONDS = 2 * SEND_SECONDS


def site_host(config: Config) -> str:
    return urlsplit(config.base_url).hostname or "localhost"


def sender(config: Config) -> str:
    return config.mail_from or f"{SITE_NAME} <noreply@{site_host(config)}>"


def build_message(config: Config, row: Row) -> EmailMessage:
    """The MIME message of an outbox row: plain text, with an HTML alternative."""
    message = EmailMessage()
    message["From"] = sender(config)
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(clock.parse(row["created_at"]))
    message["Message-ID"] = make_msgid(str(row["id"]), domain=site_host(config))
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to the forum
    # Quoted-printable: 7-bit clean, so any server takes it, 8BITMIME or not.
    message.set_content(row["text_body"], cte="quoted-printable")
    if row["html_body"]:
        message.add_alternative(row["html_body"], subtype="html", cte="quoted-printable")
    for name, value in outbox.headers_of(row).items():  # after: set_content drops Content-*
        message[name] = value
    return message


async def send_due(app: web.Application) -> int:
    """Send what is due in the outbox over one SMTP connection; how many were sent."""
    config = app[keys.CONFIG]
    if not config.smtp_host:
        return 0  # mail is off: everything waits in the outbox
    async with app[keys.MAIL].lock:  # one sender per process (claims: one per mail)
        async with app[keys.DB].read() as conn:
            if not await outbox.due(conn, clock.now(), 1):
                return 0  # no connection to the server for nothing
        smtp = await _connect(app)
        if smtp is None:
            return 0
        try:
            return await _deliver(app, smtp)
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()


async def _connect(app: web.Application) -> aiosmtplib.SMTP | None:
    """A connection to the server, logged in; None (what is due put off) if it fails."""
    config = app[keys.CONFIG]
    smtp = aiosmtplib.SMTP(hostname=config.smtp_host, port=config.smtp_port,
                           start_tls=config.smtp_starttls, timeout=SMTP_TIMEOUT,
                           local_hostname=site_host(config))
    try:
        await smtp.connect()
        if config.smtp_user:
            await smtp.login(config.smtp_user, config.smtp_password)
    except (aiosmtplib.SMTPException, OSError) as error:
        await _put_off(app, f"cannot reach {config.smtp_host}: {error}")
        return None
    return smtp


async def _deliver(app: web.Application, smtp: aiosmtplib.SMTP) -> int:
    """Claim and send mails one by one, oldest first, while this process holds the lease."""
    state = app[keys.MAIL]
    sent = 0
    for _ in range(SEND_BATCH):
        if not state.may_send():  # the lease lapsed: another process sends from now on
            break
        # Before the claim: the claim ends at least CLAIM_SECONDS after this moment.
        deadline = asyncio.get_running_loop().time() + SEND_SECONDS
        async with app[keys.DB].transaction() as tx:
            row = await outbox.claim(tx, state.claimer, CLAIM_SECONDS)
        if row is None:
            break
        outcome = await _send(app, smtp, row, deadline)
        if outcome == "stop":
            break
        sent += outcome == "sent"
    return sent


async def _send(app: web.Application, smtp: aiosmtplib.SMTP, row: Row,
                deadline: float) -> Literal["sent", "failed", "stop"]:
    """Send one claimed mail, done by `deadline` (loop time), and record how it went."""
    try:
        message = build_message(app[keys.CONFIG], row)
    except (ValueError, TypeError) as error:  # no server would take it: never retried
        await _failed(app, row, f"cannot build the message: {error}", permanent=True)
        return "failed"
    try:
        async with asyncio.timeout_at(deadline):
            await smtp.send_message(message)
    except aiosmtplib.SMTPSenderRefused as error:  # our sender: a setting to fix
        await _put_off(app, str(error))
        return "stop"
    except aiosmtplib.SMTPRecipientsRefused as error:  # 5xx: no such address
        permanent = all(refused.code >= 500 for refused in error.recipients)
        await _failed(app, row, str(error), permanent=permanent)  # 4xx: greylisted
        return "failed"
    except aiosmtplib.SMTPResponseException as error:  # this mail refused (5xx: for good)
        await _failed(app, row, str(error), permanent=error.code >= 500)
        return "failed"
    except (aiosmtplib.SMTPException, OSError) as error:  # gone, or too slow (TimeoutError)
        await _put_off(app, str(error) or f"no answer within {SEND_SECONDS:.0f} s")
        return "stop"
    # At least once: a crash right here sends this mail again once its claim has expired.
    async with app[keys.DB].transaction() as tx:
        await outbox.mark_sent(tx, row["id"])
    return "sent"


async def _failed(app: web.Application, row: Row, error: str, permanent: bool = False) -> None:
    """One mail refused: tried again after its back-off (or never, if `permanent`)."""
    log.warning("mail %s not sent: %s", row["id"], error)
    async with app[keys.DB].transaction() as tx:
        await outbox.mark_failed(tx, row["id"], error, app[keys.CONFIG].mail_retry_seconds,
                                 permanent)


async def _put_off(app: web.Application, error: str) -> None:
    """The server cannot be used now: every mail due is tried again after its back-off (as
    before claims: no connection per mail to a server that is down), but those another
    sender is sending."""
    async with app[keys.DB].transaction() as tx:
        ids = await outbox.claimable(tx, app[keys.MAIL].claimer, SEND_BATCH)
        for mail_id in ids:
            await outbox.mark_failed(tx, mail_id, error, app[keys.CONFIG].mail_retry_seconds)
    log.warning("mail not sent (%d): %s", len(ids), error)
