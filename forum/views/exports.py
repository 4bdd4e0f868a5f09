"""Open data: the public findings as CSV, JSON and GeoJSON, and their Atom feeds.

Everything here is what an anonymous visitor may see, whoever asks: the same bytes for
everyone, so that the page cache can share them, and never a pending, refused or deleted
finding. Files carry no timestamp of their own for the same reason (stable bytes, stable ETag).
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from forum import keys, watch
from forum.db import Conn
from forum.errors import BadRequest, Invalid, NotFound
from forum.i18n import gettext
from forum.models import boards, finding_drafts, findings
from forum.models.boards import Board
from forum.models.findings import Filters, Finding
from forum.open_data import record, source_link
from forum.views import url_for
from forum.views.feeds import EMPTY_FEED_UPDATED, atom
from forum.views.watch import source_tags

FEED_SIZE = 50  # entries of a watch feed
COLUMNS = ("id", "url", "city", "city_slug", "kind", "kind_label", "quantity", "unit",
           "scope", "observed", "status", "place", "latitude", "longitude", "note", "sources",
           "proposed_by", "approved_by", "published_at")
# Numbers we format ourselves: never a formula, and a longitude of -1.55 must stay a number
# for the spreadsheet, so they are left as they are (as a change of -3: equipment removed).
NUMERIC = frozenset({"id", "quantity", "latitude", "longitude"})
# A spreadsheet runs a cell starting with = + - @ as a formula (OWASP: CSV injection), and it
# may split a line on ; , tab or a line break (French spreadsheets use ";"), our quotes
# notwithstanding: a quote not at the start of its piece is a plain character. So every piece
# that would start with a formula character (after spaces or quotes) gets a "'" before it, and
# a cell starting with a tab or a carriage return gets one too.
FORMULA_PIECE = re.compile(r"(^|[;,\t\r\n])([ \"]*)(?=[=+\-@])")
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json"}


# How findings read in open data ----------------------------------------------------------------

def csv_cell(column: str, value: Any) -> str:
    """A value as a spreadsheet may safely read it: numbers as they are, text with a "'"
    before each piece that would start a formula (FORMULA_PIECE), in URLs too."""
    if value is None:
        return ""
    if column in NUMERIC:
        return watch.number_text(value) if isinstance(value, float) else str(value)
    text = FORMULA_PIECE.sub(r"\1\2'", str(value))
    return "'" + text if text.startswith(("\t", "\r")) else text


def to_csv(records: list[dict[str, Any]]) -> bytes:
    """RFC 4180 with a header row, UTF-8 without BOM; sources are URLs joined by " | "."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for item in records:
        flat = {**item, "sources": " | ".join(s["url"] for s in item["sources"] if s["url"])}
        writer.writerow([csv_cell(column, flat[column]) for column in COLUMNS])
    return out.getvalue().encode("utf-8")


def to_geojson(records: list[dict[str, Any]], head: dict[str, Any]) -> dict[str, Any]:
    """RFC 7946: the findings that have a place on the map, [longitude, latitude]."""
    features = [{
        "type": "Feature", "id": item["id"],
        "geometry": {"type": "Point", "coordinates": [item["longitude"], item["latitude"]]},
        "properties": {k: v for k, v in item.items() if k not in ("latitude", "longitude")},
    } for item in records if item["latitude"] is not None]
    # "licence" and "source" are foreign members, which RFC 7946 allows.
    return {"type": "FeatureCollection", **head, "features": features}


# The exports -----------------------------------------------------------------------------------

async def national(request: web.Request) -> web.Response:
    """GET /watch/findings.{csv|json|geojson}?kind=&status=&since=&until=: every city."""
    async with request.app[keys.DB].read() as conn:
        filters = await _filters(conn, request, None)
        found = await _all_public(conn, filters)
    request[keys.CACHE_TAGS] = {("watch", None)} | source_tags(found)
    return _export(request, found, "vigie-findings", url_for(request, "watch"))


async def city(request: web.Request) -> web.Response:
    """GET /b/{slug}/watch/findings.{csv|json|geojson}: one city's public findings."""
    async with request.app[keys.DB].read() as conn:
        board = await _city(conn, request, "city_watch_export")
        filters = await _filters(conn, request, board.id)
        found = await _all_public(conn, filters)
    request[keys.CACHE_TAGS] = ({("watch", board.id), ("board_meta", board.id)}
                                | source_tags(found))
    return _export(request, found, f"vigie-{board.slug}-findings",
                   url_for(request, "city_watch", slug=board.slug))


async def _city(conn: Conn, request: web.Request, route: str) -> Board:
    """The city of the path; a former slug redirects, a board that is no city is 404."""
    slug = request.match_info["slug"]
    board = await boards.get_readable(conn, slug, None)  # exports: the public record only
    if not board.is_city:
        raise NotFound("This board is not a city: it has no watch page.")
    if board.slug != slug:
        parts = {k: v for k, v in request.match_info.items() if k != "slug"}
        raise web.HTTPMovedPermanently(url_for(request, route, slug=board.slug,
                                               query=dict(request.query), **parts))
    return board


async def _filters(conn: Conn, request: web.Request, board_id: int | None) -> Filters:
    try:
        filters = await finding_drafts.check_filters(conn, request.query, board_id)
    except Invalid as error:  # a bad link, not a form: a plain 400 page
        raise BadRequest(error.message, field=error.field, **error.params) from None
    # A map holds only what has a place: the others are not even read.
    return replace(filters, located=request.match_info["format"] == "geojson")


async def _all_public(conn: Conn, filters: Filters) -> list[Finding]:
    """Every public finding that matches, as a visitor sees them (viewer None).

    One query (a negative LIMIT is none in SQLite): pages read with OFFSET sorted every
    finding again for each page, quadratic (bench/watch_pages.py: 7 s at 40 000 findings).
    """
    return await findings.search(conn, None, filters, limit=-1)


def _export(request: web.Request, found: list[Finding], name: str,
            page: str) -> web.Response:
    config = request.app[keys.CONFIG]
    fmt = request.match_info["format"]
    records = [record(request, finding) for finding in found]
    head = {"licence": {"name": config.data_licence_name, "url": config.data_licence_url},
            "source": config.base_url + page}
    if fmt == "csv":
        body = to_csv(records)
    elif fmt == "geojson":
        body = json.dumps(to_geojson(records, head), ensure_ascii=False).encode()
    else:
        body = json.dumps({**head, "findings": records}, ensure_ascii=False).encode()
    response = web.Response(body=body, content_type=MEDIA_TYPES[fmt],
                            charset="utf-8" if fmt == "csv" else None)
    if fmt == "csv":
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.headers["Link"] = f'<{config.data_licence_url}>; rel="license"'
    # Open data: any site's script may read these files (public only, never with cookies).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# Atom feeds ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    finding: Finding
    title: str
    updated: str
    sources: list[tuple[str | None, str]]  # (absolute URL, label) of each source


async def feed(request: web.Request) -> web.Response:
    """GET /watch/feed.atom: the latest public findings of every city."""
    async with request.app[keys.DB].read() as conn:
        found = await findings.recently_published(conn, FEED_SIZE)
    request[keys.CACHE_TAGS] = {("watch", None)} | source_tags(found)
    return _atom(request, found, None, EMPTY_FEED_UPDATED, url_for(request, "watch_feed"),
                 url_for(request, "watch"))


async def city_feed(request: web.Request) -> web.Response:
    """GET /b/{slug}/watch/feed.atom: the latest public findings of a city."""
    async with request.app[keys.DB].read() as conn:
        board = await _city(conn, request, "city_watch_feed")
        found = await findings.recently_published(conn, FEED_SIZE, board_id=board.id)
        opened = await boards.created_at(conn, board.id)
    request[keys.CACHE_TAGS] = ({("watch", board.id), ("board_meta", board.id)}
                                | source_tags(found))
    return _atom(request, found, board, opened,
                 url_for(request, "city_watch_feed", slug=board.slug),
                 url_for(request, "city_watch", slug=board.slug))


def entry_title(finding: Finding) -> str:
    """"Metz — 148 Video-surveillance cameras (2020)", in the reader's language."""
    parts = {"city": finding.board_name, "kind": gettext(finding.kind_label),
             "quantity": watch.format_figure(finding),
             "observed": watch.format_observed(finding.observed),
             "status": watch.status_label(finding.status)}
    if finding.quantity is None:
        return gettext("%(city)s — %(kind)s, %(status)s (%(observed)s)", **parts)
    if finding.scope != findings.TOTAL:  # a part or a change never reads as the city's
        parts["scope"] = watch.scope_label(finding.scope)
        return gettext("%(city)s — %(kind)s: %(quantity)s, %(scope)s (%(observed)s)", **parts)
    if finding.unit == "count":
        return gettext("%(city)s — %(quantity)s %(kind)s (%(observed)s)", **parts)
    return gettext("%(city)s — %(kind)s: %(quantity)s (%(observed)s)", **parts)


def _atom(request: web.Request, found: list[Finding], board: Board | None,
          updated_if_empty: str, self_url: str, page_url: str) -> web.Response:
    """The feed as an anonymous reader's, newest publication first (as feeds.py does)."""
    config = request.app[keys.CONFIG]
    entries = [Entry(f, entry_title(f), max(f.published_at or f.created_at, f.edited_at or ""),
                     [source_link(request, source) for source in f.sources]) for f in found]
    return atom(request, "feeds/findings.atom.xml",
                max((entry.updated for entry in entries), default=updated_if_empty),
                f"watch:{board.id}" if board else "watch", self_url, page_url,
                entries=entries, board=board, licence_name=config.data_licence_name,
                licence_url=config.data_licence_url)
