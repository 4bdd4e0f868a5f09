"""A member's own settings: password, e-mail address, sessions, log-in notices, API tokens,
and the ways to their own data (export, leaving: views/own_data.py)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from aiohttp import web

from forum import account_export, auth, keys
from forum.db import Transaction
from forum.errors import ForumError, Invalid
from forum.models import follows, invitations, sessions, two_factor, users
from forum.templating import render
from forum.views import form_error, int_param, require_user, see_other, text_field, url_for

TEMPLATE = "accounts/settings.html"


async def show(request: web.Request) -> web.Response:
    user = require_user(request)
    session = request[keys.SESSION]
    async with request.app[keys.DB].read() as conn:
        devices = await sessions.list_sessions(conn, user.id,
                                            session.token_hash if session else None)
        follow_on_post = await users.follow_on_post(conn, user.id)
        email_notifications = await users.email_notifications(conn, user.id)
        tokens = await users.list_tokens(conn, user.id)
        login_notices = await users.login_notices(conn, user.id)
        two_factor_on = await two_factor.is_enabled(conn, user.id)
        exports = await account_export.list_for(conn, user.id)
        followed = await follows.list_for_user(conn, user)
    context = _context(user, len(devices)) | {"followed": followed} | {
        "follow_on_post": follow_on_post, "email_notifications": email_notifications,
        "tokens": tokens, "devices": devices, "login_notices": login_notices,
        "two_factor_on": two_factor_on, "exports": exports,
        "may_invite": invitations.may_invite(user, request.app[keys.CONFIG])}
    return render(request, TEMPLATE, context, form=True)


def _context(user: users.User, session_count: int) -> dict[str, Any]:
    return {"email": user.email or "", "sessions": session_count, "errors": {}, "saved": False,
            "follow_on_post": 1, "email_notifications": "", "tokens": None, "devices": None,
            "login_notices": False, "two_factor_on": None, "exports": None,
            "may_invite": False, "followed": None}


async def change_password(request: web.Request) -> web.Response:
    """A new password ends every session, this one included, then opens a fresh one here."""
    user = require_user(request)
    form = await request.post()
    new = text_field(form, "password")
    try:
        if new != text_field(form, "password_again"):
            raise Invalid("The two passwords differ.", field="password_again")
        async with request.app[keys.DB].read() as conn:
            await users.check_current_password(conn, user.id, text_field(form, "current"))
        async with request.app[keys.DB].transaction() as tx:
            await users.set_password(tx, user.id, new)
    except ForumError as error:
        return form_error(request, TEMPLATE, _context(user, 1), error)
    request[keys.SESSION] = None  # already ended by set_password
    response = see_other(url_for(request, "settings", query={"saved": "password"}))
    await auth.log_in(request, response, user, notice=False)  # the same device goes on
    raise response


async def change_email(request: web.Request) -> web.Response:
    user = require_user(request)
    form = await request.post()
    try:
        async with request.app[keys.DB].transaction() as tx:
            await users.set_email(tx, user.id, text_field(form, "email"))
    except ForumError as error:
        context = _context(user, 1) | {"email": text_field(form, "email")}
        return form_error(request, TEMPLATE, context, error)
    raise see_other(url_for(request, "settings", query={"saved": "email"}))


async def _save_switch(request: web.Request, name: str,
                       store: Callable[[Transaction, int, bool], Awaitable[None]],
                       saved: str) -> NoReturn:
    """A yes/no setting, the checkbox `name` of its form (left out when unticked): stored, then
    back to /settings saying what was saved."""
    user = require_user(request)
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await store(tx, user.id, form.get(name) == "1")
    raise see_other(url_for(request, "settings", query={"saved": saved}))


async def change_following(request: web.Request) -> web.Response:
    """Whether starting or replying to a thread follows it."""
    await _save_switch(request, "follow_on_post", users.set_follow_on_post, saved="following")


async def stop_following(request: web.Request) -> web.Response:
    """Unfollow or unmute a thread or board from the list in /settings ("What I follow")."""
    user = require_user(request)
    kind = request.match_info["kind"]
    target_id = int_param(request, "id")
    async with request.app[keys.DB].transaction() as tx:
        await follows.set_state(tx, user.id, kind, target_id, None)
    raise see_other(url_for(request, "settings", query={"saved": "follows"}) + "#follows")


async def change_email_notifications(request: web.Request) -> web.Response:
    """E-mail about notifications: each at once, a daily digest, or none."""
    user = require_user(request)
    form = await request.post()
    try:
        async with request.app[keys.DB].transaction() as tx:
            await users.set_email_notifications(tx, user.id,
                                                text_field(form, "email_notifications"))
    except ForumError as error:
        return form_error(request, TEMPLATE, _context(user, 1), error)
    raise see_other(url_for(request, "settings", query={"saved": "email_notifications"}))


async def end_other_sessions(request: web.Request) -> web.Response:
    """Log out every other device (a lost phone, a shared computer)."""
    user = require_user(request)
    session = request[keys.SESSION]
    async with request.app[keys.DB].transaction() as tx:
        await sessions.end_other_sessions(tx, user.id, session.token_hash if session else "")
    raise see_other(url_for(request, "settings", query={"saved": "sessions"}))


async def end_session(request: web.Request) -> web.Response:
    """End one session from the list; ending this one is logging out here."""
    user = require_user(request)
    session = request[keys.SESSION]
    async with request.app[keys.DB].transaction() as tx:
        digest = await sessions.end_session(tx, user.id, request.match_info["handle"])
    if session is not None and digest == session.token_hash:
        response = see_other(url_for(request, "index"))
        response.del_cookie(auth.SESSION_COOKIE, path="/")
        raise response
    raise see_other(url_for(request, "settings", query={"saved": "sessions"}))


async def change_login_notices(request: web.Request) -> web.Response:
    """Whether each new log-in is told by mail."""
    await _save_switch(request, "login_notices", users.set_login_notices, saved="login_notices")


async def revoke_token(request: web.Request) -> web.Response:
    """End one API token (a lost laptop, a script no longer used); 404 for another's."""
    user = require_user(request)
    async with request.app[keys.DB].transaction() as tx:
        await users.revoke_token(tx, user.id, int_param(request, "id"))
    raise see_other(url_for(request, "settings", query={"saved": "tokens"}))
