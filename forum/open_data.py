"""How findings and records requests read in open data: the records of the exports, which
the API's answers reuse (the same URLs and labels for a source, whoever asks)."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from forum import keys, watch
from forum.clock import today
from forum.handlers import url_for
from forum.models.findings import Finding, Source
from forum.models.requests import Request


def source_link(request: web.Request, source: Source) -> tuple[str | None, str]:
    """(absolute URL, label) of a source; a post no longer public gives neither."""
    base = request.app[keys.CONFIG].base_url
    if source.kind == "link":
        return source.url, source.label
    if not source.public:
        return None, ""
    if source.kind == "file":
        # As models/uploads.py builds a file's address: the name quoted whole.
        return f"{base}/files/{source.upload_id}/{quote(source.filename or '', safe='')}", (
            source.filename or "")
    return base + url_for(request, "post", id=source.post_id), source.thread_title or ""


def finding_url(request: web.Request, finding_id: int) -> str:
    return request.app[keys.CONFIG].base_url + url_for(request, "finding", id=finding_id)


def record(request: web.Request, finding: Finding) -> dict[str, Any]:
    """One public finding as the JSON and GeoJSON exports give it (the CSV's columns)."""
    sources = []
    for source in finding.sources:
        url, label = source_link(request, source)
        sources.append({"kind": source.kind, "url": url, "label": label})
    return {
        "id": finding.id, "url": finding_url(request, finding.id), "city": finding.board_name,
        "city_slug": finding.board_slug, "kind": finding.kind_slug,
        "kind_label": finding.kind_label, "quantity": watch.plain_number(finding.quantity),
        "unit": finding.unit, "scope": finding.scope, "observed": finding.observed,
        "status": finding.status,
        "place": finding.place, "latitude": finding.latitude, "longitude": finding.longitude,
        "note": finding.note, "sources": sources, "proposed_by": finding.author_name,
        "approved_by": finding.decided_by_name, "published_at": finding.published_at,
    }


def export_record(request: web.Request, item: Request) -> dict[str, Any]:
    """A public request as the exports (and the API's list) give it."""
    found = item.deadlines()
    return {
        "id": item.id, "url": request.app[keys.CONFIG].base_url + f"/r/{item.id}",
        "city": item.board_name, "administration": item.administration,
        "documents": item.documents, "channel": item.channel, "sent_on": item.sent_on,
        "received_on": item.received_on, "status": item.shown_status(today()),
        "status_on": item.status_on, "implicit_refusal_on": found.refusal_on.isoformat(),
        "counted_from": found.counted_from,
        "cada_referral_by": found.referral_by.isoformat() if found.referral_by else None,
        "requested_by": item.author_name, "published_at": item.published_at}
