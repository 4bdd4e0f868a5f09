"""Administration: city boards (create, rename, describe), the kinds of equipment, and how
accounts are created (registration mode and question)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from forum import keys
from forum.config import REGISTRATION_MODES
from forum.db import Conn, Transaction
from forum.errors import ForumError, Invalid, NotFound
from forum.i18n import gettext
from forum.models import boards, finding_kinds, findings, invitations, moderation
from forum.models.users import User
from forum.permissions import Action, can
from forum.templating import render
from forum.views import form_error, require_user, see_other, text_field, url_for

FIELDS = ("name", "slug", "region", "description", "moderation_mode")  # text fields


def _require_admin(request: web.Request, action: Action = "manage_boards") -> None:
    # Not 403: the administration is not advertised to those who may not use it.
    if not can(require_user(request), action):
        raise NotFound()


def _board_values(form: MultiMapping[object]) -> dict[str, Any]:
    """The board form's fields; an unchecked box sends nothing, so absent means not a city (or
    not closed)."""
    return {**{name: text_field(form, name) for name in FIELDS}, "is_city": "is_city" in form,
            "closed": "closed" in form}


async def board_list(request: web.Request) -> web.Response:
    """GET: the boards and a creation form; POST: create a board."""
    _require_admin(request)
    config = request.app[keys.CONFIG]
    context: dict[str, Any] = {
        "values": {**dict.fromkeys(FIELDS, ""), "is_city": True, "closed": False,
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
    context: dict[str, Any] = {
        "board": board, "values": {f: getattr(board, f) for f in (*FIELDS, "is_city", "closed")},
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


async def _change_moderator(request: web.Request, board: boards.Board,
                            form: MultiMapping[object], context: dict[str, Any]) -> web.Response:
    try:
        async with request.app[keys.DB].transaction() as tx:
            await moderation.appoint(tx, board, text_field(form, "moderator").strip(),
                                     appointed=form.get("action") != "remove")
    except ForumError as error:
        return form_error(request, "admin/board_edit.html", context, error)
    raise see_other(url_for(request, "admin_board", slug=board.slug))


KIND_FORM = ("label", "kind", "new_label", "merged", "into", "reason")  # the three forms' fields


async def kinds(request: web.Request) -> web.Response:
    """GET: the kinds of equipment, how many findings use each, their renames and merges;
    POST: add a kind."""
    _require_admin(request, "manage_kinds")
    if request.method == "POST":
        form = await request.post()
        return await _kind_action(request, form, lambda tx, admin: findings.add_kind(
            tx, text_field(form, "label")))
    return await _kinds_page(request, {}, {})


async def rename_kind(request: web.Request) -> web.Response:
    """POST /admin/kinds/rename {kind, new_label, reason}: the journal keeps the old name."""
    _require_admin(request, "manage_kinds")
    form = await request.post()

    async def act(tx: Transaction, admin: User) -> None:
        kind = await _chosen_kind(tx, form, "kind")
        await finding_kinds.rename(tx, kind, text_field(form, "new_label"), admin,
                                   text_field(form, "reason"))
    return await _kind_action(request, form, act)


async def merge_kind(request: web.Request) -> web.Response:
    """POST /admin/kinds/merge {merged, into, reason}: the findings move to `into`."""
    _require_admin(request, "manage_kinds")
    form = await request.post()

    async def act(tx: Transaction, admin: User) -> None:
        kind = await _chosen_kind(tx, form, "merged")
        target = await _chosen_kind(tx, form, "into")
        await finding_kinds.merge(tx, kind, target, admin, text_field(form, "reason"))
    return await _kind_action(request, form, act)


async def _chosen_kind(conn: Conn, form: MultiMapping[object], name: str) -> findings.Kind:
    try:
        return await finding_kinds.get(conn, text_field(form, name))
    except NotFound:
        raise Invalid("Choose a kind of equipment from the list.", field=name) from None


async def _kind_action(request: web.Request, form: MultiMapping[object],
                       act: Callable[[Transaction, User], Awaitable[object]]) -> web.Response:
    """Run one of the kinds page's forms in a transaction: back to the page, or the page
    again with the message beside the field at fault (nothing changed)."""
    try:
        async with request.app[keys.DB].transaction() as tx:
            await act(tx, require_user(request))
    except ForumError as error:
        values = {name: text_field(form, name) for name in KIND_FORM}
        errors = {error.field or "form": gettext(error.message, **error.params)}
        return await _kinds_page(request, values, errors, error.status)
    raise see_other(url_for(request, "admin_kinds"))


async def _kinds_page(request: web.Request, values: dict[str, str], errors: dict[str, str],
                      status: int = 200) -> web.Response:
    async with request.app[keys.DB].read() as conn:
        context = {"kinds": await _kinds_in_use(conn),
                   "history": await finding_kinds.history(conn),
                   "values": values, "errors": errors, "label_max": findings.KIND_LABEL_MAX}
    return render(request, "admin/kinds.html", context, status=status, form=True)


async def _kinds_in_use(conn: Conn) -> list[tuple[findings.Kind, int]]:
    """Every kind with how many findings use it (deleted ones too: they keep their kind)."""
    used = await findings.findings_per_kind(conn)
    return [(kind, used.get(kind.id, 0)) for kind in await findings.kinds(conn)]


async def registration(request: web.Request) -> web.Response:
    """GET: how accounts are created (open, by invitation, closed) and the sign-up question;
    POST: change them (the FORUM_ defaults hold until then)."""
    _require_admin(request)
    config = request.app[keys.CONFIG]
    async with request.app[keys.DB].read() as conn:
        rules = await invitations.registration(conn, config)
    context: dict[str, Any] = {"mode": rules.mode, "question": rules.question, "errors": {},
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
