"""Two-factor login: setting it up in /settings, and the code asked after the password."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from markupsafe import Markup

from forum import auth, i18n, keys
from forum.errors import ForumError, Invalid, TooManyRequests
from forum.i18n import N_
from forum.models import two_factor, users
from forum.templating import render
from forum.views import (
    client_address,
    form_error,
    local_path,
    require_user,
    see_other,
    text_field,
    url_for,
)

SETUP = "accounts/two_factor.html"
CODES = "accounts/recovery_codes.html"
LOGIN_CODE = "accounts/login_code.html"
PENDING_COOKIE = "vigie_login"  # a right password waiting for its code (forum/models)
WRONG_CODE = N_("This code is not right (or was already used).")


def _code_limits(request: web.Request, user_id: int) -> list[tuple[str, int]]:
    """Wrong codes are counted per account and per address, like wrong passwords."""
    config = request.app[keys.CONFIG]
    address = client_address(request)
    return [(f"code:{user_id}", config.login_attempts),
            (f"login-address:{address}", config.login_attempts * 6)]


async def _check_code_rate(request: web.Request, user_id: int) -> list[tuple[str, int]]:
    """429 while too many wrong codes; else count this attempt (taken back if it is right)."""
    limiter, window = request.app[keys.LIMITER], request.app[keys.CONFIG].login_window
    counted = _code_limits(request, user_id)
    wait = max([await limiter.retry_after(key, limit, window) for key, limit in counted])
    if wait:
        raise TooManyRequests("Too many attempts. Please wait a little and try again.",
                              retry_after=wait)
    for key, _limit in counted:
        await limiter.hit(key, window)
    return counted


async def _forgive(request: web.Request, counted: list[tuple[str, int]]) -> None:
    for key, _limit in counted:
        await request.app[keys.LIMITER].unhit(key)


async def _context(request: web.Request, user: users.User) -> dict[str, Any]:
    async with request.app[keys.DB].read() as conn:
        state = await two_factor.status(conn, user.id)
    context = {"state": state, "errors": {}, "key": "", "qr": "",
               "required": auth.requires_two_factor(request.app[keys.CONFIG], user)}
    if state.secret and not state.enabled:
        context["key"] = " ".join(state.secret[i:i + 4] for i in range(0, len(state.secret), 4))
        label = i18n.gettext("QR code of your two-factor key")
        # segno escapes the label; the rest of the element is made here, not from user text.
        context["qr"] = Markup(two_factor.qr_svg(state.secret, user.name, label))
    return context


async def show(request: web.Request) -> web.Response:
    user = require_user(request)
    return render(request, SETUP, await _context(request, user), form=True)


async def start(request: web.Request) -> web.Response:
    """A new key (shown on the page) that becomes the member's once a code proves it works."""
    user = require_user(request)
    try:
        async with request.app[keys.DB].transaction() as tx:
            await two_factor.start(tx, user.id)
    except ForumError as error:
        return form_error(request, SETUP, await _context(request, user), error)
    raise see_other(url_for(request, "two_factor"))


async def enable(request: web.Request) -> web.Response:
    """Turn it on with a code from the app; the recovery codes are shown this once."""
    user = require_user(request)
    form = await request.post()
    counted = await _check_code_rate(request, user.id)
    try:
        async with request.app[keys.DB].transaction() as tx:
            codes = await two_factor.enable(tx, user.id, text_field(form, "code"))
    except ForumError as error:
        return form_error(request, SETUP, await _context(request, user), error)
    await _forgive(request, counted)
    return render(request, CODES, {"codes": codes}, form=True)


async def _with_code(request: web.Request, user: users.User) -> None:
    """Raise Invalid unless the form carries a right code (from the app, or a recovery code)."""
    form = await request.post()
    counted = await _check_code_rate(request, user.id)
    async with request.app[keys.DB].transaction() as tx:
        right = await two_factor.check_any(tx, user.id, text_field(form, "code"))
    if not right:
        raise Invalid(WRONG_CODE, field="code")
    await _forgive(request, counted)


async def disable(request: web.Request) -> web.Response:
    """Turning it off asks for a code: a borrowed session alone cannot."""
    user = require_user(request)
    try:
        if auth.requires_two_factor(request.app[keys.CONFIG], user):
            raise Invalid("Your role requires two-factor login: it cannot be turned off.")
        await _with_code(request, user)
        async with request.app[keys.DB].transaction() as tx:
            await two_factor.disable(tx, user.id)
    except ForumError as error:
        return form_error(request, SETUP, await _context(request, user), error)
    raise see_other(url_for(request, "settings", query={"saved": "two_factor"}))


async def new_recovery_codes(request: web.Request) -> web.Response:
    """Ten new recovery codes (the old ones stop working), with a code."""
    user = require_user(request)
    try:
        await _with_code(request, user)
        async with request.app[keys.DB].transaction() as tx:
            if not await two_factor.is_enabled(tx, user.id):
                raise Invalid("Two-factor login is off.")
            codes = await two_factor.new_recovery_codes(tx, user.id)
    except ForumError as error:
        return form_error(request, SETUP, await _context(request, user), error)
    return render(request, CODES, {"codes": codes}, form=True)


# The second step of logging in -------------------------------------------------------------

async def ask_for_code(request: web.Request, response: web.StreamResponse, user: users.User,
                       next_path: str) -> None:
    """The password was right and the member uses 2FA: remember it briefly, ask the code."""
    async with request.app[keys.DB].transaction() as tx:
        token = await two_factor.open_pending(tx, user.id, next_path)
    response.set_cookie(PENDING_COOKIE, token, max_age=two_factor.PENDING_MINUTES * 60,
                        path="/login", httponly=True, samesite="Lax",
                        secure=request.app[keys.CONFIG].secure_cookies)


async def login_code(request: web.Request) -> web.Response:
    """GET: the code form; POST: check it, then open the session."""
    token = request.cookies.get(PENDING_COOKIE, "")
    async with request.app[keys.DB].read() as conn:
        waiting = await two_factor.pending(conn, token) if token else None
    if waiting is None:  # expired, or never asked: start again from the password
        response = see_other(url_for(request, "login", query={"expired": "1"}))
        response.del_cookie(PENDING_COOKIE, path="/login")
        raise response
    user_id, next_path = waiting
    if request.method != "POST":
        return render(request, LOGIN_CODE, {"errors": {}}, form=True)
    form = await request.post()
    counted = await _check_code_rate(request, user_id)
    async with request.app[keys.DB].transaction() as tx:
        right = await two_factor.check_any(tx, user_id, text_field(form, "code"))
        if right:
            await two_factor.close_pending(tx, token)
            user = await users.get(tx, user_id)
    if not right:
        return form_error(request, LOGIN_CODE, {}, Invalid(WRONG_CODE, field="code"))
    await _forgive(request, counted)
    response = see_other(local_path(next_path))
    response.del_cookie(PENDING_COOKIE, path="/login")
    await auth.log_in(request, response, user)
    raise response
