"""French by default, English on request: gettext catalogs, negotiation, dates."""
from __future__ import annotations

import contextvars
import gettext as gettext_module
import io
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel.dates import format_datetime, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from forum import clock

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
LOCALE_COOKIE = "vigie_lang"
LOCALE_DIR = Path(__file__).parent / "locales"
TIMEZONE = get_timezone("Europe/Paris")

current_locale: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_locale", default=DEFAULT_LOCALE)


def _load(locale: str) -> gettext_module.NullTranslations:
    """The compiled catalog; compiled in memory from the .po when the .mo is missing or old."""
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    po, mo = folder / "messages.po", folder / "messages.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return gettext_module.GNUTranslations(fp)
    if po.exists():
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        return gettext_module.GNUTranslations(buffer)
    return gettext_module.NullTranslations()


CATALOGS = {locale: _load(locale) for locale in LOCALES}


def gettext(message: str, **params: object) -> str:
    if not message:  # gettext("") is the catalog's header, never something to show
        return ""
    text = CATALOGS[current_locale.get()].gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    """The plural form for n, formatted with `params` (and num=n) when any are given.

    Jinja's newstyle gettext calls it with no params and formats the result itself.
    """
    text = CATALOGS[current_locale.get()].ngettext(singular, plural, n)
    if not params:
        return text
    params.setdefault("num", n)
    return text % params


_ = gettext


# N_ is one of the names Babel's extractor looks for by default (see `make messages`).
def N_(message: str) -> str:
    """Mark a msgid for extraction; translated where shown."""
    return message


@lru_cache(maxsize=512)
def negotiate(cookie: str | None, accept_language: str, user_locale: str | None = None,
              default: str = DEFAULT_LOCALE) -> str:
    """The user's choice, then their cookie, then the browser's first supported language,
    then the site's default (FORUM_DEFAULT_LOCALE)."""
    for choice in (user_locale, cookie):
        if choice in LOCALES:
            return choice
    return _browser_choice(accept_language) or (
        default if default in LOCALES else DEFAULT_LOCALE)


@lru_cache(maxsize=1024)
def _browser_choice(accept_language: str) -> str | None:
    """The first supported language of an Accept-Language header, if any. Kept: browsers
    send a handful of distinct headers, read before every page (a cached one included)."""
    ranked = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, _sep, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, index, tag.split("-")[0].strip().lower()))
    for _weight, _index, language in sorted(ranked):
        if language in LOCALES:
            return language
    return None


def format_when(iso_text: str | None, locale: str | None = None) -> str:
    """'23 novembre 2026 à 15:42' / 'November 23, 2026, 3:42 PM' (Paris time)."""
    if not iso_text:
        return ""
    return _format_when(iso_text, locale or current_locale.get())


@lru_cache(maxsize=8192)
def _format_when(iso_text: str, locale: str) -> str:
    # Babel's formatting is the costliest part of a page render; a post's time never changes.
    moment: datetime = clock.parse(iso_text)
    # English: no seconds either (Babel's "medium" has them: "3:42:07 PM").
    pattern = "d MMMM y 'à' HH:mm" if locale == "fr" else "MMMM d, y, h:mm a"
    return format_datetime(moment, pattern, tzinfo=TIMEZONE, locale=locale)
