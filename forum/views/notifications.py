"""A member's notifications: what moderators decided about their posts, sanctions."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.errors import NotFound
from forum.models import notifications
from forum.templating import assembled, kept_member_page, member_page, render
from forum.views import int_param, require_user, see_other, url_for


async def index(request: web.Request) -> web.Response:
    """The member's notifications: kept with their session until the next write (anything may
    add one, mark one read or change what one names), then assembled like any member's page."""
    user = require_user(request)
    kept = kept_member_page(request, own=True)
    if kept is not None:
        return assembled(request, kept, {})
    async with request.app[keys.DB].read() as conn:
        items = await notifications.list_for_user(conn, user.id)
    if request.get(keys.KNOWN_SESSION) is not None and request.method == "GET":
        return member_page(request, "notifications/index.html", {"items": items}, {}, None, 0)
    return render(request, "notifications/index.html", {"items": items}, form=True)


async def mark_read(request: web.Request) -> web.Response:
    user = require_user(request)
    async with request.app[keys.DB].transaction() as tx:
        await notifications.mark_all_read(tx, user.id)
    raise see_other(url_for(request, "notifications"))


async def mark_one_read(request: web.Request) -> web.Response:
    user = require_user(request)
    async with request.app[keys.DB].transaction() as tx:
        if not await notifications.mark_read(tx, user.id, int_param(request, "id")):
            raise NotFound()
    raise see_other(url_for(request, "notifications"))
