"""Figures that say what they count, continued (issue 14): populations and figures per
10 000 inhabitants, kinds renamed and merged by an administrator with their history, findings
found by /search, and the national map drawn by the server."""
from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from forum import migrate, watch, watch_map
from forum.models import finding_kinds, findings, moderation
from tests.conftest import log_in, submit
from tests.test_api import call, error_of

ENGLISH = {"Accept-Language": "en"}  # English msgids: stable whatever the catalogs say
SVG = "{http://www.w3.org/2000/svg}"


async def record(forum):
    """Metz 148 cameras (2020) and 121 000 inhabitants (2021, at the town hall);
    Saint-Étienne 329 cameras (2019) and no population."""
    metz = await forum.board("Metz", slug="metz")
    saint_etienne = await forum.board("Saint-Étienne", slug="saint-etienne")
    lea = await forum.user("lea")
    ids = {
        "metz": await forum.finding(metz, lea, quantity="148", observed="2020"),
        "metz_people": await forum.finding(
            metz, lea, kind="population", quantity="121 000", observed="2021",
            latitude="49.1197", longitude="6.1764",
            links=[("https://www.insee.fr/fr/accueil", "INSEE")]),
        "se": await forum.finding(saint_etienne, lea, quantity="329", observed="2019"),
    }
    return metz, saint_etienne, lea, ids


def row_of(page: str, city: str) -> str:
    return re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{city}</a></th>.*?</tr>", page,
                     re.S).group(0)


def cell_texts(row: str) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


# Per inhabitant --------------------------------------------------------------------------------

async def test_the_national_table_offers_counts_per_10000_inhabitants_with_both_dates(forum):
    await record(forum)
    reader = await forum.visitor()
    page = await (await reader.get("/watch", headers=ENGLISH)).text()
    assert 'href="/watch?sort=city&amp;order=asc&amp;per=inhabitants"' in page
    assert "Show counts per 10,000 inhabitants" in page
    assert cell_texts(row_of(page, "Metz")) == ["121,000 2021", "148 2020"]  # as counted

    page = await (await reader.get("/watch?per=inhabitants&sort=cameras&order=desc",
                                   headers=ENGLISH)).text()
    metz = cell_texts(row_of(page, "Metz"))
    assert metz[1] == "12.2 148 (2020) for 121,000 inhabitants (2021)"  # 148 / 121 000 × 10 000
    assert cell_texts(row_of(page, "Saint-Étienne"))[1] == "— 329: no population recorded"
    # Sorted by the rate: a city without one comes last, whatever the order.
    assert page.index(">Metz</a>") < page.index(">Saint-Étienne</a>")
    assert "Show the figures as counted" in page
    # The column links keep the choice.
    assert 'href="/watch?sort=cameras&amp;order=asc&amp;per=inhabitants"' in page


async def test_the_comparison_gives_the_rate_where_both_figures_exist(forum):
    await record(forum)
    reader = await forum.visitor()
    page = await (await reader.get("/watch/compare?a=metz&b=saint-etienne",
                                   headers=ENGLISH)).text()
    rates = re.findall(r'<span class="per-inhabitants">(.*?)</span></span>', page, re.S)
    assert len(rates) == 1  # Saint-Étienne has no population: no rate, nothing invented
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", rates[0]))
    assert text == "12.2 per 10,000 inhabitants 148 (2020) for 121,000 inhabitants (2021)"


async def test_a_population_is_the_city_s_not_a_headline_of_equipment(forum):
    await record(forum)
    page = await (await (await forum.visitor()).get("/b/metz/watch", headers=ENGLISH)).text()
    assert re.search(r'<p class="population" id="population">Population: 121,000 inhabitants'
                     r" \(2021\) · <a", page)
    latest = re.search(r'<table class="watch-latest">.*?</table>', page, re.S).group(0)
    assert "Population" not in latest and ">148</a>" in latest
    assert "12.2 per 10,000 inhabitants" in latest
    assert 'id="single-figures"' not in page  # nor an "other figure"


async def test_only_a_total_count_and_a_positive_population_make_a_rate(forum):
    metz, _se, lea, ids = await record(forum)
    part = await forum.finding(metz, lea, quantity="10", scope="part", observed="2021",
                               place="Gare")
    amount = await forum.finding(metz, lea, quantity="250 000", unit="eur", observed="2021")
    async with forum.db.read() as conn:
        found = {f.id: f for f in await findings.search(conn, None, findings.Filters())}
    people = watch.population(found.values())
    assert people.id == ids["metz_people"]
    assert watch.per_inhabitants(found[ids["metz"]], people).value == 148 / 121_000 * 10_000
    assert watch.per_inhabitants(found[part], people) is None
    assert watch.per_inhabitants(found[amount], people) is None
    assert watch.per_inhabitants(found[ids["metz"]], None) is None


# Kinds renamed and merged ----------------------------------------------------------------------

async def body_cameras(forum, metz, lea) -> tuple[int, int]:
    """A kind entered twice: "Caméras piétons" (one finding) beside the built-in body cameras."""
    async with forum.db.transaction() as tx:
        await findings.add_kind(tx, "Caméras piétons")
    thread_id, post_id = await forum.thread(metz, lea, "Caméras-piétons de la police")
    finding = await forum.finding(metz, lea, post_id=post_id, kind="cameras-pietons",
                                  quantity="12", observed="2021")
    return thread_id, finding


async def test_an_admin_renames_a_kind_and_the_journal_keeps_the_old_name(forum, client):
    metz, _se, lea, _ids = await record(forum)
    thread_id, finding = await body_cameras(forum, metz, lea)
    reader = await forum.visitor()
    assert "Caméras piétons" in await (await reader.get(f"/t/{thread_id}")).text()
    await forum.user("admin", role="admin")
    await log_in(client, "admin")
    sent = await submit(client, "/admin/kinds/rename", {
        "kind": "cameras-pietons", "new_label": "Caméras-piétons (police)",
        "reason": "Orthographe du ministère"}, form_page="/admin/kinds")
    assert sent.status == 303
    # Every page that names it says the new name (the thread's cached post fragment too).
    thread = await (await reader.get(f"/t/{thread_id}")).text()
    assert "Caméras-piétons (police)" in thread and "Caméras piétons<" not in thread
    assert "Caméras-piétons (police)" in await (await reader.get("/watch")).text()
    journal = await (await reader.get("/moderation/journal", headers=ENGLISH)).text()
    assert "renamed a kind of equipment" in journal
    assert "Caméras piétons → Caméras-piétons (police) · Orthographe du ministère" in journal
    admin = await (await client.get("/admin/kinds", headers=ENGLISH)).text()
    assert "“Caméras piétons” renamed “Caméras-piétons (police)”" in admin
    async with forum.db.read() as conn:
        kind = await findings.kind_by_slug(conn, "cameras-pietons")
    assert kind.label == "Caméras-piétons (police)"  # the slug stays: links keep working
    assert f'href="/f/{finding}"' in await (await reader.get(
        "/b/metz/watch?kind=cameras-pietons")).text()


async def test_a_merge_moves_the_findings_and_old_versions_keep_their_kind(forum, client):
    metz, _se, lea, _ids = await record(forum)
    _thread_id, finding = await body_cameras(forum, metz, lea)
    await forum.user("admin", role="admin")
    await log_in(client, "admin")
    sent = await submit(client, "/admin/kinds/merge", {
        "merged": "cameras-pietons", "into": "body-cameras", "reason": "Doublon"},
        form_page="/admin/kinds")
    assert sent.status == 303
    async with forum.db.read() as conn:
        moved = await findings.get(conn, finding)
        listed = [kind.slug for kind in await findings.kinds(conn)]
        old_link = await findings.kind_by_slug(conn, "cameras-pietons")
    assert moved.kind_slug == "body-cameras"
    assert "cameras-pietons" not in listed  # no longer offered to new findings
    assert old_link.slug == "body-cameras"  # an old filter or API call finds the target
    reader = await forum.visitor()
    city = await (await reader.get("/b/metz/watch", headers=ENGLISH)).text()
    latest = re.search(r'<table class="watch-latest">.*?</table>', city, re.S).group(0)
    assert "Body cameras" in latest and "Caméras piétons" not in latest
    # The finding's history says what was entered, and the move, with the reason.
    history = await (await reader.get(f"/f/{finding}", headers=ENGLISH)).text()
    change = re.search(r'<table class="changes">.*?</table>', history, re.S).group(0)
    assert re.search(r"Kind of equipment</th><td>Caméras piétons</td><td>Body cameras</td>",
                     change)
    assert "Reason: Doublon" in history
    journal = await (await reader.get("/moderation/journal", headers=ENGLISH)).text()
    assert "merged a kind of equipment" in journal
    # Said in the administrator's language (French here) when it was done.
    assert "Caméras piétons → Caméras-piétons · Doublon" in journal
    admin = await (await client.get("/admin/kinds", headers=ENGLISH)).text()
    assert "“Caméras piétons” merged into “Body cameras” (1 finding moved)" in admin
    assert 'id="kind-cameras-pietons"' not in admin


async def test_a_waiting_correction_follows_the_merge(forum):
    metz, _se, lea, _ids = await record(forum)
    _thread_id, finding = await body_cameras(forum, metz, lea)
    admin = await forum.user("admin", role="admin")
    async with forum.db.transaction() as tx:
        current = await findings.get(tx, finding)
        revision = (await findings.revisions(tx, finding))[-1]
        await findings.edit(tx, current, lea, revision.draft(), "Date précisée", wait=True)
    async with forum.db.transaction() as tx:
        await findings_kinds_merge(tx, "cameras-pietons", "body-cameras", admin)
    async with forum.db.transaction() as tx:
        await findings.approve(tx, await findings.get(tx, finding), admin)
        assert (await findings.get(tx, finding)).kind_slug == "body-cameras"


async def findings_kinds_merge(tx, slug: str, into: str, admin):
    kind, target = await finding_kinds.get(tx, slug), await finding_kinds.get(tx, into)
    return await finding_kinds.merge(tx, kind, target, admin)


async def test_bad_renames_and_merges_say_why_and_change_nothing(forum, client):
    metz, _se, lea, _ids = await record(forum)
    await body_cameras(forum, metz, lea)
    await forum.user("admin", role="admin")
    await log_in(client, "admin")
    cases = [
        ("/admin/kinds/merge", {"merged": "cameras-pietons", "into": "cameras-pietons"},
         "Choose another kind to merge this one into."),
        ("/admin/kinds/merge", {"merged": "cameras-pietons", "into": "nowhere"},
         "Choose a kind of equipment from the list."),
        ("/admin/kinds/rename", {"kind": "cameras-pietons", "new_label": "Drones"},
         "This kind of equipment already exists."),
        ("/admin/kinds/rename", {"kind": "cameras-pietons", "new_label": "   "},
         "Give the kind of equipment a name."),
        ("/admin/kinds/rename", {"kind": "cameras-pietons", "new_label": "x" * 81},
         "This name is too long (at most 80 characters)."),
    ]
    for path, data, message in cases:
        sent = await submit(client, path, data, form_page="/admin/kinds", headers=ENGLISH)
        assert sent.status in (409, 422), (path, data)
        assert message in await sent.text()
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from finding_kind_changes") == 0
        assert await conn.value("select label from finding_kinds where slug ="
                                " 'cameras-pietons'") == "Caméras piétons"
    # Not an administrator: the page and its forms do not exist.
    await forum.user("modo", role="moderator")
    await log_in(client, "modo")
    refused = await submit(client, "/admin/kinds/rename", {
        "kind": "drones", "new_label": "Aéronefs"}, form_page="/b/metz")
    assert refused.status == 404


async def test_the_api_renames_and_merges_kinds_for_admins_only(forum):
    metz, _se, lea, _ids = await record(forum)
    await body_cameras(forum, metz, lea)
    client = forum.client
    admin = await forum.token(await forum.user("admin", role="admin"))
    member = await forum.token(lea)
    await call(client, "PATCH", "/finding-kinds/drones", member, expect=403,
               json={"label": "Aéronefs"})
    renamed = await call(client, "PATCH", "/finding-kinds/drones", admin,
                         json={"label": "Aéronefs", "reason": "Terme plus large"})
    assert renamed == {"slug": "drones", "label": "Aéronefs", "name": "Aéronefs"}
    conflict = await call(client, "PATCH", "/finding-kinds/cameras-pietons", admin,
                          expect=409, json={"label": "Aéronefs"})
    assert error_of(conflict)["field"] == "label"
    await call(client, "PATCH", "/finding-kinds/nowhere", admin, expect=404,
               json={"label": "Rien"})
    await call(client, "POST", "/finding-kinds/cameras-pietons/merge", member, expect=403,
               json={"into": "body-cameras"})
    bad = await call(client, "POST", "/finding-kinds/cameras-pietons/merge", admin,
                     expect=404, json={"into": "nowhere"})  # names nothing: 404 on the field
    assert error_of(bad)["field"] == "into"
    merged = await call(client, "POST", "/finding-kinds/cameras-pietons/merge", admin,
                        json={"into": "body-cameras"})
    assert merged == {"kind": {"slug": "body-cameras", "label": "Body cameras",
                               "name": "Caméras-piétons"}, "moved": 1}
    kinds = await call(client, "GET", "/finding-kinds")
    assert "cameras-pietons" not in [kind["slug"] for kind in kinds["kinds"]]
    # Merged once: the second time the kind is gone (404), nothing moves twice.
    await call(client, "POST", "/finding-kinds/cameras-pietons/merge", admin, expect=404,
               json={"into": "body-cameras"})
    async with forum.db.read() as conn:
        actions = await conn.all("select action, target_kind, reason from moderation_log"
                                 " where target_kind = 'kind' order by id")
    assert [tuple(row)[:2] for row in actions] == [("rename", "kind"), ("merge", "kind")]


async def test_a_single_figure_kind_is_shown_not_dropped(forum):
    metz, _se, lea, _ids = await record(forum)
    area = await forum.finding(metz, lea, quantity="21", unit="km2", observed="2020",
                               place="Périmètres autorisés")
    alone = await forum.finding(metz, lea, kind="supervision-centre", quantity="8",
                                unit="agents", observed="2020")
    page = await (await (await forum.visitor()).get("/b/metz/watch", headers=ENGLISH)).text()
    singles = re.search(r'<section [^>]*id="single-figures">.*?</section>', page,
                        re.S).group(0)
    assert f'href="/f/{area}">21\u00a0km²</a>' in singles  # beside the cameras' count
    latest = re.search(r'<table class="watch-latest">.*?</table>', page, re.S).group(0)
    assert f'href="/f/{alone}">8\u00a0agents</a>' in latest  # its kind's only figure


# Search ----------------------------------------------------------------------------------------

async def found_ids(client, query: str, **params: str) -> list[int]:
    page = await (await client.get("/search", params={"q": query, **params})).text()
    section = re.search(r'<section aria-labelledby="findings-results-heading".*?</section>',
                        page, re.S)
    return [int(n) for n in re.findall(r'href="/f/(\d+)"', section.group(0))] if section else []


@pytest.mark.both_stores  # search on PostgreSQL too (issue 19)
async def test_search_finds_findings_by_kind_place_note_and_city(forum):
    metz, _se, lea, ids = await record(forum)
    stadium = await forum.finding(metz, lea, kind="facial-recognition", quantity=None,
                                  unit="", scope="", observed="2020-01",
                                  place="Stade Saint-Symphorien",
                                  note="Essai mené par le club avec une entreprise privée.")
    reader = await forum.visitor()
    assert await found_ids(reader, "stade") == [stadium]  # place
    assert await found_ids(reader, "entreprise privee") == [stadium]  # note, no accents
    assert await found_ids(reader, "reconnaissance faciale") == [stadium]  # kind, in French
    assert set(await found_ids(reader, "cameras metz")) == {ids["metz"]}  # kind and city
    assert await found_ids(reader, "camé*", board="saint-etienne") == [ids["se"]]
    assert await found_ids(reader, "stade drones") == []  # every word is needed
    page = await (await reader.get("/search", params={"q": "stade"}, headers=ENGLISH)).text()
    assert "1 finding found" in page and ">Metz</a> · " in page


@pytest.mark.both_stores  # search on PostgreSQL too (issue 19)
async def test_search_finds_only_public_findings_whoever_asks(forum, client):
    """A public channel, as for messages: pending, refused and deleted findings are never
    found, not even by their author or moderators (they have their profile and queue)."""
    metz, _se, lea, _ids = await record(forum)
    newcomer = await forum.user("voisine", trusted=False)
    local = await forum.user("locale")
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, metz, local)
    waiting = await forum.finding(metz, newcomer, review="pending", quantity="3",
                                  scope="part", observed="2026-10", place="Rue Zorglub")
    deleted = await forum.finding(metz, lea, quantity="4", scope="part", observed="2021",
                                  place="Impasse Zorglub")
    shown = await forum.finding(metz, lea, quantity="5", scope="part", observed="2021",
                                place="Place Zorglub")
    async with forum.db.transaction() as tx:
        await findings.delete(tx, await findings.get(tx, deleted), lea, "")
    assert await found_ids(await forum.visitor(), "zorglub") == [shown]
    for name in ("lea", "voisine", "locale"):
        reader = await forum.visitor()
        await log_in(reader, name)
        assert await found_ids(reader, "zorglub") == [shown], name
    # Once approved, it is found.
    async with forum.db.transaction() as tx:
        await findings.approve(tx, await findings.get(tx, waiting), local)
    assert set(await found_ids(await forum.visitor(), "zorglub")) == {shown, waiting}


async def test_a_purged_place_leaves_no_word_in_the_findings_index(forum):
    metz, _se, lea, _ids = await record(forum)
    modo = await forum.user("modo", role="moderator")
    finding = await forum.finding(metz, lea, quantity="2", scope="part", observed="2021",
                                  place="Domicile de Monsieur Zqquidam")
    async with forum.db.transaction() as tx:
        current = await findings.get(tx, finding)
        first = (await findings.revisions(tx, finding))[-1]
        await findings.edit(tx, current, modo, replace(first.draft(), place="Rue de la Gare"),
                            "Pas d'adresse privée")
        await findings.purge_version(tx, await findings.get(tx, finding), modo, first.id)
    async with forum.db.read() as conn:
        segments = await conn.all("select block from findings_text_data")
    assert not any(b"zqquidam" in bytes(row[0] or b"") for row in segments)


async def test_a_corrected_place_is_no_longer_found(forum):
    metz, _se, lea, _ids = await record(forum)
    finding = await forum.finding(metz, lea, quantity="2", scope="part", observed="2021",
                                  place="Domicile de M. Quidam")
    async with forum.db.transaction() as tx:
        current = await findings.get(tx, finding)
        draft = (await findings.revisions(tx, finding))[-1].draft()
        await findings.edit(tx, current, lea, replace(draft, place="Rue de la Gare"),
                            "Pas d'adresse privée")
    reader = await forum.visitor()
    assert await found_ids(reader, "quidam") == []
    assert await found_ids(reader, "gare") == [finding]


# The national map ------------------------------------------------------------------------------

def map_of(page: str) -> ET.Element:
    svg = re.search(r"<svg class=\"france-map\".*?</svg>", page, re.S).group(0)
    return ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


async def test_watch_draws_a_map_of_france_with_a_mark_per_city_and_a_table(forum):
    _metz, _se, _lea, ids = await record(forum)
    reader = await forum.visitor()
    response = await reader.get("/watch", headers=ENGLISH)
    page = await response.text()
    svg = map_of(page)  # well-formed XML
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "map-title"
    lands = svg.findall(f"{SVG}path")
    assert len(lands) == 2 and all(land.get("class") == "map-land" for land in lands)
    assert len(lands[0].get("d").split(" L")) > 100  # a real outline, not a box
    cities = {g.get("id"): g for g in svg.findall(f"{SVG}g")}
    assert set(cities) == {"map-metz", "map-saint-etienne"}
    metz_title = cities["map-metz"].find(f"{SVG}title").text
    assert metz_title == "Metz: 148, Video-surveillance cameras (2020)"
    radius = {slug: float(g.find(f"{SVG}circle").get("r")) for slug, g in cities.items()}
    assert radius["map-saint-etienne"] == watch_map.MARK_MAX > radius["map-metz"]
    assert cities["map-metz"].find(f"{SVG}text").text == "Metz · 148"
    # Metz sits at its population finding's coordinates.
    x, y = watch_map.project(49.1197, 6.1764)
    circle = cities["map-metz"].find(f"{SVG}circle")
    assert (circle.get("cx"), circle.get("cy")) == (f"{x:.1f}", f"{y:.1f}")
    # The same figures as a table, and nothing the CSP or a third party would see.
    table = re.search(r'<table class="watch-map-table">.*?</table>', page, re.S).group(0)
    assert f'href="/f/{ids["metz"]}">148</a>' in table
    assert f'href="/f/{ids["se"]}">329</a>' in table
    assert " style=" not in page
    assert "http" not in re.search(r"<svg class=\"france-map\".*?</svg>", page, re.S).group(0)


async def test_the_map_marks_a_city_without_the_figure_smallest_and_says_so(forum):
    _metz, _se, lea, _ids = await record(forum)
    grenoble = await forum.board("Grenoble", slug="grenoble")
    await forum.finding(grenoble, lea, kind="drones", quantity=None, unit="", scope="",
                        observed="2020", status="forbidden")
    page = await (await (await forum.visitor()).get("/watch", headers=ENGLISH)).text()
    cities = {g.get("id"): g for g in map_of(page).findall(f"{SVG}g")}
    mark = cities["map-grenoble"]  # placed by the table of the demo's cities
    assert "no-value" in mark.get("class")
    assert float(mark.find(f"{SVG}circle").get("r")) == watch_map.MARK_MIN
    assert mark.find(f"{SVG}title").text == (
        "Grenoble: no total for Video-surveillance cameras")


def test_the_outline_lies_inside_the_frame():
    for path in watch_map.outline():
        for point in path.strip("MZ ").split(" L"):
            x, y = (float(value) for value in point.split(","))
            assert 0 <= x <= watch_map.MAP_WIDTH and 0 <= y <= watch_map.MAP_HEIGHT


# Migration ---------------------------------------------------------------------------------------

def test_migration_0020_keeps_the_journal_and_indexes_existing_findings(tmp_path, monkeypatch):
    later = [(version, path) for version, path in migrate.available() if version >= 20]
    earlier = [(version, path) for version, path in migrate.available() if version < 20]
    db_path = tmp_path / "forum.sqlite3"
    monkeypatch.setattr(migrate, "available", lambda: earlier)
    migrate.migrate(db_path)
    conn = sqlite3.connect(db_path)
    conn.executescript("""
        insert into users (id, name, name_key, password_hash, role, created_at)
            values (1, 'modo', 'modo', 'x', 'moderator', '2026-01-01T00:00:00.000Z');
        insert into boards (id, name, slug, created_at)
            values (1, 'Metz', 'metz', '2026-01-01T00:00:00.000Z');
        insert into findings (id, board_id, kind_id, observed, status, place, author_id,
            created_at) values (7, 1, 1, '2020', 'in-use', 'Place Saint-Louis', 1,
            '2026-01-01T00:00:00.000Z');
        insert into moderation_log (moderator_id, action, target_kind, target_id, board_id,
            reason, created_at) values (1, 'approve', 'finding', 7, 1, 'ok',
            '2026-01-02T00:00:00.000Z');
    """)
    conn.commit()
    conn.close()
    monkeypatch.setattr(migrate, "available", lambda: earlier + later)
    migrate.migrate(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("select action, target_kind, reason from moderation_log").fetchall() \
        == [("approve", "finding", "ok")]
    assert conn.execute("select rowid from findings_text where findings_text match"
                        " 'louis'").fetchall() == [(7,)]
    assert conn.execute("select label from finding_kinds where slug = 'population'"
                        ).fetchone() == ("Population",)
    conn.close()


def test_a_label_goes_to_the_side_where_it_covers_no_other_mark():
    def mark(slug: str, x: float, radius: float) -> watch_map.Mark:
        return watch_map.Mark(slug, slug, x, 300.0, radius, None, slug.title(), "", 0, "start")
    big, small = mark("saint-etienne", 360, 22), mark("grenoble", 330, 4)  # big on its right
    placed = {m.board_slug: m for m in watch_map._place_labels([big, small])}
    assert placed["saint-etienne"].anchor == "start"
    assert placed["grenoble"].anchor == "end" and placed["grenoble"].label_x < 330


async def test_the_comparison_lists_populations_but_draws_no_population_timeline(forum):
    metz, saint_etienne, lea, _ids = await record(forum)
    await forum.finding(saint_etienne, lea, kind="population", quantity="173 000",
                        observed="2021")
    await forum.finding(metz, lea, kind="population", quantity="118 000", observed="2015")
    page = await (await (await forum.visitor()).get("/watch/compare?a=metz&b=saint-etienne",
                                                    headers=ENGLISH)).text()
    latest = re.search(r'<table class="watch-compare">.*?</table>', page, re.S).group(0)
    assert re.search(r'<th scope="row">Population</th>\s*<td><a class="figure" [^>]*>121,000'
                     r'</a>\s*<span class="meta"><time datetime="2021">2021</time></span>',
                     latest)  # no equipment status beside a population
    timelines = re.findall(r'<h3 id="timeline-\d+">([^<]+)</h3>', page)
    assert timelines == ["Video-surveillance cameras"]  # not "Population"
