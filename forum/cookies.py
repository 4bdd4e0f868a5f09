"""The request's cookies, parsed once per request and cheaply.

aiohttp's `request.cookies` builds a `http.cookies.Morsel` per cookie: for the two or three
cookies a browser sends here (session, language, a visitor's CSRF token) that was the costliest
step of a member's page after its handler, ahead of any middleware. A Cookie header made only of
plain `name=value` pairs (all this site ever sets) is split here; anything else (quotes,
escapes, odd spacing, names aiohttp would refuse) is left to aiohttp, so that both always agree.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from aiohttp import hdrs, web

from forum import keys

# Pairs of a name and an unquoted value, "; " or ";" between them: nothing to unquote, no name
# aiohttp would refuse (tests/test_cookies.py compares both parsers).
_PLAIN = re.compile(r"(?:[A-Za-z0-9_.-]+=[A-Za-z0-9_.~%+/:-]*(?:; ?|$))*")
_NONE: Mapping[str, str] = MappingProxyType({})


def cookies(request: web.Request) -> Mapping[str, str]:
    """The request's cookies by name (the last of a repeated name wins, as in aiohttp)."""
    try:
        return request[keys.COOKIES]
    except KeyError:
        found = request[keys.COOKIES] = parse(request)
        return found


def parse(request: web.Request) -> Mapping[str, str]:
    raw = request.headers.get(hdrs.COOKIE, "")
    if not raw:
        return _NONE
    if _PLAIN.fullmatch(raw) is None:
        return request.cookies
    found = {}
    for pair in raw.split(";"):
        name, _sep, value = pair.strip().partition("=")
        if name:
            found[name] = value
    return found
