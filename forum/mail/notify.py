"""Notification mails: one each for members who chose 'immediate', or a daily digest.

Notifications are written by models.notifications (often many in one statement); the sender's
background round mails them afterwards (`mail_notifications`), checking again that each post is
still public, and marks each row's `mailed_at` once handled (queued or skipped).
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import clock, keys, permissions
from forum.config import Config
from forum.db import Conn, Row, Transaction
from forum.mail.render import (
    list_headers,
    mail_text,
    member_locale,
    render_mail,
    unsubscribe_url,
)
from forum.models import outbox
from forum.models.notifications import PERSONAL
from forum.models.users import User
from forum.permissions import indexed_post, member_reads_board, published_finding

DIGEST_MAX_ITEMS = 50  # more than this: the digest says how many more are waiting
NOTIFY_BATCH = 100  # notifications handled per transaction (the writer is shared)
NOTIFY_MAX_AGE_HOURS = 24  # older ones still unhandled (a long outage) are stale: not mailed
_PERSONAL_SQL = "(" + ", ".join(f"'{kind}'" for kind in PERSONAL) + ")"


def _visible(kind: str, post: str, finding: str, user: str) -> str:
    """SQL: a notification may be mailed: about the member themself, or about a public post
    or finding in a board the member reads (a closed board's group only)."""
    return (
        f"({kind} in {_PERSONAL_SQL} or (({post} is null or exists (select 1 from posts"
        f" join threads on threads.id = posts.thread_id where posts.id = {post}"
        f" and {indexed_post()} and {member_reads_board(user, 'threads.board_id')}))"
        f" and ({finding} is null or exists (select 1 from findings"
        f" where findings.id = {finding} and {published_finding()}"
        f" and {member_reads_board(user, 'findings.board_id')}))))")


def _request_visible() -> str:
    """SQL on a notifications row: its records request (if any) may be told (REQUEST_TOLD)."""
    return ("(notifications.request_id is null or exists (select 1 from records_requests"
            " where records_requests.id = notifications.request_id and"
            f" ({permissions.public_request()}"
            " or records_requests.author_id = notifications.user_id)))")


_NOTIFICATION_COLUMNS = ("notifications.kind", "notifications.post_id",
                         "notifications.finding_id", "notifications.user_id")
# A notification with what its mail shows: thread title or finding's city, actor, recipient's
# address, choice.
_SELECT = (
    "select notifications.id, notifications.user_id, notifications.kind,"
    " notifications.post_id, notifications.thread_id, notifications.finding_id,"
    " notifications.text, notifications.created_at, notifications.read_at,"
    " threads.title, city.name as city, actor.name as actor, member.email, member.locale,"
    " member.email_notifications,"
    f" {_visible(*_NOTIFICATION_COLUMNS)}"
    f" and {_request_visible()} as visible, notifications.request_id,"
    " request_city.name as request_city"
    " from notifications left join posts on posts.id = notifications.post_id"
    " left join threads on threads.id = coalesce(notifications.thread_id, posts.thread_id)"
    " left join findings on findings.id = notifications.finding_id"
    " left join boards as city on city.id = findings.board_id"
    " left join users as actor on actor.id = notifications.actor_id"
    " left join records_requests on records_requests.id = notifications.request_id"
    " left join boards as request_city on request_city.id = records_requests.board_id"
    " join users as member on member.id = notifications.user_id")
# A deleted finding is not shown to its author any more: its mail leads to the notifications.
_FINDING_LINKED = ("finding_approved", "finding_rejected", "new_finding")


def _link(config: Config, kind: str, post_id: int | None, thread_id: int | None,
          finding_id: int | None, request_id: int | None = None) -> str:
    if request_id:
        return f"{config.base_url}/r/{int(request_id)}"
    if finding_id and kind in _FINDING_LINKED:
        return f"{config.base_url}/f/{int(finding_id)}"
    if post_id:
        return f"{config.base_url}/p/{int(post_id)}"
    if thread_id:
        return f"{config.base_url}/t/{int(thread_id)}"
    return f"{config.base_url}/notifications"


def _item(config: Config, kind: str, values: Row | dict[str, Any]) -> dict[str, Any]:
    data = dict(values)
    return {"kind": kind, "title": mail_text(data.get("title")),
            "actor": mail_text(data.get("actor")), "text": mail_text(data.get("text")),
            "city": mail_text(data.get("city") or data.get("request_city")),
            "url": _link(config, kind, data.get("post_id"), data.get("thread_id"),
                         data.get("finding_id"), data.get("request_id"))}


def _wants_now(member: Row) -> bool:
    return (member["email_notifications"] == "immediate"
            and outbox.valid_address(member["email"]))


def _render(app: web.Application, member_id: int, member: Row, kind: str,
            **context: Any) -> tuple[str, str, str, dict[str, str]]:
    """(subject, text, html, headers) of a notification-type mail, unsubscribable."""
    config = app[keys.CONFIG]
    locale = member_locale(config, member)
    link = unsubscribe_url(config, app[keys.MAIL].secret, member_id)
    subject, text, html = render_mail(app, kind, locale, unsubscribe_url=link,
                                      settings_url=f"{config.base_url}/settings", **context)
    return subject, text, html, {"Content-Language": locale, **list_headers(link)}


async def notify_by_mail(tx: Transaction, app: web.Application, user: int | User | Row,
                         notification_kind: str, context: dict[str, Any]) -> int | None:
    """Queue, in `tx`, the mail of one notification if the member wants mail at once.

    `user`: an id, a users.User or a row with "id". `context`: post_id, thread_id, title (of
    the thread), finding_id, city (the finding's board), actor (a pseudonym), text; user text
    is cleaned here; with notification_id,
    that row is marked handled, so the background round does not mail it again. Nothing is
    queued about a post the member may not see, nor for a member without an address or who
    chose 'digest' or 'never'. Returns the outbox id, or None.
    """
    user_id = user if isinstance(user, int) else user["id"] if isinstance(user, Row) else user.id
    if context.get("notification_id"):
        await tx.execute("update notifications set mailed_at = ? where id = ?",
                         (clock.now(), context["notification_id"]))
    member = await tx.one("select email, locale, email_notifications from users where id = ?",
                          (user_id,))
    if member is None or not _wants_now(member) or not await tx.value(
            f"select {_visible('?', '?', '?', '?')}", (
                notification_kind, context.get("post_id"), context.get("post_id"),
                *[user_id] * 3, context.get("finding_id"), context.get("finding_id"),
                *[user_id] * 3)):
        return None
    item = _item(app[keys.CONFIG], notification_kind, context)
    subject, text, html, headers = _render(app, user_id, member, "notification", item=item)
    return await outbox.enqueue(tx, member["email"], subject, text, html, headers)


async def mail_notifications(app: web.Application) -> int:
    """Mail notifications not handled yet to members who want them at once; how many."""
    db, config, queued = app[keys.DB], app[keys.CONFIG], 0
    while True:
        async with db.read() as conn:
            rows = await conn.all(f"{_SELECT} where notifications.mailed_at is null"
                                  " order by notifications.id limit ?", (NOTIFY_BATCH,))
        if not rows:
            return queued
        # Rendered outside the transaction: the writer is shared with every request.
        oldest = clock.later(hours=-NOTIFY_MAX_AGE_HOURS)
        mails = {row["id"]: (row["email"], *_render(app, row["user_id"], row, "notification",
                                                    item=_item(config, row["kind"], row)))
                 for row in rows if row["visible"] and _wants_now(row)
                 and row["read_at"] is None and row["created_at"] >= oldest}
        async with db.transaction() as tx:
            now = clock.now()
            for row in rows:
                handled = await tx.update("update notifications set mailed_at = ? where id = ?"
                                          " and mailed_at is null", (now, row["id"]))
                if handled and row["id"] in mails:
                    await outbox.enqueue(tx, *mails[row["id"]])
                    queued += 1
        if len(rows) < NOTIFY_BATCH:
            return queued


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


async def _member(conn: Conn, user_id: int) -> Row | None:
    return await conn.one("select id, email, locale, email_notifications, digest_sent_at"
                          " from users where id = ?", (user_id,))


async def _digest(tx: Transaction, app: web.Application, user_id: int, day_ago: str) -> int:
    """One member's digest: unread, still visible notifications of [last digest, now)."""
    member = await _member(tx, user_id)
    sent_at = member["digest_sent_at"] if member else None
    if member is None or member["email_notifications"] != "digest" or (
            sent_at is not None and sent_at > day_ago):
        return 0  # changed since the list was read
    now = clock.now()
    # A half-open window, and the new mark in the same transaction: each item goes once.
    rows = await tx.all(
        f"{_SELECT} where notifications.user_id = ? and notifications.created_at >= ?"
        " and notifications.created_at < ? and notifications.read_at is null"
        " order by notifications.id", (user_id, sent_at or day_ago, now))
    await tx.execute("update users set digest_sent_at = ? where id = ?", (now, user_id))
    rows = [row for row in rows if row["visible"]]
    if not rows or not outbox.valid_address(member["email"]):
        return 0
    config = app[keys.CONFIG]
    items = [_item(config, row["kind"], row) for row in rows[:DIGEST_MAX_ITEMS]]
    subject, text, html, headers = _render(app, user_id, member, "digest", items=items,
                                           more=len(rows) - len(items))
    await outbox.enqueue(tx, member["email"], subject, text, html, headers)
    return 1
