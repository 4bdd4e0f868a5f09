"""The list of city boards, and a board's threads by latest activity."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.models import boards, follows, threads
from forum.templating import render
from forum.views import page_count, page_number, url_for


async def index(request: web.Request) -> web.Response:
    viewer = request.get(keys.USER)
    async with request.app[keys.DB].read() as conn:
        all_boards = await boards.list_readable(conn, viewer)
    if viewer is None:
        request[keys.CACHE_TAGS] = {("boards", None)}
    return render(request, "boards/index.html", {"boards": all_boards})


async def show(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    page = page_number(request)
    async with request.app[keys.DB].read() as conn:
        viewer = request.get(keys.USER)
        board = await boards.get_readable(conn, request.match_info["slug"], viewer)
        if board.slug != request.match_info["slug"]:
            raise web.HTTPMovedPermanently(url_for(request, "board", slug=board.slug))
        pages = page_count(board.thread_count, config.threads_per_page)
        if page > pages:
            raise web.HTTPNotFound()
        items = await threads.list_for_board(conn, board.id, page, config.threads_per_page,
                                             viewer)
        following = None if viewer is None else await follows.state(conn, viewer.id, "board",
                                                                    board.id)
    if viewer is None:
        request[keys.CACHE_TAGS] = {("board", board.id), ("board_meta", board.id)}
    return render(request, "boards/show.html", {
        "board": board, "threads": items, "page": page, "pages": pages, "following": following})
