"""Following and muting in JSON: the threads and boards (cities) a member follows or muted.

The same actions as the buttons of the pages (models/following.py): a thread one may not see is
404, a board is named by its address (a former one too)."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.api import id_param, json_body, require_user, slug_param, text_field
from forum.models import following


def _state(kind: str, key: str, mode: str | None) -> dict[str, Any]:
    return {"kind": kind, "target": key, "mode": mode}


async def list_follows(request: web.Request) -> web.Response:
    """GET /api/v1/follows: what one follows or muted, newest first."""
    user = require_user(request)
    async with request.app[keys.DB].read() as conn:
        items = await following.list_for(conn, user)
    return web.json_response({
        "threads": [{"id": item.id, "title": item.title, "mode": item.mode,
                     "since": item.created_at} for item in items if item.kind == "thread"],
        "boards": [{"slug": item.key, "name": item.title, "mode": item.mode,
                    "since": item.created_at} for item in items if item.kind == "board"]})


async def _mode(request: web.Request) -> str:
    return text_field(await json_body(request, "FollowInput"), "mode")


async def follow_thread(request: web.Request) -> web.Response:
    """PUT /api/v1/follows/threads/{id} {mode}: follow (notified of replies) or mute."""
    user = require_user(request)
    thread_id = id_param(request)
    mode = await _mode(request)
    async with request.app[keys.DB].transaction() as tx:
        thread = await following.set_for_thread(tx, user, thread_id, mode)
    return web.json_response(_state("thread", str(thread.id), mode))


async def unfollow_thread(request: web.Request) -> web.Response:
    """DELETE /api/v1/follows/threads/{id}: neither followed nor muted (as by default); 204."""
    user = require_user(request)
    thread_id = id_param(request)
    async with request.app[keys.DB].transaction() as tx:
        await following.set_for_thread(tx, user, thread_id, None)
    return web.Response(status=204)


async def follow_board(request: web.Request) -> web.Response:
    """PUT /api/v1/follows/boards/{slug} {mode}: follow (notified of new threads) or mute."""
    user = require_user(request)
    slug = slug_param(request)
    mode = await _mode(request)
    async with request.app[keys.DB].transaction() as tx:
        board = await following.set_for_board(tx, user, slug, mode)
    return web.json_response(_state("board", board.slug, mode))


async def unfollow_board(request: web.Request) -> web.Response:
    """DELETE /api/v1/follows/boards/{slug}: neither followed nor muted; 204."""
    user = require_user(request)
    slug = slug_param(request)
    async with request.app[keys.DB].transaction() as tx:
        await following.set_for_board(tx, user, slug, None)
    return web.Response(status=204)
