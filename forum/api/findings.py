"""Findings in JSON: listing and reading them, proposing one, and the moderators' decisions.

The same rules as the pages: what a viewer may see comes from permissions.finding_filter
(an author or a city's moderator also sees pending findings, with their `review`), a new
finding waits for the moderators when a post would, and a finding that is not visible is 404.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from aiohttp import web

from forum import keys, watch
from forum.api import (
    check_posting_rate,
    check_unicode,
    id_param,
    json_body,
    page_param,
    query_text,
    text_field,
    url_for,
)
from forum.api.moderation import purge_version, reason_required, refusal
from forum.db import Conn
from forum.errors import Forbidden, Invalid, NotFound, UnknownReference
from forum.handlers import page_count, publication_status, require_writer
from forum.i18n import gettext
from forum.models import boards, finding_actions, finding_drafts, finding_kinds, findings
from forum.models.boards import Board
from forum.models.finding_drafts import (
    LABEL_MAX,
    NOT_A_NUMBER,
    NOTE_MAX,
    PLACE_MAX,
    SOURCES_MAX,
    URL_MAX,
)
from forum.models.findings import Finding
from forum.models.users import User
from forum.open_data import finding_url, source_link
from forum.permissions import can

PAGE_SIZE = 100  # findings per page of GET /api/v1/findings
QUERY_PARAMETERS = ("city", "kind", "status", "since", "until", "scope")


def finding_json(request: web.Request, finding: Finding) -> dict[str, Any]:
    """A finding as the API shows it to whoever may see it: a refusal's reason and a
    correction waiting only to its author and moderators."""
    private = can(request.get(keys.USER), "see_private_versions", finding)
    return {
        "id": finding.id, "url": finding_url(request, finding.id),
        "city": {"slug": finding.board_slug, "name": finding.board_name},
        "kind": {"slug": finding.kind_slug, "label": finding.kind_label,
                 "name": gettext(finding.kind_label)},
        "quantity": watch.plain_number(finding.quantity), "unit": finding.unit,
        "scope": finding.scope,
        "observed": finding.observed, "status": finding.status, "place": finding.place,
        "latitude": finding.latitude, "longitude": finding.longitude, "note": finding.note,
        "review": finding.review,
        "reject_reason": finding.reject_reason if private else None,
        "edit_pending": bool(finding.edit_pending) and private,
        "deleted": finding.is_deleted, "proposed_by": finding.author_name,
        "approved_by": finding.decided_by_name if finding.review == "published" else None,
        "created_at": finding.created_at, "published_at": finding.published_at,
        "edited_at": finding.edited_at,
        "sources": [_source_json(request, source) for source in finding.sources],
    }


def _source_json(request: web.Request, source: findings.Source) -> dict[str, Any]:
    url, label = source_link(request, source)
    return {"kind": source.kind, "post_id": source.post_id, "upload_id": source.upload_id,
            "url": url, "label": label}


# Reading ---------------------------------------------------------------------------------------

async def list_findings(request: web.Request) -> web.Response:
    """GET /api/v1/findings?city=&kind=&status=&since=&until=&scope=&page=: by city, kind,
    date."""
    viewer = request.get(keys.USER)
    page = page_param(request)
    for name in QUERY_PARAMETERS:
        check_unicode(request.query.get(name, ""), name)
    async with request.app[keys.DB].read() as conn:
        board_id = None
        if "city" in request.query:
            board_id = (await _city(conn, request.query["city"], viewer)).id
        # Present but empty is an error, as any other value that names nothing (422).
        filters = await finding_drafts.check_filters(conn, request.query, board_id,
                                                     blank_is_absent=False)
        if "scope" in request.query:
            if request.query["scope"] not in findings.SCOPES:
                raise Invalid("Unknown scope: total, change or part.", field="scope")
            filters = replace(filters, scope=request.query["scope"])
        total = await findings.count(conn, viewer, filters)
        pages = page_count(total, PAGE_SIZE)
        if page > pages:
            raise NotFound()
        found = await findings.search(conn, viewer, filters, limit=PAGE_SIZE,
                                      offset=(page - 1) * PAGE_SIZE)
    return web.json_response({"findings": [finding_json(request, f) for f in found],
                              "total": total, "page": page, "pages": pages})


async def show_finding(request: web.Request) -> web.Response:
    """GET /api/v1/findings/{id}: 404 unless this viewer may see it."""
    viewer = request.get(keys.USER)
    finding_id = id_param(request)
    async with request.app[keys.DB].read() as conn:
        finding = await finding_actions.visible(conn, finding_id, viewer)
    return web.json_response(finding_json(request, finding))


async def list_kinds(request: web.Request) -> web.Response:
    """GET /api/v1/finding-kinds: the kinds, statuses and units a finding may have."""
    async with request.app[keys.DB].read() as conn:
        kinds = await findings.kinds(conn)
    symbols = findings.UNIT_SYMBOLS
    return web.json_response({
        "kinds": [_kind_json(kind) for kind in kinds],
        "statuses": [{"slug": status, "name": gettext(findings.STATUS_LABELS[status])}
                     for status in findings.STATUSES],
        "units": [{"slug": unit, "name": gettext(findings.UNIT_LABELS[unit]),
                   "symbol": gettext(symbols[unit]) if symbols[unit] else ""}
                  for unit in findings.UNITS],
        "scopes": [{"slug": scope, "name": gettext(findings.SCOPE_LABELS[scope])}
                   for scope in findings.SCOPES]})


async def rename_kind(request: web.Request) -> web.Response:
    """PATCH /api/v1/finding-kinds/{slug} {label, reason?}: admins; the kind as it now is
    (its slug stays), the old name kept in the history and the journal."""
    user = _kind_admin(request)
    data = await json_body(request, "RenameKindInput")
    label, reason = text_field(data, "label"), text_field(data, "reason")
    async with request.app[keys.DB].transaction() as tx:
        kind = await finding_kinds.get(tx, request.match_info["slug"])
        kind = await finding_kinds.rename(tx, kind, label, user, reason)
    return web.json_response(_kind_json(kind))


async def merge_kind(request: web.Request) -> web.Response:
    """POST /api/v1/finding-kinds/{slug}/merge {into, reason?}: admins; every finding of the
    kind moves to `into`: {"kind": the target, "moved": how many}."""
    user = _kind_admin(request)
    data = await json_body(request, "MergeKindInput")
    into, reason = text_field(data, "into"), text_field(data, "reason")
    async with request.app[keys.DB].transaction() as tx:
        kind = await finding_kinds.get(tx, request.match_info["slug"])
        try:
            target = await finding_kinds.get(tx, into)
        except NotFound:
            raise UnknownReference("Unknown kind of equipment.", field="into") from None
        moved = await finding_kinds.merge(tx, kind, target, user, reason)
    return web.json_response({"kind": _kind_json(target), "moved": moved})


def _kind_admin(request: web.Request) -> User:
    user = require_writer(request)
    if not can(user, "manage_kinds"):
        raise Forbidden("Only administrators may rename or merge kinds of equipment.")
    return user


def _kind_json(kind: findings.Kind) -> dict[str, str]:
    return {"slug": kind.slug, "label": kind.label, "name": gettext(kind.label)}


async def _city(conn: Conn, slug: str, viewer: User | None) -> Board:
    """The city a body or a query names; anything else (a closed city `viewer` may not read
    too) names nothing (404 on `city`)."""
    try:
        board = await boards.get_readable(conn, slug, viewer)
    except NotFound:
        raise UnknownReference("Unknown city.", field="city") from None
    if not board.is_city:
        raise UnknownReference("Findings are kept for cities only.", field="city")
    return board


# Proposing -------------------------------------------------------------------------------------

async def create_finding(request: web.Request) -> web.Response:
    """POST /api/v1/findings {city, kind, quantity?, unit?, scope?, observed, status, place?,
    latitude?, longitude?, note?, sources}: 201, published or pending as a post would be."""
    user = require_writer(request)
    data = await json_body(request, "FindingInput")
    slug = text_field(data, "city")
    raw = raw_finding(data)
    await check_posting_rate(request, user)
    async with request.app[keys.DB].transaction() as tx:
        board = await _city(tx, slug, user)
        if not can(user, "propose_finding", board):
            raise Forbidden()
        draft = await finding_drafts.check(tx, board, raw, date.today())
        review = publication_status(request, user, board.id, board.moderation_mode)
        finding_id = await findings.create(tx, board, user, draft, review)
        finding = await findings.get(tx, finding_id)
    return web.json_response(finding_json(request, finding), status=201, headers={
        "Location": url_for(request, "api_finding", id=finding_id)})


def raw_finding(data: dict[str, Any]) -> finding_drafts.RawFinding:
    """The body as the model's input; the model checks values, this checks their JSON types
    and the lengths the schema promises (the model measures text after cleaning it)."""
    unit = data.get("unit")
    if unit is not None and unit not in findings.UNITS:
        raise Invalid("Choose the unit of the quantity.", field="unit")
    raw = finding_drafts.RawFinding(
        kind=text_field(data, "kind"), quantity=_scalar(data, "quantity"), unit=unit,
        scope="" if data.get("scope") is None else text_field(data, "scope"),  # null: none
        observed=text_field(data, "observed"), status=text_field(data, "status"),
        place=text_field(data, "place", PLACE_MAX),
        latitude=_scalar(data, "latitude"), longitude=_scalar(data, "longitude"),
        note=text_field(data, "note", NOTE_MAX))
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources:
        raise Invalid("A finding needs at least one source: a message, a file or a link.",
                      field="sources")
    if len(sources) > SOURCES_MAX:
        raise Invalid("At most %(max)s sources per finding.", field="sources", max=SOURCES_MAX)
    for source in sources:
        _add_source(raw, source)
    return raw


def _scalar(data: dict[str, Any], name: str) -> Any:
    """A number, a string holding one ("1,5"), or null; the model reads it."""
    value = data.get(name)
    if isinstance(value, str):
        check_unicode(value, name)
    elif value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise Invalid(NOT_A_NUMBER, field=name)
    return value


def _add_source(raw: finding_drafts.RawFinding, source: Any) -> None:
    """{"post": id}, {"file": id} or {"url": "https://…", "label"?}: exactly one of them."""
    named = [key for key in ("post", "file", "url") if isinstance(source, dict) and key in source]
    if len(named) != 1:
        raise Invalid('A source is {"post": id}, {"file": id} or {"url": "https://…"}.',
                      field="sources")
    value = source[named[0]]
    if named[0] == "url":
        raw.links.append((text_field(source, "url", URL_MAX),
                          text_field(source, "label", LABEL_MAX)))
        return
    # Not "12" (the schema's type), but 12.0 is the number 12 in JSON.
    if type(value) not in (int, float) or not float(value).is_integer():
        raise Invalid("A source is given by the number of a message or a file.",
                      field="sources")
    (raw.posts if named[0] == "post" else raw.files).append(int(value))


# Moderation ------------------------------------------------------------------------------------

async def approve(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/findings/{id}/approve {confirm?}: publish it; the finding as
    it now is."""
    user = require_writer(request)
    finding_id = id_param(request)
    confirm = (await json_body(request, "ApproveFindingInput", optional=True)).get(
        "confirm", False)
    if not isinstance(confirm, bool):
        raise Invalid("This field is true or false.", field="confirm")
    async with request.app[keys.DB].transaction() as tx:
        # 409 when already decided; 422 for a doubtful total sent without {"confirm": true}
        await finding_actions.approve(tx, finding_id, user, confirm is True)
        finding = await findings.get(tx, finding_id)
    return web.json_response(finding_json(request, finding))


async def reject(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/findings/{id}/reject {reason, private?}: its author is told."""
    user = require_writer(request)
    finding_id = id_param(request)
    reason, private = await refusal(request)
    async with request.app[keys.DB].transaction() as tx:
        await finding_actions.reject(tx, finding_id, user, reason, private)
        finding = await findings.get(tx, finding_id)
    return web.json_response(finding_json(request, finding))


async def purge(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/findings/{id}/revisions/{revision}/purge."""
    return await purge_version(request, finding_actions.purge_version)


# Correcting, withdrawing, restoring, history ----------------------------------------------------

async def correct_finding(request: web.Request) -> web.Response:
    """PATCH /api/v1/findings/{id} {kind, …, sources, reason}: a new version with its reason,
    every field sent again (as the page's form); the finding as it now is (`edit_pending`
    when the correction waits for the moderators)."""
    user = require_writer(request)
    finding_id = id_param(request)
    data = await json_body(request, "FindingCorrectionInput")
    raw, reason = raw_finding(data), text_field(data, "reason")
    async with request.app[keys.DB].transaction() as tx:
        await finding_actions.correct(tx, finding_id, user, raw, reason,
                                      request.app[keys.CONFIG].trust_threshold)
        finding = await findings.get(tx, finding_id)
    return web.json_response(finding_json(request, finding))


async def withdraw_finding(request: web.Request) -> web.Response:
    """DELETE /api/v1/findings/{id}?reason=…: a tombstone (moderators still see it); 204."""
    user = require_writer(request)
    finding_id = id_param(request)
    reason = query_text(request, "reason")
    with reason_required("Deleting someone else's finding needs a reason (the reason"
                         " parameter)."):
        async with request.app[keys.DB].transaction() as tx:
            await finding_actions.withdraw(tx, finding_id, user, reason)
    return web.Response(status=204)


async def restore(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/findings/{id}/restore {reason?}: a withdrawn finding back."""
    user = require_writer(request)
    finding_id = id_param(request)
    reason = text_field(await json_body(request, "ThreadActionInput", optional=True), "reason")
    async with request.app[keys.DB].transaction() as tx:
        await finding_actions.restore(tx, finding_id, user, reason)
        finding = await findings.get(tx, finding_id)
    return web.json_response(finding_json(request, finding))


async def list_revisions(request: web.Request) -> web.Response:
    """GET /api/v1/findings/{id}/revisions: the versions that were public, oldest first;
    every version, with its state and note, for its author and moderators."""
    viewer = request.get(keys.USER)
    finding_id = id_param(request)
    async with request.app[keys.DB].read() as conn:
        finding = await finding_actions.visible(conn, finding_id, viewer)
        private = can(viewer, "see_private_versions", finding)
        history = await findings.revisions(conn, finding.id, private=private)
        slugs = {kind.id: kind.slug for kind in await findings.kinds(conn)}
    return web.json_response({"finding_id": finding.id, "revisions": [
        _revision_json(revision, slugs, private) for revision in history]})


def _revision_json(revision: findings.Revision, slugs: dict[int, str],
                   private: bool) -> dict[str, Any]:
    data = revision.data
    fields = None if not data else {  # a purged version keeps nothing
        "kind": slugs.get(data.get("kind_id", 0)),
        **{name: data.get(name) for name in ("quantity", "unit", "scope", "observed",
                                              "status", "place", "latitude", "longitude")},
        "note": data.get("note", ""),
        "sources": [{key: source.get(key) for key in ("kind", "post_id", "upload_id", "url")}
                    | {"label": source.get("label", "")} for source in data.get("sources", [])]}
    return {"id": revision.id, "editor": revision.editor_name, "created_at": revision.created_at,
            "state": revision.state, "reason": revision.reason,
            "note": revision.note if private else "", "fields": fields}


async def create_kind(request: web.Request) -> web.Response:
    """POST /api/v1/finding-kinds {label}: a new kind of equipment (administrators), listed
    before "Other"; 409 if it exists."""
    if not can(require_writer(request), "manage_kinds"):
        raise Forbidden("Only administrators may add kinds of equipment.")
    label = text_field(await json_body(request, "KindInput"), "label")
    async with request.app[keys.DB].transaction() as tx:
        kind = await findings.add_kind(tx, label)
    return web.json_response({"slug": kind.slug, "label": kind.label,
                              "name": gettext(kind.label)}, status=201)
