"""E-mail: the outbox sender, notification mails and digests, unsubscribe links, rendering.

Sending never happens inside a request: views and models queue mails with
`models.outbox.enqueue` in their own transaction, and the background task started by `setup`
sends them through SMTP after the commit, retrying with back-off. A mail thus exists iff its
change committed, survives restarts, and a slow or absent SMTP server never slows a page.
Each round of that task also mails new notifications to members who want them at once, and
once a day a digest to those who chose it.

    render.py   templates/mail/<kind>.txt|.html in the member's language; unsubscribe links
    send.py     the outbox over SMTP (aiosmtplib)
    notify.py   notification mails: mail_notifications / notify_by_mail (at once),
                build_digests (daily)
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import jinja2
from aiohttp import web

from forum import clock, keys
from forum.db import Database
from forum.leases import Lease
from forum.mail.notify import build_digests, mail_notifications, notify_by_mail
from forum.mail.render import (
    NOTIFICATION_LINES,
    environment,
    list_headers,
    mail_text,
    member_locale,
    render_mail,
    unsubscribe_url,
    user_for_unsubscribe,
)
from forum.mail.send import build_message, send_due
from forum.models import outbox, password_resets

__all__ = [
    "NOTIFICATION_LINES", "Mailer", "build_digests", "build_message", "list_headers",
    "mail_notifications", "mail_text", "member_locale", "notify_by_mail", "render_mail",
    "run_once", "send_due", "setup", "unsubscribe_url", "user_for_unsubscribe", "wake",
]

log = logging.getLogger("forum.mail")
DIGEST_CHECK_SECONDS = 300.0  # how often the sender looks for digests that are due
SECRET_NAME = "unsubscribe"


@dataclass
class Mailer:
    """The sender's state on the app: its wake-up call, the signing key, the mail templates."""

    env: jinja2.Environment
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    secret: str = ""
    next_digest_check: float = 0.0
    stopping: bool = False
    rounds: int = 0  # rounds done by the background task (tests wait on it)
    # Only the process holding it sends mail (several workers: forum/leases.py).
    lease: Lease | None = None
    # Who claims each mail before sending it (send.py: CLAIM_SECONDS): the pid, for the logs.
    claimer: str = field(default_factory=lambda: f"{os.getpid()}-{secrets.token_hex(8)}")

    def may_send(self) -> bool:
        return self.lease is None or self.lease.held()

    def after_commit(self, tags: set[tuple[str, object]]) -> None:
        """A commit that changed something (a post, a decision, queued mail: they all tag the
        transaction) may have told someone: look for mail to send now. The sender's own
        commits carry no tag, so it does not wake itself."""
        if tags:
            self.wake.set()


def setup(app: web.Application) -> None:
    """Put the mail state on the app and start the sender with it (after the database)."""
    app[keys.MAIL] = Mailer(environment())
    app.cleanup_ctx.append(_sender)


def wake(app: web.Application) -> None:
    """Ask the sender to look at the outbox now (it also does by itself after each commit)."""
    app[keys.MAIL].wake.set()


async def run_once(app: web.Application) -> None:
    """One round of the sender: new notifications, digests when it is time, the outbox.

    With mail off (no SMTP host) notifications are not turned into mail: the outbox would
    only grow, and send stale news the day mail is set up (mail_notifications skips what is
    older than a day).
    """
    state = app[keys.MAIL]
    mail_on = bool(app[keys.CONFIG].smtp_host)
    if mail_on:
        await mail_notifications(app)
    if time.monotonic() >= state.next_digest_check:
        state.next_digest_check = time.monotonic() + DIGEST_CHECK_SECONDS
        if mail_on:
            await build_digests(app)
        async with app[keys.DB].transaction() as tx:
            await outbox.purge_sent(tx)
            await password_resets.purge(tx)
    await send_due(app)


async def _load_secret(db: Database) -> str:
    """The key that signs unsubscribe links: made at the first start, kept in the database."""
    async with db.transaction() as tx:
        await tx.execute(
            "insert or ignore into site_secrets (name, value, created_at) values (?, ?, ?)",
            (SECRET_NAME, secrets.token_hex(32), clock.now()))
        return str(await tx.value("select value from site_secrets where name = ?",
                                  (SECRET_NAME,)))


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Until `event` is set or `seconds` have passed.

    asyncio.wait never swallows the cancellation that stops the app; wait_for and timeout()
    can, on Python 3.11, when the event is set at the same moment.
    """
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait([waiter], timeout=seconds)
    finally:
        waiter.cancel()


async def _sender(app: web.Application) -> AsyncIterator[None]:
    state = app[keys.MAIL]
    db = app[keys.DB]
    state.secret = await _load_secret(db)
    db.after_commit.append(state.after_commit)
    # At start, and when this process takes the job over: send what was left in the outbox.
    state.lease = Lease("mail", app[keys.CONFIG].lease_seconds, state.wake.set)
    await state.lease.renew(db)
    keeper = asyncio.create_task(state.lease.keep(db))

    async def loop() -> None:
        while not state.stopping:
            await _wait(state.wake, app[keys.CONFIG].mail_interval_seconds)
            state.wake.clear()
            if state.may_send():
                try:
                    await run_once(app)
                except Exception:
                    log.exception("mail sender failed; will try again")
            state.rounds += 1

    task = asyncio.create_task(loop())
    yield
    # The flag too: a library deep in a round (aiosmtplib uses wait_for) may lose the
    # cancellation; the loop then stops at the end of that round.
    state.stopping = True
    state.wake.set()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await state.lease.stop(keeper, db)
