"""Who is asking: the session cookie or an API bearer token; logging in and out."""
from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from forum import clock, keys
from forum.models import moderation, users

SESSION_COOKIE = "vigie_session"


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@web.middleware
async def auth_middleware(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    request[keys.USER] = None
    request[keys.SESSION] = None
    request[keys.VIA_TOKEN] = False
    db = request.app[keys.DB]
    token = request.cookies.get(SESSION_COOKIE)
    bearer = _bearer(request) if request.path.startswith("/api/") else None
    stale_cookie = False
    if bearer:
        async with db.read() as conn:
            found = await users.user_for_token(conn, bearer)
        if found is None:
            from forum.errors import Unauthorized

            raise Unauthorized("This API token is not valid.")
        request[keys.USER], token_id, last_used_on = found
        request[keys.VIA_TOKEN] = True
        today = clock.now()[:10]
        if last_used_on != today:  # at most one write per token and day
            async with db.transaction() as tx:
                await users.mark_token_used(tx, token_id, today)
    elif token:
        async with db.read() as conn:
            session = await users.load_session(conn, token)
            if session is not None and session.user.moderates_any:
                # The header's badge, from the queue's own conditions.
                session = replace(session,
                                  waiting=await moderation.queue_size(conn, session.user))
        if session is None:
            stale_cookie = True
        else:
            request[keys.SESSION] = session
            request[keys.USER] = session.user
    response = await handler(request)
    if stale_cookie and not response.prepared:
        response.del_cookie(SESSION_COOKIE, path="/")
    if request.path.startswith("/api/") and not response.prepared:
        _api_cache_headers(request, response)
    return response


def _api_cache_headers(request: web.Request, response: web.StreamResponse) -> None:
    """An API answer made for one caller is kept by no shared cache (nor by the browser once
    the caller logs out); one for visitors still varies with who asks."""
    if request[keys.USER] is not None:
        response.headers["Cache-Control"] = "private, no-store"
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Authorization, Cookie" if vary else "Authorization, Cookie"


async def log_in(request: web.Request, response: web.StreamResponse, user: users.User) -> None:
    """Start a new session (a new id every time) and end the one the browser had, if any."""
    config = request.app[keys.CONFIG]
    async with request.app[keys.DB].transaction() as tx:
        old = request.get(keys.SESSION)
        if old is not None:
            await users.close_session(tx, old.token_hash)
        token = await users.open_session(tx, user.id, config.session_days)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=config.session_days * 86400, path="/", httponly=True,
        samesite="Lax", secure=config.secure_cookies)


async def log_out(request: web.Request, response: web.StreamResponse) -> None:
    session = request.get(keys.SESSION)
    if session is not None:
        async with request.app[keys.DB].transaction() as tx:
            await users.close_session(tx, session.token_hash)
    response.del_cookie(SESSION_COOKIE, path="/")
