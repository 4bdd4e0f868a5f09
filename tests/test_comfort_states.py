"""Clear states (issue 16): what a member follows in /settings, the profile's tabs and counts,
a correction's diff and note told to the author, who decided first in a conflict, a suspended
member's profile."""
from __future__ import annotations

import pytest

from forum import clock
from forum.diffs import changes_html
from forum.errors import Conflict
from forum.models import follows, moderation, posts, threads
from tests.conftest import log_in, submit

pytestmark = pytest.mark.both_stores

EN = {"Accept-Language": "en"}


async def test_settings_list_what_i_follow_with_unfollow_buttons(forum, client, metz, lea):
    nancy = await forum.board("Nancy")
    thread_id, _ = await forum.thread(metz, lea, "Drones au marché")
    muted_id, _ = await forum.thread(nancy, lea, "Bruit")
    paul = await forum.user("paul")
    async with forum.db.transaction() as tx:
        await follows.set_state(tx, lea.id, "board", metz.id, "follow")
        await follows.set_state(tx, lea.id, "thread", thread_id, "follow")
        await follows.set_state(tx, lea.id, "thread", muted_id, "mute")
        await follows.set_state(tx, paul.id, "board", nancy.id, "follow")
    await log_in(client, "lea")
    page = await (await client.get("/settings", headers=EN)).text()
    assert "What I follow" in page and "Drones au marché" in page and "Bruit" in page
    assert f'href="/b/{metz.slug}"' in page and f'href="/b/{nancy.slug}"' not in page
    assert "Unmute" in page
    response = await submit(client, f"/settings/follows/thread/{thread_id}/stop", {},
                            form_page="/settings")
    assert response.status == 303
    async with forum.db.read() as conn:
        assert await follows.state(conn, lea.id, "thread", thread_id) is None
        assert await follows.state(conn, paul.id, "board", nancy.id) == "follow"
    page = await (await client.get("/settings", headers=EN)).text()
    assert "Drones au marché" not in page


async def test_a_hidden_thread_leaves_the_list(forum, client, metz, lea):
    author = await forum.user("auteur", trusted=False)
    async with forum.db.transaction() as tx:
        thread_id, _ = await threads.create(tx, metz, author, "Secret en attente", "Texte.",
                                            150, 20_000, status="pending")
        await follows.set_state(tx, lea.id, "thread", thread_id, "follow")
    await log_in(client, "lea")
    assert "Secret en attente" not in await (await client.get("/settings")).text()


async def test_profile_tabs_for_the_author_and_moderators_only(forum, client, metz):
    novice = await forum.user("novice", trusted=False)
    await forum.user("paul")
    await forum.user("modo", role="moderator")
    thread_id, _ = await forum.thread(metz, await forum.user("lea"), "Sujet")
    async with forum.db.transaction() as tx:
        await posts.create(tx, thread_id, metz.id, novice, "Texte en attente", 20_000,
                           status="pending")
    await log_in(client, "novice")
    page = await (await client.get("/u/novice", headers=EN)).text()
    assert "Awaiting moderation <span class=\"count\">(1)</span>" in page
    assert "0 published messages" in page
    pending = await (await client.get("/u/novice?tab=pending")).text()
    assert "Texte en attente" in pending
    other = await forum.visitor()
    await log_in(other, "paul")
    assert (await other.get("/u/novice?tab=pending")).status == 404
    assert "Awaiting" not in await (await other.get("/u/novice", headers=EN)).text()
    visitor = await forum.visitor()
    assert (await visitor.get("/u/novice?tab=refused")).status == 404
    moderator = await forum.visitor()
    await log_in(moderator, "modo")
    assert "Texte en attente" in await (await moderator.get("/u/novice?tab=pending")).text()


async def test_corrected_post_tells_its_author_what_changed(forum, client, metz):
    novice = await forum.user("novice", trusted=False)
    moderator = await forum.user("modo", role="moderator")
    thread_id, _ = await forum.thread(metz, await forum.user("lea"), "Sujet")
    async with forum.db.transaction() as tx:
        post_id = await posts.create(tx, thread_id, metz.id, novice,
                                     "Le maire <b>Dupont</b> habite rue X.", 20_000,
                                     status="pending")
    async with forum.db.transaction() as tx:
        await moderation.correct_and_approve(tx, post_id, moderator,
                                             "Le maire <b>Dupont</b> a parlé.", 20_000,
                                             note="Adresse privée retirée")
    await log_in(client, "novice")
    notes = await (await client.get("/notifications", headers=EN)).text()
    assert "A moderator corrected it" in notes and "Adresse privée retirée" in notes
    assert f"/p/{post_id}/revisions#changes" in notes
    history = await (await client.get(f"/p/{post_id}/revisions", headers=EN)).text()
    assert "What the moderators changed" in history
    assert "<del>habite</del>" in history and "<ins>parlé.</ins>" in history
    assert "<b>Dupont</b>" not in history.split('id="changes"')[1].split("</section>")[0]
    visitor = await forum.visitor()
    public = await (await visitor.get(f"/p/{post_id}/revisions", headers=EN)).text()
    assert "What the moderators changed" not in public and "rue X" not in public


def test_changes_are_escaped_and_bounded():
    assert str(changes_html("a <i>b</i>", "a <i>c</i>")) == (
        "a <del>&lt;i&gt;b&lt;/i&gt;</del><ins>&lt;i&gt;c&lt;/i&gt;</ins>")
    long = "mot\n" * 20_000
    assert "<ins>fin</ins>" in str(changes_html(long, long + "fin"))


async def test_a_conflict_says_who_decided_and_what(forum, metz):
    novice = await forum.user("novice", trusted=False)
    first = await forum.user("camille", role="moderator")
    second = await forum.user("bruno", role="moderator")
    thread_id, _ = await forum.thread(metz, await forum.user("lea"), "Sujet")
    async with forum.db.transaction() as tx:
        post_id = await posts.create(tx, thread_id, metz.id, novice, "Texte", 20_000,
                                     status="pending")
    async with forum.db.read() as conn:
        stale = await posts.get(conn, post_id)
    async with forum.db.transaction() as tx:
        await moderation.approve(tx, stale, first)
    with pytest.raises(Conflict) as caught:
        async with forum.db.transaction() as tx:
            await moderation.reject(tx, stale, second, "Hors sujet")
    assert caught.value.message == "%(name)s has already approved this message."
    assert caught.value.params == {"name": "camille"}


async def test_a_suspended_members_profile_says_so(forum, client, lea):
    async with forum.db.transaction() as tx:
        await tx.execute("update users set suspended_until = ? where id = ?",
                         ("2999-01-01T00:00:00.000Z", lea.id))
    page = await (await client.get("/u/lea", headers=EN)).text()
    assert "This account is suspended until" in page
    assert clock.now()


async def _pending_post(forum, metz) -> int:
    novice = await forum.user("novice", trusted=False)
    thread_id, _ = await forum.thread(metz, await forum.user("lea"), "Sujet")
    async with forum.db.transaction() as tx:
        return await posts.create(tx, thread_id, metz.id, novice, "Texte en attente", 20_000,
                                  status="pending")


async def test_a_refusal_without_reason_comes_back_with_what_was_typed(forum, client, metz):
    post_id = await _pending_post(forum, metz)
    await forum.user("modo", role="moderator")
    await log_in(client, "modo")
    response = await submit(client, f"/moderation/posts/{post_id}/reject",
                            {"reason": "   ", "private": "1", "next": "/moderation"},
                            form_page="/moderation", headers=EN)
    assert response.status == 422
    page = await response.text()
    assert "Please give a reason." in page and 'aria-invalid="true"' in page
    assert 'name="private" value="1" checked' in page and "Texte en attente" in page
    async with forum.db.read() as conn:
        assert (await posts.get(conn, post_id)).status == "pending"


async def test_a_refusal_after_an_approval_says_who_approved(forum, client, metz):
    post_id = await _pending_post(forum, metz)
    first = await forum.user("camille", role="moderator")
    await forum.user("bruno", role="moderator")
    await log_in(client, "bruno")
    token_page = await client.get("/moderation")
    assert token_page.status == 200
    async with forum.db.transaction() as tx:
        await moderation.approve(tx, await posts.get(tx, post_id), first)
    response = await submit(client, f"/moderation/posts/{post_id}/reject",
                            {"reason": "Hors sujet", "next": "/moderation"},
                            form_page="/moderation", headers=EN)
    assert response.status == 409
    assert "camille has already approved this message." in await response.text()


async def test_a_kind_agrees_with_its_quantity(forum, client, metz):
    lea = await forum.user("lea")
    await forum.finding(metz, lea, quantity="1", observed="2020")
    await forum.finding(metz, lea, quantity="148", observed="2021")
    page = await (await client.get("/u/lea", headers=EN)).text()
    assert '>1</strong> Video-surveillance camera</a>' in page
    assert '>148</strong> Video-surveillance cameras</a>' in page


def test_english_dates_have_no_seconds():
    from forum.i18n import format_when
    assert format_when("2026-11-23T14:42:07.000Z", "en") == "November 23, 2026, 3:42 PM"
    assert format_when("2026-11-23T14:42:07.000Z", "fr") == "23 novembre 2026 à 15:42"
