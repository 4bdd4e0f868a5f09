"""Every page a visitor shares from the page cache is dropped by every write that changes what
it shows: generated as page × change, each loaded (and cached) before the change, reloaded after.

The world: two cities; in Metz a thread whose replies are the sources of two findings (one
cites a message, one a file attached to a message), a pending reply, and a moderator's action
in the journal. Each change says, per page, the text that must be gone and the text that must
appear; a page is named only where it showed (or must show) that text.
"""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from forum import keys
from forum.app import open_database
from forum.models import boards, findings, moderation, posts, threads, uploads, users
from tests.conftest import Forum, log_in, submit

pytestmark = pytest.mark.both_stores

TITLE = "Sujet-TITRE-TEMOIN"
BODY = "Relevé CORPS-TEMOIN : 35 caméras"
FILE = "rapport-FICHIER-TEMOIN.pdf"
PENDING = "Réponse ATTENTE-TEMOIN"
NEW_TITLE = "Sujet-NOUVEAU-TITRE"
NEW_CITY = "Lorraine-Centre-RENOMMEE"


@dataclass
class World:
    metz: boards.Board
    nancy: boards.Board
    thread_id: int
    cited_post: int  # the source of the cameras finding
    file_post: int  # carries FILE, the source of the drones finding
    pending_post: int
    upload_id: int
    cameras: int  # finding ids
    drones: int


async def build(forum: Forum) -> World:
    metz = await forum.board("Metz")
    nancy = await forum.board("Nancy")
    lea = await forum.user("lea")
    karim = await forum.user("karim", trusted=False)
    mod = await forum.user("vigile", role="moderator")
    thread_id, _ = await forum.thread(metz, lea, title=TITLE)
    cited = await forum.reply(thread_id, lea, BODY)
    file_post = await forum.reply(thread_id, lea, "Le rapport est joint.")
    async with forum.db.transaction() as tx:
        upload = await uploads.insert(tx, lea.id, "a" * 64, FILE, "pdf", "application/pdf",
                                      1234, None, None, None, [])
        await uploads.attach(tx, file_post, lea.id, [upload.id], 5, 10**8)
        pending = await posts.create(tx, thread_id, metz.id, karim, PENDING,
                                     forum.config.body_max, status="pending")
        thread = await threads.get(tx, thread_id)
        await moderation.set_thread_state(tx, thread, mod, "pin", "Fil de référence")
    cameras = await forum.finding(metz, lea, post_id=cited)
    drones = await forum.finding(metz, lea, kind="drones", quantity="3", posts=[],
                                 files=[upload.id], links=[])
    return World(metz, nancy, thread_id, cited, file_post, pending, upload.id, cameras, drones)


# The pages a visitor shares, by family. ---------------------------------------------------------

PAGES: dict[str, Callable[[World], str]] = {
    "home": lambda w: "/",
    "board": lambda w: "/b/metz",
    "thread": lambda w: f"/t/{w.thread_id}",
    "site feed": lambda w: "/feed.atom",
    "board feed": lambda w: "/b/metz/feed.atom",
    "thread feed": lambda w: f"/t/{w.thread_id}/feed.atom",
    "journal": lambda w: "/moderation/journal",
    "journal feed": lambda w: "/moderation/journal.atom",
    "finding (message)": lambda w: f"/f/{w.cameras}",
    "finding (file)": lambda w: f"/f/{w.drones}",
    "city watch": lambda w: "/b/metz/watch",
    "national watch": lambda w: "/watch",
    "compare": lambda w: "/watch/compare?a=metz&b=nancy",
    "city csv": lambda w: "/b/metz/watch/findings.csv",
    "city json": lambda w: "/b/metz/watch/findings.json",
    "national json": lambda w: "/watch/findings.json",
    "city findings feed": lambda w: "/b/metz/watch/feed.atom",
    "national findings feed": lambda w: "/watch/feed.atom",
}
# The watch family: every page and open-data file built from the findings.
WATCH_PAGES = ("city watch", "national watch", "compare", "city csv", "city json",
               "national json", "city findings feed", "national findings feed")


def cited_url(w: World) -> str:
    return f"/p/{w.cited_post}"


def finding_url(w: World) -> str:
    return f"/f/{w.cameras}"


# The changes, and per page what must be gone (-) or appear (+). ---------------------------------

Marker = Callable[[World], str]
Expect = tuple[tuple[Marker, ...], tuple[Marker, ...]]  # (gone, appear)


def gone(*markers: str | Marker) -> Expect:
    return tuple(_marker(m) for m in markers), ()


def shown(*markers: str | Marker) -> Expect:
    return (), tuple(_marker(m) for m in markers)


def _marker(marker: str | Marker) -> Marker:
    return marker if callable(marker) else (lambda w, text=marker: text)


async def author_deletes_sources(forum: Forum, w: World) -> None:
    async with forum.db.transaction() as tx:
        author = await users.get_by_name(tx, "lea")
        for post_id in (w.cited_post, w.file_post):
            await moderation.delete_as(tx, post_id, author, "")


async def moderator_deletes_sources(forum: Forum, w: World) -> None:
    async with forum.db.transaction() as tx:
        mod = await users.get_by_name(tx, "vigile")
        for post_id in (w.cited_post, w.file_post):
            await moderation.delete_as(tx, post_id, mod, "Nom d'un agent", private=True)


async def flags_hide_sources(forum: Forum, w: World) -> None:
    flaggers = [await forum.user() for _ in range(forum.config.flags_to_hide)]
    for post_id in (w.cited_post, w.file_post):
        for member in flaggers:
            async with forum.db.transaction() as tx:
                post = await posts.get(tx, post_id)
                await moderation.flag(tx, post, member, "Données personnelles",
                                      forum.config.flags_to_hide, forum.config.trust_threshold)


async def author_removes_the_file(forum: Forum, w: World) -> None:
    """As a browser does: the edit form sent without the file's box ticked."""
    editor = await forum.visitor()
    await log_in(editor, "lea")
    response = await submit(editor, f"/p/{w.file_post}/edit",
                            {"body": "Le rapport est retiré.", "attachments_shown": "1"})
    assert response.status == 303, await response.text()
    async with forum.db.read() as conn:
        assert await uploads.post_of(conn, w.upload_id) is None


async def thread_renamed(forum: Forum, w: World) -> None:
    """A title changed as any write on a thread must: with the thread's own tags."""
    async with forum.db.transaction() as tx:
        await tx.execute("update threads set title = ? where id = ?", (NEW_TITLE, w.thread_id))
        posts.changed(tx, w.thread_id, w.metz.id)


async def thread_moved(forum: Forum, w: World) -> None:
    async with forum.db.transaction() as tx:
        mod = await users.get_by_name(tx, "vigile")
        await moderation.move_thread(tx, await threads.get(tx, w.thread_id), w.nancy, mod)


async def board_renamed(forum: Forum, w: World) -> None:
    async with forum.db.transaction() as tx:
        await boards.update(tx, w.metz, NEW_CITY, "metz")


async def finding_deleted(forum: Forum, w: World) -> None:
    async with forum.db.transaction() as tx:
        mod = await users.get_by_name(tx, "vigile")
        await findings.delete(tx, await findings.get(tx, w.cameras), mod, "Doublon")


async def pending_reply_approved(forum: Forum, w: World) -> None:
    async with forum.db.transaction() as tx:
        mod = await users.get_by_name(tx, "vigile")
        await moderation.approve(tx, await posts.get(tx, w.pending_post), mod)


# What a source's post shows, wherever it is shown (the CSV has only the sources' addresses).
SOURCES_GONE = {
    "thread": gone(BODY, FILE), "thread feed": gone(BODY), "board feed": gone(BODY),
    "site feed": gone(BODY),
    "finding (message)": gone(TITLE, cited_url), "finding (file)": gone(FILE),
    **{page: gone(TITLE, cited_url, FILE) for page in (
        "city watch", "compare", "city json", "national json", "city findings feed",
        "national findings feed")},
    "city csv": gone(cited_url, FILE),
}
SHOWING_TITLE = ("board", "thread", "site feed", "board feed", "thread feed",
                 "finding (message)", "finding (file)", "city watch", "compare", "city json",
                 "national json", "city findings feed", "national findings feed")
SHOWING_FILE = ("thread", "finding (file)", "city watch", "compare", "city csv", "city json",
                "national json", "city findings feed", "national findings feed")
SHOWING_CITY = ("home", "board", "thread", "board feed", "journal", "journal feed",
                "finding (message)", "finding (file)", *WATCH_PAGES)

CHANGES: dict[str, tuple[Callable[[Forum, World], Awaitable[None]], dict[str, Expect]]] = {
    "author deletes the sources": (author_deletes_sources, SOURCES_GONE),
    "moderator deletes the sources": (moderator_deletes_sources, SOURCES_GONE),
    "flags hide the sources": (flags_hide_sources, SOURCES_GONE),
    "author removes the cited file": (author_removes_the_file,
                                      {page: gone(FILE) for page in SHOWING_FILE}),
    "thread renamed": (thread_renamed, {page: gone(TITLE) for page in SHOWING_TITLE}),
    "thread moved to another city": (thread_moved, {
        "board": gone(TITLE), "board feed": gone(TITLE), "thread": shown("Nancy")}),
    "board renamed": (board_renamed, {page: shown(NEW_CITY) for page in SHOWING_CITY}),
    "finding deleted": (finding_deleted, {
        page: gone(finding_url) for page in ("thread", *WATCH_PAGES)}),
    "pending reply approved": (pending_reply_approved, {
        page: shown(PENDING) for page in ("thread", "thread feed", "board feed",
                                          "site feed")}),
}

CASES = [(change, page) for change, (_, pages) in CHANGES.items() for page in pages]


@pytest.mark.parametrize(("change", "page"), CASES, ids=[f"{c}-{p}" for c, p in CASES])
async def test_a_cached_page_follows_the_change(forum, client, change, page):
    world = await build(forum)
    action, expected = CHANGES[change]
    must_go, must_appear = ((m(world) for m in ms) for ms in expected[page])
    must_go, must_appear = list(must_go), list(must_appear)
    path = PAGES[page](world)
    reader = await forum.visitor()
    before = await reader.get(path)
    text = await before.text()
    assert before.status == 200, text
    for marker in must_go:
        assert marker in text, f"{page} should show {marker!r} before the change"
    for marker in must_appear:
        assert marker not in text, f"{page} shows {marker!r} already"
    cached = forum.app[keys.PAGE_CACHE].get((path, forum.config.default_locale))
    assert cached is not None, f"{path} is not cached for visitors"

    await action(forum, world)

    after = await reader.get(path)
    text = await after.text()
    assert after.status == 200, text
    for marker in must_go:
        assert marker not in text, f"{page} still shows {marker!r} after: {change}"
    for marker in must_appear:
        assert marker in text, f"{page} does not show {marker!r} after: {change}"


async def test_every_cached_page_family_is_covered(forum, client):
    """Each page of PAGES is cached for visitors and checked by at least one change."""
    world = await build(forum)
    reader = await forum.visitor()
    for page, path in PAGES.items():
        response = await reader.get(path(world))
        assert response.status == 200, page
        assert forum.app[keys.PAGE_CACHE].get((path(world), forum.config.default_locale))
    assert {page for _, page in CASES} == set(PAGES)


@pytest.mark.sqlite_only(reason="a write by hand noticed through SQLite's data_version; on "
                         "PostgreSQL only writes through forum.db notify the servers")
async def test_a_write_outside_forum_db_drops_the_cached_pages(forum, client):
    """sqlite3 by hand while the site runs: no invalidations row names the pages, so the next
    request drops them all (it notices the commit through data_version)."""
    world = await build(forum)
    reader = await forum.visitor()
    pages = ("/", "/b/metz", f"/t/{world.thread_id}", "/b/metz/watch", "/watch")
    for path in pages:
        assert NEW_CITY not in await (await reader.get(path)).text()
    with sqlite3.connect(forum.config.db_path) as other:  # outside forum.db
        other.execute("update boards set name = ? where slug = 'metz'", (NEW_CITY,))
    for path in pages:
        assert NEW_CITY in await (await reader.get(path)).text(), path


async def test_a_wal_restarted_by_a_checkpoint_drops_nothing(forum, client):
    """A WAL restarted with no commit (a writer does so after a full checkpoint, every few
    megabytes, before its commit; a truncating checkpoint here) changes SQLite's data_version:
    nothing kept is dropped for it (everything was, at every restart: under steady writes the
    caches emptied a few times a minute). The commit that follows still counts."""
    world = await build(forum)
    reader = await forum.visitor()
    key = (f"/t/{world.thread_id}", forum.config.default_locale)
    await reader.get(key[0])
    forum.db.catch_up()
    with sqlite3.connect(forum.config.db_path) as other:
        busy, _frames, _done = other.execute("pragma wal_checkpoint(truncate)").fetchone()
    assert busy == 0
    forum.db.catch_up()
    assert forum.app[keys.PAGE_CACHE].get(key) is not None
    async with forum.db.read() as conn:
        lea = await users.get_by_name(conn, "lea")
    await forum.reply(world.thread_id, lea, "APRES-REDEMARRAGE du journal.")
    assert "APRES-REDEMARRAGE" in await (await reader.get(key[0])).text()


async def test_another_process_drops_exactly_the_pages_its_write_names(forum, client):
    """`vigie board rename` (or another worker) through its own Database: its tags reach this
    process, and only those pages go. SQLite: through the invalidations table, at the very next
    request. PostgreSQL: through a notification, which comes on its own just after the commit."""
    world = await build(forum)
    reader = await forum.visitor()
    page_cache = forum.app[keys.PAGE_CACHE]
    for path in (f"/t/{world.thread_id}", "/b/metz/watch", "/watch", "/b/nancy"):
        await reader.get(path)
    other = await open_database(forum.config, readers=1)  # as the CLI opens it
    try:
        async with other.transaction() as tx:
            lea = await users.get_by_name(tx, "lea")
            thread = await threads.get(tx, world.thread_id)
            await posts.create(tx, thread.id, thread.board_id, lea, "Relevé AUTRE-PROCESSUS",
                               forum.config.body_max)
    finally:
        await other.close()
    if forum.config.database_url:
        async with asyncio.timeout(10):  # a bound, not a measure: it comes at once
            while page_cache.get(("/b/metz/watch", forum.config.default_locale)) is not None:
                await asyncio.sleep(0.01)
    assert "AUTRE-PROCESSUS" in await (await reader.get(f"/t/{world.thread_id}")).text()
    assert page_cache.get(("/b/metz/watch", forum.config.default_locale)) is None  # cites it
    assert page_cache.get(("/watch", forum.config.default_locale)) is not None
    assert page_cache.get(("/b/nancy", forum.config.default_locale)) is not None


async def test_our_own_writes_are_not_applied_twice(forum, client):
    """This process's rows in the invalidations table are skipped when it catches up: a page
    rendered after our write is not dropped by our own row."""
    world = await build(forum)
    reader = await forum.visitor()
    async with forum.db.read() as conn:
        lea = await users.get_by_name(conn, "lea")
    await forum.reply(world.thread_id, lea, "Encore un relevé.")
    await reader.get(f"/t/{world.thread_id}")
    key = (f"/t/{world.thread_id}", forum.config.default_locale)
    assert forum.app[keys.PAGE_CACHE].get(key) is not None
    forum.db.catch_up()
    assert forum.app[keys.PAGE_CACHE].get(key) is not None


async def test_a_cited_file_taken_off_its_post_does_not_stop_the_purge(forum, client):
    """The purge of unattached files skips one a finding still cites (its row is referenced)
    and removes the others, instead of failing whole on the foreign key."""
    world = await build(forum)
    await author_removes_the_file(forum, world)
    async with forum.db.transaction() as tx:
        lone = await uploads.insert(tx, 1, "c" * 64, "brouillon.pdf", "pdf", "application/pdf",
                                    10, None, None, None, [])
        await tx.execute("update uploads set created_at = '2000-01-01T00:00:00.000Z'")
    assert await forum.app[keys.UPLOADER].purge(forum.db) == 1
    async with forum.db.read() as conn:
        assert (await uploads.get(conn, world.upload_id)).filename == FILE
        assert await conn.value("select 1 from uploads where id = ?", (lone.id,)) is None
