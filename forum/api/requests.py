"""Records requests in JSON: listing (by city, status, administration), reading one with its
timeline, recording one, and recording a status change (PATCH).

The same rules as the pages (models/requests.py, permissions.request_filter): a pending or
refused request exists only for its author and the city's moderators; anything refused by a
rule is a JSON error naming the field, and nothing is stored.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.api import (
    check_posting_rate,
    check_unicode,
    id_param,
    json_body,
    page_param,
    text_field,
    url_for,
)
from forum.api.moderation import refusal
from forum.clock import today
from forum.db import Conn
from forum.errors import Forbidden, Invalid, NotFound, UnknownReference
from forum.handlers import publication_status, require_writer
from forum.i18n import gettext
from forum.models import boards, request_drafts
from forum.models import requests as records
from forum.models.boards import Board
from forum.models.requests import Filters, Request
from forum.open_data import export_record
from forum.permissions import can

QUERY_PARAMETERS = ("city", "status", "administration")


def request_json(request: web.Request, item: Request) -> dict[str, Any]:
    """A request as the API shows it; a refusal's reason only to its author and moderators."""
    private = can(request.get(keys.USER), "see_private_versions", item)
    return {**export_record(request, item),
            "city": {"slug": item.board_slug, "name": item.board_name},
            "status_name": gettext(records.STATUS_LABELS[item.shown_status(today())]),
            "review": item.review, "reject_reason": item.reject_reason if private else None}


async def _detail(request: web.Request, conn: Conn, item: Request) -> dict[str, Any]:
    events = await records.events(conn, item.id)
    files = await records.files(conn, item.id)
    return {**request_json(request, item),
            "events": [{"status": e.status, "happened_on": e.happened_on, "note": e.note,
                        "recorded_by": e.author_name} for e in events],
            "files": [{"id": f.upload_id, "filename": f.filename, "role": f.role,
                       "url": f"/files/{f.upload_id}/{f.filename}"} for f in files]}


async def list_requests(request: web.Request) -> web.Response:
    """GET /api/v1/requests?city=&status=&administration=&page=."""
    viewer = request.get(keys.USER)
    page = page_param(request)
    for name in QUERY_PARAMETERS:
        check_unicode(request.query.get(name, ""), name)
    status = request.query.get("status")
    if status is not None and status not in records.SHOWN_STATUSES:
        raise Invalid("Unknown status.", field="status")
    administration = request.query.get("administration")
    if administration is not None and not administration.strip():
        raise Invalid("Name the administration you asked (e.g. Mairie de Metz).",
                      field="administration")
    async with request.app[keys.DB].read() as conn:
        board = await _city(conn, request.query["city"]) if "city" in request.query else None
        filters = Filters(board_id=board.id if board else None, status=status,
                          administration=administration)
        found = await records.page_of(conn, viewer, filters, today(), page)
    return web.json_response({"requests": [request_json(request, item) for item in found.items],
                              "total": found.total, "page": found.page, "pages": found.pages})


async def show_request(request: web.Request) -> web.Response:
    """GET /api/v1/requests/{id}: 404 unless this viewer may see it."""
    async with request.app[keys.DB].read() as conn:
        item = await records.visible(conn, id_param(request), request.get(keys.USER))
        return web.json_response(await _detail(request, conn, item))


async def _city(conn: Conn, slug: str) -> Board:
    """The city a body or a query names; anything else names nothing (404 on `city`)."""
    try:
        board = await boards.get_by_slug(conn, slug)
    except NotFound:
        raise UnknownReference("Unknown city.", field="city") from None
    if not board.is_city:
        raise UnknownReference("Requests are recorded for cities only.", field="city")
    return board


def _file_ids(data: dict[str, Any]) -> list[int]:
    value = data.get("files", [])
    if not isinstance(value, list) or len(value) > records.FILES_MAX or not all(
            type(v) in (int, float) and float(v).is_integer() and 0 < v < 2**62 for v in value):
        raise Invalid("“files” is a list of ids of files you sent (POST /api/v1/uploads).",
                      field="files")
    return [int(v) for v in value]  # 12.0 is the number 12 in JSON


def _day_text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else text_field(data, name)


async def create_request(request: web.Request) -> web.Response:
    """POST /api/v1/requests {city, administration, documents, channel, sent_on,
    received_on?, files?}: 201, published or pending as a post would be."""
    user = require_writer(request)
    data = await json_body(request, "RecordsRequestInput")
    raw = {"administration": text_field(data, "administration", records.ADMINISTRATION_MAX),
           "documents": text_field(data, "documents", records.DOCUMENTS_MAX),
           "channel": text_field(data, "channel"), "sent_on": _day_text(data, "sent_on"),
           "received_on": _day_text(data, "received_on")}
    slug, files = text_field(data, "city"), _file_ids(data)
    await check_posting_rate(request, user)
    async with request.app[keys.DB].transaction() as tx:
        board = await _city(tx, slug)
        if not can(user, "record_request", board):
            raise Forbidden()
        checked = request_drafts.check_new(raw, today())
        review = publication_status(request, user, board.id, board.moderation_mode)
        request_id = await records.create(tx, board, user, checked, review, files)
        body = await _detail(request, tx, await records.get(tx, request_id))
    return web.json_response(body, status=201, headers={
        "Location": url_for(request, "api_request", id=request_id)})


async def change_status(request: web.Request) -> web.Response:
    """PATCH /api/v1/requests/{id} {status, happened_on, note?, files?}: a status change."""
    user = require_writer(request)
    data = await json_body(request, "RecordsRequestStatusInput")
    status, day = text_field(data, "status"), _day_text(data, "happened_on")
    note, files = text_field(data, "note", records.NOTE_MAX), _file_ids(data)
    async with request.app[keys.DB].transaction() as tx:
        item = await records.visible(tx, id_param(request), user)
        if not can(user, "update_request", item):
            raise Forbidden("You may not update this request.")
        status, happened_on, note = request_drafts.check_change(item, status, day, note, today())
        await records.change_status(tx, item, user, status, happened_on, note, files)
        body = await _detail(request, tx, await records.get(tx, item.id))
    return web.json_response(body)



# Moderation: the same decisions as /moderation/requests (models/requests.py) ---------------------

async def queue(request: web.Request) -> web.Response:
    """GET /api/v1/moderation/requests: the requests waiting in the cities you moderate,
    oldest first (404 when you moderate none, as the page)."""
    user = require_writer(request)
    if not can(user, "moderate_any"):
        raise NotFound()
    async with request.app[keys.DB].read() as conn:
        waiting = await records.pending(conn, user)
    return web.json_response({"requests": [request_json(request, item) for item in waiting]})


async def approve(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/requests/{id}/approve: publish it; its author is told."""
    user, request_id = require_writer(request), id_param(request)
    async with request.app[keys.DB].transaction() as tx:
        await records.approve(tx, await records.to_moderate(tx, request_id, user), user)
        body = await _detail(request, tx, await records.get(tx, request_id))
    return web.json_response(body)


async def reject(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/requests/{id}/reject {reason, private?}: its author is told
    the reason (unless `private`, the journal shows it too)."""
    user, request_id = require_writer(request), id_param(request)
    reason, private = await refusal(request)
    async with request.app[keys.DB].transaction() as tx:
        await records.reject(tx, await records.to_moderate(tx, request_id, user), user, reason,
                             private=private)
        body = await _detail(request, tx, await records.get(tx, request_id))
    return web.json_response(body)
