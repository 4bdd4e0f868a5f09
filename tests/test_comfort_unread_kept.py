"""Unread floors and counts kept across writes (forum/reads.py: KeptUnread): a write elsewhere
asks nothing again, and each write that changes what is new to a member drops exactly what it
changed (one test per kind of write), in this process or another."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from forum import keys
from forum.app import create_app, flush_views
from forum.config import Config
from forum.models import moderation, posts, reads, threads, users
from tests.conftest import log_in, submit
from tests.test_api import call
from tests.test_comfort_unread import _started, board_page, unread_count

pytestmark = pytest.mark.both_stores


async def _one_new_for_lea(forum, client, metz, paul) -> int:
    """A thread of Paul's that Lea opened, then one reply of his: 1 new post for her."""
    thread_id, _ = await forum.thread(metz, paul)
    await log_in(client, "lea")
    await client.get(f"/t/{thread_id}")
    await forum.reply(thread_id, paul)
    assert unread_count(await board_page(client, metz), thread_id) == 1
    return thread_id


async def _lea_and_paul_logged_in(forum, client, metz, paul) -> tuple[int, TestClient]:
    """A thread of Paul's with a reply; Léa logged in on `client`, Paul on the client returned."""
    thread_id, _ = await forum.thread(metz, paul)
    await forum.reply(thread_id, paul)
    await log_in(client, "lea")
    other = await forum.visitor()
    await log_in(other, "paul")
    return thread_id, other


@pytest.fixture
def asked(monkeypatch):
    """The threads each query of unread tracking asked about, in order."""
    found: list[tuple[str, set[int]]] = []
    count_new, stored_floors = reads.count_new, reads.stored_floors

    async def counting(conn, user, floors):
        found.append(("count", set(floors)))
        return await count_new(conn, user, floors)

    async def flooring(conn, user_id, thread_ids):
        found.append(("floors", set(thread_ids)))
        return await stored_floors(conn, user_id, thread_ids)

    monkeypatch.setattr(reads, "count_new", counting)
    monkeypatch.setattr(reads, "stored_floors", flooring)
    return found


async def test_a_write_in_another_thread_asks_nothing_again(forum, client, metz, people,
                                                            asked):
    _lea, paul = people
    here, _ = await forum.thread(metz, paul)
    elsewhere, _ = await forum.thread(metz, paul)
    await log_in(client, "lea")
    await client.get(f"/t/{here}")
    await forum.reply(here, paul, "Nouveau ici.")
    assert unread_count(await board_page(client, metz), here) == 1
    asked.clear()
    await forum.reply(elsewhere, paul, "Ailleurs.")  # drops the board page and the session
    page = await board_page(client, metz)
    assert unread_count(page, here) == 1
    assert asked == [("floors", {elsewhere}), ("count", {elsewhere})]
    asked.clear()
    assert unread_count(await board_page(client, metz), here) == 1
    assert asked == []


async def test_a_new_post_in_the_thread_is_counted_at_once(forum, client, metz, people):
    _lea, paul = people
    thread_id = await _one_new_for_lea(forum, client, metz, paul)
    await forum.reply(thread_id, paul)  # ("thread", id): the count kept goes
    assert unread_count(await board_page(client, metz), thread_id) == 2


async def test_a_decision_on_a_post_changes_what_is_new(forum, client, metz, people):
    _lea, paul = people
    moderator = await forum.user("modo", role="moderator")
    thread_id, _ = await forum.thread(metz, paul)
    await log_in(client, "lea")
    await client.get(f"/t/{thread_id}")
    waiting = await forum.reply(thread_id, paul, "En attente.", status="pending")
    assert unread_count(await board_page(client, metz), thread_id) is None
    async with forum.db.transaction() as tx:
        await moderation.approve(tx, await posts.get(tx, waiting), moderator)
    assert unread_count(await board_page(client, metz), thread_id) == 1
    async with forum.db.transaction() as tx:
        await moderation.delete_post(tx, await posts.get(tx, waiting), moderator, "Non.")
    assert unread_count(await board_page(client, metz), thread_id) is None


async def test_a_written_batch_of_reads_drops_only_its_members_floors(forum, client, metz,
                                                                      people):
    """The batch commits, then leaves memory: the floor read from the table replaces it and
    never steps back; other members' kept floors stay."""
    lea, paul = people
    thread_id, other = await _lea_and_paul_logged_in(forum, client, metz, paul)
    await board_page(other, metz)
    await client.get(f"/t/{thread_id}")
    assert unread_count(await board_page(client, metz), thread_id) is None
    kept = forum.app[keys.UNREAD].floors
    assert kept.get((lea.id, thread_id)) == (0, False)
    await flush_views(forum.app)
    assert kept.get((lea.id, thread_id)) is None
    assert kept.get((paul.id, thread_id)) is not None
    assert len(forum.app[keys.READS]) == 0
    assert unread_count(await board_page(client, metz), thread_id) is None
    assert kept.get((lea.id, thread_id))[1] is True  # opened, from the table


async def test_marking_a_board_read_drops_the_members_floors(forum, client, metz, people):
    thread_id, _paul_client = await _lea_and_paul_logged_in(forum, client, metz, people[1])
    assert f'href="/t/{thread_id}/unread">new</a>' in await board_page(client, metz)
    await submit(client, f"/b/{metz.slug}/read", {}, form_page=f"/b/{metz.slug}")
    page = await board_page(client, metz)
    assert unread_count(page, thread_id) is None and f"/t/{thread_id}/unread" not in page


async def test_marking_everything_read_drops_the_members_floors(forum, client, metz, people):
    lea, paul = people
    thread_id = await _one_new_for_lea(forum, client, metz, paul)
    async with forum.db.transaction() as tx:  # as POST /read and the API do
        await reads.mark_all(tx, lea)
    assert unread_count(await board_page(client, metz), thread_id) is None


async def test_a_thread_moved_into_a_board_read_before_has_nothing_new(forum, client, metz,
                                                                       people):
    lea, paul = people
    moderator = await forum.user("modo", role="moderator")
    nancy = await forum.board("Nancy")
    thread_id, _ = await forum.thread(metz, paul)
    await log_in(client, "lea")
    await client.get(f"/t/{thread_id}")
    await forum.reply(thread_id, paul)
    async with forum.db.transaction() as tx:
        await reads.mark_board(tx, lea, nancy.id)  # everything until now, in Nancy
    assert unread_count(await board_page(client, metz), thread_id) == 1
    async with forum.db.transaction() as tx:
        await moderation.move_thread(tx, await threads.get(tx, thread_id), nancy, moderator)
    assert unread_count(await board_page(client, nancy), thread_id) is None


async def test_a_count_kept_for_a_moderator_is_not_theirs_once_demoted(forum, client, metz,
                                                                       people):
    """Nothing is written about the thread: the role is in the key of what is kept, so a
    pending post counted for a moderator is never counted for the member they become."""
    lea, paul = people
    async with forum.db.transaction() as tx:
        await users.set_role(tx, lea.id, "moderator")
    thread_id, _ = await forum.thread(metz, paul)
    await forum.reply(thread_id, paul, "En attente.", status="pending")
    token = await forum.token(lea)
    path = f"/boards/{metz.slug}/threads"
    assert (await call(client, "GET", path, token))["threads"][0]["unread_posts"] == 2
    async with forum.db.transaction() as tx:
        await users.set_role(tx, lea.id, "member")
    assert (await call(client, "GET", path, token))["threads"][0]["unread_posts"] == 1


async def test_another_process_s_written_reads_drop_the_floors_kept_here(forum, config, client,
                                                                         metz, people):
    lea, paul = people
    thread_id, _ = await forum.thread(metz, paul)
    last = await forum.reply(thread_id, paul)
    await log_in(client, "lea")
    assert f'href="/t/{thread_id}/unread">new</a>' in await board_page(client, metz)
    other = create_app(Config.from_env(env={}, data_dir=config.data_dir,
                                       database_url=config.database_url))
    told = asyncio.Event()
    forum.db.after_commit.append(lambda tags: ("reads", lea.id) in tags and told.set())
    async with _started(other):
        other[keys.READS].seen(lea.id, thread_id, last)  # she read it there
        await flush_views(other)
        if config.database_url:  # its tags come as a notification, just after its commit
            async with asyncio.timeout(10):  # a bound, not a measure
                await told.wait()
    # SQLite: db.catch_up() first, its tags drop the floors.
    page = await board_page(client, metz)
    assert f"/t/{thread_id}/unread" not in page
