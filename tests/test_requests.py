"""Records requests (demandes CADA, issue 14): recording one, its statuses and deadlines, the
deadline job, moderation, pages, exports and the API."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import aiohttp
import pytest
from PIL import Image
from playwright.async_api import expect

from forum.errors import Invalid
from forum.mail.notify import mail_notifications
from forum.models import follows, moderation, notifications, request_drafts
from forum.models import request_deadlines as rules
from forum.models import requests as records
from forum.views import requests as request_views
from tests.conftest import log_in, submit
from tests.test_api import call, error_of
from tests.test_browser import new_context

pytestmark = pytest.mark.both_stores

TODAY = date.today()
ENGLISH = {"Accept-Language": "en"}


def days_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


async def record(forum, board, author, review: str = "published", sent_days_ago: int = 10,
                 administration: str = "Mairie de Metz", **fields) -> int:
    """A request checked as a member's form would be."""
    raw = {"administration": administration, "documents": "Plan des caméras\nMarché public",
           "channel": "email", "sent_on": days_ago(sent_days_ago), **fields}
    async with forum.db.transaction() as tx:
        checked = request_drafts.check_new(raw, TODAY)
        return await records.create(tx, board, author, checked, review)


async def change(forum, request_id: int, actor, status: str, days: int, note: str = "") -> None:
    async with forum.db.transaction() as tx:
        item = await records.get(tx, request_id)
        status, day, note = request_drafts.check_change(item, status, days_ago(days), note, TODAY)
        await records.change_status(tx, item, actor, status, day, note)


async def count_rows(forum, table: str) -> int:
    async with forum.db.read() as conn:
        return int(await conn.value(f"select count(*) from {table}"))


# Deadline arithmetic ---------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "end"), [
    (date(2026, 1, 31), date(2026, 2, 28)),  # no 31 February: the month's last day
    (date(2028, 1, 31), date(2028, 2, 29)),  # a leap year
    (date(2026, 1, 30), date(2026, 2, 28)),
    (date(2026, 3, 31), date(2026, 4, 30)),
    (date(2026, 12, 15), date(2027, 1, 15)),  # across the year
    (date(2026, 2, 28), date(2026, 3, 28)),  # the same number, not the month's end
])
def test_one_month_ends_on_the_same_day_or_the_last_of_the_month(start, end):
    refusal_on, counted_from = rules.implicit_refusal_on(start, None)
    assert refusal_on == end and counted_from == rules.COUNTED_FROM_SENT


def test_the_month_runs_from_receipt_when_it_is_known():
    refusal_on, counted_from = rules.implicit_refusal_on(date(2026, 1, 20), date(2026, 1, 31))
    assert refusal_on == date(2026, 2, 28) and counted_from == rules.COUNTED_FROM_RECEIVED


def test_two_months_to_refer_to_the_cada_across_month_ends_and_leap_years():
    # Refused on 31 December 2027: two months later is 29 February 2028 (a Tuesday).
    found = rules.deadlines(date(2027, 12, 1), None, "refused", date(2027, 12, 31))
    assert found.referral_by == date(2028, 2, 29)
    # Refused on 31 December 2026: 28 February 2027 is a Sunday: the next working day.
    found = rules.deadlines(date(2026, 12, 1), None, "refused", date(2026, 12, 31))
    assert found.referral_by == date(2027, 3, 1)


def test_an_implicit_refusal_runs_two_months_from_its_day_to_a_working_day():
    # Sent 31 January 2026: refused implicitly at the end of 28 February; 28 April is a
    # Tuesday.
    found = rules.deadlines(date(2026, 1, 31), None, "sent", date(2026, 1, 31))
    assert found.refusal_on == date(2026, 2, 28)
    assert found.referral_by == date(2026, 4, 28)


def test_a_deadline_on_a_public_holiday_runs_to_the_next_working_day():
    assert rules.next_working_day(date(2026, 7, 14)) == date(2026, 7, 15)  # national day
    assert rules.next_working_day(date(2026, 4, 6)) == date(2026, 4, 7)  # Easter Monday
    assert rules.next_working_day(date(2026, 5, 1)) == date(2026, 5, 4)  # Friday, then weekend
    assert rules.next_working_day(date(2026, 5, 5)) == date(2026, 5, 5)


def test_the_cada_opinion_and_the_administration_reply_follow_by_a_month():
    found = rules.deadlines(date(2026, 1, 5), None, "cada_referral", date(2026, 3, 31))
    assert found.opinion_expected == date(2026, 4, 30) and found.referral_by is None
    found = rules.deadlines(date(2026, 1, 5), None, "cada_favourable", date(2026, 1, 31))
    assert found.reply_expected == date(2026, 2, 28)


# Bad input: a clear message, nothing stored ------------------------------------------------------

def test_check_refuses_a_future_date_an_unknown_channel_and_empty_fields():
    good = {"administration": "Mairie", "documents": "Plan", "channel": "mail",
            "sent_on": TODAY.isoformat()}
    for field, value in (("sent_on", (TODAY + timedelta(days=1)).isoformat()),
                         ("sent_on", "2026-02-30"), ("sent_on", "hier"),
                         ("channel", "pigeon"), ("administration", "  "),
                         ("documents", ""), ("received_on", days_ago(400))):
        with pytest.raises(Invalid) as caught:
            request_drafts.check_new({**good, field: value}, TODAY)
        assert caught.value.field == field


async def test_a_request_dated_in_the_future_is_refused_in_french_and_not_stored(forum, client):
    metz = await forum.board("Metz", slug="metz")
    await forum.user("lea")
    await log_in(client, "lea")
    path = "/b/metz/requests/new"
    response = await submit(client, path, {
        "administration": "Mairie de Metz", "documents": "Plan des caméras",
        "channel": "mail", "sent_on": (TODAY + timedelta(days=3)).isoformat()})
    assert response.status == 422
    page = await response.text()
    assert "Cette date est dans le futur" in page or "This date is in the future" in page
    assert 'value="Mairie de Metz"' in page  # the form again, as sent
    assert await count_rows(forum, "records_requests") == 0
    assert metz.is_city


async def test_a_status_going_back_needs_a_reason_and_unknown_statuses_are_refused(forum,
                                                                                   client):
    metz = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea")
    request_id = await record(forum, metz, lea, sent_days_ago=40)
    await change(forum, request_id, lea, "cada_referral", 5)
    events = await count_rows(forum, "request_events")
    await log_in(client, "lea")
    for data, field in (({"status": "answered", "happened_on": days_ago(2)}, "note"),
                        ({"status": "envolée", "happened_on": days_ago(2)}, "status"),
                        ({"status": "implicit_refusal", "happened_on": days_ago(2)}, "status"),
                        ({"status": "obtained", "happened_on": (TODAY + timedelta(days=1))
                          .isoformat()}, "happened_on"),
                        ({"status": "obtained", "happened_on": days_ago(60)}, "happened_on")):
        response = await submit(client, f"/r/{request_id}/status", data,
                                form_page=f"/r/{request_id}", headers=ENGLISH)
        assert response.status == 422, data
        page = await response.text()
        assert f'id="{field}-error"' in page, data
    assert await count_rows(forum, "request_events") == events
    async with forum.db.read() as conn:
        assert (await records.get(conn, request_id)).status == "cada_referral"
    # With a reason, going back is recorded.
    response = await submit(client, f"/r/{request_id}/status",
                            {"status": "answered", "happened_on": days_ago(2),
                             "note": "La mairie a finalement tout envoyé"},
                            form_page=f"/r/{request_id}")
    assert response.status == 303
    async with forum.db.read() as conn:
        assert (await records.get(conn, request_id)).status == "answered"


# Statuses and the page ---------------------------------------------------------------------------

async def test_a_member_records_a_request_with_a_copy_of_the_letter(forum, client):
    await forum.board("Metz", slug="metz")
    await forum.user("lea")
    await log_in(client, "lea")
    page = await (await client.get("/b/metz/requests/new")).text()
    assert "L. 311-1" in page and "Mairie de Metz" in page  # the ready letter
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    for name, value in (("administration", "Préfecture de la Moselle"),
                        ("documents", "Arrêtés d'autorisation de vidéoprotection\nPlan"),
                        ("channel", "mail"), ("sent_on", days_ago(3)), ("received_on", "")):
        form.add_field(name, value)
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(image, "JPEG", comment=b"Lea Dupont, 3 rue X")
    form.add_field("files", image.getvalue(), filename="lettre.jpg", content_type="image/jpeg")
    response = await client.post("/b/metz/requests/new", data=form, allow_redirects=False)
    assert response.status == 303, await response.text()
    page = await (await client.get(response.headers["Location"])).text()
    assert "Préfecture de la Moselle" in page and "lettre.jpg" in page
    link = re.search(r'href="(/files/\d+/lettre\.jpg)"', page).group(1)
    visitor = await forum.visitor()
    served = await visitor.get(link)
    assert served.status == 200  # the request is public: so is its letter
    assert b"Lea Dupont" not in await served.read()  # cleaned through the upload pipeline


async def test_letter_preview_stores_nothing_and_lists_the_documents(forum, client):
    await forum.board("Metz", slug="metz")
    await forum.user("lea")
    await log_in(client, "lea")
    response = await submit(client, "/b/metz/requests/new", {
        "administration": "Mairie de Metz", "documents": "Plan des caméras\nContrat de"
        " maintenance", "channel": "mail", "sent_on": days_ago(1), "letter": "1"})
    assert response.status == 200
    page = await response.text()
    assert "- Plan des caméras" in page and "- Contrat de maintenance" in page
    assert "R. 343-1" in page
    assert await count_rows(forum, "records_requests") == 0


async def test_the_timeline_shows_the_implicit_refusal_as_a_date(forum, client):
    metz = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea")
    request_id = await record(forum, metz, lea, sent_days_ago=45)
    async with forum.db.read() as conn:
        item = await records.get(conn, request_id)
    assert item.shown_status(TODAY) == records.IMPLICIT_REFUSAL
    page = await (await client.get(f"/r/{request_id}", headers=ENGLISH)).text()
    assert "implicit refusal" in page
    refusal = rules.add_months(TODAY - timedelta(days=45), 1)
    assert 'Implicit refusal if no answer: at the end of' in page
    assert str(refusal.year) in page
    listing = await (await client.get("/b/metz/requests?status=implicit_refusal")).text()
    assert f'id="r{request_id}"' in listing
    assert f'id="r{request_id}"' not in await (await client.get(
        "/b/metz/requests?status=sent")).text()


# Moderation and visibility -----------------------------------------------------------------------

async def test_a_newcomer_request_waits_and_is_404_to_others_until_approved(forum, client):
    metz = await forum.board("Metz", slug="metz")
    newcomer = await forum.user("voisine", trusted=False)
    local = await forum.user("locale")
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, metz, local)
    await log_in(client, "voisine")
    response = await submit(client, "/b/metz/requests/new", {
        "administration": "Mairie de Metz", "documents": "Délibération du conseil",
        "channel": "online", "sent_on": days_ago(2)})
    assert response.status == 303
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    visitor = await forum.visitor()
    assert (await visitor.get(f"/r/{request_id}")).status == 404
    assert "Délibération" not in await (await visitor.get("/b/metz/requests")).text()
    assert "Délibération" not in await (await visitor.get("/requests.csv")).text()
    await call(visitor, "GET", f"/requests/{request_id}", expect=404)
    moderator = await forum.visitor()
    await log_in(moderator, "locale")
    queue = await (await moderator.get("/moderation/requests")).text()
    assert f'id="qr{request_id}"' in queue
    response = await submit(moderator, f"/moderation/requests/{request_id}/approve", {},
                            form_page="/moderation/requests")
    assert response.status == 303
    assert (await visitor.get(f"/r/{request_id}")).status == 200
    journal = await (await visitor.get("/moderation/journal", headers=ENGLISH)).text()
    assert "approved a records request" in journal and f"/r/{request_id}" in journal
    async with forum.db.read() as conn:
        told = await notifications.list_for_user(conn, newcomer.id)
    assert told[0].kind == "request_approved" and told[0].request_id == request_id


async def test_a_refused_request_stays_with_its_author_and_the_reason_is_private(forum,
                                                                                 client):
    metz = await forum.board("Metz", slug="metz")
    newcomer = await forum.user("voisine", trusted=False)
    mod = await forum.user("modo", role="moderator")
    request_id = await record(forum, metz, newcomer, review="pending")
    async with forum.db.transaction() as tx:
        await records.reject(tx, await records.get(tx, request_id), mod, "Hors sujet")
    visitor = await forum.visitor()
    assert (await visitor.get(f"/r/{request_id}")).status == 404
    await log_in(client, "voisine")
    page = await (await client.get(f"/r/{request_id}")).text()
    assert "Hors sujet" in page
    with pytest.raises(records.Conflict):
        async with forum.db.transaction() as tx:
            await records.approve(tx, await records.get(tx, request_id), mod)


# The deadline job --------------------------------------------------------------------------------

async def test_deadlines_are_told_once_to_the_requester_and_the_city_followers(forum):
    metz = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea", email="lea@example.org")
    follower = await forum.user("suiveuse")
    await forum.user("indifferent")
    async with forum.db.transaction() as tx:
        await follows.set_state(tx, follower.id, "board", metz.id, "follow")
    late = await record(forum, metz, lea, sent_days_ago=40)
    await record(forum, metz, lea, sent_days_ago=5)  # within its month: nothing yet
    hidden = await record(forum, metz, lea, review="pending", sent_days_ago=40)
    told = await request_views.tell_deadlines(forum.app)
    assert told == 3  # late: lea and the follower; hidden: lea only
    assert await request_views.tell_deadlines(forum.app) == 0  # idempotent
    async with forum.db.read() as conn:
        mine = await notifications.list_for_user(conn, lea.id)
        theirs = await notifications.list_for_user(conn, follower.id)
    assert {n.request_id for n in mine} == {late, hidden}
    assert [(n.kind, n.request_id) for n in theirs] == [("request_implicit_refusal", late)]


async def test_the_referral_deadline_is_told_after_an_explicit_refusal(forum):
    metz = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea")
    request_id = await record(forum, metz, lea, sent_days_ago=200)
    await change(forum, request_id, lea, "refused", 150)
    await request_views.tell_deadlines(forum.app)
    async with forum.db.read() as conn:
        kinds = {n.kind for n in await notifications.list_for_user(conn, lea.id)}
    assert kinds == {"request_cada_referral"}


# Exports and API ---------------------------------------------------------------------------------

async def test_exports_round_trip_and_neutralise_formulas(forum, client):
    metz = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea")
    first = await record(forum, metz, lea, administration="=HYPERLINK(\"http://x\")")
    second = await record(forum, metz, lea, administration="Mairie de Metz", sent_days_ago=50)
    await change(forum, second, lea, "answered_part", 20)
    await record(forum, metz, lea, review="pending", administration="Cachée")
    response = await client.get("/b/metz/requests.csv")
    assert response.status == 200 and response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert {int(row["id"]) for row in rows} == {first, second}
    by_id = {int(row["id"]): row for row in rows}
    assert by_id[first]["administration"].startswith("'=")
    assert by_id[second]["status"] == "answered_part"
    data = await (await client.get("/requests.json")).json()
    assert {item["id"] for item in data["requests"]} == {first, second}
    json_second = next(item for item in data["requests"] if item["id"] == second)
    assert json_second["sent_on"] == by_id[second]["sent_on"]
    assert json_second["cada_referral_by"] == by_id[second]["cada_referral_by"]


async def test_api_records_filters_and_patches(forum, client):
    metz = await forum.board("Metz", slug="metz")
    await forum.board("Montpellier", slug="montpellier")
    lea = await forum.user("lea")
    token = await forum.token(lea)
    created = await call(client, "POST", "/requests", token, expect=201, json={
        "city": "metz", "administration": "Mairie de Metz", "documents": "Plan des caméras",
        "channel": "email", "sent_on": days_ago(50)})
    assert created["status"] == "implicit_refusal" and created["review"] == "published"
    await record(forum, metz, lea, administration="Préfecture", sent_days_ago=3)
    listed = await call(client, "GET", "/requests?city=metz&status=implicit_refusal")
    assert [item["id"] for item in listed["requests"]] == [created["id"]]
    listed = await call(client, "GET", "/requests?administration=mairie%20de%20metz")
    assert [item["id"] for item in listed["requests"]] == [created["id"]]
    assert len((await call(client, "GET", "/requests?city=montpellier"))["requests"]) == 0
    error = error_of(await call(client, "GET", "/requests?status=perdue", expect=422))
    assert error["field"] == "status"
    error_of(await call(client, "GET", "/requests?city=nulle-part", expect=404))
    patched = await call(client, "PATCH", f"/requests/{created['id']}", token, json={
        "status": "cada_referral", "happened_on": days_ago(5)})
    assert patched["status"] == "cada_referral" and len(patched["events"]) == 2
    error = error_of(await call(client, "PATCH", f"/requests/{created['id']}", token,
                                expect=409, json={"status": "sent",  # contradicts the record
                                                  "happened_on": days_ago(4)}))
    assert error["field"] == "note" and error["code"] == "conflict"
    error = error_of(await call(client, "POST", "/requests", token, expect=409, json={
        "city": "metz", "administration": "Mairie", "documents": "Plan", "channel": "email",
        "sent_on": (TODAY + timedelta(days=2)).isoformat()}))
    assert error["field"] == "sent_on"
    other = await forum.token(await forum.user("tom"))
    await call(client, "PATCH", f"/requests/{created['id']}", other, expect=403, json={
        "status": "obtained", "happened_on": days_ago(1)})
    shown = await call(client, "GET", f"/requests/{created['id']}")
    assert [event["status"] for event in shown["events"]] == ["sent", "cada_referral"]


async def test_the_city_page_links_to_its_requests_and_the_national_list_counts(forum, client):
    metz = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea")
    answered = await record(forum, metz, lea, sent_days_ago=60)
    await change(forum, answered, lea, "answered", 45)  # 15 days after: on time
    late = await record(forum, metz, lea, sent_days_ago=90)
    await change(forum, late, lea, "answered", 10)  # 80 days after: late
    await record(forum, metz, lea, sent_days_ago=50)  # silent: implicit refusal
    page = await (await client.get("/b/metz")).text()
    assert "/b/metz/requests" in page
    async with forum.db.read() as conn:
        [outcome] = await records.outcomes(conn, TODAY)
    assert (outcome.requests, outcome.answered, outcome.late, outcome.refused) == (3, 2, 1, 1)
    assert outcome.average_days == pytest.approx(47.5)
    national = await (await client.get("/requests")).text()
    assert "Mairie de Metz" in national


# In a browser without JavaScript -------------------------------------------------------------

@pytest.mark.browser
async def test_metz_requests_page_and_a_timeline_in_a_browser_without_javascript(
        browser, site, forum):
    metz = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea")
    request_id = await record(forum, metz, lea, sent_days_ago=70)
    await change(forum, request_id, lea, "refused", 50, "Refus écrit du maire")
    await change(forum, request_id, lea, "cada_referral", 30)
    context = await new_context(browser, site, javascript=False)
    page = await context.new_page()
    await page.goto("/b/metz")
    await page.get_by_role("link", name=re.compile("Demandes de documents|Records requests"),
                           exact=False).first.click()
    await expect(page).to_have_url(re.compile(r"/b/metz/requests$"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Metz")
    await page.get_by_role("link", name="Mairie de Metz").first.click()
    await expect(page).to_have_url(re.compile(rf"/r/{request_id}$"))
    timeline = page.locator("ol.request-timeline li")
    await expect(timeline).to_have_count(3)
    await expect(timeline.nth(1)).to_contain_text("Refus écrit du maire")
    # The CADA's opinion is expected a month after the referral: a date, not a formula.
    expected = rules.add_months(TODAY - timedelta(days=30), 1)
    await expect(page.locator("ul.request-deadlines")).to_contain_text(str(expected.year))
    await context.close()


async def test_a_document_received_becomes_the_source_of_a_finding(forum, client):
    metz = await forum.board("Metz", slug="metz")
    await forum.user("lea")
    await log_in(client, "lea")
    token = await forum.token(await forum.user("tom"))
    created = await call(client, "POST", "/requests", token, expect=201, json={
        "city": "metz", "administration": "Mairie de Metz", "documents": "Plan des caméras",
        "channel": "email", "sent_on": days_ago(20)})
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(image, "JPEG")
    form = aiohttp.FormData()
    form.add_field("file", image.getvalue(), filename="plan-cameras.jpg",
                   content_type="image/jpeg")
    upload = await (await client.post("/api/v1/uploads", data=form, headers={
        "Authorization": f"Bearer {token}"})).json()
    patched = await call(client, "PATCH", f"/requests/{created['id']}", token, json={
        "status": "answered", "happened_on": days_ago(2), "files": [upload["id"]]})
    assert patched["files"][0]["role"] == "document"
    page = await (await client.get(f"/r/{created['id']}")).text()
    link = re.search(r'href="(/b/metz/watch/new\?document=\d+)"', page).group(1)
    form_page = await (await client.get(link)).text()
    assert f"/files/{upload['id']}/plan-cameras.jpg" in form_page  # the source link, filled
    # Anyone else's id, or a file not a request's document, fills nothing.
    other = await (await client.get("/b/metz/watch/new?document=999999")).text()
    assert "plan-cameras" not in other
    assert metz.is_city


async def test_a_cached_city_page_shows_a_status_change_at_once(forum, client):
    metz = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea")
    request_id = await record(forum, metz, lea, sent_days_ago=10)
    visitor = await forum.visitor()
    paths = ("/b/metz/requests", "/requests", f"/r/{request_id}")
    # The status's name may be on the page already (a filter's choices): it must be there once
    # more for this request, at once, though the pages were cached before the change.
    before = {path: (await (await visitor.get(path)).text()).count("réponse complète")
              for path in paths}
    await change(forum, request_id, lea, "answered", 1)
    for path in paths:
        after = (await (await visitor.get(path)).text()).count("réponse complète")
        assert after > before[path], path


async def test_a_deadline_is_mailed_with_a_link_to_the_request(forum):
    metz = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea", email="lea@example.org")
    request_id = await record(forum, metz, lea, sent_days_ago=40,
                              administration="Préfecture de la Moselle")
    await request_views.tell_deadlines(forum.app)
    assert await mail_notifications(forum.app) == 1
    async with forum.db.read() as conn:
        mail = await conn.one("select to_address, text_body from outbox")
    assert mail["to_address"] == "lea@example.org"
    assert f"/r/{request_id}" in mail["text_body"]
    assert "Préfecture de la Moselle" in mail["text_body"]
