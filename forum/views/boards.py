"""The list of city boards, and a board's threads by latest activity.

Visitors' pages are kept by the page cache; a member's is kept for their capability class with
marks for their bits (forum/templating.py: member_page): nothing on them is theirs but those.
"""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from forum import fragments, keys
from forum.models import boards, follows, threads
from forum.models.users import User
from forum.templating import assembled, kept_member_page, member_page, render
from forum.views import page_count, page_number, url_for


async def index(request: web.Request) -> web.Response:
    kept = kept_member_page(request)
    if kept is not None:
        return assembled(request, kept, {})
    epoch = request.app[keys.PAGE_CACHE].epoch
    async with request.app[keys.DB].read() as conn:
        all_boards = await boards.list_all(conn)
    tags = {("boards", None)}
    context = {"boards": all_boards}
    if request.get(keys.KNOWN_SESSION) is not None and request.method == "GET":
        return member_page(request, "boards/index.html", context, {}, tags, epoch)
    request[keys.CACHE_TAGS] = tags
    return render(request, "boards/index.html", context)


async def show(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    page = page_number(request)
    viewer = request.get(keys.USER)
    kept = kept_member_page(request)
    if kept is not None:  # (kept at its address while the board keeps it: board_meta tag)
        return assembled(request, kept, await _follow_bits(request, viewer, kept.subject))
    epoch = request.app[keys.PAGE_CACHE].epoch
    async with request.app[keys.DB].read() as conn:
        board = await boards.get_by_slug(conn, request.match_info["slug"])
        if board.slug != request.match_info["slug"]:
            raise web.HTTPMovedPermanently(url_for(request, "board", slug=board.slug))
        pages = page_count(board.thread_count, config.threads_per_page)
        if page > pages:
            raise web.HTTPNotFound()
        items = await threads.list_for_board(conn, board.id, page, config.threads_per_page)
    tags = {("board", board.id), ("board_meta", board.id)}
    context = {"board": board, "threads": items, "page": page, "pages": pages}
    if viewer is None:
        request[keys.CACHE_TAGS] = tags
        return render(request, "boards/show.html", {**context, "follow_html": None})
    bits = await _follow_bits(request, viewer, board)
    if request.get(keys.KNOWN_SESSION) is not None and request.method == "GET":
        return member_page(request, "boards/show.html", context, bits, tags, epoch,
                           subject=board)
    return render(request, "boards/show.html", {**context, "follow_html": bits["follow"]})


async def _follow_bits(request: web.Request, viewer: User, board: boards.Board) -> dict[str, str]:
    """The member's follow form of the board, its state kept with their session."""
    known = request.get(keys.KNOWN_SESSION)
    key = ("following", "board", board.id)
    if known is not None and key in known.memo:
        following = known.memo[key]
    else:
        async with request.app[keys.DB].read() as conn:
            following = await follows.state(conn, viewer.id, "board", board.id)
        if known is not None:
            known.memo[key] = following
    env = request.app[aiohttp_jinja2.APP_KEY]
    holder = known if known is not None else fragments.Unkept(request[keys.SESSION])
    return {"follow": fragments.follow_html(request.app[keys.FRAGMENTS], env, holder,
                                            request[keys.LOCALE], "board", board, following)}

