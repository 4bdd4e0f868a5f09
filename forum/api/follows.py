"""Following and muting in JSON: the threads and boards (cities) a member follows or muted.

The same actions as the buttons of the pages (models/following.py): a thread one may not see is
404, a board is named by its address (a former one too)."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.api import id_param, json_body, require_user, slug_param, text_field
from forum.models import following, follows


async def list_follows(request: web.Request) -> web.Response:
    """GET /api/v1/follows: what one follows or muted, newest first."""
    user = require_user(request)
    async with request.app[keys.DB].read() as conn:
        items = await follows.list_for_user(conn, user)  # the list of /settings
    return web.json_response({
        "threads": [{"id": item.target_id, "title": item.name, "mode": item.mode,
                     "since": item.created_at} for item in items if item.kind == "thread"],
        "boards": [{"slug": item.slug, "name": item.name, "mode": item.mode,
                    "since": item.created_at} for item in items if item.kind == "board"]})


async def _set(request: web.Request, mode: str | None) -> tuple[str, str]:
    """Follow, mute (`mode`) or neither (None) the thread or board of the path: its kind and
    its key as URLs name it."""
    user = require_user(request)
    async with request.app[keys.DB].transaction() as tx:
        if "slug" in request.match_info:
            board = await following.set_for_board(tx, user, slug_param(request), mode)
            return "board", board.slug
        thread = await following.set_for_thread(tx, user, id_param(request), mode)
        return "thread", str(thread.id)


async def follow(request: web.Request) -> web.Response:
    """PUT /api/v1/follows/threads/{id}, /api/v1/follows/boards/{slug} {mode}: follow
    (notified of replies, or of a board's new threads) or mute."""
    require_user(request)
    mode = text_field(await json_body(request, "FollowInput"), "mode")
    kind, key = await _set(request, mode)
    return web.json_response({"kind": kind, "target": key, "mode": mode})


async def unfollow(request: web.Request) -> web.Response:
    """DELETE the same: neither followed nor muted (as by default); 204."""
    await _set(request, None)
    return web.Response(status=204)
