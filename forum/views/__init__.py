"""HTML handlers per domain, and the small helpers they share (those the API shares too are in
forum/handlers.py, imported here for the views)."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from forum import keys
from forum.errors import ForumError, NotFound
from forum.handlers import (  # noqa: F401 (shared with the API, used through forum.views)
    VERBATIM_FIELDS,
    check_rate,
    client_address,
    int_param,
    named_in_url,
    page_count,
    publication_status,
    require_user,
    require_writer,
    text_field,
    url_for,
)
from forum.i18n import gettext
from forum.models.posts import preview_html  # by name: forum.views.posts is a submodule
from forum.templating import render


def page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or not int(raw) >= 1:
        raise NotFound()
    return int(raw)


def see_other(location: str) -> web.HTTPSeeOther:
    """The answer to a successful POST: go and GET the result."""
    return web.HTTPSeeOther(location)


def back_to_next(form: MultiMapping[object], default: str) -> web.HTTPSeeOther:
    """After a moderator's decision: back where the form said (the queue), on this site."""
    return see_other(local_path(text_field(form, "next"), default))


def decision_reason(form: MultiMapping[object]) -> str:
    """A refusal's reason: picked from the list, written, or both (moderation/_decisions.html)."""
    parts = [text_field(form, "reason_choice").strip(), text_field(form, "reason").strip()]
    return " — ".join(part for part in parts if part)


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


def form_error(request: web.Request, template: str, context: dict[str, Any],
               error: ForumError) -> web.Response:
    """Show a form again, filled in, with the message beside the field at fault."""
    context["errors"] = {error.field or "form": gettext(error.message, **error.params)}
    return render(request, template, context, status=error.status, form=True)


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
