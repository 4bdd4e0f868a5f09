"""City boards in JSON: the list, creating or closing one (administrators), a board's threads,
a closed board's members, and moving a thread out of (or into) a closed board."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys, reads
from forum.api import (
    board_json,
    board_slug,
    id_param,
    json_body,
    page_param,
    slug_param,
    text_field,
    thread_json,
    url_for,
)
from forum.errors import Forbidden, Invalid, NotFound
from forum.handlers import page_count, require_user, require_writer
from forum.i18n import gettext
from forum.models import boards, moderation, targets, threads
from forum.models.boards import DESCRIPTION_MAX, NAME_MAX
from forum.models.threads import Thread
from forum.models.users import User
from forum.permissions import can

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
    data = await json_body(request, "BoardInput")
    values = {name: text_field(data, name, limit) for name, limit in LIMITS.items()}
    # Absent: the site's default; present, it must be one of the modes ("" is not).
    mode = (text_field(data, "moderation_mode") if "moderation_mode" in data
            else request.app[keys.CONFIG].moderation_default)
    is_city, closed = _flag(data, "is_city", True), _flag(data, "closed", False)
    async with request.app[keys.DB].transaction() as tx:
        board = await boards.create(tx, **values, moderation_mode=mode, is_city=is_city,
                                    closed=closed)
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
    listed = [thread_json(thread) for thread in items]
    if viewer is not None and config.unread_tracking:  # what is new to this member
        found = await reads.unread(request, viewer, [thread.id for thread in items])
        for thread in listed:
            unread = found[thread["id"]]
            thread.update(unread_posts=unread.count, new=bool(unread.count and not unread.opened))
    return web.json_response({"board": board_json(board), "threads": listed,
                              "page": page, "pages": pages})


def _flag(data: dict[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise Invalid("This field must be true or false.", field=name)
    return value


async def _board_of_members(request: web.Request,
                            manage: bool) -> tuple[User, boards.Board]:
    """The caller and the board of the path: 404 unless they read it and (for a list) it is
    closed or theirs to manage; 403 to change it unless they moderate it."""
    user = require_writer(request) if manage else require_user(request)
    async with request.app[keys.DB].read() as conn:
        board = await boards.get_readable(conn, slug_param(request), user)
    allowed = can(user, "manage_members", board)
    if not allowed and not board.closed:
        raise NotFound()
    if manage and not allowed:
        raise Forbidden("Only the moderators of this board manage its members.")
    return user, board


async def list_members(request: web.Request) -> web.Response:
    """GET /api/v1/boards/{slug}/members: a closed board's members (its readers see them)."""
    _user, board = await _board_of_members(request, manage=False)
    async with request.app[keys.DB].read() as conn:
        listed = await boards.members(conn, board.id)
    return web.json_response({"board": board.slug, "members": [
        {"name": member.name, "added_at": member.added_at} for member in listed]})


async def add_member(request: web.Request) -> web.Response:
    """POST /api/v1/boards/{slug}/members {name}: its moderators add a member."""
    user, board = await _board_of_members(request, manage=True)
    name = text_field(await json_body(request, "MemberInput"), "name")
    async with request.app[keys.DB].transaction() as tx:
        added = await boards.add_member(tx, board, name, user)
    return web.json_response({"name": added}, status=201, headers={
        "Location": url_for(request, "api_board_members", slug=board.slug)})


async def remove_member(request: web.Request) -> web.Response:
    """DELETE /api/v1/boards/{slug}/members/{name}: its moderators take a member out."""
    _user, board = await _board_of_members(request, manage=True)
    async with request.app[keys.DB].transaction() as tx:
        await boards.remove_member(tx, board, request.match_info["name"])
    return web.Response(status=204)


async def moved_thread(request: web.Request) -> tuple[Thread | None, boards.Exposure]:
    """Both move operations (this one and its deprecated twin under /moderation): a moderator
    of both boards moves a thread, in one transaction; (None, what would become public) when
    it would leave a closed board for an open one without {"confirm": true}."""
    user = require_writer(request)
    thread_id = id_param(request)
    data = await json_body(request, "MoveInput")
    slug, reason = board_slug(text_field(data, "board")), text_field(data, "reason")
    async with request.app[keys.DB].transaction() as tx:
        thread = await targets.thread_to_moderate(tx, thread_id, user)
        shown = await boards.exposure(tx, thread.id, thread.board_id)
        try:
            await moderation.move_thread_to(tx, thread, slug, user, reason,
                                            exposure_seen=data.get("confirm") is True)
        except moderation.NotConfirmed:
            return None, shown
        return await threads.get(tx, thread.id), shown


async def move_thread(request: web.Request) -> web.Response:
    """POST /api/v1/threads/{id}/move {board, reason?, confirm?}: the thread moved and what
    became public; not confirmed, 409 with what would (`exposure`), nothing moved."""
    moved, shown = await moved_thread(request)
    if moved is None:
        error = moderation.NotConfirmed()
        return web.json_response({"error": {
            "code": error.code, "message": gettext(error.message), "field": "confirm"},
            "exposure": _exposure_json(shown)}, status=409)
    return web.json_response({"thread": thread_json(moved), "exposure": _exposure_json(shown)})


def _exposure_json(shown: boards.Exposure) -> dict[str, Any]:
    return {"posts": shown.posts, "files": list(shown.files),
            "findings_elsewhere": shown.findings_elsewhere,
            "findings_kept": shown.findings_kept}
