"""forum/cookies.py: the quick reading of the Cookie header agrees with aiohttp's, always."""
from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from forum.cookies import cookies, parse

HEADERS = [
    "",
    "vigie_session=abcDEF0123456789_-xyz",
    "vigie_session=abc; vigie_lang=fr",
    "vigie_session=abc;vigie_lang=en;",
    "vigie_lang=fr; vigie_lang=en",  # the last one wins in both
    "vigie_csrf=; vigie_lang=fr",
    'vigie_session="quoted"; vigie_lang=fr',  # quotes: left to aiohttp
    'vigie_session="a\\073b"',  # an escape
    "vigie_session=abc;  vigie_lang=fr",  # odd spacing
    "vigie_session=a=b=c",  # '=' in a value
    "=abc; vigie_lang=fr",  # no name
    "vigie session=abc; vigie_lang=fr",  # a space in a name
    "vigie_session=abc, vigie_lang=fr",
    "a=%2F~+/:-.; b=c",
    "vigie_session=abc; path=/; secure",  # attribute names are cookies here
    "é=1; vigie_lang=fr",
    "vigie_lang=fr;;vigie_session=x",
]


@pytest.mark.parametrize("header", HEADERS)
def test_cookie_header_is_read_as_aiohttp_reads_it(header: str) -> None:
    request = make_mocked_request("GET", "/", headers={"Cookie": header} if header else {})
    assert dict(parse(request)) == dict(request.cookies)


def test_cookies_are_read_once_per_request() -> None:
    request = make_mocked_request("GET", "/", headers={"Cookie": "vigie_lang=fr"})
    first = cookies(request)
    assert cookies(request) is first and first["vigie_lang"] == "fr"
