"""Findings in moderation: the queue, decisions, the journal, notifications, mail, and admin."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from playwright.async_api import expect

from forum import keys
from forum.app import create_app
from forum.config import Config
from forum.models import boards, findings, follows, moderation
from tests.conftest import Forum, log_in, submit
from tests.test_browser import log_in_with_form, new_context
from tests.test_mail import BASE_URL, Mailbox, parts, wait_for_mail

pytestmark = pytest.mark.both_stores

ENGLISH = {"Accept-Language": "en"}  # English msgids: stable whatever the catalogs say
ATOM = "{http://www.w3.org/2005/Atom}"


async def city_with_pending_finding(forum, note: str = "Vu au conseil municipal."):
    """Metz with a local moderator, Grenoble with its own, and a newcomer's pending finding."""
    metz = await forum.board("Metz")
    grenoble = await forum.board("Grenoble")
    local = await forum.user("locale")
    other = await forum.user("grenoblois")
    author = await forum.user("nouvelle", trusted=False)
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, metz, local)
        await moderation.add_board_moderator(tx, grenoble, other)
    finding_id = await forum.finding(metz, author, review="pending", note=note,
                                     quantity="148", observed="2014-11")
    return metz, finding_id


async def deleted_by_a_moderator(forum, reason: str):
    """A published finding of Metz by "autrice", deleted by "moderatrice" for `reason`: (its
    id, the moderator)."""
    metz = await forum.board("Metz")
    author = await forum.user("autrice")
    moderator = await forum.user("moderatrice", role="moderator")
    finding_id = await forum.finding(metz, author)
    async with forum.db.transaction() as tx:
        await findings.delete(tx, await findings.get(tx, finding_id), moderator, reason)
    return finding_id, moderator


async def review_of(forum, finding_id: int) -> str:
    async with forum.db.read() as conn:
        return await conn.value("select review from findings where id = ?", (finding_id,))


def finding_item(page: str, finding_id: int) -> str:
    """The queue item of this finding: up to the next item or the end of the list."""
    match = re.search(rf'<li id="qf{finding_id}".*?(?=<li id="qf|</ol>)', page, re.S)
    assert match, f"finding {finding_id} is not in the queue"
    return match.group(0)


# The queue ----------------------------------------------------------------------------------

async def test_pending_finding_waits_in_its_own_board_moderators_queue(forum, client):
    _metz, finding_id = await city_with_pending_finding(forum, note="Vu au conseil du 5 mai.")
    await log_in(client, "locale")
    page = await (await client.get("/moderation")).text()
    item = finding_item(page, finding_id)
    assert 'class="queue-item finding-item"' in item
    assert f'href="/f/{finding_id}"' in item and f'href="/f/{finding_id}/edit"' in item
    assert "Vu au conseil du 5 mai." in item and "https://example.org/source.pdf" in item
    assert 'href="/u/nouvelle"' in item and "148" in item
    # The forms send what views/findings.py reads.
    assert f'action="/moderation/findings/{finding_id}/approve"' in item
    assert f'action="/moderation/findings/{finding_id}/reject"' in item
    for field in ('name="next" value="/moderation"', 'name="reason_choice"', 'name="reason"',
                  'type="checkbox" name="private"', 'name="csrf_token"'):
        assert field in item, field
    assert item.count("<option>") == len(moderation.REJECT_REASONS)
    # Something waits: no "nothing is waiting" notice.
    assert 'class="notice"' not in page
    # The moderator of another city does not see it.
    other = await forum.visitor()
    await log_in(other, "grenoblois")
    elsewhere = await (await other.get("/moderation")).text()
    assert f'id="qf{finding_id}"' not in elsewhere and 'class="notice"' in elsewhere


async def test_queue_filters_findings_by_board(forum, client):
    metz, finding_id = await city_with_pending_finding(forum)
    await forum.user("moderatrice", role="moderator")
    await log_in(client, "moderatrice")
    everywhere = await (await client.get("/moderation")).text()
    assert f'id="qf{finding_id}"' in everywhere
    here = await (await client.get(f"/moderation?board={metz.slug}")).text()
    assert f'id="qf{finding_id}"' in here
    there = await (await client.get("/moderation?board=grenoble")).text()
    assert f'id="qf{finding_id}"' not in there


@pytest.mark.browser
async def test_keyboard_moves_from_posts_to_findings(browser, site, forum):
    metz, finding_id = await city_with_pending_finding(forum)
    veteran = await forum.user("veteran")
    thread_id, _ = await forum.thread(metz, veteran, "Drones")
    post_id = await forum.reply(thread_id, veteran, "Un drone vu hier", status="pending")
    context = await new_context(browser, site, javascript=True)
    page = await context.new_page()
    await log_in_with_form(page, "locale")
    await page.goto("/moderation")
    await page.keyboard.press("a")  # the post first, then the finding has the focus
    await expect(page.locator(f"#q{post_id}")).to_have_count(0)
    await expect(page.locator(f"#qf{finding_id}")).to_be_focused()
    await page.keyboard.press("a")
    await expect(page.locator(f"#qf{finding_id}")).to_have_count(0)
    assert await review_of(forum, finding_id) == "published"
    await context.close()


async def test_members_and_visitors_have_no_queue(forum, client):
    await city_with_pending_finding(forum)
    await forum.user("lecteur")
    visitor = await forum.visitor()
    assert (await visitor.get("/moderation", allow_redirects=False)).status == 303
    await log_in(client, "lecteur")
    assert (await client.get("/moderation")).status == 404
    # Nor may they decide, even with a valid token.
    refused = await submit(client, "/moderation/findings/1/approve", {"next": "/moderation"},
                           form_page="/settings")
    assert refused.status in (403, 404)


async def test_approving_from_the_queue_publishes_and_journals_it(forum, client):
    _metz, finding_id = await city_with_pending_finding(forum)
    await log_in(client, "locale")
    approved = await submit(client, f"/moderation/findings/{finding_id}/approve",
                            {"next": "/moderation"}, form_page="/moderation")
    assert approved.status == 303 and approved.headers["Location"] == "/moderation"
    assert await review_of(forum, finding_id) == "published"
    assert f'id="qf{finding_id}"' not in await (await client.get("/moderation")).text()
    # Everyone sees it now, and the journal says who published which finding.
    reader = await forum.visitor()
    assert (await reader.get(f"/f/{finding_id}")).status == 200
    journal = await (await reader.get("/moderation/journal", headers=ENGLISH)).text()
    row = re.search(r'<tr id="j\d+">.*?</tr>', journal, re.S).group(0)
    assert "locale" in row and "approved a finding" in row and "a message" not in row
    assert f'href="/f/{finding_id}"' in row
    feed = await (await reader.get("/moderation/journal.atom", headers=ENGLISH)).text()
    assert "approved a finding" in feed and f"/f/{finding_id}" in feed


async def test_refusing_with_a_private_reason_keeps_it_out_of_the_journal(forum, client):
    _metz, finding_id = await city_with_pending_finding(forum)
    await log_in(client, "locale")
    refused = await submit(client, f"/moderation/findings/{finding_id}/reject",
                           {"next": "/moderation", "reason_choice": "",
                            "reason": "source introuvable ici", "private": "1"},
                           form_page="/moderation")
    assert refused.status == 303 and refused.headers["Location"] == "/moderation"
    assert await review_of(forum, finding_id) == "rejected"
    reader = await forum.visitor()
    journal = await (await reader.get("/moderation/journal", headers=ENGLISH)).text()
    assert "refused a finding" in journal and f'href="/f/{finding_id}"' in journal
    assert "source introuvable" not in journal
    feed = await (await reader.get("/moderation/journal.atom")).text()
    assert "source introuvable" not in feed
    # Its author is still told why, and the finding is not public.
    assert (await reader.get(f"/f/{finding_id}")).status == 404
    author = await forum.visitor()
    await log_in(author, "nouvelle")
    notes = await (await author.get("/notifications")).text()
    assert "source introuvable ici" in notes and f'href="/f/{finding_id}"' in notes


async def test_a_refusal_needs_a_reason(forum, client):
    _metz, finding_id = await city_with_pending_finding(forum)
    await log_in(client, "locale")
    refused = await submit(client, f"/moderation/findings/{finding_id}/reject",
                           {"next": "/moderation", "reason_choice": "", "reason": ""},
                           form_page="/moderation")
    assert refused.status == 422
    assert await review_of(forum, finding_id) == "pending"


async def test_journal_names_each_finding_decision(forum, client):
    finding_id, moderator = await deleted_by_a_moderator(forum, "doublon")
    async with forum.db.transaction() as tx:
        await findings.restore(tx, await findings.get(tx, finding_id), moderator, "pas un doublon")
    journal = await (await client.get("/moderation/journal", headers=ENGLISH)).text()
    assert "deleted a finding" in journal and "restored a finding" in journal
    assert "a message" not in journal and journal.count(f'href="/f/{finding_id}"') == 2
    feed = ET.fromstring(await (await client.get("/moderation/journal.atom",
                                                 headers=ENGLISH)).read())
    entries = feed.findall(f"{ATOM}entry")
    assert ["restored a finding" in e.find(f"{ATOM}title").text for e in entries] == [True, False]
    for entry in entries:
        related = [link.get("href") for link in entry.findall(f"{ATOM}link")
                   if link.get("rel") == "related"]
        assert related == [f"{forum.config.base_url}/f/{finding_id}"]


# Notifications and mail ---------------------------------------------------------------------

async def test_author_is_told_of_the_approval_with_a_link(forum, client):
    metz, finding_id = await city_with_pending_finding(forum)
    moderator = await forum.user("moderatrice", role="moderator")
    async with forum.db.transaction() as tx:
        await findings.approve(tx, await findings.get(tx, finding_id), moderator)
    await log_in(client, "nouvelle")
    notes = await (await client.get("/notifications", headers=ENGLISH)).text()
    item = re.search(r'<li class="unread">.*?</li>', notes, re.S).group(0)
    assert f"Your finding about {metz.name} was approved." in item
    assert f'href="/f/{finding_id}"' in item


async def test_a_deleted_finding_is_told_without_a_dead_link(forum, client):
    finding_id, _moderator = await deleted_by_a_moderator(forum, "doublon exact")
    await log_in(client, "autrice")
    notes = await (await client.get("/notifications")).text()
    assert "doublon exact" in notes and "Metz" in notes
    assert f'href="/f/{finding_id}"' not in notes


async def test_followers_of_a_city_hear_of_its_findings_once_public(forum, client):
    metz, finding_id = await city_with_pending_finding(forum)
    reader = await forum.user("lectrice")
    async with forum.db.transaction() as tx:
        await follows.set_state(tx, reader.id, "board", metz.id, "follow")
    await log_in(client, "lectrice")
    assert f"/f/{finding_id}" not in await (await client.get("/notifications")).text()
    moderator = await forum.user("moderatrice", role="moderator")
    async with forum.db.transaction() as tx:
        await findings.approve(tx, await findings.get(tx, finding_id), moderator)
    trusted_id = await forum.finding(metz, reader, quantity="148")  # their own: not told
    notes = await (await client.get("/notifications", headers=ENGLISH)).text()
    item = re.search(r'<li class="unread">.*?</li>', notes, re.S).group(0)
    assert f"nouvelle added a finding about {metz.name} to the record." in item
    assert f'href="/f/{finding_id}"' in item and f"/f/{trusted_id}" not in notes
    async with forum.db.transaction() as tx:  # deleted: nothing leads to it any more
        await findings.delete(tx, await findings.get(tx, finding_id), moderator, "doublon")
    assert f"/f/{finding_id}" not in await (await client.get("/notifications")).text()


async def test_approval_is_mailed_at_once_with_the_finding_link(tmp_path, aiohttp_client,
                                                                 database_url):
    mailbox = Mailbox()
    mailbox.start()
    try:
        app = create_app(Config.from_env(
            env={}, data_dir=tmp_path / "data", database_url=database_url,
            base_url=BASE_URL, smtp_host="127.0.0.1",
            smtp_port=mailbox.port, smtp_starttls=False, mail_interval_seconds=0.2,
            mail_retry_seconds=0.05))
        forum = Forum(app, await aiohttp_client(app))
        metz = await forum.board("Metz")
        author = await forum.user("nouvelle", email="nouvelle@example.org", trusted=False)
        moderator = await forum.user("moderatrice", role="moderator")
        async with forum.db.read() as conn:
            assert await conn.value("select email_notifications from users where id = ?",
                                    (author.id,)) == "immediate"
        finding_id = await forum.finding(metz, author, review="pending")
        async with app[keys.DB].transaction() as tx:
            await findings.approve(tx, await findings.get(tx, finding_id), moderator)
        message = await wait_for_mail(app, mailbox)
        text, html = parts(message)
        assert mailbox.recipients == [["nouvelle@example.org"]]
        assert f"{BASE_URL}/f/{finding_id}" in text
        assert f'href="{BASE_URL}/f/{finding_id}"' in html
        assert "Metz" in text and "Metz" in message["Subject"]
    finally:
        mailbox.stop()


# Administration ------------------------------------------------------------------------------

async def kinds_page(client, **kwargs) -> str:
    return await (await client.get("/admin/kinds", **kwargs)).text()


def kind_row(page: str, slug: str) -> str:
    match = re.search(rf'<tr id="kind-{slug}">.*?</tr>', page, re.S)
    assert match, f"no kind {slug}"
    return match.group(0)


async def test_admin_lists_kinds_with_how_many_findings_use_them(forum, client):
    metz = await forum.board("Metz")
    author = await forum.user("autrice")
    await forum.finding(metz, author)
    await forum.finding(metz, author, observed="2012")
    await forum.finding(metz, author, kind="drones", quantity="2")
    await forum.user("admin", role="admin")
    await log_in(client, "admin")
    page = await kinds_page(client, headers=ENGLISH)
    async with forum.db.read() as conn:
        every_kind = await findings.kinds(conn)
    for kind in every_kind:
        kind_row(page, kind.slug)
    assert "<td>2</td>" in kind_row(page, "cameras")
    assert "<td>1</td>" in kind_row(page, "drones")
    assert "<td>0</td>" in kind_row(page, "sound-sensors")
    assert "Video-surveillance cameras" in kind_row(page, "cameras")
    boards_page = await (await client.get("/admin/boards")).text()
    assert 'href="/admin/kinds"' in boards_page


async def test_admin_adds_a_kind_once(forum, client):
    await forum.user("admin", role="admin")
    await log_in(client, "admin")
    added = await submit(client, "/admin/kinds", {"label": "Capteurs de pollution"})
    assert added.status == 303 and added.headers["Location"] == "/admin/kinds"
    page = await kinds_page(client)
    assert "Capteurs de pollution" in kind_row(page, "capteurs-de-pollution")
    again = await submit(client, "/admin/kinds", {"label": "capteurs de pollution"})
    assert again.status == 409
    shown = await again.text()
    assert 'id="label-error"' in shown and 'value="capteurs de pollution"' in shown
    empty = await submit(client, "/admin/kinds", {"label": "   "})
    assert empty.status == 422 and 'id="label-error"' in await empty.text()
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from finding_kinds"
                                " where slug = 'capteurs-de-pollution'") == 1


async def test_kinds_administration_is_404_for_everyone_else(forum, client):
    await forum.user("membre")
    await forum.user("moderatrice", role="moderator")
    visitor = await forum.visitor()
    assert (await visitor.get("/admin/kinds", allow_redirects=False)).status == 303
    for name in ("membre", "moderatrice"):
        member = await forum.visitor()
        await log_in(member, name)
        assert (await member.get("/admin/kinds")).status == 404
        posted = await submit(member, "/admin/kinds", {"label": "Intrus"}, form_page="/settings")
        assert posted.status == 404
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from finding_kinds where label = 'Intrus'") == 0


async def board_is_city(forum, slug: str) -> bool:
    async with forum.db.read() as conn:
        return (await boards.get_by_slug(conn, slug)).is_city


async def test_board_city_checkbox_on_create_and_edit(forum, client):
    await forum.user("admin", role="admin")
    await log_in(client, "admin")
    form = await (await client.get("/admin/boards")).text()
    assert re.search(r'<input type="checkbox" id="is_city" name="is_city" value="1" checked>',
                     form)
    fields = {"name": "France", "slug": "france", "region": "", "description": "",
              "moderation_mode": "a-posteriori"}
    created = await submit(client, "/admin/boards", fields)
    assert created.status == 303 and not await board_is_city(forum, "france")
    metz = await forum.board("Metz", slug="metz")
    edit_page = await (await client.get("/admin/boards/metz")).text()
    assert 'name="is_city" value="1" checked' in edit_page
    # Unchecked, the box sends nothing: the board is no longer a city.
    edited = await submit(client, "/admin/boards/metz", {**fields, "name": "Metz", "slug": "metz"})
    assert edited.status == 303 and not await board_is_city(forum, "metz")
    assert (await client.get("/b/metz/watch")).status == 404
    checked = await submit(client, "/admin/boards/metz",
                           {**fields, "name": "Metz", "slug": "metz", "is_city": "1"})
    assert checked.status == 303 and await board_is_city(forum, "metz")
    assert (await client.get("/b/metz/watch")).status == 200
    # Naming a moderator does not touch it (another form, without the box).
    await forum.user("local")
    await submit(client, "/admin/boards/metz", {"moderator": "local", "action": "add"})
    assert await board_is_city(forum, "metz") and metz
