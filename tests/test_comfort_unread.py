"""Unread tracking (issue 16): counts on boards and the home page, the jump to the first new
post and its marker, marking as read; reads kept in memory and written in batches (max(), each
process its own); only posts the reader may see count; kept pages never carry one member's
state to another."""
from __future__ import annotations

import dataclasses
import re

import pytest

from forum import account_export, fragments, keys
from forum.app import create_app, flush_views
from forum.config import Config
from forum.models import leaving, moderation, posts, reads, threads
from forum.reads import ReadLog
from tests.conftest import log_in, submit
from tests.test_api import call, error_of

pytestmark = pytest.mark.both_stores

EN = {"Accept-Language": "en"}


def unread_count(page: str, thread_id: int) -> int | None:
    """The count of new posts the board page shows for a thread (None: none shown)."""
    found = re.search(rf'href="/t/{thread_id}/unread">(\d+) new message', page)
    return int(found.group(1)) if found else None


async def board_page(client, board) -> str:
    return await (await client.get(f"/b/{board.slug}", headers=EN)).text()


async def read_by_lea(forum, client, metz, paul) -> tuple[int, int]:
    """Paul starts a thread in Metz; Lea, logged in on `client`, opens it (all read so far):
    (the thread's id, its first post's id)."""
    thread_id, first = await forum.thread(metz, paul)
    await log_in(client, "lea")
    await client.get(f"/t/{thread_id}")
    return thread_id, first


async def test_a_member_sees_new_posts_counted_and_lands_on_the_marker(forum, client, metz,
                                                                       people):
    _lea, paul = people
    thread_id, _ = await forum.thread(metz, paul, "Caméras place Stanislas")
    await log_in(client, "lea")
    page = await board_page(client, metz)
    assert f'href="/t/{thread_id}/unread">new</a>' in page  # never opened: "new"
    await client.get(f"/t/{thread_id}")
    assert unread_count(await board_page(client, metz), thread_id) is None
    first_new = await forum.reply(thread_id, paul, "Deux de plus.")
    await forum.reply(thread_id, paul, "Et une troisième.")
    assert unread_count(await board_page(client, metz), thread_id) == 2
    jump = await client.get(f"/t/{thread_id}/unread", allow_redirects=False)
    assert jump.status == 302 and jump.headers["Location"] == f"/t/{thread_id}#unread"
    page = await (await client.get(f"/t/{thread_id}", headers=EN)).text()
    marker = page.index('id="unread"')
    assert "New messages" in page
    assert page.index('id="p') < marker < page.index(f'id="p{first_new}"')
    # Read now: the marker and the count are gone.
    page = await (await client.get(f"/t/{thread_id}", headers=EN)).text()
    assert 'id="unread"' not in page
    assert unread_count(await board_page(client, metz), thread_id) is None


async def test_own_posts_are_never_new(forum, client, metz, people):
    lea, paul = people
    thread_id, _ = await read_by_lea(forum, client, metz, paul)
    await forum.reply(thread_id, lea, "Ma réponse.")
    assert unread_count(await board_page(client, metz), thread_id) is None


async def test_the_jump_goes_to_the_page_of_the_first_new_post(forum, client, metz, people):
    _lea, paul = people
    per_page = forum.config.posts_per_page
    thread_id, _ = await forum.thread(metz, paul)
    for n in range(per_page):
        await forum.reply(thread_id, paul, f"Message {n}.")
    await log_in(client, "lea")
    await client.get(f"/t/{thread_id}")  # page 1 read: its last post is the floor
    first_new = await forum.reply(thread_id, paul, "Nouveau.")
    jump = await client.get(f"/t/{thread_id}/unread", allow_redirects=False)
    assert jump.headers["Location"] == f"/t/{thread_id}?page=2#unread"
    page = await (await client.get(jump.headers["Location"].split("#")[0])).text()
    assert page.index('id="unread"') < page.index(f'id="p{first_new}"')
    # Nothing new: the last page (the same here), no marker.
    jump = await client.get(f"/t/{thread_id}/unread", allow_redirects=False)
    assert jump.headers["Location"] == f"/t/{thread_id}?page=2"


async def test_mark_the_city_and_everything_as_read(forum, client, metz, people):
    lea, paul = people
    nancy = await forum.board("Nancy")
    in_metz, _ = await forum.thread(metz, paul)
    in_nancy, _ = await forum.thread(nancy, paul)
    await log_in(client, "lea")
    for thread_id in (in_metz, in_nancy):
        await client.get(f"/t/{thread_id}")
        await forum.reply(thread_id, paul, "Du nouveau.")
    home = await (await client.get("/", headers=EN)).text()
    assert home.count("1 thread with new messages") == 2
    response = await submit(client, f"/b/{metz.slug}/read", {}, form_page=f"/b/{metz.slug}")
    assert response.status == 303 and response.headers["Location"] == f"/b/{metz.slug}"
    assert unread_count(await board_page(client, metz), in_metz) is None
    assert unread_count(await board_page(client, nancy), in_nancy) == 1
    later = await forum.reply(in_metz, paul, "Après la marque.")
    assert unread_count(await board_page(client, metz), in_metz) == 1
    response = await submit(client, "/read", {}, form_page="/")
    assert response.status == 303
    home = await (await client.get("/", headers=EN)).text()
    assert "with new messages" not in home
    assert unread_count(await board_page(client, nancy), in_nancy) is None
    async with forum.db.read() as conn:
        assert await conn.value("select read_before from board_reads where user_id = ?"
                                " and board_id = ?", (lea.id, metz.id)) >= later


async def test_marking_as_read_needs_a_token_and_a_member(forum, client, metz, people):
    assert (await client.post(f"/b/{metz.slug}/read", allow_redirects=False)).status == 403
    visitor = await forum.visitor()
    response = await submit(visitor, f"/b/{metz.slug}/read", {}, form_page="/login")
    assert response.status == 401
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from board_reads") == 0


async def test_visitors_see_nothing_of_it(forum, client, metz, people):
    _lea, paul = people
    thread_id, _ = await forum.thread(metz, paul)
    await forum.reply(thread_id, paul, "Réponse.")
    page = await board_page(client, metz)
    assert "/unread" not in page and "mark-read" not in page and "keyed-" not in page
    home = await (await client.get("/", headers=EN)).text()
    assert "new messages" not in home and "mark-read" not in home
    jump = await client.get(f"/t/{thread_id}/unread", allow_redirects=False)
    assert jump.status == 302 and jump.headers["Location"] == f"/t/{thread_id}"


async def test_pending_and_refused_posts_count_only_for_who_may_see_them(forum, client, metz,
                                                                         people):
    _lea, paul = people
    moderator = await forum.user("modo", role="moderator")
    thread_id, _ = await read_by_lea(forum, client, metz, paul)
    modo = await forum.visitor()
    await log_in(modo, "modo")
    await modo.get(f"/t/{thread_id}")
    async with forum.db.transaction() as tx:
        waiting = await posts.create(tx, thread_id, metz.id, paul, "En attente.",
                                     forum.config.body_max, status="pending")
        deleted = await posts.create(tx, thread_id, metz.id, paul, "Supprimé.",
                                     forum.config.body_max)
        await moderation.delete_post(tx, await posts.get(tx, deleted), moderator, "Non.")
    assert unread_count(await board_page(client, metz), thread_id) is None
    jump = await client.get(f"/t/{thread_id}/unread", allow_redirects=False)
    assert "#unread" not in jump.headers["Location"]
    assert unread_count(await board_page(modo, metz), thread_id) == 1  # the pending one
    page = await (await modo.get(f"/t/{thread_id}")).text()
    assert page.index('id="unread"') < page.index(f'id="p{waiting}"')


async def test_the_kept_page_never_carries_one_members_state_to_another(forum, client, metz,
                                                                        people):
    """Léa and Paul share the board's and the thread's kept pages (same class): each sees
    their own counts and marker, in either order, from the same kept page."""
    _lea, _paul = people
    author = await forum.user("auteur")
    thread_id, _ = await forum.thread(metz, author)
    await log_in(client, "lea")
    other = await forum.visitor()
    await log_in(other, "paul")
    await client.get(f"/t/{thread_id}")
    reply = await forum.reply(thread_id, author, "Nouveau pour Léa.")
    for _ in range(2):  # the second round from the kept pages
        assert unread_count(await board_page(client, metz), thread_id) == 1
        assert f'href="/t/{thread_id}/unread">new</a>' in await board_page(other, metz)
    kept = forum.app[keys.PAGE_CACHE]
    assert any(key[0] == "reader" for key in kept._entries)
    page = await (await other.get(f"/t/{thread_id}")).text()
    assert 'id="unread"' not in page  # Paul never opened it: no marker
    page = await (await client.get(f"/t/{thread_id}")).text()
    assert page.index('id="unread"') < page.index(f'id="p{reply}"')
    page = await (await other.get(f"/t/{thread_id}")).text()
    assert 'id="unread"' not in page
    assert unread_count(await board_page(other, metz), thread_id) is None
    assert unread_count(await board_page(client, metz), thread_id) is None


# Batching ---------------------------------------------------------------------------------------

async def test_reads_are_written_in_batches_never_on_the_read_path(forum, client, metz, people):
    lea, paul = people
    thread_id, first = await read_by_lea(forum, client, metz, paul)
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from thread_reads") == 0
    assert forum.app[keys.READS].of(lea.id) == {thread_id: first}
    await flush_views(forum.app)
    async with forum.db.read() as conn:
        assert await conn.value("select last_read_post_id from thread_reads"
                                " where user_id = ? and thread_id = ?",
                                (lea.id, thread_id)) == first
    assert len(forum.app[keys.READS]) == 0
    await forum.reply(thread_id, paul)
    assert unread_count(await board_page(client, metz), thread_id) == 1  # from the table


async def test_a_batch_never_takes_a_mark_back(forum, metz, people):
    """Two processes flush in any order: the highest mark stays."""
    lea, paul = people
    thread_id, first = await forum.thread(metz, paul)
    later = await forum.reply(thread_id, paul)
    async with forum.db.transaction() as tx:
        await reads.record(tx, {(lea.id, thread_id): later})
    async with forum.db.transaction() as tx:
        await reads.record(tx, {(lea.id, thread_id): first})
    async with forum.db.read() as conn:
        assert (await reads.stored_floors(conn, lea.id, [thread_id]))[thread_id] == (later, True)


async def test_each_process_flushes_its_own_reads(forum, config, metz, people):
    """A second app on the same database (another worker): both write, max() merges."""
    lea, paul = people
    thread_id, first = await forum.thread(metz, paul)
    later = await forum.reply(thread_id, paul)
    other = create_app(Config.from_env(env={}, data_dir=config.data_dir,
                                       database_url=config.database_url))
    async with _started(other):
        other[keys.READS].seen(lea.id, thread_id, later)
        forum.app[keys.READS].seen(lea.id, thread_id, first)
        await flush_views(other)
        await flush_views(forum.app)
    async with forum.db.read() as conn:
        assert (await reads.stored_floors(conn, lea.id, [thread_id]))[thread_id][0] == later


async def test_a_read_noted_during_a_flush_stays_for_the_next_one(forum, metz, people):
    lea, _paul = people
    log = ReadLog()
    log.seen(lea.id, 1, 5)
    batch = log.batch()
    log.seen(lea.id, 1, 9)  # while the batch is being written
    log.seen(lea.id, 2, 3)
    log.seen(lea.id, 2, 1)  # lower: ignored
    log.forget(batch)
    assert log.of(lea.id) == {1: 9, 2: 3}
    log.forget(log.batch())
    assert len(log) == 0


class _started:
    """An app's start-up and clean-up (its database, maintenance tasks) without a server."""

    def __init__(self, app):
        from aiohttp.test_utils import TestServer
        self.server = TestServer(app)

    async def __aenter__(self):
        await self.server.start_server()

    async def __aexit__(self, *exc):
        await self.server.close()


# API ------------------------------------------------------------------------------------------

async def test_the_api_lists_unread_counts_and_marks_read(forum, client, metz, people):
    lea, paul = people
    thread_id, first = await forum.thread(metz, paul)
    second = await forum.reply(thread_id, paul)
    await forum.reply(thread_id, paul)
    token = await forum.token(lea)
    path = f"/boards/{metz.slug}/threads"
    listed = (await call(client, "GET", path, token))["threads"][0]
    assert (listed["unread_posts"], listed["new"]) == (3, True)
    assert "unread_posts" not in (await call(client, "GET", path))["threads"][0]  # visitors
    await call(client, "POST", f"/threads/{thread_id}/read", token, 204,
               json={"post_id": second})
    listed = (await call(client, "GET", path, token))["threads"][0]
    assert (listed["unread_posts"], listed["new"]) == (1, False)
    await call(client, "POST", f"/threads/{thread_id}/read", token, 204,
               json={"post_id": first})  # never back
    assert (await call(client, "GET", path, token))["threads"][0]["unread_posts"] == 1
    await call(client, "POST", f"/boards/{metz.slug}/read", token, 204)
    assert (await call(client, "GET", path, token))["threads"][0]["unread_posts"] == 0
    await forum.reply(thread_id, paul)
    await call(client, "POST", "/read", token, 204, json={})
    assert (await call(client, "GET", path, token))["threads"][0]["unread_posts"] == 0


async def test_the_api_refuses_what_it_should(forum, client, metz, people):
    lea, paul = people
    thread_id, _ = await forum.thread(metz, paul)
    token = await forum.token(lea)
    await call(client, "POST", "/read", None, 401)
    error = await call(client, "POST", f"/threads/{thread_id}/read", token, 422,
                       json={"post_id": "x"})
    assert error_of(error)["field"] == "post_id"
    await call(client, "POST", "/read", token, 422, json={"everything": True})
    await call(client, "POST", f"/boards/{metz.slug}/read", token, 400, data=b"[1]",
               headers={"Content-Type": "application/json"})
    async with forum.db.transaction() as tx:
        hidden, _ = await threads.create(tx, metz, paul, "En attente", "Texte.", 150, 20_000,
                                         status="pending")
    await call(client, "POST", f"/threads/{hidden}/read", token, 404)
    await call(client, "POST", "/boards/nowhere/read", token, 404)



async def test_tracking_can_be_left_out(forum, app, client, metz, people):
    """FORUM_UNREAD_TRACKING=0: no count, marker, form or note of reads (the bench compares)."""
    lea, paul = people
    app[keys.CONFIG] = dataclasses.replace(app[keys.CONFIG], unread_tracking=False)
    thread_id, _ = await read_by_lea(forum, client, metz, paul)
    await forum.reply(thread_id, paul)
    page = await board_page(client, metz)
    assert "/unread" not in page and "mark-read" not in page
    assert 'id="unread"' not in await (await client.get(f"/t/{thread_id}")).text()
    assert len(app[keys.READS]) == 0
    token = await forum.token(lea)
    listed = (await call(client, "GET", f"/boards/{metz.slug}/threads", token))["threads"]
    assert "unread_posts" not in listed[0]


async def test_reads_are_ones_own_data_exported_and_erased_on_leaving(forum, metz, people):
    lea, paul = people
    thread_id, first = await forum.thread(metz, paul)
    async with forum.db.transaction() as tx:
        await reads.record(tx, {(lea.id, thread_id): first})
        await reads.mark_board(tx, lea, metz.id)
    async with forum.db.read() as conn:
        data = await account_export.gather(conn, lea.id)
    assert data["reads"] == {"threads": [{"thread_id": thread_id, "last_read_post_id": first}],
                             "boards": [{"board_id": metz.id, "read_before": first}]}
    async with forum.db.transaction() as tx:
        await leaving.leave(tx, lea, erase_posts=False, retire_days=0)
    async with forum.db.read() as conn:
        for table in ("thread_reads", "board_reads"):
            assert await conn.value(f"select count(*) from {table}") == 0, table


def test_a_kept_page_puts_each_readers_item_bits_in_their_places():
    """Places of keyed bits (fragments.keyed_slot) cost nothing when empty, several may share
    a text, and the validator changes with where a marker goes."""
    slot = fragments.keyed_slot
    body = (f"<main>{fragments.CSRF_MARK}<div>{slot('before', 1)}<p>un</p>{slot('before', 2)}"
            f"<p>deux</p>{slot('before', 3)}<p>trois</p></div>é</main>")
    kept = fragments.ReaderPage.of(body, frozenset(), 7)
    assert kept.keyed_ids("before") == [1, 2, 3] and kept.keyed_ids("unread") == []
    plain, plain_etag = kept.assemble({"csrf": "T"})
    assert plain.decode() == "<main>T<div><p>un</p><p>deux</p><p>trois</p></div>é</main>"
    page, etag = kept.assemble({"csrf": "T", "before:2": "<hr>", "before:3": "<br>",
                                "before:9": "<b>"})
    assert page.decode() == ("<main>T<div><p>un</p><hr><p>deux</p><br><p>trois</p></div>"
                             "é</main>")
    _, elsewhere = kept.assemble({"csrf": "T", "before:3": "<hr>"})
    assert len({plain_etag, etag, elsewhere}) == 3


async def test_the_home_page_counts_visible_news_among_the_latest_threads(forum, client, metz,
                                                                          people, monkeypatch):
    _lea, paul = people
    older, _ = await forum.thread(metz, paul)
    newer, _ = await forum.thread(metz, paul)
    await log_in(client, "lea")
    for thread_id in (older, newer):
        await client.get(f"/t/{thread_id}")
    async with forum.db.transaction() as tx:
        await posts.create(tx, older, metz.id, paul, "En attente.", forum.config.body_max,
                           status="pending")
    home = await (await client.get("/", headers=EN)).text()
    assert "with new messages" not in home  # a pending post is news to nobody but moderators
    await forum.reply(older, paul)
    await forum.reply(newer, paul)
    home = await (await client.get("/", headers=EN)).text()
    assert "2 threads with new messages" in home
    monkeypatch.setattr(reads, "ACTIVE_MAX", 1)
    await forum.reply(newer, paul)  # (a write: what the session kept is dropped)
    home = await (await client.get("/", headers=EN)).text()
    assert "1 thread with new messages" in home


async def test_an_earlier_page_links_to_the_first_new_post(forum, client, metz, people):
    _lea, paul = people
    thread_id, _ = await forum.thread(metz, paul)
    for n in range(forum.config.posts_per_page):
        await forum.reply(thread_id, paul, f"Message {n}.")
    await log_in(client, "lea")
    await client.get(f"/t/{thread_id}?page=2")  # read to the end
    await forum.reply(thread_id, paul, "Nouveau.")
    page = await (await client.get(f"/t/{thread_id}", headers=EN)).text()
    assert f'<a href="/t/{thread_id}/unread">New messages further on</a>' in page
    assert 'id="unread"' not in page
    page = await (await client.get(f"/t/{thread_id}?page=2", headers=EN)).text()
    assert 'id="unread"' in page and "further on" not in page
