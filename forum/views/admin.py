"""Administration of city boards: create, rename, describe."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.errors import ForumError, NotFound
from forum.models import boards
from forum.permissions import can
from forum.templating import render
from forum.views import form_error, require_user, see_other, text_field, url_for

FIELDS = ("name", "slug", "region", "description")


def _require_admin(request: web.Request) -> None:
    # Not 403: the administration is not advertised to those who may not use it.
    if not can(require_user(request), "manage_boards"):
        raise NotFound()


async def board_list(request: web.Request) -> web.Response:
    """GET: the boards and a creation form; POST: create a board."""
    _require_admin(request)
    context: dict = {"values": dict.fromkeys(FIELDS, ""), "errors": {}}
    if request.method == "POST":
        form = await request.post()
        context["values"] = {name: text_field(form, name) for name in FIELDS}
        try:
            async with request.app[keys.DB].transaction() as tx:
                board = await boards.create(tx, **context["values"])
        except ForumError as error:
            async with request.app[keys.DB].read() as conn:
                context["boards"] = await boards.list_all(conn)
            return form_error(request, "admin/boards.html", context, error)
        raise see_other(url_for(request, "board", slug=board.slug))
    async with request.app[keys.DB].read() as conn:
        context["boards"] = await boards.list_all(conn)
    return render(request, "admin/boards.html", context, form=True)


async def board_edit(request: web.Request) -> web.Response:
    _require_admin(request)
    async with request.app[keys.DB].read() as conn:
        board = await boards.get_by_slug(conn, request.match_info["slug"])
    if board.slug != request.match_info["slug"]:
        raise NotFound()
    context: dict = {"board": board, "values": {f: getattr(board, f) for f in FIELDS},
                     "errors": {}}
    if request.method == "POST":
        form = await request.post()
        context["values"] = {name: text_field(form, name) for name in FIELDS}
        try:
            async with request.app[keys.DB].transaction() as tx:
                board = await boards.update(tx, board, **context["values"])
        except ForumError as error:
            return form_error(request, "admin/board_edit.html", context, error)
        raise see_other(url_for(request, "board", slug=board.slug))
    return render(request, "admin/board_edit.html", context, form=True)
