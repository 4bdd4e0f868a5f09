"""The search page: public posts and thread titles, with filters and highlighted snippets;
findings (models/finding_search.py) listed above the messages."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.db import Conn
from forum.errors import ForumError, NotFound, TooSlow
from forum.i18n import gettext
from forum.models import boards, finding_search, search
from forum.templating import render
from forum.views import client_address, page_number

FIELDS = ("q", "board", "author", "since", "until")


async def results(request: web.Request) -> web.Response:
    """GET /search?q=&board=&author=&since=&until=&page=: a form and its results, no JS needed.

    Never cached for visitors (no CACHE_TAGS): any write anywhere may change any search.
    """
    page = page_number(request)
    form = {name: request.query.get(name, "").strip() for name in FIELDS}
    context = {"form": form, "found": None, "errors": {}, "max_query": search.QUERY_MAX,
               "candidates": search.CANDIDATES, "per_page": search.PAGE_SIZE,
               "found_findings": None}
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
            context["found"] = await search.run(db, form["q"], client, page, viewer=viewer,
                                                **given)
            if page == 1:  # findings are listed once, above the first page of messages

                async def findings_of(conn: Conn) -> finding_search.FoundFindings:
                    filters = await search.resolve_filters(conn, viewer=viewer, **given)
                    return await finding_search.search_findings(conn, form["q"], filters)

                context["found_findings"] = await db.budgeted(
                    findings_of, search.TIME_BUDGET, keys=(("client", client),))
    except TooSlow:  # the form again, the message beside the query, with 503
        context["errors"] = {"q": gettext(search.TOO_SLOW)}
        status = TooSlow.status
    except ForumError as error:
        if error.field is None:
            raise
        context["errors"] = {error.field: gettext(error.message, **error.params)}
        status = error.status
    found = context["found"]
    if (found is None and page > 1) or (found is not None and page > found.pages):
        raise NotFound()
    # Keeps the filters in the pager's links; the page number is added per link.
    context["query"] = {name: value for name, value in form.items() if value}
    response = render(request, "search/results.html", context, status=status)
    if status == TooSlow.status:
        response.headers["Retry-After"] = str(TooSlow.retry_after)
    return response
