"""Unread tracking in JSON (issue 16): marking a thread, a board or everything as read. The
counts are in the board's thread list (api/boards.py: list_threads)."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.api import id_param, json_body, slug_param
from forum.errors import Invalid, NotFound
from forum.handlers import require_user
from forum.models import boards, posts, reads, threads
from forum.permissions import can


async def mark_thread_read(request: web.Request) -> web.Response:
    """POST /api/v1/threads/{id}/read {post_id?}: read up to that post (by default, its last
    one you may see); a mark never goes back. 204."""
    user = require_user(request)
    data = await json_body(request, "ThreadReadInput", optional=True)
    up_to = data.get("post_id")
    if up_to is not None and not (type(up_to) in (int, float) and float(up_to).is_integer()):
        raise Invalid("A post id is expected.", field="post_id")
    async with request.app[keys.DB].transaction() as tx:
        thread = await threads.get(tx, id_param(request))
        if not can(user, "see_thread", thread):
            raise NotFound()
        last = await posts.last_visible(tx, thread.id, user)
        post_id = last if up_to is None else min(int(up_to), last)
        await reads.record(tx, {(user.id, thread.id): post_id})
    return web.Response(status=204)


async def mark_board_read(request: web.Request) -> web.Response:
    """POST /api/v1/boards/{slug}/read: everything in the board counts as read. 204."""
    user = require_user(request)
    await json_body(request, "MarkReadInput", optional=True)
    async with request.app[keys.DB].transaction() as tx:
        board = await boards.get_readable(tx, slug_param(request), user)
        await reads.mark_board(tx, user, board.id)
    return web.Response(status=204)


async def mark_all_read(request: web.Request) -> web.Response:
    """POST /api/v1/read: everything in every board you read counts as read. 204."""
    user = require_user(request)
    await json_body(request, "MarkReadInput", optional=True)
    async with request.app[keys.DB].transaction() as tx:
        await reads.mark_all(tx, user)
    return web.Response(status=204)
