"""Unread tracking on the pages (issue 16): the reader's bits of kept pages (counts per thread
and board, the "new messages" marker), the jump to the first new post, and marking as read.

Visitors see none of it. The marks are in member pages kept for a whole capability class
(forum/fragments.py: keyed_slot); their content is the reader's, from forum/reads.py.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from forum import fragments, i18n, keys, reads
from forum.errors import NotFound
from forum.models import boards, posts, threads
from forum.models import reads as read_marks
from forum.models.users import User
from forum.permissions import can
from forum.views import int_param, page_count, require_user, see_other, url_for


def _macros(request: web.Request) -> Any:  # a template module: its macros as attributes
    return request.app[keys.FRAGMENTS].module(request.app[aiohttp_jinja2.APP_KEY],
                                              request[keys.LOCALE], fragments.READER)


async def thread_bits(request: web.Request, user: User,
                      thread_ids: Iterable[int]) -> dict[str, str]:
    """A board page's bits: per thread, its count of new posts or its "new" badge."""
    if not request.app[keys.CONFIG].unread_tracking:
        return {f"unread:{thread_id}": "" for thread_id in thread_ids}
    found = await reads.unread(request, user, thread_ids)
    macros = None
    bits = {}
    for thread_id, unread in found.items():
        if unread.count:
            macros = macros or _macros(request)
            bits[f"unread:{thread_id}"] = str(macros.thread_unread(thread_id, unread))
        else:
            bits[f"unread:{thread_id}"] = ""
    return bits


async def board_bits(request: web.Request, user: User,
                     board_ids: Iterable[int]) -> dict[str, str]:
    """The home page's bits: per board, how many of its threads have new posts."""
    if not request.app[keys.CONFIG].unread_tracking:
        return {f"news:{board_id}": "" for board_id in board_ids}
    news = await reads.boards_with_news(request, user)
    if not news:
        return {f"news:{board_id}": "" for board_id in board_ids}
    macros = _macros(request)
    return {f"news:{board_id}": str(macros.board_news(news[board_id]))
            if board_id in news else "" for board_id in board_ids}


async def marker_bits(request: web.Request, user: User, thread_id: int,
                      post_ids: list[int], last_page: bool = False) -> dict[str, str]:
    # (post_ids in page order; last_page: nothing the reader may see comes after them)
    """A thread page's bits: the "new messages" marker before the first post new to the
    reader, if they read the thread before (the other marks stay empty: ReaderPage.assemble).
    Then the page counts as read up to its last post (in memory: forum/reads.py ReadLog),
    after the marker was placed."""
    if not post_ids:
        return {}
    if last_page and request.app[keys.READS].of(user.id).get(thread_id, 0) >= post_ids[-1]:
        # Read up to the thread's last post already (noted in memory, not written yet): nothing
        # is new, and nothing needs looking up (forum/reads.py).
        return {}
    unread = (await reads.unread(request, user, (thread_id,)))[thread_id]
    bits = {}
    if unread.opened and unread.first is not None and unread.first in post_ids:
        bits[f"before:{unread.first}"] = _kept_html(request, "unread_marker")
    elif unread.opened and unread.first is not None and unread.first > post_ids[-1]:
        # Opened at an earlier page than the first new post: a link to it, at the top.
        bits[f"jump:{thread_id}"] = _kept_html(request, "unread_jump", thread_id)
    request.app[keys.READS].seen(user.id, thread_id, post_ids[-1])
    return bits


def _kept_html(request: web.Request, macro: str, *args: object) -> str:
    """A reader macro's HTML, kept with the session (it is the same at every request)."""
    known = request.get(keys.KNOWN_SESSION)
    memo = known.memo if known is not None else {}
    locale = request[keys.LOCALE]
    key = (macro, args, locale, i18n.CATALOGS[locale])
    html = memo.get(key)
    if html is None:
        html = memo[key] = str(getattr(_macros(request), macro)(*args))
    return html


async def first_unread(request: web.Request) -> web.Response:
    """GET /t/{id}/unread: to the page of the first post new to the member, at its marker;
    when nothing is new, to the thread's last page. Visitors go to the thread."""
    thread_id = int_param(request, "id")
    viewer = request.get(keys.USER)
    if viewer is None:
        raise web.HTTPFound(url_for(request, "thread", id=thread_id))
    per_page = request.app[keys.CONFIG].posts_per_page
    async with request.app[keys.DB].read() as conn:
        thread = await threads.get(conn, thread_id)
    if not can(viewer, "see_thread", thread):
        raise NotFound()
    first = (await reads.unread(request, viewer, (thread.id,)))[thread.id].first
    async with request.app[keys.DB].read() as conn:
        if first is not None:
            page = await posts.page_of(conn, await posts.get(conn, first), viewer, per_page)
            fragment = "unread"
        else:
            page = page_count(await posts.count_for_thread(conn, thread.id, viewer), per_page)
            fragment = ""
    query = {"page": str(page)} if page > 1 else None
    raise web.HTTPFound(url_for(request, "thread", query, fragment, id=thread.id))


async def mark_board_read(request: web.Request) -> web.Response:
    """POST /b/{slug}/read: everything in the board counts as read by the member."""
    user = require_user(request)
    async with request.app[keys.DB].transaction() as tx:
        board = await boards.get_readable(tx, request.match_info["slug"], user)
        await read_marks.mark_board(tx, user, board.id)
    raise see_other(url_for(request, "board", slug=board.slug))


async def mark_all_read(request: web.Request) -> web.Response:
    """POST /read: everything in every board the member reads counts as read."""
    user = require_user(request)
    async with request.app[keys.DB].transaction() as tx:
        await read_marks.mark_all(tx, user)
    raise see_other(url_for(request, "index"))
