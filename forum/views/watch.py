"""The watch pages: a city's figures, charts and findings; the national table; two cities side
by side. The figures and the charts' geometry come from forum/watch.py."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from forum import keys, watch, watch_map
from forum.cache import Tags
from forum.db import Conn
from forum.errors import Invalid, NotFound
from forum.i18n import gettext
from forum.models import boards, finding_drafts, findings
from forum.models.boards import Board
from forum.models.findings import Filters, Finding
from forum.models.users import User
from forum.templating import assembled, kept_member_page, member_page, render
from forum.views import url_for

CITY_LIMIT = 5_000  # a city holds dozens of findings: this only bounds a runaway page
NATIONAL_LIMIT = 100_000
FILTER_FIELDS = ("kind", "status", "since", "until")
PER_INHABITANTS = "inhabitants"  # /watch?per=inhabitants: counts per 10 000 inhabitants


def licence(request: web.Request) -> dict[str, str]:
    """The open licence of the figures, named on every watch page (Config, like the exports)."""
    config = request.app[keys.CONFIG]
    return {"licence_name": config.data_licence_name, "licence_url": config.data_licence_url}


def _page(request: web.Request, template: str, context: dict[str, Any], tags: Tags,
          epoch: int, personal: frozenset[int] = frozenset()) -> web.Response:
    """A watch page: a visitor's kept by the page cache under `tags`, a member's kept for their
    class under the same tags and assembled with their bits (forum/templating.py: member_page);
    `epoch`: the page cache's, read before the data."""
    if request.get(keys.KNOWN_SESSION) is not None and request.method == "GET":
        return member_page(request, template, context, {}, tags, epoch, personal)
    request[keys.CACHE_TAGS] = tags
    return render(request, template, context)


def _kept(request: web.Request) -> web.Response | None:
    """A member's watch page kept for their class (or for them alone), with their bits."""
    kept = kept_member_page(request)
    return None if kept is None else assembled(request, kept, {})


async def city_board(conn: Conn, slug: str, viewer: User | None) -> Board:
    """The city with this slug (or a former one) that `viewer` may read; a board that is not a
    city has no watch."""
    board = await boards.get_readable(conn, slug, viewer)
    if not board.is_city:
        raise NotFound("This board is not a city: it has no watch page.")
    return board


# A city ----------------------------------------------------------------------------------------

async def city(request: web.Request) -> web.Response:
    """GET /b/{slug}/watch?kind=&status=&since=&until=: figures, charts, then the findings."""
    if (kept := _kept(request)) is not None:
        return kept
    epoch = request.app[keys.PAGE_CACHE].epoch
    viewer = request.get(keys.USER)
    slug = request.match_info["slug"]
    form = {name: request.query.get(name, "").strip() for name in FILTER_FIELDS}
    errors: dict[str, str] = {}
    async with request.app[keys.DB].read() as conn:
        board = await city_board(conn, slug, viewer)
        if board.slug != slug:
            raise web.HTTPMovedPermanently(url_for(request, "city_watch", slug=board.slug,
                                                   query=dict(request.query)))
        whole = Filters(board_id=board.id)
        visible = await findings.search(conn, viewer, whole, limit=CITY_LIMIT)
        try:
            filters = await finding_drafts.check_filters(conn, form, board.id)
        except Invalid as error:
            errors[error.field or "form"] = gettext(error.message, **error.params)
            filters = None
        if filters is None:
            listed = []  # the page says which filter to correct
        elif filters == whole:
            listed = visible
        else:
            listed = await findings.search(conn, viewer, filters, limit=CITY_LIMIT)
        personal = (await findings.unpublished_authors(conn, board.id) if viewer is not None
                    else None)
    # Figures and charts are the public record, the same for everyone; pending findings of
    # the viewer (or, for moderators, of anyone) are only listed, with their badge.
    public = [finding for finding in visible if finding.is_public]
    # The population is the city's, not equipment: its own line, and the rates it gives.
    people = watch.population(public)
    equipment = [f for f in public if f.kind_slug != findings.POPULATION]
    headlines = watch.latest_per_kind(equipment)
    lines = watch.series(equipment)
    context = {
        "board": board, "headlines": headlines, "population": people,
        "rates": {f.id: rate for f in headlines
                  if (rate := watch.per_inhabitants(f, people)) is not None},
        "since": {f.id: since for f in headlines
                  if (since := watch.changes_since(equipment, f)) is not None},
        "beside": watch.beside_totals(equipment),
        "charts": [watch.chart(line) for line in lines
                   if len(line.findings) >= watch.CHART_MIN_POINTS],
        "singles": watch.single_figures(lines, headlines),
        "groups": by_kind(listed), "kind_options": kind_options(visible, form["kind"]),
        "statuses": findings.STATUSES, "form": form, "errors": errors,
        "filtered": any(form.values()), **licence(request)}
    if errors:  # the form again: not kept
        return render(request, "watch/city.html", context, status=422)
    # A member's page is their class's (what finding_filter lets them see), but for the
    # authors of findings only they (and moderators) see: those get their own.
    return _page(request, "watch/city.html", context,
                 {("watch", board.id), ("board_meta", board.id)} | source_tags(visible), epoch,
                 personal or frozenset())


def source_tags(found: list[Finding]) -> set[tuple[str, object]]:
    """The tags of the threads whose messages and files these findings cite.

    A page shows each source's thread title and file name: a post deleted, hidden or
    refused, a file removed, a thread renamed or moved must drop it (they all tag the thread).
    """
    return {("thread", source.thread_id) for finding in found for source in finding.sources
            if source.thread_id is not None}


def by_kind(listed: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """The findings under their kind's name, kinds in their usual order (search's order)."""
    groups: dict[int, tuple[str, list[Finding]]] = {}
    for finding in listed:
        groups.setdefault(finding.kind_id, (finding.kind_label, []))[1].append(finding)
    return list(groups.values())


def kind_options(visible: list[Finding], chosen: str) -> list[tuple[str, str]]:
    """The kinds the filter offers: those found in this city (and the one asked for).

    Not every kind: the page is cached per city, and a new kind only invalidates national
    pages.
    """
    options = {finding.kind_slug: finding.kind_label for finding in visible}
    if chosen and chosen not in options:
        options[chosen] = chosen
    return list(options.items())


# The national table ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A sortable header of the national table: the city names, or a kind of equipment."""
    slug: str  # 'city' or a kind's slug
    label: str
    kind_id: int | None
    href: str  # the same table sorted by this column (the other way if it already is)
    aria_sort: str | None  # 'ascending' or 'descending' on the sorted column


async def national(request: web.Request) -> web.Response:
    """GET /watch?sort=<kind slug>|city&order=asc|desc&per=inhabitants: every city's figures,
    one row each (counts per 10 000 inhabitants with `per`), and the map of the cities."""
    if (kept := _kept(request)) is not None:
        return kept
    epoch = request.app[keys.PAGE_CACHE].epoch
    async with request.app[keys.DB].read() as conn:
        # As a visitor sees them: the table is the same for everyone, and cached.
        public = await findings.search(conn, None, Filters(), limit=NATIONAL_LIMIT,
                                       with_sources=False)  # the table shows none
        kinds = await findings.kinds(conn)
        cities = [board for board in await boards.list_readable(conn, None) if board.is_city]
    rows = watch.national_table(public)
    present = {kind_id for row in rows for kind_id in row.cells}
    shown = [kind for kind in kinds if kind.id in present]
    sort = request.query.get("sort", "city")
    if sort not in {"city", *(kind.slug for kind in shown)}:
        sort = "city"  # an old link to a kind no city has any more: the default order
    default_order = "asc" if sort == "city" else "desc"  # the most equipped cities first
    order = request.query.get("order", default_order)
    if order not in ("asc", "desc"):
        order = default_order
    per = request.query.get("per") == PER_INHABITANTS  # anything else: figures as counted
    kind_id = next((kind.id for kind in shown if kind.slug == sort), None)
    extra = {"per": PER_INHABITANTS} if per else {}
    columns = [column(request, "city", gettext("City"), None, sort, order, extra)] + [
        column(request, kind.slug, gettext(kind.label), kind.id, sort, order, extra)
        for kind in shown]
    return _page(request, "watch/national.html", {
        "rows": watch.sort_rows(rows, kind_id, order == "desc", per), "columns": columns,
        "per": per, "toggle": url_for(request, "watch", query={
            "sort": sort, "order": order, **({} if per else {"per": PER_INHABITANTS})}),
        "has_rates": any(row.rate(kind.id) for row in rows for kind in shown),
        "map": city_map(rows, public, shown, kind_id),
        "cities": cities, **licence(request)}, {("watch", None)}, epoch)


def city_map(rows: list[watch.CityRow], public: list[Finding], shown: list[findings.Kind],
             kind_id: int | None) -> watch_map.Map:
    """The map sized by the sorted kind if it is counted, else by the kind most cities count
    (cameras, on a real record)."""
    def counted(kind: findings.Kind) -> int:
        return sum(1 for row in rows if (cell := row.cells.get(kind.id)) is not None
                   and cell.unit == "count" and cell.quantity)
    candidates = [kind for kind in shown if kind.slug != findings.POPULATION and counted(kind)]
    chosen = next((kind for kind in candidates if kind.id == kind_id), None) or max(
        candidates, key=counted, default=None)
    return watch_map.national_map(rows, watch_map.city_positions(public),
                                  chosen.id if chosen else None,
                                  chosen.label if chosen else "")


def column(request: web.Request, slug: str, label: str, kind_id: int | None, sort: str,
           order: str, extra: dict[str, str] | None = None) -> Column:
    if slug == sort:
        aria, next_order = ("ascending", "desc") if order == "asc" else ("descending", "asc")
    else:
        aria, next_order = None, "asc" if slug == "city" else "desc"
    href = url_for(request, "watch", query={"sort": slug, "order": next_order, **(extra or {})})
    return Column(slug, label, kind_id, href, aria)


# Two cities ------------------------------------------------------------------------------------

async def compare(request: web.Request) -> web.Response:
    """GET /watch/compare?a=metz&b=saint-etienne: two cities' figures and timelines.

    Without two different cities, the form again with what is missing (400).
    """
    if (kept := _kept(request)) is not None:
        return kept
    epoch = request.app[keys.PAGE_CACHE].epoch
    chosen = {name: request.query.get(name, "").strip() for name in ("a", "b")}
    async with request.app[keys.DB].read() as conn:
        cities = [board for board in await boards.list_readable(conn, None) if board.is_city]
        if not chosen["a"] or not chosen["b"] or chosen["a"] == chosen["b"]:
            message = ("Choose two cities to compare." if not (chosen["a"] and chosen["b"])
                       else "Choose two different cities to compare.")
            return render(request, "watch/compare.html", {
                "left": None, "right": None, "cities": cities, "chosen": chosen,
                "error": gettext(message), **licence(request)}, status=400)
        # As a visitor sees them (the same page for everyone): no closed city.
        left = await city_board(conn, chosen["a"], None)
        right = await city_board(conn, chosen["b"], None)
        kinds = await findings.kinds(conn)
        found = {board.id: await findings.search(conn, None, Filters(board_id=board.id),
                                                 limit=CITY_LIMIT)
                 for board in (left, right)}
    return _page(request, "watch/compare.html", {
        "left": left, "right": right, "cities": cities, "chosen": chosen, "error": "",
        **side_by_side(kinds, found[left.id], found[right.id]), **licence(request)},
        {("watch", None)} | source_tags(found[left.id] + found[right.id]), epoch)


def side_by_side(kinds: list[findings.Kind], left: list[Finding],
                 right: list[Finding]) -> dict[str, Any]:
    """Headlines per kind for both cities, then the timelines both cities have."""
    heads = [{f.kind_id: f for f in watch.latest_per_kind(found)} for found in (left, right)]
    rows = [(kind, heads[0].get(kind.id), heads[1].get(kind.id)) for kind in kinds
            if kind.id in heads[0] or kind.id in heads[1]]
    people = [watch.population(found) for found in (left, right)]
    # Per 10 000 inhabitants where a city has both figures (each with its own date).
    rates = {kind.id: [watch.per_inhabitants(head.get(kind.id), who)
                       for head, who in zip(heads, people, strict=True)]
             for kind, _, _ in rows}
    lines = [{(s.kind_slug, s.unit): s for s in watch.series(found)} for found in (left, right)]
    # A population is compared in the table (with its date), not drawn as equipment.
    timelines = [(lines[0][key], lines[1][key]) for key in lines[0] if key in lines[1]
                 and key[0] != findings.POPULATION]
    return {"rows": rows, "rates": rates, "timelines": [
        {"left": watch.chart(a), "right": watch.chart(b), "table": watch.side_by_side(a, b)}
        for a, b in timelines]}
