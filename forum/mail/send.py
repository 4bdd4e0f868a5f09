"""The outbox sender: due mails over one SMTP connection, failures retried with back-off."""
from __future__ import annotations

import contextlib
import logging
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
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
SMTP_TIMEOUT = 30.0


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
    async with app[keys.MAIL].lock:  # one sender at a time, or a mail could go twice
        async with app[keys.DB].read() as conn:
            rows = await outbox.due(conn, clock.now(), SEND_BATCH)
        return await _deliver(app, rows) if rows else 0


async def _deliver(app: web.Application, rows: list[Row]) -> int:
    config = app[keys.CONFIG]
    smtp = aiosmtplib.SMTP(hostname=config.smtp_host, port=config.smtp_port,
                           start_tls=config.smtp_starttls, timeout=SMTP_TIMEOUT,
                           local_hostname=site_host(config))
    try:
        await smtp.connect()
        if config.smtp_user:
            await smtp.login(config.smtp_user, config.smtp_password)
    except (aiosmtplib.SMTPException, OSError) as error:
        await _failed(app, rows, f"cannot reach {config.smtp_host}: {error}")
        return 0
    sent = 0
    try:
        for index, row in enumerate(rows):
            if not app[keys.MAIL].may_send():  # the lease lapsed: another process may send
                break
            try:
                message = build_message(config, row)
            except (ValueError, TypeError) as error:  # no server would take it: never retried
                await _failed(app, [row], f"cannot build the message: {error}", permanent=True)
                continue
            try:
                await smtp.send_message(message)
            except aiosmtplib.SMTPSenderRefused as error:  # our sender: a setting to fix
                await _failed(app, rows[index:], str(error))
                break
            except aiosmtplib.SMTPRecipientsRefused as error:  # 5xx: no such address
                permanent = all(refused.code >= 500 for refused in error.recipients)
                await _failed(app, [row], str(error), permanent=permanent)  # 4xx: greylisted
                continue
            except aiosmtplib.SMTPResponseException as error:  # this mail refused (5xx: for good)
                await _failed(app, [row], str(error), permanent=error.code >= 500)
                continue
            except (aiosmtplib.SMTPException, OSError) as error:  # the connection is gone
                await _failed(app, rows[index:], str(error))
                break
            # At least once: a crash right here sends this mail again at the next start.
            async with app[keys.DB].transaction() as tx:
                await outbox.mark_sent(tx, row["id"])
            sent += 1
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.quit()
    return sent


async def _failed(app: web.Application, rows: list[Row], error: str,
                  permanent: bool = False) -> None:
    log.warning("mail not sent (%d): %s", len(rows), error)
    async with app[keys.DB].transaction() as tx:
        for row in rows:
            await outbox.mark_failed(tx, row["id"], error, app[keys.CONFIG].mail_retry_seconds,
                                     permanent)
