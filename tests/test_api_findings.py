"""Findings in the JSON API: lists with filters, visibility, proposing, and moderation."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from forum.api.findings import PAGE_SIZE
from forum.csrf import HEADER as CSRF_HEADER
from forum.models import boards, findings
from forum.models.finding_drafts import SOURCES_MAX
from tests.conftest import csrf_token, log_in
from tests.test_api import call, error_of

pytestmark = pytest.mark.both_stores

LINK = {"url": "https://example.org/deliberation.pdf", "label": "Délibération"}
GOOD = {"city": "metz", "kind": "cameras", "quantity": 148, "unit": "count", "scope": "total",
        "observed": "2020", "status": "in-use", "sources": [LINK]}


async def count_findings(forum) -> int:
    async with forum.db.read() as conn:
        return int(await conn.value("select count(*) from findings"))


@pytest.fixture
async def world(forum) -> dict[str, Any]:
    """Metz (a posteriori) and Nancy (a priori) with findings; a national board; members:
    lea (trusted), newcomer (not), local (moderates Metz), modo (every board)."""
    metz, nancy = await forum.board("Metz"), await forum.board("Nancy")
    async with forum.db.transaction() as tx:
        await boards.update(tx, nancy, "Nancy", moderation_mode="a-priori")
        await boards.create(tx, "Général", "general", is_city=False)
    lea, tom = await forum.user("lea"), await forum.user("tom")
    newcomer = await forum.user("nouvelle", trusted=False)
    local, modo = await forum.user("local"), await forum.user("modo", role="moderator")
    await forum.appoint(metz, local)
    _thread, post_id = await forum.thread(metz, lea, "Caméras du centre")
    ids = {
        "cameras_2014": await forum.finding(metz, lea, quantity="35", observed="2014-11"),
        "cameras_2020": await forum.finding(metz, lea, quantity="148", observed="2020",
                                            posts=[post_id], links=[]),
        "drones": await forum.finding(metz, tom, kind="drones", quantity="2",
                                      status="planned", observed="2021"),
        "nancy": await forum.finding(nancy, tom, quantity="80", observed="2019"),
        # A part (one place): no doubt to confirm (test_finding_scope.py has the totals).
        "pending": await forum.finding(metz, newcomer, review="pending", quantity="12",
                                       scope="part", place="Parvis de la gare"),
    }
    tokens = {name: await forum.token(user) for name, user in (
        ("lea", lea), ("tom", tom), ("newcomer", newcomer), ("local", local), ("modo", modo))}
    return {"metz": metz, "nancy": nancy, "post": post_id, "ids": ids, "tokens": tokens}


async def listed(client, query: str = "", token: str | None = None) -> list[int]:
    page = await call(client, "GET", f"/findings{query}", token)
    return [item["id"] for item in page["findings"]]


# Reading ---------------------------------------------------------------------------------------

async def test_the_list_takes_each_filter(client, world):
    ids = world["ids"]
    public = {ids[name] for name in ("cameras_2014", "cameras_2020", "drones", "nancy")}
    assert set(await listed(client)) == public
    assert set(await listed(client, "?city=nancy")) == {ids["nancy"]}
    assert set(await listed(client, "?city=metz&kind=drones")) == {ids["drones"]}
    assert set(await listed(client, "?status=planned")) == {ids["drones"]}
    assert set(await listed(client, "?city=metz&since=2020")) == {ids["cameras_2020"],
                                                                  ids["drones"]}
    assert set(await listed(client, "?until=2014-11")) == {ids["cameras_2014"]}
    assert set(await listed(client, "?since=2019&until=2019")) == {ids["nancy"]}


async def test_the_list_is_paged(forum, client, world):
    page = await call(client, "GET", "/findings")
    assert (page["page"], page["pages"], page["total"]) == (1, 1, 4)
    await call(client, "GET", "/findings?page=2", expect=404)
    await call(client, "GET", "/findings?page=zero", expect=400)
    lea = await forum.user("paula")
    for n in range(PAGE_SIZE):
        await forum.finding(world["metz"], lea, quantity=str(n))
    second = await call(client, "GET", "/findings?page=2")
    assert (second["page"], second["pages"], second["total"]) == (2, 2, PAGE_SIZE + 4)
    assert len(second["findings"]) == 4


@pytest.mark.parametrize("query, field", [
    ("status=rumoured", "status"), ("status=", "status"), ("since=hier", "since"),
    ("since=2020-3", "since"), ("until=2019-02-32", "until"),
])
async def test_a_bad_filter_is_422_naming_it(client, world, query, field):
    payload = await call(client, "GET", f"/findings?{query}", expect=422)
    assert error_of(payload)["field"] == field


@pytest.mark.parametrize("query, field", [
    ("city=nowhere", "city"), ("city=general", "city"), ("city=", "city"),
    ("kind=teleportation", "kind"), ("kind=", "kind"), ("kind=%ED%A0%80", "kind"),
])
async def test_a_filter_naming_nothing_is_404_naming_it(client, world, query, field):
    payload = await call(client, "GET", f"/findings?{query}", expect=404)
    assert error_of(payload)["field"] == field


async def test_a_date_bound_past_the_month_end_is_its_last_day(client, world):
    until_end = await call(client, "GET", "/findings?until=2019-02-28")
    assert await call(client, "GET", "/findings?until=2019-02-31") == until_end


async def test_pending_findings_show_only_to_their_author_and_moderators(client, world):
    pending, tokens = world["ids"]["pending"], world["tokens"]
    for token in (None, tokens["lea"]):
        assert pending not in await listed(client, token=token)
        await call(client, "GET", f"/findings/{pending}", token, expect=404)
    for name in ("newcomer", "local", "modo"):
        assert pending in await listed(client, token=tokens[name])
        shown = await call(client, "GET", f"/findings/{pending}", tokens[name])
        assert shown["review"] == "pending" and shown["published_at"] is None


async def test_a_finding_in_json(forum, client, world):
    base, ids = forum.config.base_url, world["ids"]
    shown = await call(client, "GET", f"/findings/{ids['cameras_2020']}")
    assert shown["url"] == f"{base}/f/{ids['cameras_2020']}"
    assert shown["city"] == {"slug": "metz", "name": "Metz"}
    assert shown["kind"]["slug"] == "cameras"
    assert shown["kind"]["label"] == "Video-surveillance cameras"
    assert (shown["quantity"], shown["unit"], shown["observed"]) == (148, "count", "2020")
    assert shown["review"] == "published" and shown["proposed_by"] == "lea"
    assert shown["sources"] == [{"kind": "post", "post_id": world["post"], "upload_id": None,
                                 "url": f"{base}/p/{world['post']}",
                                 "label": "Caméras du centre"}]
    await call(client, "GET", "/findings/999999", expect=404)
    await call(client, "GET", "/findings/abc", expect=404)


async def test_kinds_statuses_and_units(client, world):
    choices = await call(client, "GET", "/finding-kinds", headers={"Accept-Language": "fr"})
    cameras = next(kind for kind in choices["kinds"] if kind["slug"] == "cameras")
    assert cameras["label"] == "Video-surveillance cameras" and cameras["name"]
    assert [status["slug"] for status in choices["statuses"]] == list(findings.STATUSES)
    assert [unit["slug"] for unit in choices["units"]] == list(findings.UNITS)
    english = await call(client, "GET", "/finding-kinds", headers={"Accept-Language": "en"})
    assert {"slug": "in-use", "name": "in use"} in english["statuses"]


# Proposing -------------------------------------------------------------------------------------

async def test_a_trusted_member_publishes_at_once(forum, client, world):
    body = {**GOOD, "quantity": "250 000", "unit": "eur", "place": "Centre-ville",
            "latitude": 49.1193, "longitude": "6,1757", "note": "Budget voté.",
            "sources": [{"post": world["post"]}, LINK]}
    response = await client.post("/api/v1/findings", json=body, headers={
        "Authorization": f"Bearer {world['tokens']['lea']}"})
    assert response.status == 201, await response.text()
    made = await response.json()
    assert response.headers["Location"] == f"/api/v1/findings/{made['id']}"
    assert made["review"] == "published" and made["published_at"]
    assert (made["quantity"], made["unit"], made["longitude"]) == (250000, "eur", 6.1757)
    assert [source["kind"] for source in made["sources"]] == ["post", "link"]
    assert made["id"] in await listed(client, "?city=metz")


@pytest.mark.parametrize("who, city, review", [
    ("newcomer", "metz", "pending"), ("lea", "nancy", "pending"), ("modo", "nancy", "published"),
])
async def test_moderation_decides_whether_a_new_finding_waits(client, world, who, city, review):
    made = await call(client, "POST", "/findings", world["tokens"][who], expect=201,
                      json={**GOOD, "city": city})
    assert made["review"] == review
    assert (made["id"] in await listed(client)) == (review == "published")


@pytest.mark.parametrize("change, field", [
    ({"quantity": "beaucoup"}, "quantity"),
    ({"quantity": True}, "quantity"),
    ({"quantity": -3}, "quantity"),
    ({"unit": "litres"}, "unit"),
    ({"observed": f"{date.today().year + 1}-06", "status": "installed"}, "observed"),
    ({"observed": "hier"}, "observed"),
    ({"status": "rumoured"}, "status"),
    ({"sources": []}, "sources"),
    ({"sources": None}, "sources"),
    ({"sources": ["https://example.org"]}, "sources"),
    ({"sources": [{"post": "12"}]}, "sources"),
    ({"sources": [{"post": 1, "url": "https://example.org"}]}, "sources"),
    ({"sources": [{"url": "javascript:alert(1)"}]}, "sources"),
    ({"sources": [{"url": f"https://example.org/{n}"} for n in range(SOURCES_MAX + 1)]},
     "sources"),
    ({"kind": 3}, "kind"),
    ({"city": None}, "city"),
    ({"latitude": 49.1}, "longitude"),
    ({"latitude": 91, "longitude": 6}, "latitude"),
    ({"place": "x" * 201}, "place"),
    ({"note": "\ud800"}, "note"),
])
async def test_bad_input_is_422_naming_the_field_and_stores_nothing(forum, client, world,
                                                                    change, field):
    await refused_naming(forum, client, world, change, field, 422)


@pytest.mark.parametrize("change, field", [
    ({"kind": "teleportation"}, "kind"), ({"city": "nowhere"}, "city"),
    ({"city": "general"}, "city"),  # a board, not a city
])
async def test_naming_what_does_not_exist_is_404_and_stores_nothing(forum, client, world,
                                                                    change, field):
    await refused_naming(forum, client, world, change, field, 404)


async def refused_naming(forum, client, world, change: dict, field: str, status: int) -> None:
    """A finding sent with `change` is refused with `status`, naming `field`; none is kept."""
    before = await count_findings(forum)
    payload = await call(client, "POST", "/findings", world["tokens"]["lea"], expect=status,
                         json={**GOOD, **change})
    assert error_of(payload)["field"] == field
    assert await count_findings(forum) == before


async def test_a_missing_field_is_422_too(forum, client, world):
    for name in ("city", "kind", "observed", "status", "sources"):
        body = {key: value for key, value in GOOD.items() if key != name}
        payload = await call(client, "POST", "/findings", world["tokens"]["lea"], expect=422,
                             json=body)
        assert error_of(payload)["field"] == name


async def test_proposing_needs_a_member(forum, client, world):
    before = await count_findings(forum)
    await call(client, "POST", "/findings", expect=401, json=GOOD)
    await call(client, "POST", "/findings", "not-a-token", expect=401, json=GOOD)
    await call(client, "POST", "/findings", world["tokens"]["lea"], expect=400, data="[1]")
    await log_in(client, "tom")
    await call(client, "POST", "/findings", expect=403, json=GOOD)  # no CSRF header
    assert await count_findings(forum) == before
    token = await csrf_token(client, "/b/metz/new")
    made = await call(client, "POST", "/findings", expect=201, json=GOOD,
                      headers={CSRF_HEADER: token})
    assert made["proposed_by"] == "tom"


async def test_proposing_shares_the_posting_rate_limit(forum, client, world):
    token = world["tokens"]["tom"]
    for _n in range(forum.config.posts_per_minute):
        await call(client, "POST", "/findings", token, expect=201, json=GOOD)
    payload = await call(client, "POST", "/findings", token, expect=429, json=GOOD)
    assert error_of(payload)["code"] == "rate_limited"


# Moderation ------------------------------------------------------------------------------------

async def test_the_city_moderator_approves_once(client, world):
    pending, tokens = world["ids"]["pending"], world["tokens"]
    path = f"/moderation/findings/{pending}/approve"
    await call(client, "POST", path, expect=401)
    await call(client, "POST", path, tokens["lea"], expect=404)  # may not even see it
    await call(client, "POST", path, tokens["newcomer"], expect=403)  # sees it: the author
    approved = await call(client, "POST", path, tokens["local"])
    assert approved["review"] == "published" and approved["approved_by"] == "local"
    assert pending in await listed(client)
    payload = await call(client, "POST", path, tokens["modo"], expect=409)
    assert error_of(payload)["code"] == "conflict"
    await call(client, "POST", "/moderation/findings/999999/approve", tokens["modo"],
               expect=404)


async def test_a_moderator_of_another_city_cannot_decide(forum, client, world):
    made = await call(client, "POST", "/findings", world["tokens"]["lea"], expect=201,
                      json={**GOOD, "city": "nancy"})
    await call(client, "POST", f"/moderation/findings/{made['id']}/approve",
               world["tokens"]["local"], expect=404)
    await call(client, "POST", f"/moderation/findings/{made['id']}/reject",
               world["tokens"]["local"], expect=404, json={"reason": "Non."})


async def test_reject_tells_why_and_is_decided_once(forum, client, world):
    pending, tokens = world["ids"]["pending"], world["tokens"]
    path = f"/moderation/findings/{pending}/reject"
    payload = await call(client, "POST", path, tokens["local"], expect=422, json={})
    assert error_of(payload)["field"] == "reason"
    payload = await call(client, "POST", path, tokens["local"], expect=422,
                         json={"reason": "Sans source.", "private": "yes"})
    assert error_of(payload)["field"] == "private"
    await call(client, "POST", path, tokens["newcomer"], expect=403,
               json={"reason": "Auto-refus."})
    refused = await call(client, "POST", path, tokens["local"],
                         json={"reason": "Source illisible.", "private": False})
    assert refused["review"] == "rejected" and refused["reject_reason"] == "Source illisible."
    assert refused["approved_by"] is None
    await call(client, "POST", path, tokens["modo"], expect=409, json={"reason": "Encore."})
    await call(client, "POST", f"/moderation/findings/{pending}/approve", tokens["modo"],
               expect=409)
    # Its author still sees it, with the reason; others do not.
    shown = await call(client, "GET", f"/findings/{pending}", tokens["newcomer"])
    assert shown["reject_reason"] == "Source illisible."
    await call(client, "GET", f"/findings/{pending}", expect=404)
    async with forum.db.read() as conn:
        logged = await conn.one("select action, reason from moderation_log"
                                " where target_kind = 'finding' and target_id = ?", (pending,))
    assert tuple(logged) == ("reject", "Source illisible.")


async def test_boards_say_whether_they_are_cities(client, world):
    listed_boards = (await call(client, "GET", "/boards"))["boards"]
    assert {board["slug"]: board["is_city"] for board in listed_boards} == {
        "metz": True, "nancy": True, "general": False}


async def test_the_author_is_told_of_the_decision_in_the_api(client, world):
    pending, tokens = world["ids"]["pending"], world["tokens"]
    await call(client, "POST", f"/moderation/findings/{pending}/approve", tokens["local"])
    told = (await call(client, "GET", "/notifications", tokens["newcomer"]))["notifications"]
    assert [(item["kind"], item["finding_id"], item["finding_city"]) for item in told] == [
        ("finding_approved", pending, "Metz")]
