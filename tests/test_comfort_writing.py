"""Writing comfort (issue 16): drafts kept on the server, the pending state said before and
after sending, the form kept with its text on every error, log-in and sign-up coming back."""
from __future__ import annotations

import html
import re

import pytest

from tests.conftest import PASSWORD, csrf_token, log_in, submit

pytestmark = pytest.mark.both_stores

WAITS = "Your message will wait for a moderator"


def textarea(page: str) -> str:
    found = re.search(r'<textarea id="body"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, page[:2000]
    return html.unescape(found[1])


EN = {"Accept-Language": "en"}


async def test_save_draft_button_keeps_the_reply_for_another_device(forum, client, metz, lea):
    thread_id, _ = await forum.thread(metz, lea, "Caméras")
    await log_in(client, "lea")
    page = f"/t/{thread_id}/reply"
    response = await submit(client, page, {"body": "Brouillon <b>du mardi</b>",
                                           "action": "draft"}, headers=EN)
    assert response.status == 200 and "Draft saved" in await response.text()
    other = await forum.visitor()
    await log_in(other, "lea")
    form = await (await other.get(page, headers=EN)).text()
    assert textarea(form) == "Brouillon <b>du mardi</b>"
    assert "<b>du mardi</b>" not in form  # escaped in the form
    assert "Your draft of" in form
    # Nothing was published meanwhile.
    assert "du mardi" not in await (await client.get(f"/t/{thread_id}")).text()


async def test_a_sent_reply_erases_its_draft(forum, client, metz, lea):
    thread_id, _ = await forum.thread(metz, lea, "Caméras")
    await log_in(client, "lea")
    page = f"/t/{thread_id}/reply"
    await submit(client, page, {"body": "Version longue", "action": "draft"})
    response = await submit(client, page, {"body": "Version longue", "action": "publish"})
    assert response.status == 303
    assert textarea(await (await client.get(page)).text()) == ""
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from drafts") == 0


async def test_new_thread_draft_keeps_title_and_body_per_board(forum, client, metz, lea):
    nancy = await forum.board("Nancy")
    await log_in(client, "lea")
    await submit(client, f"/b/{metz.slug}/new", {"title": "Drones", "body": "Au marché",
                                                 "action": "draft"})
    page = await (await client.get(f"/b/{metz.slug}/new")).text()
    assert 'value="Drones"' in page and textarea(page) == "Au marché"
    assert textarea(await (await client.get(f"/b/{nancy.slug}/new")).text()) == ""
    response = await submit(client, f"/b/{metz.slug}/new",
                            {"title": "Drones", "body": "Au marché", "action": "publish"})
    assert response.status == 303
    assert textarea(await (await client.get(f"/b/{metz.slug}/new")).text()) == ""


async def test_autosave_endpoint_is_private_to_its_author(forum, client, metz, lea):
    thread_id, _ = await forum.thread(metz, lea, "Caméras")
    await forum.user("paul")
    await log_in(client, "lea")
    token = await csrf_token(client, f"/t/{thread_id}")
    url = f"/t/{thread_id}/reply/draft"
    response = await client.post(url, data={"body": "Tapé à la main"},
                                  headers={"X-CSRF-Token": token})
    assert response.status == 204
    assert (await (await client.get(url)).json())["body"] == "Tapé à la main"
    assert (await client.post(url, data={"body": "x"})).status == 403  # no token
    other = await forum.visitor()
    assert (await other.get(url, allow_redirects=False)).status == 303  # to the log-in page
    await log_in(other, "paul")
    assert await (await other.get(url)).json() == {}
    too_long = "x" * (forum.config.body_max + 1)
    response = await client.post(url, data={"body": too_long}, headers={"X-CSRF-Token": token})
    assert response.status == 422
    assert (await (await client.get(url)).json())["body"] == "Tapé à la main"
    assert (await client.get("/t/999/reply/draft")).status == 404


async def test_pending_is_said_before_and_after_sending(forum, client, lea):
    apriori = await forum.board("Nancy", moderation_mode="a-priori")
    thread_id, _ = await forum.thread(apriori, await forum.user("modo", role="admin"), "Sujet")
    await log_in(client, "lea")
    for path in (f"/t/{thread_id}", f"/t/{thread_id}/reply", f"/b/{apriori.slug}/new"):
        assert WAITS in await (await client.get(path, headers=EN)).text(), path
    response = await submit(client, f"/t/{thread_id}/reply", {"body": "Ma question"},
                            headers=EN, allow_redirects=True)
    page = await response.text()
    assert "Ma question" in page and "only you and the moderators of this board" in page
    assert "Once approved, everyone sees it" in page


async def test_no_pending_notice_where_a_message_is_published_at_once(forum, client, metz,
                                                                      lea):
    thread_id, _ = await forum.thread(metz, lea, "Sujet")
    await log_in(client, "lea")
    assert WAITS not in await (await client.get(f"/t/{thread_id}", headers=EN)).text()
    await forum.user("novice", trusted=False)
    other = await forum.visitor()
    await log_in(other, "novice")
    # The thread page is kept per capability class (a trusted and a new member share it): its
    # reply form's notice is each reader's own (forum/fragments.py: the "wait" mark).
    assert WAITS in await (await other.get(f"/t/{thread_id}", headers=EN)).text()
    assert WAITS in await (await other.get(f"/t/{thread_id}/reply", headers=EN)).text()
    assert WAITS not in await (await client.get(f"/t/{thread_id}", headers=EN)).text()


async def test_rate_limit_shows_the_form_again_with_the_text(forum, client, metz, lea):
    thread_id, _ = await forum.thread(metz, lea, "Sujet")
    await log_in(client, "lea")
    for n in range(forum.config.posts_per_minute):
        await submit(client, f"/t/{thread_id}/reply", {"body": f"Message {n}"})
    response = await submit(client, f"/t/{thread_id}/reply",
                            {"body": "Un long texte à ne pas perdre"}, headers=EN)
    assert response.status == 429
    page = await response.text()
    assert textarea(page) == "Un long texte à ne pas perdre"
    assert "You are posting too fast" in page


async def test_log_in_and_sign_up_links_of_a_thread_come_back_to_it(forum, client, metz, lea):
    thread_id, _ = await forum.thread(metz, lea, "Sujet")
    page = await (await client.get(f"/t/{thread_id}")).text()
    for route in ("register", "login"):  # in the header and beside the reply notice
        assert len(re.findall(rf'/{route}\?next=(?:%2F|/)t(?:%2F|/){thread_id}"', page)) == 2
    response = await submit(client, f"/register?next=/t/{thread_id}",
                            {"name": "nouvelle", "email": "n@example.org",
                             "password": "un mot de passe long",
                             "password_again": "un mot de passe long",
                             "next": f"/t/{thread_id}"})
    assert response.status == 303 and response.headers["Location"] == f"/t/{thread_id}"
    outside = await forum.visitor()
    response = await submit(outside, "/login", {"name": "lea", "password": PASSWORD,
                                                "next": "https://evil.example/"})
    assert response.status == 303
    assert "evil.example" not in response.headers.get("Location", "")
