"""CSRF tokens: every state change needs one (forms, or a header for the API with a cookie)."""
from __future__ import annotations

import hmac
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler

from forum import keys
from forum.cookies import cookies
from forum.errors import Forbidden

ANON_COOKIE = "vigie_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ONE_CLICK_UNSUBSCRIBE_ROUTE = "unsubscribe"  # the only route a POST reaches without a token
# Forms that carry files: read as a stream by their handler (forum/views/uploads.py), which checks
# the token as its first field, before any file is received. Reading them here would hold the
# whole request (files and all) before the handler could refuse it.
STREAMED_FORM_ROUTES = frozenset({"new_thread", "reply", "edit_post", "api_upload",
                                  "drop_new", "drop_new_board",
                                  "new_request", "request_status"})  # views/requests.py


def token_for(request: web.Request) -> str:
    """The token to put in forms: the session's, or for visitors a random cookie's."""
    token = request.get(keys.CSRF_TOKEN)
    if token is None:
        token = secrets.token_urlsafe(32)
        request[keys.CSRF_TOKEN] = token
        request[keys.NEW_CSRF_COOKIE] = token
    return token


def check_form_token(request: web.Request, sent: object) -> None:
    """403 unless `sent` is the token of this session (or visitor)."""
    expected = request.get(keys.CSRF_TOKEN)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise Forbidden("This form has expired or did not come from this site. "
                        "Please reload the page and try again.")


def _needs_token(request: web.Request) -> bool:
    """Whether this state-changing request must show a CSRF token (asked for no page read)."""
    # An API request with no credentials at all has nothing a forged request could abuse:
    # let it reach its handler, which answers 401 (every API write needs a member).
    anonymous_api = request.path.startswith("/api/") and request.get(keys.USER) is None
    # RFC 8058 one-click unsubscribe: mail providers POST the link of the List-Unsubscribe
    # header with no cookie and no token. That link is signed (forum/mail) and can only stop
    # mail, so this one route, for POST only, goes through without a CSRF token.
    one_click = (request.method == "POST"
                 and request.match_info.route.name == ONE_CLICK_UNSUBSCRIBE_ROUTE)
    # A method no route takes (TRACE on a feed) reaches no handler: it gets its 405 (or 404),
    # not a 403 that would claim a form was forged.
    unrouted = request.match_info.http_exception is not None
    return not request.get(keys.VIA_TOKEN) and not anonymous_api and not one_click and not unrouted


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    session = request.get(keys.SESSION)
    if session is not None:
        request[keys.CSRF_TOKEN] = session.csrf_token
    else:
        anon = cookies(request).get(ANON_COOKIE)
        if anon:
            request[keys.CSRF_TOKEN] = anon
    if request.method not in SAFE_METHODS and _needs_token(request):
        sent = request.headers.get(HEADER)
        if (sent is None and request.content_type == "multipart/form-data"
                and request.match_info.route.name in STREAMED_FORM_ROUTES):
            request[keys.CSRF_IN_STREAM] = True  # checked by the handler: check_form_token()
        else:
            if sent is None and request.content_type in (
                    "application/x-www-form-urlencoded", "multipart/form-data"):
                field = (await request.post()).get(FIELD)
                sent = field if isinstance(field, str) else None  # a file is no token
            check_form_token(request, sent)
    response = await handler(request)
    new_cookie = request.get(keys.NEW_CSRF_COOKIE)
    if new_cookie and not response.prepared:
        config = request.app[keys.CONFIG]
        response.set_cookie(ANON_COOKIE, new_cookie, path="/", httponly=True, samesite="Lax",
                            secure=config.secure_cookies)
    return response
