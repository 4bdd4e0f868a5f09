"""Administration: city boards (create, rename, describe), the kinds of equipment, and how
accounts are created (registration mode and question)."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.config import REGISTRATION_MODES
from forum.db import Conn
from forum.errors import ForumError, NotFound
from forum.models import boards, findings, invitations, moderation
from forum.permissions import can
from forum.templating import render
from forum.views import form_error, require_user, see_other, text_field, url_for

FIELDS = ("name", "slug", "region", "description", "moderation_mode")  # text fields


def _require_admin(request: web.Request, action: str = "manage_boards") -> None:
    # Not 403: the administration is not advertised to those who may not use it.
    if not can(require_user(request), action):
        raise NotFound()


def _board_values(form) -> dict:
    """The board form's fields; an unchecked box sends nothing, so absent means not a city."""
    return {**{name: text_field(form, name) for name in FIELDS}, "is_city": "is_city" in form}


async def board_list(request: web.Request) -> web.Response:
    """GET: the boards and a creation form; POST: create a board."""
    _require_admin(request)
    config = request.app[keys.CONFIG]
    context: dict = {"values": {**dict.fromkeys(FIELDS, ""), "is_city": True,
                                "moderation_mode": config.moderation_default}, "errors": {}}
    if request.method == "POST":
        form = await request.post()
        context["values"] = _board_values(form)
        context["values"]["moderation_mode"] = (context["values"]["moderation_mode"]
                                                or config.moderation_default)
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
    """Rename or describe a board, choose its moderation mode, name its moderators."""
    _require_admin(request)
    async with request.app[keys.DB].read() as conn:
        board = await boards.get_by_slug(conn, request.match_info["slug"])
        moderators = await moderation.get_board_moderators(conn, board.id)
    if board.slug != request.match_info["slug"]:
        raise NotFound()
    context: dict = {"board": board,
                     "values": {f: getattr(board, f) for f in (*FIELDS, "is_city")},
                     "moderators": moderators, "errors": {}}
    if request.method == "POST":
        form = await request.post()
        if form.get("moderator"):
            return await _change_moderator(request, board, form, context)
        context["values"] = _board_values(form)
        try:
            async with request.app[keys.DB].transaction() as tx:
                board = await boards.update(tx, board, **context["values"])
        except ForumError as error:
            return form_error(request, "admin/board_edit.html", context, error)
        raise see_other(url_for(request, "board", slug=board.slug))
    return render(request, "admin/board_edit.html", context, form=True)


async def _change_moderator(request: web.Request, board: boards.Board, form,
                            context: dict) -> web.Response:
    try:
        async with request.app[keys.DB].transaction() as tx:
            await moderation.appoint(tx, board, text_field(form, "moderator").strip(),
                                     appointed=form.get("action") != "remove")
    except ForumError as error:
        return form_error(request, "admin/board_edit.html", context, error)
    raise see_other(url_for(request, "admin_board", slug=board.slug))


async def kinds(request: web.Request) -> web.Response:
    """GET: the kinds of equipment and how many findings use each; POST: add a kind."""
    _require_admin(request, "manage_kinds")
    context: dict = {"label": "", "label_max": findings.KIND_LABEL_MAX, "errors": {}}
    if request.method == "POST":
        form = await request.post()
        context["label"] = text_field(form, "label")
        try:
            async with request.app[keys.DB].transaction() as tx:
                await findings.add_kind(tx, context["label"])
        except ForumError as error:
            async with request.app[keys.DB].read() as conn:
                context["kinds"] = await _kinds_in_use(conn)
            return form_error(request, "admin/kinds.html", context, error)
        raise see_other(url_for(request, "admin_kinds"))
    async with request.app[keys.DB].read() as conn:
        context["kinds"] = await _kinds_in_use(conn)
    return render(request, "admin/kinds.html", context, form=True)


async def _kinds_in_use(conn: Conn) -> list[tuple[findings.Kind, int]]:
    """Every kind with how many findings use it (deleted ones too: they keep their kind)."""
    rows = await conn.all("select kind_id, count(*) from findings group by kind_id")
    used = {row[0]: row[1] for row in rows}
    return [(kind, used.get(kind.id, 0)) for kind in await findings.kinds(conn)]


async def registration(request: web.Request) -> web.Response:
    """GET: how accounts are created (open, by invitation, closed) and the sign-up question;
    POST: change them (the FORUM_ defaults hold until then)."""
    _require_admin(request)
    config = request.app[keys.CONFIG]
    async with request.app[keys.DB].read() as conn:
        rules = await invitations.registration(conn, config)
    context: dict = {"mode": rules.mode, "question": rules.question, "errors": {},
                     "modes": REGISTRATION_MODES}
    if request.method == "POST":
        form = await request.post()
        context.update(mode=text_field(form, "mode"), question=text_field(form, "question"))
        try:
            async with request.app[keys.DB].transaction() as tx:
                await invitations.set_registration(tx, context["mode"], context["question"])
        except ForumError as error:
            return form_error(request, "admin/registration.html", context, error)
        raise see_other(url_for(request, "admin_registration", query={"saved": "1"}))
    return render(request, "admin/registration.html", context, form=True)
