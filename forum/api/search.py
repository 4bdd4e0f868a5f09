"""Search in JSON: public posts and thread titles, the public findings and the documents the
caller may see, with the filters of the search page (views/search.py)."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.api import page_param
from forum.api.findings import finding_json
from forum.errors import BadRequest, Invalid, NotFound, TooSlow
from forum.models import documents, finding_search, search

TYPES = ("", "posts", "documents")  # as the search page's ?type=


def hit_json(hit: search.Hit) -> dict[str, Any]:
    """One result; the *_html fields are escaped text with the matches in <mark>."""
    return {
        "post_id": hit.post_id, "thread_id": hit.thread_id, "thread_title": hit.thread_title,
        "title_html": str(hit.title_html), "snippet_html": str(hit.snippet_html),
        "board": hit.board_slug, "author": hit.author_name, "created_at": hit.created_at,
        "opens_thread": hit.opens_thread,
    }


def document_json(hit: documents.DocumentHit) -> dict[str, Any]:
    """One document found: the file (at its page), the snippet, the post it is attached to."""
    return {
        "upload_id": hit.upload_id, "filename": hit.filename, "kind": hit.kind, "url": hit.url,
        "page": hit.page, "other_pages": list(hit.other_pages),
        "snippet_html": str(hit.snippet_html), "post_id": hit.post_id,
        "thread_id": hit.thread_id, "thread_title": hit.thread_title, "board": hit.board_slug,
        "author": hit.author_name, "created_at": hit.created_at,
    }


async def search_posts(request: web.Request) -> web.Response:
    """GET /api/v1/search?q=…&board=…&author=…&since=…&until=…&type=…&page=…: public posts,
    and the files of the posts the caller may see."""
    page = page_param(request)
    query = request.query.get("q")
    if query is None:
        raise BadRequest("The parameter q is required.", field="q")
    # Absent is no filter; present, even empty, is looked up ("" is no board: 404).
    params = {name: request.query.get(name) for name in ("board", "author", "since", "until")}
    kind = request.query.get("type", "")
    if kind not in TYPES:
        raise Invalid("The parameter type is posts or documents.", field="type")
    found: search.Results | documents.DocumentResults = search.Results([], 0, False, page, 1)
    found_documents = documents.NO_RESULTS
    found_findings = finding_search.FoundFindings([], 0)
    try:
        db, viewer = request.app[keys.DB], request.get(keys.USER)
        client = request.app[keys.LIMITER].client(
            request.remote, request.headers.getall("X-Forwarded-For", []))
        if kind != "documents":
            found = await search.run(db, query, client, page, viewer=viewer, **params)
        if kind != "documents" and page == 1:  # findings: once, as above the page's results
            found_findings = await search.run_with(
                db, query, client, lambda conn, filters: finding_search.search_findings(
                    conn, query, filters), viewer, **params)
        if kind != "posts":
            found_documents = await search.run_with(
                db, query, client, lambda conn, filters: documents.search_documents(
                    conn, viewer, query, filters, page if kind == "documents" else 1,
                    documents.PAGE_SIZE if kind == "documents" else documents.PREVIEW),
                viewer, **params)
            if kind == "documents":
                found = found_documents
    except TooSlow:
        # 503 (code too_slow, Retry-After), not 422: the query is valid and may pass on a
        # quieter site; the message says how to narrow it.
        raise TooSlow(search.TOO_SLOW, field="q") from None
    if page > found.pages:
        raise NotFound()
    posts_found = found if isinstance(found, search.Results) else search.Results(
        [], 0, False, page, found.pages)
    return web.json_response({
        "results": [hit_json(hit) for hit in posts_found.hits], "total": posts_found.total,
        "documents": [document_json(hit) for hit in found_documents.hits],
        "documents_total": found_documents.total,
        "findings": [finding_json(request, item) for item in found_findings.findings],
        "findings_total": found_findings.total,
        "more": found.more, "page": found.page, "pages": found.pages})
