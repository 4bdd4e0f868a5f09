"""A finding's input, from a form or from JSON, checked into a findings.Draft.

Every rule answers with Invalid(field=...): the form shows the message beside the field and
the API returns it; nothing is stored until every field passes.
"""
from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from forum.db import Conn
from forum.errors import Invalid, UnknownReference
from forum.i18n import N_
from forum.models import findings
from forum.models.boards import Board
from forum.permissions import READABLE_POST
from forum.text import clean_line

PLACE_MAX, NOTE_MAX, URL_MAX, LABEL_MAX = 200, 500, 500, 200
# A source link: http or https, a host (no user, no IPv6 literal), an optional port, then a
# path, query or fragment; no space, control character or backslash (which browsers read as
# "/"). Also the OpenAPI document's pattern, so the API and its schema agree exactly.
URL_PATTERN = (r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f/?#@:\[\]\\]+(:[0-9]{1,5})?"
               r"([/?#][^\x00-\x20\x7f\\]*)?$")
_URL = re.compile(URL_PATTERN)
SOURCES_MAX = 10
QUANTITY_MAX = 1e13
# Longer than any number a member means ("-48.8566140", "12 500 000 000 000 €"): refused before
# any parsing, so a 40 000-digit "number" costs nothing.
NUMBER_TEXT_MAX = 40
DATE_TEXT_MAX = 40
NOT_A_NUMBER = N_("This must be a number, such as 148 or 1.5.")
YEAR_MIN = 1900
_SPACES = re.compile(r"[\s\u00a0\u202f']")  # "250 000", "250 000", "250'000"
# Linear: after \d+ only a "." may follow. (The former "\d+\.?\d*" let \d+ and \d* share the
# digits, so a long run of digits followed by a letter backtracked quadratically: 11 s.)
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_FRENCH_DATE = re.compile(r"(?:(\d{1,2})/)?(\d{1,2})/(\d{4})")  # 10/03/2020 or 11/2014
# The dates the API's filters take, exactly (also the OpenAPI document's pattern): the forms
# above with two-digit months and days. A day past the month's end is its last day ("until
# 2023-02-31"): a bound, not a date that something happened.
_YEAR, _MONTH, _DAY = "([1-9][0-9]{3})", "(0[1-9]|1[0-2])", "(0[1-9]|[12][0-9]|3[01])"
FILTER_DATE_PATTERN = (f"^(?:{_YEAR}(?:-{_MONTH}(?:-{_DAY})?)?|{_MONTH}/{_YEAR}"
                       f"|{_DAY}/{_MONTH}/{_YEAR})$")
_FILTER_DATE = re.compile(FILTER_DATE_PATTERN)


@dataclass
class RawFinding:
    """What a member sent, as sent: form fields are strings, JSON may hold numbers."""
    kind: Any = ""
    quantity: Any = None
    unit: Any = ""
    scope: Any = ""  # 'total', 'change' or 'part': required with a quantity
    observed: Any = ""
    status: Any = ""
    place: Any = ""
    latitude: Any = None
    longitude: Any = None
    note: Any = ""
    posts: list[Any] = field(default_factory=list)  # ids of public posts
    files: list[Any] = field(default_factory=list)  # ids of files attached to public posts
    links: list[tuple[Any, Any]] = field(default_factory=list)  # (url, label)


async def check(conn: Conn, board: Board, raw: RawFinding, today: date) -> findings.Draft:
    """The checked finding, or Invalid naming the first field at fault."""
    if not board.is_city:
        raise Invalid("Findings are kept for cities only.", field="city")
    kind = await findings.kind_by_slug(conn, _text(raw.kind, "kind"))
    if kind is None:
        raise UnknownReference("Unknown kind of equipment.", field="kind")
    quantity = parse_number(raw.quantity, "quantity")
    scope = _scope(raw.scope, quantity)
    if quantity is not None and quantity < 0 and scope != findings.CHANGE:
        raise Invalid("A quantity cannot be negative (only a change can: equipment removed).",
                      field="quantity")
    if quantity is not None and abs(quantity) > QUANTITY_MAX:
        raise Invalid("This quantity is too large.", field="quantity")
    unit = _text(raw.unit, "unit") or None
    if quantity is None:
        unit = None  # a form always sends its unit menu: it means nothing without a number
    elif unit not in findings.UNITS:
        raise Invalid("Choose the unit of the quantity.", field="unit")
    status = _text(raw.status, "status")
    if status not in findings.STATUSES:
        raise Invalid("Unknown status.", field="status")
    observed = parse_observed(_text(raw.observed, "observed"), today)
    if _first_day(observed) > today and status != "planned":
        raise Invalid("A date in the future is only possible for planned equipment.",
                      field="observed")
    latitude, longitude = _coordinates(raw.latitude, raw.longitude)
    return findings.Draft(
        kind.id, quantity, unit, observed, status,
        _line(raw.place, "place", PLACE_MAX), latitude, longitude,
        _line(raw.note, "note", NOTE_MAX), await _sources(conn, raw), scope)


def _scope(value: Any, quantity: float | None) -> str | None:
    """What a quantity counts; a quantity without one is refused (a part must never be read
    as the city's total). Without a quantity, nothing: a form always sends its choice."""
    scope = _text(value, "scope").strip() or None
    if quantity is None:
        return None
    if scope is None:
        raise Invalid("Say what this figure counts: the total for the city, a change, or one"
                      " part of it.", field="scope")
    if scope not in findings.SCOPES:
        raise Invalid("Unknown scope: total, change or part.", field="scope")
    return scope


def parse_number(value: Any, name: str) -> float | None:
    """148, "148", "1,5", "250 000 €" -> a number; "" or None -> None; anything else: Invalid."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Invalid(NOT_A_NUMBER, field=name)
    if isinstance(value, int | float):
        try:  # a JSON integer of 400 digits is an int that no float holds
            number = float(value)
        except OverflowError:
            raise Invalid(NOT_A_NUMBER, field=name) from None
    elif isinstance(value, str):
        if len(value) > NUMBER_TEXT_MAX:
            raise Invalid(NOT_A_NUMBER, field=name)
        text = _SPACES.sub("", value).removesuffix("€").removesuffix("%").replace(",", ".")
        if not text:
            return None
        if not _DECIMAL.fullmatch(text):  # not "1e5", "inf", "nan" nor "0x10"
            raise Invalid(NOT_A_NUMBER, field=name)
        number = float(text)
    else:
        raise Invalid(NOT_A_NUMBER, field=name)
    if not math.isfinite(number):
        raise Invalid(NOT_A_NUMBER, field=name)
    return number


def parse_observed(text: str, today: date) -> str:
    """"2008", "2014-11", "11/2014", "2020-03-10", "10/03/2020" -> "2008", "2014-11"…"""
    if len(text) > DATE_TEXT_MAX:  # before strip() and the patterns
        raise Invalid("Give the date as 2020, 2020-03 or 2020-03-10.", field="observed")
    text = text.strip()
    if not text:
        raise Invalid("Give the date the finding holds for.", field="observed")
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
    elif match := _FRENCH_DATE.fullmatch(text):
        day, month, year = match.groups()
    else:
        raise Invalid("Give the date as 2020, 2020-03 or 2020-03-10.", field="observed")
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise Invalid("This date does not exist.", field="observed") from None
    if not YEAR_MIN <= int(year) <= today.year + 50:
        raise Invalid("Give a year between %(min)s and %(max)s.", field="observed",
                      min=YEAR_MIN, max=today.year + 50)
    parts = [year] + [f"{int(part):02d}" for part in (month, day) if part]
    return "-".join(parts)


# Filters of lists, exports and the API ---------------------------------------------------------

FILTERS = ("kind", "status", "since", "until")


async def check_filters(conn: Conn, query: Mapping[str, str], board_id: int | None = None,
                        blank_is_absent: bool = True) -> findings.Filters:
    """kind, status, since and until from a query string; Invalid names the one at fault.

    Links and forms of the watch pages may carry empty values ("every kind") and dates as
    people type them; the API, whose parameters have types and patterns, refuses blanks and
    takes the dates of FILTER_DATE_PATTERN.
    """
    exact = not blank_is_absent
    values = {name: query.get(name) for name in FILTERS}
    if blank_is_absent:
        values = {name: value.strip() or None if value else None
                  for name, value in values.items()}
    kind_id = None
    if values["kind"] is not None:
        kind = await findings.kind_by_slug(conn, values["kind"])
        if kind is None:
            raise UnknownReference("Unknown kind of equipment.", field="kind")
        kind_id = kind.id
    if values["status"] is not None and values["status"] not in findings.STATUSES:
        raise Invalid("Unknown status.", field="status")
    return findings.Filters(board_id=board_id, kind_id=kind_id, status=values["status"],
                            since=_date_filter(values["since"], "since", exact),
                            until=_date_filter(values["until"], "until", exact))


def _date_filter(text: str | None, name: str, exact: bool = False) -> str | None:
    if text is None:
        return None
    if exact:
        match = _FILTER_DATE.fullmatch(text)
        if match is None:
            raise Invalid("Give the date as 2020, 2020-03 or 2020-03-10.", field=name)
        iso_year, iso_month, iso_day, fr_month, fr_year, day, month, year = match.groups()
        year, month, day = (iso_year or fr_year or year, iso_month or fr_month or month,
                            iso_day or day)
        if day is not None:
            day = f"{min(int(day), calendar.monthrange(int(year), int(month))[1]):02d}"
        return "-".join(part for part in (year, month, day) if part)
    try:
        return parse_observed(text, date.today())
    except Invalid as error:  # the message names the parameter, not the finding's field
        raise Invalid(error.message, field=name, **error.params) from None


def _first_day(observed: str) -> date:
    parts = [int(part) for part in observed.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _coordinates(latitude: Any, longitude: Any) -> tuple[float | None, float | None]:
    lat = parse_number(latitude, "latitude")
    lon = parse_number(longitude, "longitude")
    if (lat is None) != (lon is None):
        raise Invalid("Give both the latitude and the longitude, or neither.",
                      field="latitude" if lat is None else "longitude")
    if lat is not None and not -90 <= lat <= 90:
        raise Invalid("A latitude lies between -90 and 90.", field="latitude")
    if lon is not None and not -180 <= lon <= 180:
        raise Invalid("A longitude lies between -180 and 180.", field="longitude")
    return lat, lon


async def _sources(conn: Conn, raw: RawFinding) -> tuple[findings.Source, ...]:
    sources: list[findings.Source] = []
    for value in raw.posts:
        post_id = _id(value)
        if await conn.value(
                "select 1 from posts join threads on threads.id = posts.thread_id"
                f" where posts.id = ? and {READABLE_POST}", (post_id,)) is None:
            raise UnknownReference("Message #%(id)s cannot be a source: it does not exist or is not"
                          " public.", field="sources", id=post_id)
        sources.append(findings.Source("post", post_id=post_id))
    for value in raw.files:
        upload_id = _id(value)
        post_id = await conn.value(
            "select posts.id from post_attachments join posts on posts.id = post_id"
            " join threads on threads.id = posts.thread_id"
            f" where upload_id = ? and {READABLE_POST}", (upload_id,))
        if post_id is None:
            raise UnknownReference("File #%(id)s cannot be a source: it is not attached to a public"
                          " message.", field="sources", id=upload_id)
        sources.append(findings.Source("file", post_id=post_id, upload_id=upload_id))
    for url, label in raw.links:
        url = _text(url, "sources").strip()
        if not url and not _text(label, "sources").strip():
            continue  # an empty row of the form
        sources.append(findings.Source("link", url=check_url(url),
                                       label=_line(label, "sources", LABEL_MAX)))
    unique = tuple(dict.fromkeys(sources))
    if not unique:
        raise Invalid("A finding needs at least one source: a message, a file or a link.",
                      field="sources")
    if len(unique) > SOURCES_MAX:
        raise Invalid("At most %(max)s sources per finding.", field="sources", max=SOURCES_MAX)
    return unique


def check_url(url: str) -> str:
    """An address on the web (http or https, with a host), as a reader could follow it."""
    if len(url) > URL_MAX:
        raise Invalid("This address is too long (at most %(max)s characters).",
                      field="sources", max=URL_MAX)
    if not _URL.fullmatch(url):
        raise Invalid("A source link is a web address starting with https:// or http://.",
                      field="sources")
    return url


def _id(value: Any) -> int:
    # JSON has numbers, not integers: 12.0 is the id 12 (as the schema's "integer" says).
    if type(value) in (int, float) and float(value).is_integer() and 0 < value < 2**62:
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    raise Invalid("A source is given by the number of a message or a file.", field="sources")


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid("This field must be text.", field=name)
    return value


def _line(value: Any, name: str, limit: int) -> str:
    text = clean_line(_text(value, name))
    if len(text) > limit:
        raise Invalid("This field is too long (at most %(max)s characters).", field=name,
                      max=limit)
    return text

