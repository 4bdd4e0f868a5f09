"""Text hygiene: what a user sends is cleaned at the door, e-mail addresses follow one rule,
and open data cannot turn into spreadsheet formulas, however the spreadsheet splits a line."""
from __future__ import annotations

import re

import pytest

SPLITTERS = re.compile(r"[;,\t\r\n]")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def pieces_a_spreadsheet_may_read(csv_text: str) -> list[str]:
    """Every piece of a CSV file as a spreadsheet splitting on ; , tab or a line break would
    read it, quotes ignored (a quote inside a piece is a plain character)."""
    return [piece.lstrip(' "') for piece in SPLITTERS.split(csv_text)]


@pytest.mark.parametrize("note", ["see;=1+1", 'a,=HYPERLINK("http://evil.example")',
                                  "x\t@SUM(1)", "deux lignes\n+33 1 23", 'x; "=1+1'])
async def test_no_csv_piece_starts_a_formula_whatever_the_separator(forum, client, note):
    metz, lea = await forum.board("Metz"), await forum.user("lea")
    await forum.finding(metz, lea, note=note, place="place;-1+1", longitude="-1.55",
                        latitude="49.1")
    response = await client.get("/b/metz/watch/findings.csv")
    text = (await response.read()).decode()
    assert "-1+1" in text and "1+1" in text or "@SUM" in text or "+33" in text
    for piece in pieces_a_spreadsheet_may_read(text):
        if piece[:1] in ("=", "+", "-", "@"):
            assert NUMBER.fullmatch(piece), f"a formula piece: {piece!r}"


def test_csv_cells_get_a_quote_before_each_formula_piece():
    from forum.views.exports import csv_cell

    assert csv_cell("note", "see;=1+1") == "see;'=1+1"
    assert csv_cell("note", "a,=HYPERLINK(1)") == "a,'=HYPERLINK(1)"
    assert csv_cell("note", "x\t@SUM(1)") == "x\t'@SUM(1)"
    assert csv_cell("note", "rue - angle, 3") == "rue - angle, 3"  # nothing to protect
    assert csv_cell("longitude", -1.55) == "-1.55"
