"""Search in JSON: public posts and thread titles, with the filters of the search page."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.api import page_param
from forum.errors import BadRequest, NotFound, TooSlow
from forum.models import search


def hit_json(hit: search.Hit) -> dict[str, Any]:
    """One result; the *_html fields are escaped text with the matches in <mark>."""
    return {
        "post_id": hit.post_id, "thread_id": hit.thread_id, "thread_title": hit.thread_title,
        "title_html": str(hit.title_html), "snippet_html": str(hit.snippet_html),
        "board": hit.board_slug, "author": hit.author_name, "created_at": hit.created_at,
        "opens_thread": hit.opens_thread,
    }


async def search_posts(request: web.Request) -> web.Response:
    """GET /api/v1/search?q=…&board=…&author=…&since=…&until=…&page=…: public posts only."""
    page = page_param(request)
    query = request.query.get("q")
    if query is None:
        raise BadRequest("The parameter q is required.", field="q")
    # Absent is no filter; present, even empty, is looked up ("" is no board: 404).
    params = {name: request.query.get(name) for name in ("board", "author", "since", "until")}
    try:
        client = request.app[keys.LIMITER].client(
            request.remote, request.headers.getall("X-Forwarded-For", []))
        found = await search.run(request.app[keys.DB], query, client, page,
                                 viewer=request.get(keys.USER), **params)
    except TooSlow:
        # 503 (code too_slow, Retry-After), not 422: the query is valid and may pass on a
        # quieter site; the message says how to narrow it.
        raise TooSlow(search.TOO_SLOW, field="q") from None
    if page > found.pages:
        raise NotFound()
    return web.json_response({
        "results": [hit_json(hit) for hit in found.hits], "total": found.total,
        "more": found.more, "page": found.page, "pages": found.pages})
