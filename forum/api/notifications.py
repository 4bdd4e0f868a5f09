"""A member's notifications in JSON, and pseudonym suggestions for the editor."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.api import json_body
from forum.errors import Invalid, NotFound
from forum.handlers import require_user
from forum.models import notifications, users

PREFIX_MAX = 30


def notification_json(item: notifications.Notification) -> dict[str, Any]:
    return {
        "id": item.id, "kind": item.kind, "post_id": item.post_id, "thread_id": item.thread_id,
        "finding_id": item.finding_id, "finding_city": item.finding_city,
        "thread_title": item.thread_title, "actor": item.actor_name, "text": item.text,
        "count": item.count, "created_at": item.created_at, "read": item.read_at is not None,
    }


async def list_notifications(request: web.Request) -> web.Response:
    """GET /api/v1/notifications: newest first, replies about a thread grouped."""
    user = require_user(request)
    async with request.app[keys.DB].read() as conn:
        items = await notifications.list_for_user(conn, user.id)
        unread = await notifications.count_unread(conn, user.id)
    return web.json_response({"notifications": [notification_json(i) for i in items],
                              "unread": unread})


async def mark_read(request: web.Request) -> web.Response:
    """POST /api/v1/notifications/read {ids?}: those (with their groups), or all; 204."""
    user = require_user(request)
    data = await json_body(request, "ReadInput", optional=True)
    ids = data.get("ids")
    # JSON has numbers, not integers: 12.0 is the id 12 (as the schema's "integer" says).
    if "ids" in data and (not isinstance(ids, list) or len(ids) > 200 or not all(
            type(i) in (int, float) and float(i).is_integer() and 0 < i < 2**62 for i in ids)):
        raise Invalid("A list of notification ids is expected.", field="ids")
    ids = [int(i) for i in ids or ()]
    async with request.app[keys.DB].transaction() as tx:
        if "ids" not in data:
            await notifications.mark_all_read(tx, user.id)
        else:
            for notification_id in ids:
                if not await notifications.mark_read(tx, user.id, notification_id):
                    raise NotFound("This notification does not exist.")
    return web.Response(status=204)


async def members(request: web.Request) -> web.Response:
    """GET /api/v1/members?prefix=le: pseudonyms starting so, for the editor's @ suggestions.

    Members only: only they have an editor, and a visitor could otherwise page through every
    pseudonym of the site (who takes part in a surveillance watch is not for strangers to list).
    """
    require_user(request)
    prefix = request.query.get("prefix", "").strip().lstrip("@")
    if len(prefix) > PREFIX_MAX:
        raise Invalid("This prefix is too long.", field="prefix")
    async with request.app[keys.DB].read() as conn:
        names = await users.names_starting_with(conn, prefix)
    return web.json_response({"members": names})
