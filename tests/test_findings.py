"""Findings: the rules of the model (input, sources, moderation, history, visibility)."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from forum import watch
from forum.errors import Conflict, Invalid
from forum.models import boards, finding_drafts, findings
from forum.models.finding_drafts import RawFinding, parse_number, parse_observed

pytestmark = pytest.mark.both_stores

TODAY = date(2026, 11, 23)


async def count_rows(forum, table: str) -> int:
    async with forum.db.read() as conn:
        return int(await conn.value(f"select count(*) from {table}"))


async def check(forum, board, **fields):
    raw = RawFinding(**{"kind": "cameras", "quantity": "148", "unit": "count", "scope": "total",
                        "observed": "2020", "status": "in-use",
                        "links": [("https://example.org/a.pdf", "")], **fields})
    async with forum.db.read() as conn:
        return await finding_drafts.check(conn, board, raw, TODAY)


@pytest.mark.parametrize("text, number", [
    ("148", 148), ("250 000", 250000), ("250\u202f000 €", 250000), ("1,5", 1.5),
    ("1.2 %", 1.2), (" 21 ", 21), ("", None), (7400, 7400), (1.2, 1.2), (None, None)])
def test_quantities_are_read_as_people_write_them(text, number):
    assert parse_number(text, "quantity") == number


@pytest.mark.parametrize("text", ["beaucoup", "1e5", "inf", "nan", "12abc", "0x10", "1,2,3",
                                  True, [1], {"a": 1}])
def test_a_quantity_that_is_not_a_number_is_refused(text):
    with pytest.raises(Invalid) as error:
        parse_number(text, "quantity")
    assert error.value.field == "quantity"


@pytest.mark.parametrize("text, stored", [
    ("2008", "2008"), ("2014-11", "2014-11"), ("2014-1", "2014-01"), ("11/2014", "2014-11"),
    ("2020-03-10", "2020-03-10"), ("10/03/2020", "2020-03-10"), (" 2019 ", "2019")])
def test_dates_keep_the_precision_of_their_source(text, stored):
    assert parse_observed(text, TODAY) == stored


@pytest.mark.parametrize("text", ["", "hier", "2019-13", "2019-02-30", "31/02/2020", "20190",
                                  "1850", "2100"])
def test_a_date_that_does_not_exist_is_refused(text):
    with pytest.raises(Invalid) as error:
        parse_observed(text, TODAY)
    assert error.value.field == "observed"


async def test_a_future_date_is_only_for_planned_equipment(forum):
    board = await forum.board("Metz")
    future = f"{date.today().year + 1}-06"
    with pytest.raises(Invalid) as error:
        await check(forum, board, observed=future, status="installed")
    assert error.value.field == "observed"
    draft = await check(forum, board, observed=future, status="planned")
    assert draft.observed == future


@pytest.mark.parametrize("fields, field", [
    ({"quantity": "cent"}, "quantity"),
    ({"quantity": "-3"}, "quantity"),
    ({"unit": "litres"}, "unit"),
    ({"kind": "teleportation"}, "kind"),
    ({"status": "rumoured"}, "status"),
    ({"links": []}, "sources"),
    ({"links": [("", "")]}, "sources"),
    ({"links": [("javascript:alert(1)", "")]}, "sources"),
    ({"links": [("ftp://example.org/a", "")]}, "sources"),
    ({"links": [("https://", "")]}, "sources"),
    ({"posts": [999999]}, "sources"),
    ({"files": [999999]}, "sources"),
    ({"latitude": "49.1"}, "longitude"),
    ({"latitude": "91", "longitude": "6"}, "latitude"),
    ({"latitude": "49", "longitude": "181"}, "longitude"),
    ({"note": "x" * (finding_drafts.NOTE_MAX + 1)}, "note"),
    ({"place": 12}, "place"),
])
async def test_bad_input_names_the_field_and_stores_nothing(forum, fields, field):
    board = await forum.board("Metz")
    with pytest.raises(Invalid) as error:
        await check(forum, board, **fields)
    assert error.value.field == field
    assert await count_rows(forum, "findings") == 0


async def test_findings_are_for_cities_only(forum):
    async with forum.db.transaction() as tx:
        national = await boards.create(tx, "Général", "general", is_city=False)
    with pytest.raises(Invalid) as error:
        await check(forum, national)
    assert error.value.field == "city"


async def test_a_quantity_without_a_number_drops_the_unit(forum):
    board = await forum.board("Montpellier")
    draft = await check(forum, board, kind="facial-recognition", quantity="", unit="count",
                        status="forbidden", observed="2022-12")
    assert draft.quantity is None and draft.unit is None


async def test_a_source_post_must_be_public(forum):
    board = await forum.board("Metz")
    author = await forum.user()
    _thread, post_id = await forum.thread(board, author)
    draft = await check(forum, board, posts=[post_id], links=[])
    assert draft.sources == (findings.Source("post", post_id=post_id),)
    async with forum.db.transaction() as tx:
        await tx.execute("update posts set status = 'pending' where id = ?", (post_id,))
    with pytest.raises(Invalid):
        await check(forum, board, posts=[post_id], links=[])


async def test_a_finding_keeps_its_sources_and_first_version(forum):
    board = await forum.board("Metz")
    author = await forum.user("bastien")
    _thread, post_id = await forum.thread(board, author)
    finding_id = await forum.finding(board, author, post_id,
                                     links=[("https://example.org/presse", "Presse")])
    async with forum.db.read() as conn:
        finding = await findings.get(conn, finding_id)
        history = await findings.revisions(conn, finding_id)
    assert (finding.quantity, finding.unit, finding.observed) == (35, "count", "2008")
    assert [s.kind for s in finding.sources] == ["post", "link"]
    assert finding.sources[1].label == "Presse"
    assert finding.author_name == "bastien" and finding.is_public
    assert len(history) == 1 and history[0].data["quantity"] == 35


async def test_a_correction_keeps_every_version_and_its_reason(forum):
    board = await forum.board("Metz")
    author = await forum.user()
    finding_id = await forum.finding(board, author, quantity="150", observed="2020")
    corrected = await check(forum, board, quantity="148")
    async with forum.db.transaction() as tx:
        finding = await findings.get(tx, finding_id)
        with pytest.raises(Invalid):
            await findings.edit(tx, finding, author, corrected, reason="")
    async with forum.db.transaction() as tx:
        await findings.edit(tx, finding, author, corrected, reason="Chiffre de la presse")
    async with forum.db.read() as conn:
        history = await findings.revisions(conn, finding_id)
        finding = await findings.get(conn, finding_id)
    assert [r.data["quantity"] for r in history] == [150, 148]
    assert history[1].reason == "Chiffre de la presse"
    assert finding.quantity == 148 and finding.edited_at


async def test_two_moderators_decide_once_and_the_journal_says_it(forum):
    board = await forum.board("Metz")
    newcomer = await forum.user(trusted=False)
    first, second = await forum.user("mod1", "moderator"), await forum.user("mod2", "moderator")
    finding_id = await forum.finding(board, newcomer, review="pending")
    async with forum.db.transaction() as tx:
        await findings.approve(tx, await findings.get(tx, finding_id), first)
    async with forum.db.transaction() as tx:
        with pytest.raises(Conflict):
            await findings.reject(tx, await findings.get(tx, finding_id), second, "Doublon")
    async with forum.db.read() as conn:
        finding = await findings.get(conn, finding_id)
        log = await conn.all("select action, target_kind, target_id from moderation_log")
        told = await conn.all("select kind, finding_id from notifications where user_id = ?",
                              (newcomer.id,))
    assert finding.review == "published" and finding.decided_by_name == "mod1"
    assert finding.published_at
    assert [tuple(row) for row in log] == [("approve", "finding", finding_id)]
    assert [tuple(row) for row in told] == [("finding_approved", finding_id)]


async def test_pending_and_deleted_findings_are_out_of_public_lists(forum):
    board = await forum.board("Metz")
    newcomer, reader = await forum.user(trusted=False), await forum.user()
    moderator = await forum.user("mod", "moderator")
    public_id = await forum.finding(board, reader)
    pending_id = await forum.finding(board, newcomer, review="pending", quantity="4")
    deleted_id = await forum.finding(board, reader, quantity="9")
    async with forum.db.transaction() as tx:
        await findings.delete(tx, await findings.get(tx, deleted_id), moderator, "Erreur")
    async with forum.db.read() as conn:
        seen = {viewer: [f.id for f in await findings.search(conn, user, findings.Filters())]
                for viewer, user in (("anonymous", None), ("reader", reader),
                                     ("newcomer", newcomer), ("moderator", moderator))}
    assert seen["anonymous"] == seen["reader"] == [public_id]
    assert sorted(seen["newcomer"]) == [public_id, pending_id]
    assert sorted(seen["moderator"]) == [public_id, pending_id, deleted_id]


async def test_filters_compare_dates_at_their_precision(forum):
    board = await forum.board("Metz")
    author = await forum.user()
    for quantity, observed in (("35", "2008"), ("72", "2014-11"), ("128", "2018"),
                               ("148", "2020-04-15")):
        await forum.finding(board, author, quantity=quantity, observed=observed)

    async def quantities(**filters):
        async with forum.db.read() as conn:
            found = await findings.search(conn, None, findings.Filters(**filters))
        return [f.quantity for f in found]

    assert await quantities(since="2014", until="2018") == [72, 128]
    assert await quantities(since="2014-12") == [128, 148]
    assert await quantities(until="2020-04") == [35, 72, 128, 148]
    assert await quantities(until="2020-04-14") == [35, 72, 128]
    assert await quantities(status="planned") == []


async def test_admins_extend_the_kinds_of_equipment(forum):
    async with forum.db.transaction() as tx:
        kind = await findings.add_kind(tx, "Compteurs communicants")
        with pytest.raises(Conflict):
            await findings.add_kind(tx, "compteurs communicants")
    async with forum.db.read() as conn:
        listed = [k.slug for k in await findings.kinds(conn)]
    assert kind.slug == "compteurs-communicants"
    assert listed[-2:] == ["compteurs-communicants", "other"]


async def test_a_kind_is_summed_up_by_its_latest_count_then_its_best_unit(forum):
    board = await forum.board("Metz")
    author = await forum.user()
    for fields in ({"quantity": "148", "observed": "2020"},
                   {"quantity": "1000", "observed": "2021", "status": "planned"},
                   {"kind": "supervision-centre", "quantity": "15", "unit": "days"},
                   {"kind": "supervision-centre", "quantity": "8", "unit": "agents"},
                   {"kind": "drones", "quantity": "", "observed": "2020-04"}):
        await forum.finding(board, author, **{"observed": "2020", **fields})
    async with forum.db.read() as conn:
        found = await findings.search(conn, None, findings.Filters())
    heads = {f.kind_slug: (f.quantity, f.unit) for f in watch.latest_per_kind(found)}
    assert heads == {"cameras": (148, "count"), "supervision-centre": (8, "agents"),
                     "drones": (None, None)}


@pytest.mark.parametrize("top, step", [(40.7, 50), (90.5, 100), (6.2, 10), (0.33, 0.5),
                                       (250, 250), (0, 1)])
def test_chart_ticks_are_round_numbers(top, step):
    assert watch.nice_step(top) == step


async def test_a_chart_spreads_its_value_ticks_from_zero_to_above_the_highest(forum):
    board = await forum.board("Metz")
    author = await forum.user()
    for quantity, observed in (("35", "2008"), ("148", "2020")):
        await forum.finding(board, author, quantity=quantity, observed=observed)
    async with forum.db.read() as conn:
        (line,) = watch.series(await findings.search(conn, None, findings.Filters()))
    chart = watch.chart(line)
    assert [tick.label for tick in chart.y_ticks] == ["0", "50", "100", "150", "200"]
    positions = [tick.position for tick in chart.y_ticks]
    assert positions == sorted(positions, reverse=True) and positions[0] == chart.baseline
    assert all(positions[-1] < point.y < chart.baseline for point in chart.points)
    assert [tick.label for tick in chart.x_ticks][:2] == ["2008", "2010"]


async def test_sources_are_read_in_slices_for_long_lists(forum, monkeypatch):
    """SQLite bounds the parameters of a statement: the national page reads sources by slices."""
    monkeypatch.setattr(findings.reads, "SLICE", 2)
    board = await forum.board("Metz")
    author = await forum.user()
    for year in range(2001, 2006):
        await forum.finding(board, author, observed=str(year),
                            links=[(f"https://example.org/{year}.pdf", str(year))])
    async with forum.db.read() as conn:
        found = await findings.search(conn, None, findings.Filters())
    assert [f.sources[0].label for f in found] == ["2001", "2002", "2003", "2004", "2005"]


def test_the_select_lists_the_fields_in_the_dataclass_order():
    """Finding.from_row reads by position (fast for the national table): keep them in step."""
    names = [column.split()[-1].split(".")[-1] for column in findings._COLUMNS.split(",")]
    assert tuple(names) == findings._FIELDS
    assert tuple(f.name for f in dataclasses.fields(findings.Finding))[:-1] == findings._FIELDS
