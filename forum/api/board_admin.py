"""Administration in JSON: editing a board (name, address, mode, city), naming its moderators,
and how accounts are created — administrators only, through the same models as /admin."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.api import board_json, json_body, require_user, slug_param, text_field
from forum.api.boards import LIMITS
from forum.db import Conn
from forum.errors import Forbidden, NotFound
from forum.models import boards, invitations, moderation
from forum.permissions import can
from forum.text import PSEUDONYM_MAX


async def _board(conn: Conn, request: web.Request) -> boards.Board:
    """The board at its current address (a former one is 404, as on the page), for admins."""
    if not can_manage(request):
        raise Forbidden("Only administrators may manage boards.")
    slug = slug_param(request)
    board = await boards.get_by_slug(conn, slug)
    if board.slug != slug:
        raise NotFound()
    return board


def can_manage(request: web.Request) -> bool:
    return can(require_user(request), "manage_boards")


async def edit_board(request: web.Request) -> web.Response:
    """PATCH /api/v1/boards/{slug} {name?, slug?, region?, description?, moderation_mode?,
    is_city?, closed?}: what is sent changes (a former address keeps leading to the board)."""
    data = await json_body(request, "BoardEditInput")
    async with request.app[keys.DB].transaction() as tx:
        board = await _board(tx, request)

        def given(name: str, current: str) -> str:
            return text_field(data, name, LIMITS[name]) if name in data else current

        board = await boards.update(
            tx, board, name=given("name", board.name), slug=given("slug", board.slug),
            region=given("region", board.region),
            description=given("description", board.description),
            moderation_mode=data.get("moderation_mode", board.moderation_mode),
            is_city=data.get("is_city", board.is_city))
        if "closed" in data and data["closed"] != board.closed:
            await boards.set_closed(tx, board, data["closed"])
            board = await boards.get(tx, board.id)
    return web.json_response(board_json(board))


async def list_moderators(request: web.Request) -> web.Response:
    """GET /api/v1/boards/{slug}/moderators: the members who moderate this board only."""
    async with request.app[keys.DB].read() as conn:
        board = await _board(conn, request)
        names = await moderation.get_board_moderators(conn, board.id)
    return web.json_response({"moderators": names})


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    if len(name) > PSEUDONYM_MAX:
        raise NotFound("This member does not exist.")
    return name


async def add_moderator(request: web.Request) -> web.Response:
    """PUT /api/v1/boards/{slug}/moderators/{name}: 204 (already one: nothing changes)."""
    async with request.app[keys.DB].transaction() as tx:
        board = await _board(tx, request)
        await moderation.appoint(tx, board, _name(request), appointed=True)
    return web.Response(status=204)


async def remove_moderator(request: web.Request) -> web.Response:
    """DELETE /api/v1/boards/{slug}/moderators/{name}: 204; 404 if they were not one."""
    async with request.app[keys.DB].transaction() as tx:
        board = await _board(tx, request)
        await moderation.appoint(tx, board, _name(request), appointed=False)
    return web.Response(status=204)


# How accounts are created (as /admin/registration) --------------------------------------------

def _rules_json(rules: invitations.Registration) -> dict[str, str]:
    return {"mode": rules.mode, "question": rules.question}


def _require_admin(request: web.Request) -> None:
    if not can(require_user(request), "manage_boards"):  # the page's permission
        raise Forbidden("Only administrators may change how accounts are created.")


async def show_registration(request: web.Request) -> web.Response:
    """GET /api/v1/registration: open, by invitation or closed, and the sign-up question."""
    _require_admin(request)
    async with request.app[keys.DB].read() as conn:
        rules = await invitations.registration(conn, request.app[keys.CONFIG])
    return web.json_response(_rules_json(rules))


async def change_registration(request: web.Request) -> web.Response:
    """PATCH /api/v1/registration {mode?, question?}: what is sent changes."""
    _require_admin(request)
    data = await json_body(request, "RegistrationInput")
    async with request.app[keys.DB].transaction() as tx:
        rules = await invitations.registration(tx, request.app[keys.CONFIG])
        rules = await invitations.set_registration(
            tx, text_field(data, "mode") if "mode" in data else rules.mode,
            text_field(data, "question", invitations.QUESTION_MAX) if "question" in data
            else rules.question)
    return web.json_response(_rules_json(rules))
