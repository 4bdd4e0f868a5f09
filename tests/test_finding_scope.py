"""Figures that say what they count (issue 14): a quantity is the city's total, a change or a
part; only totals make headlines, timelines, the national table and comparisons; a total that
does not fit the record waits for a moderator's confirmation."""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pytest

from forum import migrate
from forum.models import findings, moderation
from tests.conftest import log_in, submit
from tests.test_api import call, error_of

pytestmark = pytest.mark.both_stores

ENGLISH = {"Accept-Language": "en"}  # English msgids: stable whatever the catalogs say
LINK = [("https://example.org/deliberation.pdf", "Délibération")]


async def metz_and_saint_etienne(forum):
    """The issue's record: Metz 148 cameras (2020), Saint-Étienne 329 (2019); a local
    moderator of Metz and a newcomer whose findings wait."""
    metz = await forum.board("Metz", slug="metz")
    saint_etienne = await forum.board("Saint-Étienne", slug="saint-etienne")
    lea = await forum.user("lea")
    local = await forum.user("locale")
    newcomer = await forum.user("voisine", trusted=False)
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, metz, local)
    ids = {
        "metz_2018": await forum.finding(metz, lea, quantity="128", observed="2018"),
        "metz_2020": await forum.finding(metz, lea, quantity="148", observed="2020"),
        "se_2019": await forum.finding(saint_etienne, lea, quantity="329", observed="2019"),
    }
    return metz, newcomer, ids


async def propose_dome(forum, metz, newcomer, scope: str) -> int:
    """The member's "1 camera, installed, 2026-10" (a new dome in their street)."""
    return await forum.finding(metz, newcomer, review="pending", quantity="1", scope=scope,
                               observed="2026-10", status="installed", place="Rue des Jardins")


async def review_of(forum, finding_id: int) -> str:
    async with forum.db.read() as conn:
        return await conn.value("select review from findings where id = ?", (finding_id,))


async def approve_in_queue(client, finding_id: int, confirm: bool = False):
    data = {"next": "/moderation", **({"confirm": "1"} if confirm else {})}
    return await submit(client, f"/moderation/findings/{finding_id}/approve", data,
                        form_page="/moderation")


async def item_in_queue(client, item_id: str) -> str:
    """A queue item ("qf12": a pending finding, "qc12": a correction), up to the next one, as
    the moderator logged in on `client` sees it, in English."""
    page = await (await client.get("/moderation", headers=ENGLISH)).text()
    match = re.search(rf'<li id="{item_id}".*?(?=<li id="q[fc]|</ol>)', page, re.S)
    assert match, f"{item_id} is not in the queue"
    return match.group(0)


def headline_row(page: str, kind: str = "Video-surveillance cameras") -> str:
    table = re.search(r'<table class="watch-latest">.*?</table>', page, re.S).group(0)
    return re.search(rf"<tr>\s*<th scope=\"row\">{kind}</th>.*?</tr>", table, re.S).group(0)


def chart_points(page: str) -> list[str]:
    """The values drawn as points of the cameras' timeline (count)."""
    chart = re.search(r'<figure class="chart" id="chart-cameras-count">.*?</figure>', page,
                      re.S).group(0)
    return re.findall(r'<text class="value"[^>]*>([^<]+)</text>', chart)


def national_cell(page: str, city: str) -> str:
    row = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{city}</a></th>.*?</tr>", page,
                    re.S).group(0)
    return re.search(r'<a class="figure"[^>]*>([^<]+)</a>', row).group(1)


def compare_cells(page: str) -> list[str]:
    table = re.search(r'<table class="watch-compare">.*?</table>', page, re.S).group(0)
    return re.findall(r'<a class="figure"[^>]*>([^<]+)</a>', table)


# The scenario --------------------------------------------------------------------------

async def test_a_part_never_becomes_metz_headline_chart_table_or_comparison(forum, client):
    metz, newcomer, _ids = await metz_and_saint_etienne(forum)
    dome = await propose_dome(forum, metz, newcomer, "part")
    await log_in(client, "locale")
    item = await item_in_queue(client, f"qf{dome}")
    assert "part (one place, district or contract)" in item
    assert 'name="confirm"' not in item and "doubts-" not in item  # a part: nothing to check
    assert (await approve_in_queue(client, dome)).status == 303
    assert await review_of(forum, dome) == "published"

    reader = await forum.visitor()
    city = await (await reader.get("/b/metz/watch", headers=ENGLISH)).text()
    assert ">148</a>" in headline_row(city) and ">1</a>" not in headline_row(city)
    assert chart_points(city) == ["128", "148"]
    beside = re.search(r'<section [^>]*id="changes-and-parts">.*?</section>', city,
                       re.S).group(0)
    assert f'href="/f/{dome}"' in beside and "Rue des Jardins" in beside
    national = await (await reader.get("/watch", headers=ENGLISH)).text()
    assert national_cell(national, "Metz") == "148"
    compare = await (await reader.get("/watch/compare?a=metz&b=saint-etienne",
                                      headers=ENGLISH)).text()
    assert compare_cells(compare) == ["148", "329"]


async def test_as_a_total_it_would_and_the_queue_asks_for_confirmation(forum, client):
    metz, newcomer, ids = await metz_and_saint_etienne(forum)
    dome = await propose_dome(forum, metz, newcomer, "total")
    await log_in(client, "locale")
    item = await item_in_queue(client, f"qf{dome}")
    doubts = re.search(r'<div class="doubts.*?</div>', item, re.S).group(0)
    assert "moves by more than half from the previous total, 148 (2020)" in doubts
    assert f'href="/f/{ids["metz_2020"]}"' in doubts  # the total it is compared with
    assert 'type="checkbox" name="confirm" value="1" required' in item
    # Without the tick: refused with a clear message, nothing changes.
    refused = await approve_in_queue(client, dome)
    assert refused.status == 422
    assert "confirmez que vous" in await refused.text()  # the French of "confirm that you…"
    assert await review_of(forum, dome) == "pending"
    assert (await approve_in_queue(client, dome, confirm=True)).status == 303
    assert await review_of(forum, dome) == "published"

    reader = await forum.visitor()
    city = await (await reader.get("/b/metz/watch", headers=ENGLISH)).text()
    assert ">1</a>" in headline_row(city)
    assert chart_points(city) == ["128", "148", "1"]
    assert national_cell(await (await reader.get("/watch")).text(), "Metz") == "1"
    compare = await (await reader.get("/watch/compare?a=metz&b=saint-etienne")).text()
    assert compare_cells(compare) == ["1", "329"]


async def test_the_finding_page_asks_the_same_confirmation(forum, client):
    metz, newcomer, _ids = await metz_and_saint_etienne(forum)
    dome = await propose_dome(forum, metz, newcomer, "total")
    await log_in(client, "locale")
    page = await (await client.get(f"/f/{dome}", headers=ENGLISH)).text()
    assert 'id="doubts-finding"' in page and 'name="confirm"' in page
    assert "moves by more than half" in page


async def test_the_api_needs_confirm_true_for_a_doubtful_total(forum, client):
    metz, newcomer, _ids = await metz_and_saint_etienne(forum)
    dome = await propose_dome(forum, metz, newcomer, "total")
    token = await forum.token(await forum.user("modo", role="moderator"))
    path = f"/moderation/findings/{dome}/approve"
    payload = await call(client, "POST", path, token, expect=422)
    assert error_of(payload)["field"] == "confirm"
    assert await review_of(forum, dome) == "pending"
    await call(client, "POST", path, token, expect=422, json={"confirm": "yes"})
    approved = await call(client, "POST", path, token, json={"confirm": True})
    assert approved["review"] == "published" and approved["scope"] == "total"


# Plausibility ----------------------------------------------------------------------------------

async def doubts_of(forum, finding_id: int) -> list[tuple[str, int]]:
    async with forum.db.read() as conn:
        finding = await findings.get(conn, finding_id)
        return [(d.reason, d.other.id) for d in await findings.doubts_about(conn, finding)]


async def test_a_total_within_half_of_the_previous_one_needs_no_confirmation(forum):
    metz, newcomer, ids = await metz_and_saint_etienne(forum)
    near = await forum.finding(metz, newcomer, review="pending", quantity="160",
                               observed="2021")
    assert await doubts_of(forum, near) == []
    far = await forum.finding(metz, newcomer, review="pending", quantity="300",
                              observed="2021")
    assert await doubts_of(forum, far) == [("moves", ids["metz_2020"])]


async def test_a_total_older_than_the_latest_one_is_flagged(forum):
    metz, newcomer, ids = await metz_and_saint_etienne(forum)
    old = await forum.finding(metz, newcomer, review="pending", quantity="130",
                              observed="2019")
    assert await doubts_of(forum, old) == [("older", ids["metz_2020"])]


async def test_a_total_contradicting_another_of_the_same_date_shows_both(forum, client):
    metz, newcomer, ids = await metz_and_saint_etienne(forum)
    other = await forum.finding(metz, newcomer, review="pending", quantity="150",
                                observed="2020")
    assert ("contradicts", ids["metz_2020"]) in await doubts_of(forum, other)
    await log_in(client, "locale")
    item = await item_in_queue(client, f"qf{other}")
    assert "Another total of the same date says otherwise, 148" in item
    assert ">150</strong>" in item and f'href="/f/{ids["metz_2020"]}"' in item


async def test_a_correction_turning_a_part_into_a_far_total_asks_too(forum, client):
    metz, newcomer, _ids = await metz_and_saint_etienne(forum)
    dome = await propose_dome(forum, metz, newcomer, "part")
    admin = await forum.user("m1", role="admin")
    async with forum.db.transaction() as tx:
        await findings.approve(tx, await findings.get(tx, dome), admin)
    # Its author, still untrusted, corrects it into a total: the correction waits.
    await log_in(client, "voisine")
    form = {"kind": "cameras", "quantity": "1", "unit": "count", "scope": "total",
            "observed": "2026-10", "status": "installed", "place": "", "note": "",
            "source_url": LINK[0][0], "source_label": LINK[0][1], "reason": "Toute la ville"}
    sent = await submit(client, f"/f/{dome}/edit", form)
    assert sent.status == 303
    moderator = await forum.visitor()
    await log_in(moderator, "locale")
    item = await item_in_queue(moderator, f"qc{dome}")
    assert "moves by more than half" in item and 'name="confirm"' in item
    refused = await approve_in_queue(moderator, dome)
    assert refused.status == 422
    async with forum.db.read() as conn:
        assert (await findings.get(conn, dome)).scope == "part"


# Changes ---------------------------------------------------------------------------------------

async def test_changes_after_a_total_are_shown_beside_it_never_summed(forum, client):
    metz, _newcomer, _ids = await metz_and_saint_etienne(forum)
    lea = await forum.user("lea2")
    added = await forum.finding(metz, lea, quantity="+3", scope="change", observed="2021-05",
                                status="installed")
    removed = await forum.finding(metz, lea, quantity="-1", scope="change",
                                  observed="2022", status="removed")
    city = await (await client.get("/b/metz/watch", headers=ENGLISH)).text()
    row = headline_row(city)
    assert ">148</a>" in row and "151" not in row and "150" not in row
    since = re.search(r'<span class="since".*?</span></span>', row, re.S).group(0)
    assert "+2 since May 2021" in since and "2 changes recorded after this total" in since
    # The timeline: totals are its points, changes events at their date.
    assert chart_points(city) == ["128", "148"]
    chart = re.search(r'<figure class="chart" id="chart-cameras-count">.*?</figure>', city,
                      re.S).group(0)
    events = re.search(r'<g class="events">.*?</g>', chart, re.S).group(0)
    assert ">+3</text>" in events and ">-1</text>" in events
    assert f'href="/f/{added}"' in chart and f'href="/f/{removed}"' in chart
    assert "change, not a total" in chart
    # The national table reads the total only.
    assert national_cell(await (await client.get("/watch")).text(), "Metz") == "148"


async def test_a_negative_quantity_is_only_for_a_change(forum, client):
    await metz_and_saint_etienne(forum)
    token = await forum.token(await forum.user("api"))
    body = {"city": "metz", "kind": "cameras", "quantity": -2, "unit": "count",
            "scope": "total", "observed": "2021", "status": "removed",
            "sources": [{"url": LINK[0][0]}]}
    payload = await call(client, "POST", "/findings", token, expect=422, json=body)
    assert error_of(payload)["field"] == "quantity"
    made = await call(client, "POST", "/findings", token, expect=201,
                      json={**body, "scope": "change"})
    assert made["quantity"] == -2 and made["scope"] == "change"


# Input -----------------------------------------------------------------------------------------

async def count_findings(forum) -> int:
    async with forum.db.read() as conn:
        return int(await conn.value("select count(*) from findings"))


async def test_the_form_asks_whether_the_figure_is_the_total(forum, client):
    await metz_and_saint_etienne(forum)
    await log_in(client, "lea")
    page = await (await client.get("/b/metz/watch/new", headers=ENGLISH)).text()
    question = re.search(r'<fieldset class="finding-scope".*?</fieldset>', page, re.S).group(0)
    assert "<legend>Is this figure the total for the city?</legend>" in question
    for scope in ("total", "change", "part"):
        assert f'type="radio" name="scope" value="{scope}">' in question  # none chosen
    assert "checked" not in question


async def test_a_quantity_without_scope_is_refused_and_nothing_stored(forum, client):
    await metz_and_saint_etienne(forum)
    await log_in(client, "lea")
    before = await count_findings(forum)
    form = {"kind": "cameras", "quantity": "12", "unit": "count", "observed": "2021",
            "status": "in-use", "source_url": LINK[0][0], "source_label": ""}
    response = await submit(client, "/b/metz/watch/new", form, headers=ENGLISH)
    page = await response.text()
    assert response.status == 422
    assert 'id="scope-error"' in page and "Say what this figure counts" in page
    assert await count_findings(forum) == before
    # Without a quantity, no scope is needed (a status only).
    response = await submit(client, "/b/metz/watch/new", {**form, "quantity": ""})
    assert response.status == 303 and await count_findings(forum) == before + 1

    token = await forum.token(await forum.user("api"))
    body = {"city": "metz", "kind": "cameras", "quantity": 12, "unit": "count",
            "observed": "2021", "status": "in-use", "sources": [{"url": LINK[0][0]}]}
    payload = await call(client, "POST", "/findings", token, expect=422, json=body)
    assert error_of(payload)["field"] == "scope"
    payload = await call(client, "POST", "/findings", token, expect=422,
                         json={**body, "scope": "most"})
    assert error_of(payload)["field"] == "scope"
    assert await count_findings(forum) == before + 1


async def test_adding_to_the_record_from_a_post_with_a_place_suggests_a_part(forum, client):
    metz, _newcomer, _ids = await metz_and_saint_etienne(forum)
    lea = await forum.user("lea3")
    _thread, post_id = await forum.thread(metz, lea, "Un nouveau dôme rue des Jardins")
    await log_in(client, "lea3")
    path = f"/b/metz/watch/new?post={post_id}"
    page = await (await client.get(path, headers=ENGLISH)).text()
    assert 'id="scope-from-post"' in page
    form = {"kind": "cameras", "quantity": "1", "unit": "count", "observed": "2026-10",
            "status": "installed", "place": "Rue des Jardins", "posts": str(post_id)}
    before = await count_findings(forum)
    response = await submit(client, path, form, headers=ENGLISH)
    page = await response.text()
    assert response.status == 422 and await count_findings(forum) == before
    assert 'type="radio" name="scope" value="part" checked' in page
    assert "You gave a place" in page
    sent = await submit(client, path, {**form, "scope": "part"})
    assert sent.status == 303
    async with forum.db.read() as conn:
        made = await findings.get(conn, int(sent.headers["Location"].rsplit("/", 1)[1]))
    assert made.scope == "part"


async def test_new_units_are_accepted(forum):
    metz, _newcomer, _ids = await metz_and_saint_etienne(forum)
    lea = await forum.user("lea4")
    for unit in ("eur-per-device-per-year", "devices-per-10k"):
        finding_id = await forum.finding(metz, lea, kind="cameras", quantity="12,5", unit=unit)
        async with forum.db.read() as conn:
            assert (await findings.get(conn, finding_id)).unit == unit


# The API and exports ---------------------------------------------------------------------------

async def test_the_api_and_exports_carry_the_scope(forum, client):
    metz, _newcomer, ids = await metz_and_saint_etienne(forum)
    lea = await forum.user("lea5")
    part = await forum.finding(metz, lea, quantity="4", scope="part", observed="2021",
                               place="Parvis de la gare", latitude="49.11",
                               longitude="6.177")
    shown = await call(client, "GET", f"/findings/{part}")
    assert shown["scope"] == "part"
    listed = await call(client, "GET", "/findings?city=metz&scope=part")
    assert [item["id"] for item in listed["findings"]] == [part]
    payload = await call(client, "GET", "/findings?scope=most", expect=422)
    assert error_of(payload)["field"] == "scope"
    kinds = await call(client, "GET", "/finding-kinds")
    assert [scope["slug"] for scope in kinds["scopes"]] == ["total", "change", "part"]

    rows = list(csv.DictReader(io.StringIO(
        await (await client.get("/b/metz/watch/findings.csv")).text())))
    assert {int(row["id"]): row["scope"] for row in rows} == {
        ids["metz_2018"]: "total", ids["metz_2020"]: "total", part: "part"}
    document = json.loads(await (await client.get("/b/metz/watch/findings.json")).text())
    assert {f["id"]: f["scope"] for f in document["findings"]}[part] == "part"
    geo = json.loads(await (await client.get("/b/metz/watch/findings.geojson")).text())
    assert [f["properties"]["scope"] for f in geo["features"]] == ["part"]


# Migration -------------------------------------------------------------------------------------

def test_existing_quantities_become_totals(tmp_path, monkeypatch):
    """A database from before migration 0015: its figures are totals, in their versions too."""
    path = tmp_path / "forum.db"
    every = migrate.available()
    monkeypatch.setattr(migrate, "available", lambda: [m for m in every if m[0] < 15])
    migrate.migrate(path)
    conn = sqlite3.connect(path)
    now = "2026-01-01T00:00:00.000Z"
    conn.execute("insert into users (id, name, name_key, password_hash, created_at)"
                 " values (1, 'lea', 'lea', 'x', ?)", (now,))
    conn.execute("insert into boards (id, slug, name, created_at) values (1, 'metz', 'Metz', ?)",
                 (now,))
    for finding_id, quantity, unit in ((1, 148, "count"), (2, None, None)):
        conn.execute("insert into findings (id, board_id, kind_id, quantity, unit, observed,"
                     " status, author_id, created_at) values (?, 1, 1, ?, ?, '2020', 'in-use',"
                     " 1, ?)", (finding_id, quantity, unit, now))
        data = json.dumps({"quantity": quantity, "unit": unit, "observed": "2020"})
        conn.execute("insert into finding_revisions (finding_id, editor_id, data, created_at)"
                     " values (?, 1, ?, ?)", (finding_id, data, now))
    conn.execute("insert into finding_sources (finding_id, position, kind, url)"
                 " values (1, 0, 'link', 'https://example.org')")
    conn.commit()
    conn.close()
    monkeypatch.setattr(migrate, "available", lambda: every)
    assert migrate.migrate(path) == [name.name for version, name in every if version >= 15]
    conn = sqlite3.connect(path)
    assert conn.execute("select id, scope from findings order by id").fetchall() == [
        (1, "total"), (2, None)]
    scopes = [json.loads(data).get("scope") for (data,) in conn.execute(
        "select data from finding_revisions order by finding_id")]
    assert scopes == ["total", None]
    assert conn.execute("select count(*) from finding_sources where finding_id = 1"
                        ).fetchone() == (1,)
    with pytest.raises(sqlite3.IntegrityError):  # a quantity says what it counts
        conn.execute("insert into findings (board_id, kind_id, quantity, unit, observed, status,"
                     " author_id, created_at) values (1, 1, 3, 'count', '2021', 'in-use', 1, ?)",
                     (now,))
    conn.close()


async def test_a_single_figure_of_another_unit_is_shown_not_dropped(forum, client):
    metz, _newcomer, _ids = await metz_and_saint_etienne(forum)
    lea = await forum.user("lea6")
    area = await forum.finding(metz, lea, quantity="21", unit="km2", observed="2020")
    city = await (await client.get("/b/metz/watch", headers=ENGLISH)).text()
    singles = re.search(r'<section [^>]*id="single-figures">.*?</section>', city,
                        re.S).group(0)
    assert f'href="/f/{area}">21\u00a0km²</a>' in singles
    assert ">148</a>" in headline_row(city)  # the headline stays the count of devices


async def test_a_null_scope_is_for_a_finding_without_quantity_only(forum, client):
    await metz_and_saint_etienne(forum)
    token = await forum.token(await forum.user("api2"))
    body = {"city": "metz", "kind": "drones", "scope": None, "observed": "2021",
            "status": "voted", "sources": [{"url": LINK[0][0]}]}
    made = await call(client, "POST", "/findings", token, expect=201, json=body)
    assert made["quantity"] is None and made["scope"] is None
    payload = await call(client, "POST", "/findings", token, expect=422,
                         json={**body, "quantity": 3, "unit": "count"})
    assert error_of(payload)["field"] == "scope"


async def test_the_feed_says_a_part_is_a_part(forum, client):
    metz, _newcomer, _ids = await metz_and_saint_etienne(forum)
    await forum.finding(metz, await forum.user("lea7"), quantity="1", scope="part",
                        observed="2026-10", status="installed", place="Rue des Jardins")
    feed = await (await client.get("/b/metz/watch/feed.atom", headers=ENGLISH)).text()
    assert "Metz — Video-surveillance cameras: 1, part (one place, district or contract)" in feed
