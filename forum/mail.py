"""E-mail: rendering in the member's language, the outbox sender, digests, unsubscribe links.

Nothing here runs in a request: views and models queue mails with `models.outbox.enqueue` (or
`notify_by_mail`) in their own transaction, and a background task started by `setup` sends them
through SMTP after the commit, retrying with back-off. A mail thus exists iff its change
committed, survives restarts, and a slow or absent SMTP server never slows a page.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
import jinja2
from aiohttp import web

from forum import clock, i18n, keys
from forum.config import Config
from forum.db import Conn, Database, Row, Transaction
from forum.i18n import N_
from forum.models import outbox, password_resets
from forum.permissions import PUBLIC_POST
from forum.templating import TEMPLATES
from forum.text import clean_line

log = logging.getLogger("forum.mail")

SITE_NAME = "Vigie"
SEND_BATCH = 50  # mails per SMTP connection
SMTP_TIMEOUT = 30.0
DIGEST_CHECK_SECONDS = 300.0  # how often the sender looks for digests that are due
DIGEST_MAX_ITEMS = 50  # more than this: the digest says how many more are waiting
USER_TEXT_MAX = 300
SECRET_NAME = "mail"

# What a notification says, by kind; parameters: title (thread), actor (pseudonym), reason/text.
# Add a line here for every new kind of notification that may be mailed.
NOTIFICATION_LINES = {
    "approved": N_("Your message in “%(title)s” was approved."),
    "rejected": N_("Your message in “%(title)s” was refused: %(reason)s"),
    "deleted": N_("Your message in “%(title)s” was deleted by a moderator: %(reason)s"),
    "warn": N_("A moderator warned you: %(reason)s"),
    "suspend": N_("Your account was suspended: %(reason)s"),
    "ban": N_("Your account was banned: %(reason)s"),
    "lift": N_("Your sanction was lifted: %(reason)s"),
}
GENERIC_LINE = N_("You have a new notification.")


@dataclass
class Mailer:
    """The sender's state on the app: its wake-up call, the signing key, the mail templates."""

    env: jinja2.Environment
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    secret: str = ""
    next_digest_check: float = 0.0

    def after_commit(self, tags: set[tuple[str, object]]) -> None:
        """A committed transaction queued mail (models.outbox tags it): send it now."""
        if any(kind == "outbox" for kind, _key in tags):
            self.wake.set()


def setup(app: web.Application) -> None:
    """Put the mail state on the app and start the sender with it (after the database)."""
    app[keys.MAIL] = Mailer(_environment())
    app.cleanup_ctx.append(_sender)


def wake(app: web.Application) -> None:
    """Ask the sender to look at the outbox now (it also does by itself after each commit)."""
    app[keys.MAIL].wake.set()


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "mail"),
        autoescape=jinja2.select_autoescape(("html",), default_for_string=False),
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.globals["notification_line"] = notification_line
    env.globals["site_name"] = SITE_NAME
    env.filters["when"] = i18n.format_when
    return env


# Rendering -----------------------------------------------------------------------------------

_URL_DOT = re.compile(r"(?<=\w)\.(?=[^\W\d_])")  # the dots of "evil.example", not of "1.5"


def mail_text(text: str | None, limit: int = USER_TEXT_MAX) -> str:
    """User text (a pseudonym, a title, a reason) for a mail: one line, and no link in it.

    Mail readers turn "evil.example" or "https://…" into links even in plain text, so a
    pseudonym or a title could smuggle one into a mail signed by the forum: defang them.
    """
    line = clean_line(text or "")[:limit]
    return _URL_DOT.sub("[.]", line.replace("://", "[:]//"))


def render_mail(app: web.Application, kind: str, locale: str,
                **context: Any) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of templates/mail/<kind>.txt|.html in `locale`."""
    config = app[keys.CONFIG]
    locale = locale if locale in i18n.LOCALES else config.default_locale
    env = app[keys.MAIL].env
    values = {"locale": locale, "base_url": config.base_url, **context}
    token = i18n.current_locale.set(locale)
    try:
        text_template = env.get_template(f"{kind}.txt")
        subject = "".join(text_template.blocks["subject"](text_template.new_context(values)))
        text = text_template.render(values)
        html = env.get_template(f"{kind}.html").render(values)
    finally:
        i18n.current_locale.reset(token)
    return clean_line(subject), text, html


def notification_line(item: dict[str, Any]) -> str:
    """The sentence that tells one notification, in the current locale (params already clean)."""
    message = NOTIFICATION_LINES.get(item["kind"])
    if message is None:
        return item.get("text") or i18n.gettext(GENERIC_LINE)
    return i18n.gettext(message, title=item.get("title", ""), actor=item.get("actor", ""),
                        reason=item.get("text", ""), text=item.get("text", ""))


def member_locale(config: Config, member: Row | dict[str, Any]) -> str:
    return member["locale"] if member["locale"] in i18n.LOCALES else config.default_locale


# Unsubscribe links: HMAC of the member's id with the site's own secret --------------------

def _signature(secret: str, user_id: int) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe:{user_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def unsubscribe_token(secret: str, user_id: int) -> str:
    return f"{user_id}.{_signature(secret, user_id)}"


def unsubscribe_url(config: Config, secret: str, user_id: int) -> str:
    """The one-click link of a member's mails, on the configured address (never the Host)."""
    return f"{config.base_url}/unsubscribe/{unsubscribe_token(secret, user_id)}"


def user_for_unsubscribe(secret: str, token: str) -> int | None:
    """The member id a token was made for, or None for anything forged or mangled."""
    raw_id, _dot, signature = token.partition(".")
    if not secret or not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        return None
    user_id = int(raw_id)
    if not hmac.compare_digest(signature.encode(), _signature(secret, user_id).encode()):
        return None
    return user_id


def list_headers(url: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058 headers: mail readers show an "unsubscribe" button that POSTs."""
    return {"List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


async def _load_secret(db: Database) -> str:
    """The site's signing key, made at the first start and kept in the database."""
    async with db.transaction() as tx:
        await tx.execute(
            "insert or ignore into site_secrets (name, value, created_at) values (?, ?, ?)",
            (SECRET_NAME, secrets.token_hex(32), clock.now()))
        return str(await tx.value("select value from site_secrets where name = ?",
                                  (SECRET_NAME,)))


def _footer(app: web.Application, member: Row) -> dict[str, str]:
    config = app[keys.CONFIG]
    return {"unsubscribe_url": unsubscribe_url(config, app[keys.MAIL].secret, member["id"]),
            "settings_url": f"{config.base_url}/settings"}


# Notifications: at once, or in a daily digest ----------------------------------------------

def _visible(user: str, post: str, thread: str) -> str:
    """SQL: a notification's post (or thread) may be mailed to the member `user`.

    Public means what permissions.PUBLIC_POST says, less tombstones and hidden threads; the
    member's own posts stay visible to them (a refusal or a deletion is news about them).
    """
    return (
        f"(({post}) is null or exists (select 1 from posts join threads"
        f" on threads.id = posts.thread_id where posts.id = {post} and (posts.author_id = {user}"
        f" or ({PUBLIC_POST} and posts.deleted_at is null and threads.status = 'published'))))"
        f" and (({thread}) is null or exists (select 1 from threads where threads.id = {thread}"
        f" and (threads.status = 'published' or threads.author_id = {user})))")


def _link(config: Config, post_id: int | None, thread_id: int | None) -> str:
    if post_id:
        return f"{config.base_url}/p/{int(post_id)}"
    if thread_id:
        return f"{config.base_url}/t/{int(thread_id)}"
    return f"{config.base_url}/notifications"


def _item(config: Config, kind: str, values: Row | dict[str, Any]) -> dict[str, Any]:
    data = dict(values)
    return {"kind": kind, "title": mail_text(data.get("title")),
            "actor": mail_text(data.get("actor")), "text": mail_text(data.get("text")),
            "url": _link(config, data.get("post_id"), data.get("thread_id"))}


async def _member(conn: Conn, user_id: int) -> Row | None:
    return await conn.one("select id, name, email, locale, email_notifications, digest_sent_at"
                          " from users where id = ?", (user_id,))


async def notify_by_mail(tx: Transaction, app: web.Application, user: Any, notification_kind: str,
                         context: dict[str, Any]) -> int | None:
    """Queue the mail of one notification if the member wants mail at once; its outbox id.

    `user`: an id, a users.User or a row with "id". `context`: post_id, thread_id, title
    (of the thread), actor (a pseudonym), text; user text is cleaned here. Nothing is queued
    about a post the member may not see, or for a member without an address or with
    'digest' or 'never' chosen.
    """
    user_id = user if isinstance(user, int) else user["id"] if isinstance(user, Row) else user.id
    member = await _member(tx, user_id)
    if (member is None or member["email_notifications"] != "immediate"
            or not outbox.valid_address(member["email"])):
        return None
    visible = await tx.value(f"select {_visible('?', '?', '?')}",
                             (context.get("post_id"), context.get("post_id"), user_id,
                              context.get("thread_id"), context.get("thread_id"), user_id))
    if not visible:
        return None
    config = app[keys.CONFIG]
    locale = member_locale(config, member)
    subject, text, html = render_mail(app, "notification", locale,
                                      item=_item(config, notification_kind, context),
                                      **_footer(app, member))
    headers = {"Content-Language": locale, **list_headers(_footer(app, member)["unsubscribe_url"])}
    return await outbox.enqueue(tx, member["email"], subject, text, html, headers)


async def build_digests(app: web.Application) -> int:
    """Queue the daily digest of every member who chose it and is due; how many were queued."""
    day_ago = clock.later(days=-1)
    async with app[keys.DB].read() as conn:
        due = await conn.all(
            "select id from users where email_notifications = 'digest' and email is not null"
            " and (digest_sent_at is null or digest_sent_at <= ?)", (day_ago,))
    queued = 0
    for row in due:
        async with app[keys.DB].transaction() as tx:
            queued += await _digest(tx, app, row["id"], day_ago)
    return queued


async def _digest(tx: Transaction, app: web.Application, user_id: int, day_ago: str) -> int:
    """One member's digest: unread, still visible notifications of [last digest, now)."""
    member = await _member(tx, user_id)
    sent_at = member["digest_sent_at"] if member else None
    if member is None or member["email_notifications"] != "digest" or (
            sent_at is not None and sent_at > day_ago):
        return 0  # changed since the list was read
    now = clock.now()
    # Half-open window, and the new mark in the same transaction: each item is mailed once.
    rows = await tx.all(
        "select notifications.kind, notifications.post_id, notifications.thread_id,"
        " notifications.text, threads.title, users.name as actor from notifications"
        " left join posts on posts.id = notifications.post_id"
        " left join threads on threads.id = coalesce(notifications.thread_id, posts.thread_id)"
        " left join users on users.id = notifications.actor_id"
        " where notifications.user_id = ? and notifications.created_at >= ?"
        " and notifications.created_at < ? and notifications.read_at is null and"
        f" {_visible('notifications.user_id', 'notifications.post_id', 'notifications.thread_id')}"
        " order by notifications.id", (user_id, sent_at or day_ago, now))
    await tx.execute("update users set digest_sent_at = ? where id = ?", (now, user_id))
    if not rows or not outbox.valid_address(member["email"]):
        return 0
    config = app[keys.CONFIG]
    locale = member_locale(config, member)
    items = [_item(config, row["kind"], row) for row in rows[:DIGEST_MAX_ITEMS]]
    footer = _footer(app, member)
    subject, text, html = render_mail(app, "digest", locale, items=items,
                                      more=len(rows) - len(items), **footer)
    headers = {"Content-Language": locale, **list_headers(footer["unsubscribe_url"])}
    await outbox.enqueue(tx, member["email"], subject, text, html, headers)
    return 1


# Sending -------------------------------------------------------------------------------------

def _host(config: Config) -> str:
    return urlsplit(config.base_url).hostname or "localhost"


def sender(config: Config) -> str:
    return config.mail_from or f"{SITE_NAME} <noreply@{_host(config)}>"


def build_message(config: Config, row: Row) -> EmailMessage:
    """The MIME message of an outbox row: plain text, with an HTML alternative."""
    message = EmailMessage()
    message["From"] = sender(config)
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(clock.parse(row["created_at"]))
    message["Message-ID"] = make_msgid(str(row["id"]), domain=_host(config))
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to the forum
    for name, value in outbox.headers_of(row).items():
        message[name] = value
    message.set_content(row["text_body"])
    if row["html_body"]:
        message.add_alternative(row["html_body"], subtype="html")
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
                           local_hostname=_host(config))
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
            try:
                await smtp.send_message(build_message(config, row))
            except aiosmtplib.SMTPResponseException as error:  # this mail refused
                await _failed(app, [row], str(error), permanent=error.code >= 500)
                continue
            except aiosmtplib.SMTPRecipientsRefused as error:
                await _failed(app, [row], str(error), permanent=True)
                continue
            except (aiosmtplib.SMTPException, OSError) as error:  # the connection is gone
                await _failed(app, rows[index:], str(error))
                break
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


async def run_once(app: web.Application) -> None:
    """One round of the sender: digests when it is time, housekeeping, then the outbox."""
    state = app[keys.MAIL]
    if time.monotonic() >= state.next_digest_check:
        state.next_digest_check = time.monotonic() + DIGEST_CHECK_SECONDS
        await build_digests(app)
        async with app[keys.DB].transaction() as tx:
            await outbox.purge_sent(tx)
            await password_resets.purge(tx)
    await send_due(app)


async def _sender(app: web.Application) -> AsyncIterator[None]:
    state = app[keys.MAIL]
    db = app[keys.DB]
    state.secret = await _load_secret(db)
    db.after_commit.append(state.after_commit)
    state.wake.set()  # at start: send what an earlier run left in the outbox

    async def loop() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.wake.wait(), app[keys.CONFIG].mail_interval_seconds)
            state.wake.clear()
            try:
                await run_once(app)
            except Exception:
                log.exception("mail sender failed; will try again")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
