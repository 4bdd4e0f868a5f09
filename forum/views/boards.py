"""The list of city boards, a board's threads by latest activity, and a closed board's
members."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.errors import Forbidden, ForumError, NotFound
from forum.models import boards, follows, threads
from forum.permissions import can
from forum.templating import render
from forum.views import (
    form_error,
    page_count,
    page_number,
    require_user,
    see_other,
    text_field,
    url_for,
)


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


async def members(request: web.Request) -> web.Response:
    """GET: a board's members (a closed board's readers); POST: its moderators add or remove
    one by pseudonym. For anyone else the page does not exist."""
    viewer = require_user(request)
    async with request.app[keys.DB].read() as conn:
        board = await boards.get_readable(conn, request.match_info["slug"], viewer)
        listed = await boards.members(conn, board.id)
    manage = can(viewer, "manage_members", board)
    if not manage and not board.closed:
        raise NotFound()
    context = {"board": board, "members": listed, "manage": manage, "name": "", "errors": {}}
    if request.method == "POST":
        if not manage:
            raise Forbidden("Only the moderators of this board manage its members.")
        form = await request.post()
        context["name"] = text_field(form, "name")
        try:
            async with request.app[keys.DB].transaction() as tx:
                if form.get("action") == "remove":
                    await boards.remove_member(tx, board, context["name"])
                else:
                    await boards.add_member(tx, board, context["name"], viewer)
        except ForumError as error:
            return form_error(request, "boards/members.html", context, error)
        raise see_other(url_for(request, "board_members", slug=board.slug))
    return render(request, "boards/members.html", context, form=manage)
