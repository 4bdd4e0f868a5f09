"""The search page: public posts and thread titles, with filters and highlighted snippets;
findings (models/finding_search.py) listed above the messages."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.db import Conn
from forum.errors import ForumError, NotFound, TooSlow
from forum.i18n import gettext
from forum.models import boards, documents, finding_search, search
from forum.templating import render
from forum.views import client_address, page_number

FIELDS = ("q", "board", "author", "since", "until")
# What a search looks in (?type=): messages and the documents attached to them (""), or one.
TYPES = ("", "posts", "documents")


async def results(request: web.Request) -> web.Response:
    """GET /search?q=&board=&author=&since=&until=&type=&page=: a form and its results, no JS
    needed. Documents (type=documents, or a few beside the messages) are those of the posts
    this reader may see.

    Never cached for visitors (no CACHE_TAGS): any write anywhere may change any search.
    """
    page = page_number(request)
    form = {name: request.query.get(name, "").strip() for name in FIELDS}
    kind = search_type(request)
    context: dict[str, Any] = {
        "form": form, "found": None, "errors": {}, "max_query": search.QUERY_MAX,
        "candidates": search.CANDIDATES, "per_page": search.PAGE_SIZE, "found_findings": None,
        "type": kind, "documents": None}
    status = 200
    db = request.app[keys.DB]
    viewer = request.get(keys.USER)
    async with db.read() as conn:
        context["boards"] = await boards.list_readable(conn, viewer)
    try:
        if form["q"]:
            # The form sends every field; an empty one is no filter.
            given = {name: form[name] or None for name in FIELDS[1:]}
            client = client_address(request)
            if kind != "documents":
                context["found"] = await search.run(db, form["q"], client, page,
                                                    viewer=viewer, **given)
            if page == 1 and kind != "documents":  # findings: once, above the first page
                context["found_findings"] = await search.run_with(
                    db, form["q"], client, lambda conn, filters: finding_search.search_findings(
                        conn, form["q"], filters), viewer, **given)
            if kind != "posts":
                context["documents"] = await search.run_with(
                    db, form["q"], client, lambda conn, filters: find_documents(
                        request, conn, form["q"], filters, kind, page), viewer, **given)
    except TooSlow:  # the form again, the message beside the query, with 503
        context["errors"] = {"q": gettext(search.TOO_SLOW)}
        status = TooSlow.status
    except ForumError as error:
        if error.field is None:
            raise
        context["errors"] = {error.field: gettext(error.message, **error.params)}
        status = error.status
    found = context["documents"] if kind == "documents" else context["found"]
    if (found is None and page > 1) or (found is not None and page > found.pages):
        raise NotFound()
    # Keeps the filters in the pager's links; the page number is added per link.
    context["query"] = {name: value for name, value in form.items() if value}
    if kind:
        context["query"]["type"] = kind
    response = render(request, "search/results.html", context, status=status)
    if status == TooSlow.status:
        response.headers["Retry-After"] = str(TooSlow.retry_after)
    return response


def search_type(request: web.Request) -> str:
    """The ?type= asked for; anything unknown is the default (messages and documents)."""
    kind = request.query.get("type", "")
    return kind if kind in TYPES else ""


async def find_documents(request: web.Request, conn: Conn, query: str, filters: search.Filters,
                         kind: str, page: int) -> documents.DocumentResults:
    """Documents matching, as a page of their own (type=documents) or a few beside messages."""
    if kind == "documents":
        return await documents.search_documents(conn, request.get(keys.USER), query, filters,
                                                page)
    return await documents.search_documents(conn, request.get(keys.USER), query, filters, 1,
                                            documents.PREVIEW)
