"""A thread's title lives on after its first post: its moderators rename it, the old title is
kept for them only (a title can name someone), by the pages and by the API."""
from __future__ import annotations

import feedparser
import pytest

from forum.models import moderation, posts, threads
from tests.conftest import log_in, submit

pytestmark = pytest.mark.both_stores

V1 = "/api/v1"
LEAK = "Le policier Jean Dupont"
SAFE = "Caméras de la gare"


async def thread_with_deleted_first_post(forum):
    metz, lea = await forum.board("Metz", slug="metz"), await forum.user("lea")
    thread_id, first = await forum.thread(metz, lea, LEAK, "Il habite rue X.")
    await forum.reply(thread_id, await forum.user("yann"), "Une réponse.")
    async with forum.db.transaction() as tx:
        post = await posts.get(tx, first)
        await posts.delete(tx, post, lea, "doxxing")
    return metz, lea, thread_id


async def test_a_moderator_renames_a_thread_whose_first_post_is_deleted(forum, client):
    _metz, _lea, thread_id = await thread_with_deleted_first_post(forum)
    await forum.user("moderatrice", role="moderator")
    reader = await forum.visitor()
    assert LEAK in await (await reader.get(f"/t/{thread_id}")).text()  # cached now
    await log_in(client, "moderatrice")
    page = await (await client.get(f"/t/{thread_id}")).text()
    assert f'href="/t/{thread_id}/title"' in page
    renamed = await submit(client, f"/t/{thread_id}/title",
                           {"title": SAFE, "reason": "nom d'un agent"})
    assert renamed.status == 303, await renamed.text()
    for path in (f"/t/{thread_id}", "/b/metz", "/", f"/t/{thread_id}/feed.atom",
                 "/b/metz/feed.atom", "/search?q=Dupont", "/moderation/journal"):
        shown = await (await reader.get(path)).text()
        assert LEAK not in shown, path
    assert SAFE in await (await reader.get(f"/t/{thread_id}")).text()
    feed = feedparser.parse(await (await reader.get(f"/t/{thread_id}/feed.atom")).text())
    assert feed.feed.title.endswith(SAFE) or SAFE in feed.feed.title
    journal = await (await reader.get("/moderation/journal", headers={
        "Accept-Language": "en"})).text()
    assert "renamed a thread" in journal and "nom d&#39;un agent" in journal
    # The old title stays for moderators, on the rename page, and only there.
    form = await (await client.get(f"/t/{thread_id}/title")).text()
    assert LEAK in form
    async with forum.db.read() as conn:
        assert await conn.value("select title from thread_title_revisions") == LEAK


async def test_only_the_boards_moderators_rename_a_public_thread(forum, client):
    _metz, _lea, thread_id = await thread_with_deleted_first_post(forum)
    await log_in(client, "lea")  # its author: a public title would change unmoderated
    assert (await client.get(f"/t/{thread_id}/title")).status == 403
    refused = await submit(client, f"/t/{thread_id}/title", {"title": SAFE},
                           form_page=f"/t/{thread_id}")
    assert refused.status == 403
    assert f'href="/t/{thread_id}/title"' not in await (await client.get(f"/t/{thread_id}")).text()
    visitor = await forum.visitor()
    assert (await visitor.get(f"/t/{thread_id}/title", allow_redirects=False)).status == 303
    async with forum.db.read() as conn:
        assert await conn.value("select title from threads where id = ?", (thread_id,)) == LEAK
        assert await conn.value("select count(*) from thread_title_revisions") == 0


async def test_a_bad_title_is_refused_and_changes_nothing(forum, client):
    _metz, _lea, thread_id = await thread_with_deleted_first_post(forum)
    await forum.user("moderatrice", role="moderator")
    await log_in(client, "moderatrice")
    for title in ("   ", "x" * (forum.config.title_max + 1)):
        refused = await submit(client, f"/t/{thread_id}/title", {"title": title})
        assert refused.status == 422
        assert 'aria-invalid="true"' in await refused.text()
    async with forum.db.read() as conn:
        assert await conn.value("select title from threads where id = ?", (thread_id,)) == LEAK
        assert await conn.value("select count(*) from moderation_log") == 0


async def test_an_author_renames_their_thread_while_it_waits(forum, client):
    metz, newcomer = await forum.board("Metz"), await forum.user("nouvelle", trusted=False)
    await log_in(client, "nouvelle")
    made = await submit(client, f"/b/{metz.slug}/new", {"title": LEAK, "body": "Texte.",
                                                        "action": "publish"})
    assert made.status == 303
    async with forum.db.read() as conn:
        thread_id = await conn.value("select id from threads where author_id = ?",
                                     (newcomer.id,))
    renamed = await submit(client, f"/t/{thread_id}/title", {"title": SAFE})
    assert renamed.status == 303, await renamed.text()
    page = await (await client.get(f"/t/{thread_id}/title")).text()
    assert LEAK not in page  # earlier titles are for moderators


async def test_the_api_renames_for_moderators_only(forum, client):
    _metz, lea, thread_id = await thread_with_deleted_first_post(forum)
    moderator = await forum.user("moderatrice", role="moderator")
    path = f"{V1}/threads/{thread_id}"
    as_author = {"Authorization": f"Bearer {await forum.token(lea)}"}
    as_moderator = {"Authorization": f"Bearer {await forum.token(moderator)}"}
    assert (await client.patch(path, json={"title": SAFE})).status == 401
    assert (await client.patch(path, json={"title": SAFE}, headers=as_author)).status == 403
    assert (await client.patch(path, json={"title": " "}, headers=as_moderator)).status == 422
    assert (await client.patch(path, json={"title": 3}, headers=as_moderator)).status == 422
    assert (await client.patch(f"{V1}/threads/999999", json={"title": SAFE},
                               headers=as_moderator)).status == 404
    renamed = await client.patch(path, json={"title": SAFE, "reason": "nom"},
                                 headers=as_moderator)
    assert renamed.status == 200, await renamed.text()
    assert (await renamed.json())["title"] == SAFE
    shown = await (await client.get(path)).json()
    assert shown["thread"]["title"] == SAFE and LEAK not in str(shown)


# Hiding a thread whose first post is gone ------------------------------------------------------

async def counts(forum, thread_id: int) -> tuple:
    async with forum.db.read() as conn:
        return tuple(await conn.one(
            "select boards.thread_count, boards.post_count,"
            " (select group_concat(post_count) from (select post_count from users order by id)"
            " as counts)"
            " from threads join boards on boards.id = threads.board_id where threads.id = ?",
            (thread_id,)))


async def test_a_moderator_hides_a_thread_whose_first_post_is_deleted_then_shows_it(forum,
                                                                                  client):
    _metz, _lea, thread_id = await thread_with_deleted_first_post(forum)
    await forum.user("moderatrice", role="moderator")
    before = await counts(forum, thread_id)
    reader = await forum.visitor()
    assert LEAK in await (await reader.get("/b/metz")).text()  # cached now
    await log_in(client, "moderatrice")
    hidden = await submit(client, f"/moderation/threads/{thread_id}/state",
                          {"action": "hide", "reason": "nom d'un agent"},
                          form_page=f"/t/{thread_id}")
    assert hidden.status == 303, await hidden.text()
    assert (await reader.get(f"/t/{thread_id}")).status == 404
    assert (await reader.get(f"/t/{thread_id}/feed.atom")).status == 404
    for path in ("/b/metz", "/", "/b/metz/feed.atom", "/feed.atom", "/search?q=réponse"):
        assert LEAK not in await (await reader.get(path)).text(), path
    assert "Une réponse" not in await (await reader.get("/feed.atom")).text()
    page = await (await client.get(f"/t/{thread_id}", headers={"Accept-Language": "en"})).text()
    assert "This thread is hidden" in page and "Show the thread again" in page
    board_threads, board_posts, _authors = await counts(forum, thread_id)
    assert (board_threads, board_posts) == (before[0] - 1, before[1] - 2)
    journal = await (await reader.get("/moderation/journal",
                                      headers={"Accept-Language": "en"})).text()
    assert "hid a thread" in journal and LEAK not in journal
    shown = await submit(client, f"/moderation/threads/{thread_id}/state", {"action": "show"},
                         form_page=f"/t/{thread_id}")
    assert shown.status == 303
    assert await counts(forum, thread_id) == before
    assert LEAK in await (await reader.get("/b/metz")).text()


async def test_showing_never_publishes_a_refused_thread(forum, client):
    metz, lea = await forum.board("Metz"), await forum.user("lea")
    moderator = await forum.user("moderatrice", role="moderator")
    thread_id, _post = await forum.thread(metz, lea, LEAK)
    async with forum.db.transaction() as tx:
        await tx.execute("update threads set status = 'rejected' where id = ?", (thread_id,))
    token = await forum.token(moderator)
    shown = await client.post(f"{V1}/moderation/threads/{thread_id}/show",
                              headers={"Authorization": f"Bearer {token}"})
    assert shown.status == 200 and (await shown.json())["status"] == "rejected"


async def test_the_api_hides_for_the_boards_moderators_only(forum, client):
    _metz, lea, thread_id = await thread_with_deleted_first_post(forum)
    moderator = await forum.user("moderatrice", role="moderator")
    path = f"{V1}/moderation/threads/{thread_id}/hide"
    refused = await client.post(path, headers={"Authorization": f"Bearer {await forum.token(lea)}"})
    assert refused.status == 403
    hidden = await client.post(path, json={"reason": "doxxing"},
                               headers={"Authorization": f"Bearer {await forum.token(moderator)}"})
    assert hidden.status == 200, await hidden.text()
    assert (await hidden.json())["status"] == "rejected"
    assert (await client.get(f"{V1}/threads/{thread_id}")).status == 404
    listed = await (await client.get(f"{V1}/boards/metz/threads")).json()
    assert thread_id not in [thread["id"] for thread in listed["threads"]]


async def test_a_reply_approved_while_hidden_counts_once(forum, client):
    metz, lea = await forum.board("Metz", slug="metz"), await forum.user("lea")
    moderator = await forum.user("moderatrice", role="moderator")
    thread_id, _first = await forum.thread(metz, lea, LEAK)
    waiting = await forum.reply(thread_id, lea, "En attente.")
    async with forum.db.transaction() as tx:
        await tx.execute("update posts set status = 'pending' where id = ?", (waiting,))
        await tx.execute("update boards set post_count = 1")
        await tx.execute("update users set post_count = 1 where id = ?", (lea.id,))
        thread = await threads.get(tx, thread_id)
        await moderation.set_thread_state(tx, thread, moderator, "hide")
        await moderation.approve(tx, await posts.get(tx, waiting), moderator)
        await moderation.set_thread_state(tx, await threads.get(tx, thread_id),
                                          moderator, "show")
    async with forum.db.read() as conn:
        assert await conn.value("select post_count from boards where id = ?", (metz.id,)) == 2
        assert await conn.value("select post_count from users where id = ?", (lea.id,)) == 2

