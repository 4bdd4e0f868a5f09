"""Drafts in JSON: what a member is writing as a reply or a new thread, kept on the server
until it is sent (the pages' autosave does the same: views/drafts.py, models/drafts.py)."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.api import check_rate, id_param, json_body, require_writer, slug_param, text_field
from forum.errors import NotFound
from forum.models import drafts
from forum.models.users import User

HEADERS = {"Cache-Control": "private, no-store"}


async def _place(request: web.Request, user: User) -> dict[str, int]:
    async with request.app[keys.DB].read() as conn:
        if "slug" in request.match_info:
            return await drafts.place(conn, user, board_slug=slug_param(request))
        return await drafts.place(conn, user, thread_id=id_param(request))


async def show(request: web.Request) -> web.Response:
    """GET /api/v1/threads/{id}/draft, /api/v1/boards/{slug}/draft: one's draft (404: none)."""
    user = require_writer(request)
    where = await _place(request, user)
    async with request.app[keys.DB].read() as conn:
        draft = await drafts.get(conn, user.id, **where)
    if draft is None:
        raise NotFound("No draft here.")
    return web.json_response({"title": draft.title, "body": draft.body,
                              "updated_at": draft.updated_at}, headers=HEADERS)


async def save(request: web.Request) -> web.Response:
    """PUT …/draft {body, title?}: keep the text typed so far (an empty one erases it); 204."""
    user = require_writer(request)
    where = await _place(request, user)
    schema = "ThreadDraftInput" if "board_id" in where else "ReplyDraftInput"
    data = await json_body(request, schema)
    title, body = text_field(data, "title"), text_field(data, "body")
    config = request.app[keys.CONFIG]
    drafts.check_lengths(title, body, config.title_max, config.body_max)
    await check_rate(request, f"draft:{user.id}", drafts.AUTOSAVES_PER_MINUTE, 60)
    async with request.app[keys.DB].transaction() as tx:
        await drafts.save(tx, user.id, title, body, thread_id=where.get("thread_id"),
                          board_id=where.get("board_id"))
    return web.Response(status=204, headers=HEADERS)


async def erase(request: web.Request) -> web.Response:
    """DELETE …/draft: the draft goes (204, whether or not there was one)."""
    user = require_writer(request)
    where = await _place(request, user)
    async with request.app[keys.DB].transaction() as tx:
        await drafts.erase(tx, user.id, **where)
    return web.Response(status=204)
