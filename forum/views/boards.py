"""The list of city boards, a board's threads by latest activity, and a closed board's
members.

Visitors' pages are kept by the page cache; a member's is kept for their capability class with
marks for their bits (forum/templating.py: member_page): nothing on them is theirs but those.
"""
from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from forum import fragments, keys
from forum.errors import Forbidden, ForumError, NotFound
from forum.models import boards, follows, threads
from forum.models.users import User
from forum.permissions import can
from forum.templating import assembled, kept_member_page, member_page, render
from forum.views import (
    form_error,
    page_count,
    page_number,
    require_user,
    see_other,
    text_field,
    unread,
    url_for,
)


async def index(request: web.Request) -> web.Response:
    kept = kept_member_page(request)
    viewer = request.get(keys.USER)
    if kept is not None and viewer is not None:  # (a kept page is a member's)
        return assembled(request, kept, await unread.board_bits(
            request, viewer, kept.keyed_ids("news")))
    epoch = request.app[keys.PAGE_CACHE].epoch
    async with request.app[keys.DB].read() as conn:
        all_boards = await boards.list_readable(conn, viewer)
    tags = {("boards", None)}
    context = {"boards": all_boards}
    if (viewer is not None and request.get(keys.KNOWN_SESSION) is not None
            and request.method == "GET"):
        bits = await unread.board_bits(request, viewer, [board.id for board in all_boards])
        return member_page(request, "boards/index.html", context, bits, tags, epoch)
    request[keys.CACHE_TAGS] = tags
    return render(request, "boards/index.html", context)


async def show(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    page = page_number(request)
    viewer = request.get(keys.USER)
    kept = kept_member_page(request)
    # (kept at its address while the board keeps it: board_meta tag; only for a member)
    if kept is not None and viewer is not None:
        return assembled(request, kept, {
            **await _follow_bits(request, viewer, kept.subject),
            **await unread.thread_bits(request, viewer, kept.keyed_ids("unread"))})
    epoch = request.app[keys.PAGE_CACHE].epoch
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
    tags = {("board", board.id), ("board_meta", board.id)}
    context = {"board": board, "threads": items, "page": page, "pages": pages}
    if viewer is None:
        request[keys.CACHE_TAGS] = tags
        return render(request, "boards/show.html", {**context, "follow_html": None})
    bits = await _follow_bits(request, viewer, board)
    if request.get(keys.KNOWN_SESSION) is not None and request.method == "GET":
        bits.update(await unread.thread_bits(request, viewer, [item.id for item in items]))
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
    context: dict[str, Any] = {"board": board, "members": listed, "manage": manage, "name": "",
                               "errors": {}}
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
