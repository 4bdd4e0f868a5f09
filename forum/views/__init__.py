"""HTML handlers per domain, and the small helpers they share."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from forum import keys, permissions
from forum.errors import Forbidden, ForumError, NotFound, TooManyRequests, Unauthorized
from forum.i18n import format_when, gettext
from forum.models.posts import preview_html  # by name: forum.views.posts is a submodule
from forum.models.users import User
from forum.templating import render
from forum.text import clean_input


def int_param(request: web.Request, name: str) -> int:
    """A numeric path part; anything else is a page that does not exist."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise NotFound()
    return int(raw)


def page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or not int(raw) >= 1:
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


def see_other(location: str) -> web.HTTPSeeOther:
    """The answer to a successful POST: go and GET the result."""
    return web.HTTPSeeOther(location)


def back_to_next(form: MultiDictProxy, default: str) -> web.HTTPSeeOther:
    """After a moderator's decision: back where the form said (the queue), on this site."""
    return see_other(local_path(text_field(form, "next"), default))


def decision_reason(form: MultiDictProxy) -> str:
    """A refusal's reason: picked from the list, written, or both (moderation/_decisions.html)."""
    parts = [text_field(form, "reason_choice").strip(), text_field(form, "reason").strip()]
    return " — ".join(part for part in parts if part)


def require_user(request: web.Request) -> User:
    """The member making the request; a visitor asking for a form is sent to log in first."""
    user = request.get(keys.USER)
    if user is None:
        if request.method == "GET" and not request.path.startswith("/api/"):
            login = request.app.router["login"].url_for().with_query(next=request.path_qs)
            raise web.HTTPSeeOther(str(login))
        raise Unauthorized("You need to log in.")
    return user


# Secrets are compared as typed: cleaning them would lock out whoever chose such a password.
# A pseudonym ("name", also a board's: the model cleans that one) holding such characters is
# refused with a reason rather than changed behind its owner's back.
VERBATIM_FIELDS = frozenset({"password", "password_again", "current", "name"})


def text_field(form: MultiDictProxy, name: str) -> str:
    """A text field of a form, without the characters no user text keeps (forum.text)."""
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    return value if name in VERBATIM_FIELDS else clean_input(value)


def local_path(target: str | None, default: str = "/") -> str:
    r"""A redirect target from a form or a query, kept on this site: a path, nothing else.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so
    "/\t/evil.example" or "/\evil.example" would leave the site: no control character or
    backslash is accepted anywhere.
    """
    if (not target or not target.startswith("/") or target.startswith("//")
            or len(target) > 2000
            or any(c < " " or c in "\\\x7f" or "\x80" <= c <= "\x9f" for c in target)):
        return default
    return target


def client_address(request: web.Request) -> str:
    """The client rate limits count against (FORUM_TRUSTED_PROXIES may forward it)."""
    return request.app[keys.LIMITER].client(
        request.remote, request.headers.getall("X-Forwarded-For", []))


def check_rate(request: web.Request, key: str, limit: int, window: float,
               message: str = "Too many attempts. Please wait a little and try again.") -> None:
    """Raise 429 when `key` went over `limit` actions in `window` seconds; else count one."""
    limiter = request.app[keys.LIMITER]
    wait = limiter.retry_after(key, limit, window)
    if wait:
        raise TooManyRequests(message, retry_after=wait)
    limiter.hit(key, window)


def form_error(request: web.Request, template: str, context: dict[str, Any],
               error: ForumError) -> web.Response:
    """Show a form again, filled in, with the message beside the field at fault."""
    context["errors"] = {error.field or "form": gettext(error.message, **error.params)}
    return render(request, template, context, status=error.status, form=True)


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


async def preview(request: web.Request, body: str) -> str:
    """The post as it would be published, @mentions of real members linked."""
    async with request.app[keys.DB].read() as conn:
        return await preview_html(conn, body)


def quote_markdown(post: Any, thread_title: str, selection: str = "") -> str:
    """'@lea said in [title](/p/12):' and the quoted text, to start a reply with."""
    title = re.sub(r"([\\\[\]])", r"\\\1", thread_title)
    header = gettext("@%(name)s said in [%(title)s](/p/%(id)s):", name=post.author_name,
                     title=title, id=post.id)
    text = (selection or post.body_source).strip()
    return header + "\n" + "\n".join("> " + line for line in text.splitlines()) + "\n\n"
