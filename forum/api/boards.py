"""City boards in JSON: the list, creating one (administrators), and a board's threads."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.api import (
    board_json,
    json_body,
    page_param,
    slug_param,
    text_field,
    thread_json,
    url_for,
)
from forum.errors import Forbidden, Invalid, NotFound
from forum.models import boards, threads
from forum.models.boards import DESCRIPTION_MAX, NAME_MAX
from forum.permissions import can
from forum.views import page_count, require_user

# Region is cut to its maximum by the model rather than refused, so it has no limit here.
LIMITS = {"name": NAME_MAX, "slug": NAME_MAX, "region": None, "description": DESCRIPTION_MAX}


async def list_boards(request: web.Request) -> web.Response:
    """GET /api/v1/boards: every board, in the order of the home page."""
    async with request.app[keys.DB].read() as conn:
        all_boards = await boards.list_readable(conn, request.get(keys.USER))
    return web.json_response({"boards": [board_json(board) for board in all_boards]})


async def create_board(request: web.Request) -> web.Response:
    """POST /api/v1/boards {name, slug?, region?, description?, moderation_mode?}: admins."""
    user = require_user(request)
    if not can(user, "manage_boards"):
        raise Forbidden("Only administrators may create boards.")
    data = await json_body(request)
    values = {name: text_field(data, name, limit) for name, limit in LIMITS.items()}
    # Absent: the site's default; present, it must be one of the modes ("" is not).
    mode = (text_field(data, "moderation_mode") if "moderation_mode" in data
            else request.app[keys.CONFIG].moderation_default)
    is_city = data.get("is_city", True)
    if not isinstance(is_city, bool):
        raise Invalid("This field must be true or false.", field="is_city")
    async with request.app[keys.DB].transaction() as tx:
        board = await boards.create(tx, **values, moderation_mode=mode, is_city=is_city)
    return web.json_response(board_json(board), status=201, headers={
        "Location": url_for(request, "api_board_threads", slug=board.slug)})


async def list_threads(request: web.Request) -> web.Response:
    """GET /api/v1/boards/{slug}/threads?page=n: public threads, pinned first, then by activity."""
    config = request.app[keys.CONFIG]
    page = page_param(request)
    slug = slug_param(request)
    async with request.app[keys.DB].read() as conn:
        # A former slug answers for the renamed board; its `slug` tells the current one.
        viewer = request.get(keys.USER)
        board = await boards.get_readable(conn, slug, viewer)
        pages = page_count(board.thread_count, config.threads_per_page)
        if page > pages:
            raise NotFound()
        items = await threads.list_for_board(conn, board.id, page, config.threads_per_page,
                                             viewer)
    return web.json_response({"board": board_json(board),
                              "threads": [thread_json(thread) for thread in items],
                              "page": page, "pages": pages})
