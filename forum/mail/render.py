"""Mails from templates/mail/<kind>.txt|.html in the member's language; unsubscribe links."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

import jinja2
from aiohttp import web

from forum import i18n, keys
from forum.config import Config
from forum.db import Row
from forum.i18n import N_
from forum.templating import TEMPLATES
from forum.text import clean_line

SITE_NAME = "Vigie"
USER_TEXT_MAX = 300

# What a notification says, by kind: the texts of templates/notifications/index.html (a pair
# is singular/plural, used with 1). Parameters: name (the actor), title (the thread), reason,
# city (the board of a finding).
# Add a line here for every new kind of notification.
NOTIFICATION_LINES: dict[str, str | tuple[str, str]] = {
    "mention": N_("%(name)s mentioned you in “%(title)s”."),
    "quote": N_("%(name)s quoted you in “%(title)s”."),
    "reply": ("A new message by %(name)s in “%(title)s”.",
              "%(num)s new messages in “%(title)s”."),
    "new_thread": ("New thread by %(name)s: “%(title)s”.",
                   "%(num)s new threads, the first: “%(title)s”."),
    "approved": N_("Your message in “%(title)s” was approved."),
    "rejected": N_("Your message in “%(title)s” was refused: %(reason)s"),
    "deleted": N_("Your message in “%(title)s” was deleted by a moderator: %(reason)s"),
    "warn": N_("A moderator warned you: %(reason)s"),
    "suspend": N_("Your account was suspended: %(reason)s"),
    "ban": N_("Your account was banned: %(reason)s"),
    "lift": N_("Your sanction was lifted: %(reason)s"),
    "new_finding": N_("%(name)s added a finding about %(city)s to the record."),
    "finding_approved": N_("Your finding about %(city)s was approved."),
    "finding_rejected": N_("Your finding about %(city)s was refused: %(reason)s"),
    "finding_deleted": N_("Your finding about %(city)s was deleted by a moderator: %(reason)s"),
    # Records requests (models/requests.py): `reason` is the administration asked.
    "request_approved": N_("Your records request about %(city)s was approved."),
    "request_rejected": N_("Your records request about %(city)s was refused: %(reason)s"),
    "request_implicit_refusal": N_("Records request to %(reason)s (%(city)s): a month without"
                                   " an answer, it is now an implicit refusal."),
    "request_cada_referral": N_("Records request to %(reason)s (%(city)s): the two months to"
                                " refer the refusal to the CADA are over."),
    "request_cada_opinion": N_("Records request to %(reason)s (%(city)s): the CADA's opinion,"
                               " expected within a month, is not recorded yet."),
    "request_administration_reply": N_("Records request to %(reason)s (%(city)s): the"
                                       " administration had a month after the CADA's opinion"
                                       " to say what it does."),
}
GENERIC_LINE = N_("You have a new notification.")


def environment() -> jinja2.Environment:
    """Jinja for mails: HTML autoescaped, plain text not; gettext in the current locale."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "mail"),
        autoescape=jinja2.select_autoescape(("html",), default_for_string=False),
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    # A method jinja2.ext.i18n adds to the environment, unknown to jinja2's types.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    env.globals["notification_line"] = notification_line
    env.globals["site_name"] = SITE_NAME
    return env


_URL_DOT = re.compile(r"(?<=\w)\.(?=[^\W\d_])")  # the dots of "evil.example", not of "1.5"


def mail_text(text: str | None, limit: int = USER_TEXT_MAX) -> str:
    """User text (a pseudonym, a title, a reason) for a mail: one line, and no link in it.

    Mail readers turn "evil.example" or "https://…" into links even in plain text, so a
    pseudonym or a title could smuggle one into a mail signed by the forum: defang them.
    """
    line = clean_line(text or "")[:limit]
    return _URL_DOT.sub("[.]", line.replace("://", "[:]//"))


def render_mail(app: web.Application, kind: str, locale: str,
                **context: Any) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of templates/mail/<kind>.txt|.html in `locale`.

    The subject is the `subject` block of the .txt template. User text in `context` must
    already have gone through mail_text().
    """
    config = app[keys.CONFIG]
    locale = locale if locale in i18n.LOCALES else config.default_locale
    env = app[keys.MAIL].env
    values = {"locale": locale, "base_url": config.base_url, **context}
    token = i18n.current_locale.set(locale)
    try:
        text_template = env.get_template(f"{kind}.txt")
        subject = "".join(text_template.blocks["subject"](text_template.new_context(values)))
        text = text_template.render(values)
        html = env.get_template(f"{kind}.html").render(values)
    finally:
        i18n.current_locale.reset(token)
    return clean_line(subject), text, html


def notification_line(item: dict[str, Any]) -> str:
    """The sentence that tells one notification, in the current locale (params already clean)."""
    message = NOTIFICATION_LINES.get(item["kind"])
    params = {"name": item.get("actor", ""), "title": item.get("title", ""),
              "reason": item.get("text", ""), "city": item.get("city", "")}
    if message is None:
        return item.get("text") or i18n.gettext(GENERIC_LINE)
    if isinstance(message, tuple):
        return i18n.ngettext(*message, 1, **params)
    return i18n.gettext(message, **params)


def member_locale(config: Config, member: Row | dict[str, Any]) -> str:
    """The member's chosen language, else the site's default."""
    return member["locale"] if member["locale"] in i18n.LOCALES else config.default_locale


# Unsubscribe links: an HMAC of the member's id with the site's own secret ------------------

def _signature(secret: str, user_id: int) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe:{user_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def unsubscribe_token(secret: str, user_id: int) -> str:
    return f"{user_id}.{_signature(secret, user_id)}"


def unsubscribe_url(config: Config, secret: str, user_id: int) -> str:
    """The one-click link of a member's mails, on the configured address (never the Host)."""
    return f"{config.base_url}/unsubscribe/{unsubscribe_token(secret, user_id)}"


def user_for_unsubscribe(secret: str, token: str) -> int | None:
    """The member id a token was made for, or None for anything forged or mangled."""
    raw_id, _dot, signature = token.partition(".")
    if not secret or not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        return None
    user_id = int(raw_id)
    if not hmac.compare_digest(signature.encode(), _signature(secret, user_id).encode()):
        return None
    return user_id


def list_headers(url: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058 headers: mail readers show an "unsubscribe" button that POSTs."""
    return {"List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
