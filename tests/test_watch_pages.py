"""The watch pages: a city's latest figures, charts and findings; the national table; two
cities compared. What a visitor, a member or a moderator sees, and what the page cache keeps."""
from __future__ import annotations

from datetime import date

import lxml.html
import pytest

from forum import keys, watch
from forum.app import create_app
from forum.config import Config
from forum.models import boards, findings
from tests.conftest import log_in

pytestmark = pytest.mark.both_stores

NEXT_YEAR = str(date.today().year + 1)
METZ_CAMERAS = [("35", "2008"), ("72", "2014-11"), ("128", "2018"), ("148", "2020")]


def parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(html)


def texts(page: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(element.text_content().split()) for element in page.xpath(xpath)]


def listed_ids(page: lxml.html.HtmlElement) -> set[int]:
    """The findings in the page's list (not its figures or charts), by id."""
    return {int(href.rsplit("/", 1)[1]) for href in page.xpath("//ul[@class='findings']//a/@href")}


async def metz(forum, **board: str):
    """Metz with its four published camera counts, one planned public finding and one pending
    finding by a newcomer: (board, {name: finding id})."""
    city = await forum.board("Metz", region="Moselle (57)", **board)
    lea = await forum.user("lea")
    karim = await forum.user("karim", trusted=False)
    ids = {}
    for quantity, observed in METZ_CAMERAS:
        ids[quantity] = await forum.finding(city, lea, quantity=quantity, observed=observed)
    ids["planned"] = await forum.finding(city, lea, quantity="180", observed=NEXT_YEAR,
                                         status="planned")
    ids["pending"] = await forum.finding(city, karim, review="pending", quantity="1000",
                                         observed=NEXT_YEAR, status="planned")
    return city, ids


async def get_page(client, path: str, status: int = 200) -> lxml.html.HtmlElement:
    response = await client.get(path, allow_redirects=False)
    text = await response.text()
    assert response.status == status, text
    assert "Traceback" not in text
    return parse(text)


# A city --------------------------------------------------------------------------------------

async def test_city_page_shows_the_latest_count_and_where_it_comes_from(forum, client):
    city, ids = await metz(forum)
    page = await get_page(client, f"/b/{city.slug}/watch")

    assert "Metz" in texts(page, "//h1")[0]
    assert "Moselle (57)" in texts(page, "//p[@class='region']")
    latest = page.xpath("//table[@class='watch-latest']/tbody/tr")
    assert len(latest) == 1  # one kind: cameras (the planned 180 is not the headline)
    assert texts(latest[0], ".//a[@class='figure']") == ["148"]
    assert latest[0].xpath(".//a[@class='figure']/@href") == [f"/f/{ids['148']}"]
    assert latest[0].xpath(".//time/@datetime") == ["2020"]
    assert latest[0].xpath(".//a[@class='source']/@href") == ["https://example.org/source.pdf"]
    assert page.xpath("//a[@href='/b/metz']")  # back to the city's threads
    assert page.xpath("//a[@href='/b/metz/watch/new']")  # visitors are asked to log in there
    for export in ("csv", "json", "geojson"):
        assert page.xpath(f"//a[@href='/b/metz/watch/findings.{export}']")
    assert page.xpath("//a[@href='/b/metz/watch/feed.atom']")
    assert page.xpath("//a[@rel='license'][@href='https://opendatacommons.org/licenses/odbl/1-0/']")
    assert "ODbL 1.0" in texts(page, "//a[@rel='license']")


async def test_city_chart_has_a_text_alternative_and_a_data_table(forum, client):
    city, ids = await metz(forum)
    page = await get_page(client, f"/b/{city.slug}/watch")

    charts = page.xpath("//figure[@class='chart']")
    assert len(charts) == 1  # planned and pending findings draw no timeline of their own
    svg = charts[0].xpath(".//svg")[0]
    assert svg.get("role") == "img"
    assert svg.get("viewbox") or svg.get("viewBox")
    title_id, desc_id = svg.get("aria-labelledby").split()
    title = texts(svg, f".//title[@id='{title_id}']")[0]
    desc = texts(svg, f".//desc[@id='{desc_id}']")[0]
    assert "Metz" in title
    for quantity, year in (("35", "2008"), ("72", "2014"), ("128", "2018"), ("148", "2020")):
        assert quantity in desc and year in desc
    assert "180" not in desc and "1000" not in desc and "1 000" not in desc
    assert len(svg.xpath(".//circle")) == 4
    assert all(circle.xpath("./title") for circle in svg.xpath(".//circle"))
    assert len(svg.xpath(".//polyline")) == 1
    assert "2008" in texts(svg, ".//text[@class='tick']")  # x labels are years
    rows = charts[0].xpath(".//table[@class='chart-data']/tbody/tr")
    assert [texts(row, "./td[2]")[0] for row in rows] == ["35", "72", "128", "148"]
    assert [row.xpath("./td[1]/time/@datetime")[0] for row in rows] == [
        "2008", "2014-11", "2018", "2020"]
    assert rows[-1].xpath(".//a/@href")[0] == f"/f/{ids['148']}"


async def test_one_figure_is_no_timeline(forum, client):
    city = await forum.board("Nice")
    await forum.finding(city, await forum.user("lea"), kind="drones", quantity="3",
                        observed="2021")
    page = await get_page(client, f"/b/{city.slug}/watch")
    assert not page.xpath("//svg")
    assert texts(page, "//table[@class='watch-latest']//a[@class='figure']") == ["3"]


async def test_planned_findings_are_listed_but_not_drawn(forum, client):
    city, ids = await metz(forum)
    page = await get_page(client, f"/b/{city.slug}/watch")
    assert ids["planned"] in listed_ids(page)
    assert len(page.xpath("//svg//circle")) == 4
    assert f"/f/{ids['planned']}" not in page.xpath("//figure//a/@href")


async def test_pending_finding_is_hidden_from_visitors_but_listed_for_its_author(forum, client):
    city, ids = await metz(forum)
    visitor = await get_page(client, f"/b/{city.slug}/watch")
    assert listed_ids(visitor) == {ids[name] for name in ("35", "72", "128", "148", "planned")}
    assert f"/f/{ids['pending']}" not in lxml.html.tostring(visitor).decode()

    author = await forum.visitor()
    await log_in(author, "karim")
    # The author's own pending count of later date changes neither the figure nor the chart.
    newer = await forum.finding(city, await forum.user("other", trusted=False), review="pending",
                                quantity="999", observed="2021")
    page = await get_page(author, f"/b/{city.slug}/watch")
    assert ids["pending"] in listed_ids(page)
    assert newer not in listed_ids(page)  # someone else's pending finding
    badge = page.xpath(f"//ul[@class='findings']/li[.//a[@href='/f/{ids['pending']}']]"
                       "//span[@class='badge']")
    assert badge, "the pending finding carries its badge"
    assert texts(page, "//table[@class='watch-latest']//a[@class='figure']") == ["148"]
    assert len(page.xpath("//svg//circle")) == 4


async def test_moderator_sees_every_pending_finding_but_the_figures_stay_public(forum, client):
    city, ids = await metz(forum)
    await forum.user("mod", role="moderator")
    moderator = await forum.visitor()
    await log_in(moderator, "mod")
    page = await get_page(moderator, f"/b/{city.slug}/watch")
    assert ids["pending"] in listed_ids(page)
    assert texts(page, "//table[@class='watch-latest']//a[@class='figure']") == ["148"]


async def test_members_get_the_propose_link(forum, client):
    city, _ids = await metz(forum)
    member = await forum.visitor()
    await log_in(member, "lea")
    page = await get_page(member, f"/b/{city.slug}/watch")
    assert page.xpath("//a[@class='button'][@href='/b/metz/watch/new']")


@pytest.mark.parametrize("query, expected", [
    ("kind=cameras", {"35", "72", "128", "148", "planned"}),
    ("status=planned", {"planned"}),
    ("status=in-use", {"35", "72", "128", "148"}),
    ("since=2018", {"128", "148", "planned"}),
    ("until=2014", {"35", "72"}),
    ("since=2014-11&until=2018", {"72", "128"}),
    ("since=11/2014&until=2014-11", {"72"}),
    ("kind=cameras&status=in-use&since=2015", {"128", "148"}),
    ("kind=&status=&since=&until=", {"35", "72", "128", "148", "planned"}),
])
async def test_the_list_filters_by_kind_status_and_dates(forum, client, query, expected):
    city, ids = await metz(forum)
    page = await get_page(client, f"/b/{city.slug}/watch?{query}")
    assert listed_ids(page) == {ids[name] for name in expected}
    # The figures and the chart are the city's, whatever the list shows.
    assert texts(page, "//table[@class='watch-latest']//a[@class='figure']") == ["148"]
    assert len(page.xpath("//svg//circle")) == 4


async def test_a_filter_with_no_match_says_so(forum, client):
    city, _ids = await metz(forum)
    page = await get_page(client, f"/b/{city.slug}/watch?kind=drones")
    assert not listed_ids(page)
    assert page.xpath("//select[@name='kind']/option[@value='drones'][@selected]")


@pytest.mark.parametrize("query, field", [
    ("since=hier", "since"), ("until=2019-13", "until"), ("since=1850", "since"),
    ("kind=spaceships", "kind"), ("status=everywhere", "status"),
    ("since=2019-02-30", "since"),
])
async def test_a_bad_filter_is_explained_beside_the_form(forum, client, query, field):
    city, _ids = await metz(forum)
    page = await get_page(client, f"/b/{city.slug}/watch?{query}", status=422)
    assert texts(page, f"//p[@id='{field}-error']"), "the message stands beside its field"
    assert page.xpath(f"//*[@name='{field}'][@aria-invalid='true']")
    assert not listed_ids(page)
    assert texts(page, "//table[@class='watch-latest']//a[@class='figure']") == ["148"]


async def test_the_watch_of_a_board_that_is_not_a_city_is_404(forum, client):
    async with forum.db.transaction() as tx:
        national = await boards.create(tx, "Général", "general", is_city=False)
    await get_page(client, f"/b/{national.slug}/watch", status=404)
    await get_page(client, "/b/nowhere/watch", status=404)


async def test_a_former_slug_redirects_to_the_watch_page(forum, client):
    city, _ids = await metz(forum)
    async with forum.db.transaction() as tx:
        await boards.update(tx, city, "Metz", "metz-57", city.region)
    response = await client.get("/b/metz/watch?kind=cameras", allow_redirects=False)
    assert response.status == 301
    assert response.headers["Location"] == "/b/metz-57/watch?kind=cameras"


async def test_the_pages_name_the_licence_the_site_chose(aiohttp_client, tmp_path, database_url):
    config = Config.from_env(env={}, data_dir=tmp_path / "data", database_url=database_url,
                             data_licence_name="CC BY 4.0",
                             data_licence_url="https://creativecommons.org/licenses/by/4.0/")
    app = create_app(config)
    client = await aiohttp_client(app)
    async with app[keys.DB].transaction() as tx:
        for name in ("Metz", "Nancy"):
            await boards.create(tx, name)
    for path in ("/watch", "/b/metz/watch", "/watch/compare?a=metz&b=nancy"):
        response = await client.get(path)
        page = parse(await response.text())
        assert page.xpath("//a[@rel='license']/@href") == [
            "https://creativecommons.org/licenses/by/4.0/"], path
        assert texts(page, "//a[@rel='license']") == ["CC BY 4.0"]


async def test_the_latest_figure_links_its_first_source_and_counts_the_others(forum, client):
    city = await forum.board("Metz")
    lea = await forum.user("lea")
    _thread_id, post_id = await forum.thread(city, lea, "Le rapport du CSU")
    await forum.finding(city, lea, quantity="148", observed="2020", posts=[post_id],
                        links=[("https://example.org/csu.pdf", "Rapport")])
    page = await get_page(client, f"/b/{city.slug}/watch")
    cell = page.xpath("//table[@class='watch-latest']/tbody/tr/td[4]")[0]
    assert cell.xpath(".//a[@class='source']/@href") == [f"/p/{post_id}"]
    assert "Le rapport du CSU" in texts(cell, ".//a[@class='source']")[0]
    assert len(cell.xpath(".//a[@class='more']")) == 1


async def test_a_city_without_findings_says_so(forum, client):
    city = await forum.board("Nancy")
    page = await get_page(client, f"/b/{city.slug}/watch")
    assert not page.xpath("//svg") and not page.xpath("//table[@class='watch-latest']")
    assert not listed_ids(page)


async def test_the_page_cache_follows_findings_exactly(forum, client):
    city, _ids = await metz(forum)
    cache = forum.app[keys.PAGE_CACHE]
    path = f"/b/{city.slug}/watch"
    first = await client.get(path)
    before = await first.read()
    assert cache.get((path, "fr")) is not None, "visitors share the rendered page"

    # A pending finding changes nothing a visitor may see: the same page, byte for byte.
    await forum.finding(city, await forum.user("newcomer", trusted=False), review="pending",
                        quantity="500", observed="2022")
    assert await (await client.get(path)).read() == before

    # A finding elsewhere leaves Metz's page in the cache; one in Metz takes it out.
    await forum.finding(await forum.board("Nancy"), await forum.user("ana"), observed="2022")
    assert cache.get((path, "fr")) is not None
    await forum.finding(city, await forum.user("camille"), quantity="163", observed="2022")
    assert cache.get((path, "fr")) is None
    page = await get_page(client, path)
    assert texts(page, "//table[@class='watch-latest']//a[@class='figure']") == ["163"]
    assert len(page.xpath("//svg//circle")) == 5


async def test_a_bad_filter_page_is_not_cached(forum, client):
    city, _ids = await metz(forum)
    await get_page(client, f"/b/{city.slug}/watch?since=hier", status=422)
    assert forum.app[keys.PAGE_CACHE].get((f"/b/{city.slug}/watch?since=hier", "fr")) is None


# The national table --------------------------------------------------------------------------

async def three_cities(forum):
    """Metz (148 cameras), Saint-Étienne (329 cameras, a drone vote), Nice (drones only)."""
    metz_board, _ids = await metz(forum)
    lea = await forum.user("ana")
    saint_etienne = await forum.board("Saint-Étienne", "saint-etienne")
    for quantity, observed in (("120", "2014"), ("329", "2021")):
        await forum.finding(saint_etienne, lea, quantity=quantity, observed=observed)
    await forum.finding(saint_etienne, lea, kind="drones", quantity="", observed="2023",
                        status="voted")
    nice = await forum.board("Nice")
    await forum.finding(nice, lea, kind="drones", quantity="4", observed="2022")
    await forum.board("Nancy")  # no finding: not in the table, but in the compare menus
    return metz_board, saint_etienne, nice


def city_order(page: lxml.html.HtmlElement) -> list[str]:
    return texts(page, "//table[@class='watch-national']/tbody/tr/th")


async def test_national_table_has_a_row_per_city_and_a_column_per_kind_found(forum, client):
    await three_cities(forum)
    page = await get_page(client, "/watch")
    assert city_order(page) == ["Metz", "Nice", "Saint-Étienne"]
    headers = texts(page, "//table[@class='watch-national']/thead//th")
    assert len(headers) == 3  # city, cameras, drones: no empty column for other kinds
    rows = page.xpath("//table[@class='watch-national']/tbody/tr")
    assert texts(rows[0], "./td[1]//a[@class='figure']") == ["148"]
    assert texts(rows[0], "./td[2]//a") == []  # Metz has no drone
    assert texts(rows[2], "./td[1]//a[@class='figure']") == ["329"]
    assert len(texts(rows[2], "./td[2]//a[@class='figure']")) == 1  # "voted": a status
    assert rows[0].xpath("./th/a/@href") == ["/b/metz/watch"]
    assert "1000" not in lxml.html.tostring(page).decode()
    assert page.xpath("//a[@href='/watch/findings.csv']")
    assert page.xpath("//a[@href='/watch/feed.atom']")
    assert page.xpath("//a[@rel='license']")
    # The compare form lists every city, with or without findings.
    assert texts(page, "//select[@name='a']/option[@value!='']") == [
        "Metz", "Saint-Étienne", "Nice", "Nancy"]


async def test_national_table_sorts_by_cameras_without_javascript(forum, client):
    await three_cities(forum)
    page = await get_page(client, "/watch?sort=cameras&order=desc")
    assert city_order(page) == ["Saint-Étienne", "Metz", "Nice"]  # Nice has no count: last
    sorted_header = page.xpath("//th[@aria-sort]")
    assert len(sorted_header) == 1 and sorted_header[0].get("aria-sort") == "descending"
    # Its link sorts the other way round.
    assert sorted_header[0].xpath(".//a/@href") == ["/watch?sort=cameras&order=asc"]

    page = await get_page(client, "/watch?sort=cameras&order=asc")
    assert city_order(page) == ["Metz", "Saint-Étienne", "Nice"]
    assert page.xpath("//th[@aria-sort='ascending']")


async def test_national_table_sorts_by_city_name(forum, client):
    await three_cities(forum)
    page = await get_page(client, "/watch?sort=city&order=desc")
    assert city_order(page) == ["Saint-Étienne", "Nice", "Metz"]
    assert page.xpath("//th[@aria-sort='descending']//a/@href") == [
        "/watch?sort=city&order=asc"]
    page = await get_page(client, "/watch")
    assert city_order(page) == ["Metz", "Nice", "Saint-Étienne"]
    assert page.xpath("//th[@aria-sort='ascending']")


@pytest.mark.parametrize("query", ["sort=nothing", "sort=sound-sensors", "order=sideways",
                                   "sort=cameras&order=up"])
async def test_an_unknown_sort_falls_back_to_a_known_order(forum, client, query):
    await three_cities(forum)
    page = await get_page(client, f"/watch?{query}")
    expected = (["Saint-Étienne", "Metz", "Nice"] if query.startswith("sort=cameras")
                else ["Metz", "Nice", "Saint-Étienne"])
    assert city_order(page) == expected


async def test_national_table_is_the_public_one_for_everyone_and_follows_new_findings(
        forum, client):
    metz_board, _saint_etienne, _nice = await three_cities(forum)
    member = await forum.visitor()
    await log_in(member, "karim")  # the author of the pending 1000
    page = await get_page(member, "/watch")
    assert "1000" not in lxml.html.tostring(page).decode()

    await get_page(client, "/watch")
    await forum.finding(metz_board, await forum.user("camille"), quantity="400",
                        observed="2023")
    page = await get_page(client, "/watch?sort=cameras&order=desc")
    assert city_order(page) == ["Metz", "Saint-Étienne", "Nice"]


# Two cities ----------------------------------------------------------------------------------

async def test_compare_shows_both_cities_figures_and_their_common_timeline(forum, client):
    await three_cities(forum)
    page = await get_page(client, "/watch/compare?a=metz&b=saint-etienne")
    assert "Metz" in texts(page, "//h1")[0] and "Saint-Étienne" in texts(page, "//h1")[0]
    rows = page.xpath("//section[@aria-labelledby='latest-heading']//tbody/tr")
    assert len(rows) == 2  # cameras, drones
    assert texts(rows[0], ".//a[@class='figure']") == ["148", "329"]
    assert len(texts(rows[1], ".//a[@class='figure']")) == 1  # only Saint-Étienne votes drones
    timeline = page.xpath("//section[@class='timeline']//table/tbody/tr")
    assert [row.xpath("./th/time/@datetime")[0] for row in timeline] == [
        "2008", "2014", "2014-11", "2018", "2020", "2021"]
    assert [texts(row, "./td") for row in timeline][1] == ["—", "120"]
    assert len(page.xpath("//section[@class='timeline']//svg")) == 2
    ids = page.xpath("//@id")
    assert len(ids) == len(set(ids)), "two charts of the same kind keep their ids apart"
    assert page.xpath("//select[@name='a']/option[@value='metz'][@selected]")


@pytest.mark.parametrize("query, status", [
    ("", 400), ("a=metz", 400), ("a=metz&b=metz", 400), ("a=metz&b=atlantis", 404),
    ("a=general&b=metz", 404)])
async def test_compare_needs_two_different_cities(forum, client, query, status):
    await three_cities(forum)
    async with forum.db.transaction() as tx:
        await boards.create(tx, "Général", "general", is_city=False)
    page = await get_page(client, f"/watch/compare?{query}", status=status)
    if status == 400:
        assert texts(page, "//p[@class='error']")
        assert page.xpath("//form[@action='/watch/compare']")


# Pure helpers --------------------------------------------------------------------------------

async def test_side_by_side_merges_two_timelines_by_date(forum):
    city, _ids = await metz(forum)
    other = await forum.board("Lyon")
    await forum.finding(other, await forum.user("anna"), quantity="500", observed="2014-11")
    await forum.finding(other, await forum.user("bob"), quantity="600", observed="2019")
    async with forum.db.read() as conn:
        left = watch.series(await findings.search(conn, None, findings.Filters(board_id=city.id)))
        right = watch.series(await findings.search(conn, None,
                                                   findings.Filters(board_id=other.id)))
    merged = watch.side_by_side(left[0], right[0])
    assert [(observed, a and a.quantity, b and b.quantity) for observed, a, b in merged] == [
        ("2008", 35, None), ("2014-11", 72, 500), ("2018", 128, None), ("2019", None, 600),
        ("2020", 148, None)]
