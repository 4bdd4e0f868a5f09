"""What every handler needs, HTML (forum/views) or JSON (forum/api): who asks and whether
they may write, a form's text field, a path's id, a page count, a route's path, a rate limit,
and "see it or 404". The API never imports the views: what both use lives here."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from multidict import MultiMapping

from forum import keys, permissions
from forum.db import Conn
from forum.errors import Forbidden, NotFound, TooManyRequests, Unauthorized
from forum.i18n import format_when
from forum.models.users import User
from forum.permissions import can
from forum.text import clean_input

T = TypeVar("T")
Viewer = TypeVar("Viewer", User, User | None)


def int_param(request: web.Request, name: str = "id") -> int:
    """A numeric path part; anything else is a page that does not exist."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise NotFound()
    return int(raw)


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def url_for(request: web.Request, route_: str, query: dict[str, Any] | None = None,
            fragment: str = "", **parts: Any) -> str:
    url = request.app.router[route_].url_for(**{k: str(v) for k, v in parts.items()})
    if query:
        url = url.with_query(query)
    return str(url) + (f"#{fragment}" if fragment else "")


def require_user(request: web.Request) -> User:
    """The member making the request; a visitor asking for a form is sent to log in first."""
    user = request.get(keys.USER)
    if user is None:
        if request.method == "GET" and not request.path.startswith("/api/"):
            login = request.app.router["login"].url_for().with_query(next=request.path_qs)
            raise web.HTTPSeeOther(str(login))
        raise Unauthorized("You need to log in.")
    return user


def require_writer(request: web.Request) -> User:
    """A member who may write now; a suspended or banned one is told until when and why."""
    user = require_user(request)
    if user.is_suspended:
        if user.is_banned:
            raise Forbidden("Your account is banned: %(reason)s",
                            reason=user.suspension_reason or "")
        raise Forbidden("Your account is suspended until %(until)s: %(reason)s",
                        until=format_when(user.suspended_until),
                        reason=user.suspension_reason or "")
    return user


def publication_status(request: web.Request, user: User, board_id: int,
                       board_mode: str) -> str:
    """'published' or 'pending' for what this member is about to post in this board."""
    return permissions.publication_status(user, board_id, board_mode,
                                          request.app[keys.CONFIG].trust_threshold)


# Secrets are compared as typed: cleaning them would lock out whoever chose such a password.
# A pseudonym ("name", also a board's: the model cleans that one) holding such characters is
# refused with a reason rather than changed behind its owner's back.
VERBATIM_FIELDS = frozenset({"password", "password_again", "current", "name"})


def text_field(form: MultiMapping[object], name: str) -> str:
    """A text field of a form, without the characters no user text keeps (forum.text)."""
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    return value if name in VERBATIM_FIELDS else clean_input(value)


def client_address(request: web.Request) -> str:
    """The client rate limits count against (FORUM_TRUSTED_PROXIES may forward it)."""
    return request.app[keys.LIMITER].client(
        request.remote, request.headers.getall("X-Forwarded-For", []))


async def check_rate(request: web.Request, key: str, limit: int, window: float,
               message: str = "Too many attempts. Please wait a little and try again.") -> None:
    """Raise 429 when `key` went over `limit` actions in `window` seconds; else count one."""
    limiter = request.app[keys.LIMITER]
    wait = await limiter.retry_after(key, limit, window)
    if wait:
        raise TooManyRequests(message, retry_after=wait)
    await limiter.hit(key, window)


def visible_or_404(viewer: User | None, action: permissions.Action, target: T) -> T:
    """`target` if `viewer` may `action` it ("see_post", "see_finding"…); otherwise 404, as for
    something that does not exist, so that nobody learns it does."""
    if not can(viewer, action, target):
        raise NotFound()
    return target


async def named_in_url(request: web.Request, lookup: Callable[[Conn, int, Viewer], Awaitable[T]],
                       viewer: Viewer) -> T:
    """What the URL's id names, as `lookup` lets `viewer` see or act on it (a model's
    `visible`, or a function of models/targets.py: 404 if they may not see it)."""
    async with request.app[keys.DB].read() as conn:
        return await lookup(conn, int_param(request, "id"), viewer)
