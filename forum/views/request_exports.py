"""Records requests as open data: a city's and every city's public requests in CSV (cells
neutralised against formulas, as the watch exports) and JSON; the API's lists use the same
record."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

from aiohttp import web

from forum import keys
from forum.clock import today
from forum.models import requests as records
from forum.models.requests import Filters, Request
from forum.open_data import export_record
from forum.views.exports import csv_cell
from forum.views.requests import city_of

EXPORT_COLUMNS = ("id", "url", "city", "administration", "documents", "channel", "sent_on",
                  "received_on", "status", "status_on", "implicit_refusal_on", "counted_from",
                  "cada_referral_by", "requested_by", "published_at")
NUMERIC_COLUMNS = frozenset({"id"})


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([str(row[c]) if c in NUMERIC_COLUMNS else csv_cell(c, row[c])
                         for c in EXPORT_COLUMNS])
    return out.getvalue().encode("utf-8")


async def export_city(request: web.Request) -> web.Response:
    """GET /b/{slug}/requests.{csv|json}: the city's public requests."""
    async with request.app[keys.DB].read() as conn:
        board = await city_of(conn, request, "city_requests_export")
        found = await records.search(conn, None, Filters(board_id=board.id), today(), -1)
    request[keys.CACHE_TAGS] = {("requests", board.id), ("board_meta", board.id)}
    return _export(request, found, f"vigie-{board.slug}-requests")


async def export_national(request: web.Request) -> web.Response:
    """GET /requests.{csv|json}: every public request."""
    async with request.app[keys.DB].read() as conn:
        found = await records.search(conn, None, Filters(), today(), -1)
    request[keys.CACHE_TAGS] = {("requests", None), ("boards", None)}
    return _export(request, found, "vigie-requests")


def _export(request: web.Request, found: list[Request], name: str) -> web.Response:
    config = request.app[keys.CONFIG]
    rows = [export_record(request, item) for item in found]
    if request.match_info["format"] == "csv":
        response = web.Response(body=to_csv(rows), content_type="text/csv", charset="utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    else:
        head = {"licence": {"name": config.data_licence_name, "url": config.data_licence_url}}
        response = web.Response(body=json.dumps({**head, "requests": rows},
                                                ensure_ascii=False).encode(),
                                content_type="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data, never with cookies
    return response
