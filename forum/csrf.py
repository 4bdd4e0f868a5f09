"""CSRF tokens: every state change needs one (forms, or a header for the API with a cookie)."""
from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from forum import keys
from forum.errors import Forbidden

ANON_COOKIE = "vigie_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_for(request: web.Request) -> str:
    """The token to put in forms: the session's, or for visitors a random cookie's."""
    token = request.get(keys.CSRF_TOKEN)
    if token is None:
        token = secrets.token_urlsafe(32)
        request[keys.CSRF_TOKEN] = token
        request[keys.NEW_CSRF_COOKIE] = token
    return token


@web.middleware
async def csrf_middleware(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    session = request.get(keys.SESSION)
    if session is not None:
        request[keys.CSRF_TOKEN] = session.csrf_token
    else:
        anon = request.cookies.get(ANON_COOKIE)
        if anon:
            request[keys.CSRF_TOKEN] = anon
    # An API request with no credentials at all has nothing a forged request could abuse:
    # let it reach its handler, which answers 401 (every API write needs a member).
    anonymous_api = request.path.startswith("/api/") and request.get(keys.USER) is None
    if (request.method not in SAFE_METHODS and not request.get(keys.VIA_TOKEN)
            and not anonymous_api):
        expected = request.get(keys.CSRF_TOKEN)
        sent = request.headers.get(HEADER)
        if sent is None and request.content_type in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            sent = (await request.post()).get(FIELD)
        if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            raise Forbidden("This form has expired or did not come from this site. "
                            "Please reload the page and try again.")
    response = await handler(request)
    new_cookie = request.get(keys.NEW_CSRF_COOKIE)
    if new_cookie and not response.prepared:
        config = request.app[keys.CONFIG]
        response.set_cookie(ANON_COOKIE, new_cookie, path="/", httponly=True, samesite="Lax",
                            secure=config.secure_cookies)
    return response
