"""A member's own settings in JSON: preferences (following, mail, log-in notices, language)
and personal API tokens. The same model functions as /settings (views/settings.py).

Not here, on purpose (web-only, see tests/test_api_parity.py): the password, the e-mail
address, sessions, two-factor set-up and leaving, which a stolen token must not reach."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from forum import keys
from forum.api import id_param, json_body, require_user, require_writer, text_field
from forum.api.components import TOKEN_LABEL_MAX
from forum.db import Conn, Transaction
from forum.errors import Forbidden
from forum.models import invitations, users

Item = TypeVar("Item")


async def _preferences(conn: Conn, user_id: int) -> dict[str, Any]:
    return {"follow_on_post": await users.follow_on_post(conn, user_id),
            "email_notifications": await users.email_notifications(conn, user_id),
            "login_notices": await users.login_notices(conn, user_id),
            "locale": await users.locale_of(conn, user_id)}


async def show_preferences(request: web.Request) -> web.Response:
    """GET /api/v1/preferences."""
    user = require_user(request)
    async with request.app[keys.DB].read() as conn:
        return web.json_response(await _preferences(conn, user.id))


async def change_preferences(request: web.Request) -> web.Response:
    """PATCH /api/v1/preferences {follow_on_post?, email_notifications?, login_notices?,
    locale?}: what is sent changes, all in one transaction; the preferences as they now are."""
    user = require_user(request)
    data = await json_body(request, "PreferencesInput")
    async with request.app[keys.DB].transaction() as tx:
        if "follow_on_post" in data:
            await users.set_follow_on_post(tx, user.id, data["follow_on_post"])
        if "email_notifications" in data:
            await users.set_email_notifications(tx, user.id,
                                                text_field(data, "email_notifications"))
        if "login_notices" in data:
            await users.set_login_notices(tx, user.id, data["login_notices"])
        if "locale" in data:
            await users.set_locale(tx, user.id, data["locale"])
        shown = await _preferences(tx, user.id)
    return web.json_response(shown)


# Tokens and invitations: secrets of one's own, shown once, listed without them, ended by id ----

async def _list_own(request: web.Request, key: str,
                    load: Callable[[Conn, int], Awaitable[Sequence[Item]]],
                    as_json: Callable[[Item], dict[str, Any]]) -> web.Response:
    """The member's own tokens or invitations under `key`, as `load` lists them."""
    user = require_user(request)
    async with request.app[keys.DB].read() as conn:
        items = await load(conn, user.id)
    return web.json_response({key: [as_json(item) for item in items]})


async def _end_own(request: web.Request,
                   end: Callable[[Transaction, int, int], Awaitable[None]]) -> web.Response:
    """204 once the member's own item named by the URL is ended (404 for another's)."""
    user = require_user(request)
    item_id = id_param(request)
    async with request.app[keys.DB].transaction() as tx:
        await end(tx, user.id, item_id)
    return web.Response(status=204)


def _token_json(token: users.ApiToken) -> dict[str, Any]:
    return {"id": token.id, "label": token.label, "created_at": token.created_at,
            "last_used_on": token.last_used_on}


async def list_tokens(request: web.Request) -> web.Response:
    """GET /api/v1/tokens: one's live tokens, newest first (never the tokens themselves)."""
    return await _list_own(request, "tokens", users.list_tokens, _token_json)


async def create_token(request: web.Request) -> web.Response:
    """POST /api/v1/tokens {label?}: a new personal token, shown once. With the session
    cookie only: a token minting tokens would outlive its own revocation."""
    user = require_user(request)
    if request.get(keys.VIA_TOKEN):
        raise Forbidden("A token cannot create tokens: log in with a browser session.")
    label = text_field(await json_body(request, "TokenInput", optional=True), "label",
                       TOKEN_LABEL_MAX)
    async with request.app[keys.DB].transaction() as tx:
        secret = await users.create_token(tx, user.id, label)
        token = (await users.list_tokens(tx, user.id))[0]  # the newest: this one
    return web.json_response({**_token_json(token), "token": secret}, status=201)


async def revoke_token(request: web.Request) -> web.Response:
    """DELETE /api/v1/tokens/{id}: end one of one's tokens (404 for another's); 204."""
    return await _end_own(request, users.revoke_token)


# Invitations: single-use sign-up links, as /invitations makes them ---------------------------

def _invitation_json(item: invitations.Invitation) -> dict[str, Any]:
    return {"id": item.id, "created_at": item.created_at, "expires_at": item.expires_at,
            "used_at": item.used_at, "used_by": item.used_by_name, "live": item.is_live}


async def list_invitations(request: web.Request) -> web.Response:
    """GET /api/v1/invitations: the links one made, newest first (never the links again)."""
    return await _list_own(request, "invitations", invitations.list_for, _invitation_json)


async def create_invitation(request: web.Request) -> web.Response:
    """POST /api/v1/invitations: a new link, shown once; 403 for who may not invite (yet)."""
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    async with request.app[keys.DB].transaction() as tx:
        token = await invitations.create(tx, user, config)
        item = (await invitations.list_for(tx, user.id, limit=1))[0]  # this one
    return web.json_response({**_invitation_json(item),
                              "link": invitations.link(config, token)}, status=201)


async def withdraw_invitation(request: web.Request) -> web.Response:
    """DELETE /api/v1/invitations/{id}: an unused link no longer opens (404 for another's)."""
    return await _end_own(request, invitations.withdraw)
