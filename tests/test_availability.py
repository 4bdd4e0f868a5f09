"""No input can stall the site; storage faults answer 503 and never wedge the writer.

Hostile inputs are checked here for their answers and for the cheap bound that refuses them
before any costly work; how fast they come back is measured in bench/hostile.py.
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from forum.i18n import CATALOGS
from forum.models import finding_drafts
from forum.models.finding_drafts import NOT_A_NUMBER, NUMBER_TEXT_MAX
from tests.conftest import log_in
from tests.test_api import call, error_of
from tests.test_finding_pages import finding_form, finding_rows, send

HOSTILE_LENGTH = 40_000
DIGITS = "1" * HOSTILE_LENGTH + "x"  # the input that made the old pattern backtrack for 11 s


class GuardedPattern:
    """A compiled pattern that fails the test if a long input ever reaches it."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def fullmatch(self, text: str) -> Any:
        assert len(text) <= NUMBER_TEXT_MAX, f"a {len(text)}-character input reached a pattern"
        return self.pattern.fullmatch(text)


def guard(monkeypatch, *names: str) -> None:
    for name in names:
        monkeypatch.setattr(finding_drafts, name,
                            GuardedPattern(getattr(finding_drafts, name)))


def french(message: str) -> str:
    return CATALOGS["fr"].gettext(message)


# Finding numbers: bounded before the pattern, and a pattern that cannot backtrack -------------

@pytest.mark.parametrize("name", ["quantity", "latitude", "longitude"])
async def test_a_40000_digit_number_is_422_before_any_pattern_runs(forum, client, monkeypatch,
                                                                   name):
    await forum.board("Metz", slug="metz")
    token = await forum.token(await forum.user("lea"))
    guard(monkeypatch, "_DECIMAL")
    body = {"city": "metz", "kind": "cameras", "observed": "2020", "status": "in-use",
            "sources": [{"url": "https://example.org/a.pdf"}], "latitude": "48.1",
            "longitude": "6.2", name: DIGITS}
    payload = await call(client, "POST", "/findings", token, expect=422, json=body)
    assert error_of(payload)["field"] == name
    assert error_of(payload)["message"] == french(NOT_A_NUMBER)
    assert await finding_rows(forum) == 0


async def test_a_40000_digit_quantity_in_the_form_is_422_beside_the_field(forum, client,
                                                                          monkeypatch):
    await forum.board("Lyon", slug="lyon")
    await forum.user("lea")
    await log_in(client, "lea")
    guard(monkeypatch, "_DECIMAL")
    response = await send(client, "/b/lyon/watch/new", finding_form(quantity=DIGITS))
    page = await response.text()
    assert response.status == 422
    assert 'id="quantity-error"' in page and french(NOT_A_NUMBER) in page
    assert await finding_rows(forum) == 0


async def test_a_huge_json_integer_is_not_a_number_rather_than_a_crash(forum, client):
    await forum.board("Metz", slug="metz")
    token = await forum.token(await forum.user("lea"))
    huge = "9" * 400  # within Python's int limit, beyond any float
    raw = ('{"city": "metz", "kind": "cameras", "observed": "2020", "status": "in-use",'
           f' "sources": [{{"url": "https://example.org/a.pdf"}}], "quantity": {huge},'
           ' "unit": "count"}')
    payload = await call(client, "POST", "/findings", token, expect=422, data=raw,
                         headers={"Content-Type": "application/json"})
    assert error_of(payload)["field"] == "quantity"


def test_numbers_up_to_the_bound_are_still_read():
    longest = "-" + "1" * (NUMBER_TEXT_MAX - 3) + ".5"
    assert len(longest) == NUMBER_TEXT_MAX
    assert finding_drafts.parse_number(longest, "quantity") == float(longest)
    assert finding_drafts.parse_number("12 500 000 000 000 €", "quantity") == 1.25e13


@pytest.mark.parametrize("text", [DIGITS, "1" * HOSTILE_LENGTH + "." + "1" * 10 + "x",
                                  "." + "1" * HOSTILE_LENGTH + "x"])
def test_the_number_pattern_refuses_long_runs_without_backtracking_between_its_parts(text):
    # The old pattern r"\d+\.?\d*" took 11 s on DIGITS; this one is linear (bench/hostile.py).
    assert finding_drafts._DECIMAL.fullmatch(text) is None


def test_a_40000_character_date_is_refused_before_the_patterns(monkeypatch):
    guard(monkeypatch, "_ISO_DATE", "_FRENCH_DATE")
    with pytest.raises(finding_drafts.Invalid) as refused:
        finding_drafts.parse_observed(" " * HOSTILE_LENGTH + "2020", finding_drafts.date.today())
    assert refused.value.field == "observed"
