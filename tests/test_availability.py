"""No input can stall the site; storage faults answer 503 and never wedge the writer.

Hostile inputs are checked here for their answers and for the cheap bound that refuses them
before any costly work; how fast they come back is measured in bench/hostile.py.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import os
import re
import signal
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from markupsafe import escape

from forum import db as db_module
from forum import markdown, priority
from forum.db import Database
from forum.db_postgresql import PostgresDatabase
from forum.error_pages import HTTP_MESSAGES, storage_fault
from forum.errors import TooSlow
from forum.i18n import CATALOGS
from forum.models import boards, finding_drafts, posts, search
from forum.models.finding_drafts import NOT_A_NUMBER, NUMBER_TEXT_MAX
from forum.uploads.storage import Store
from tests.conftest import log_in, submit, table_names
from tests.test_api import call, error_of
from tests.test_finding_pages import finding_form, finding_rows, send
from tests.test_uploads import leftovers, upload

pytestmark = pytest.mark.both_stores

HOSTILE_LENGTH = 40_000
DIGITS = "1" * HOSTILE_LENGTH + "x"  # the input that made the old pattern backtrack for 11 s


class GuardedPattern:
    """A compiled pattern that fails the test if an input longer than `limit` reaches it."""

    def __init__(self, pattern: re.Pattern[str], limit: int = NUMBER_TEXT_MAX) -> None:
        self.pattern, self.limit = pattern, limit

    def _check(self, text: str) -> str:
        assert len(text) <= self.limit, f"a {len(text)}-character input reached a pattern"
        return text

    def fullmatch(self, text: str) -> Any:
        return self.pattern.fullmatch(self._check(text))

    def search(self, text: str) -> Any:
        return self.pattern.search(self._check(text))


def guard(monkeypatch, *names: str) -> None:
    for name in names:
        monkeypatch.setattr(finding_drafts, name,
                            GuardedPattern(getattr(finding_drafts, name)))


def french(message: str) -> str:
    return CATALOGS["fr"].gettext(message)


# Finding numbers: bounded before the pattern, and a pattern that cannot backtrack -------------

@pytest.mark.parametrize("name", ["quantity", "latitude", "longitude"])
async def test_a_40000_digit_number_is_422_before_any_pattern_runs(forum, client, monkeypatch,
                                                                   name):
    await forum.board("Metz", slug="metz")
    token = await forum.token(await forum.user("lea"))
    guard(monkeypatch, "_DECIMAL")
    body = {"city": "metz", "kind": "cameras", "observed": "2020", "status": "in-use",
            "sources": [{"url": "https://example.org/a.pdf"}], "latitude": "48.1",
            "longitude": "6.2", name: DIGITS}
    payload = await call(client, "POST", "/findings", token, expect=422, json=body)
    assert error_of(payload)["field"] == name
    assert error_of(payload)["message"] == french(NOT_A_NUMBER)
    assert await finding_rows(forum) == 0


async def test_a_40000_digit_quantity_in_the_form_is_422_beside_the_field(forum, client,
                                                                          monkeypatch):
    await forum.board("Lyon", slug="lyon")
    await forum.user("lea")
    await log_in(client, "lea")
    guard(monkeypatch, "_DECIMAL")
    response = await send(client, "/b/lyon/watch/new", finding_form(quantity=DIGITS))
    page = await response.text()
    assert response.status == 422
    assert 'id="quantity-error"' in page and french(NOT_A_NUMBER) in page
    assert await finding_rows(forum) == 0


async def test_a_huge_json_integer_is_not_a_number_rather_than_a_crash(forum, client):
    await forum.board("Metz", slug="metz")
    token = await forum.token(await forum.user("lea"))
    huge = "9" * 400  # within Python's int limit, beyond any float
    raw = ('{"city": "metz", "kind": "cameras", "observed": "2020", "status": "in-use",'
           f' "sources": [{{"url": "https://example.org/a.pdf"}}], "quantity": {huge},'
           ' "unit": "count"}')
    payload = await call(client, "POST", "/findings", token, expect=422, data=raw,
                         headers={"Content-Type": "application/json"})
    assert error_of(payload)["field"] == "quantity"


def test_numbers_up_to_the_bound_are_still_read():
    longest = "-" + "1" * (NUMBER_TEXT_MAX - 3) + ".5"
    assert len(longest) == NUMBER_TEXT_MAX
    assert finding_drafts.parse_number(longest, "quantity") == float(longest)
    assert finding_drafts.parse_number("12 500 000 000 000 €", "quantity") == 1.25e13


@pytest.mark.parametrize("text", [DIGITS, "1" * HOSTILE_LENGTH + "." + "1" * 10 + "x",
                                  "." + "1" * HOSTILE_LENGTH + "x"])
def test_the_number_pattern_refuses_long_runs_without_backtracking_between_its_parts(text):
    # The old pattern r"\d+\.?\d*" took 11 s on DIGITS; this one is linear (bench/hostile.py).
    assert finding_drafts._DECIMAL.fullmatch(text) is None


def test_a_40000_character_date_is_refused_before_the_patterns(monkeypatch):
    guard(monkeypatch, "_ISO_DATE", "_FRENCH_DATE")
    with pytest.raises(finding_drafts.Invalid) as refused:
        finding_drafts.parse_observed(" " * HOSTILE_LENGTH + "2020", finding_drafts.date.today())
    assert refused.value.field == "observed"


# Search: bounded queries, a time budget, and readers kept for pages ---------------------------

HEAVY_SQL = ("with recursive n(x) as (select 1 union all select x + 1 from n limit 3000000)"
             " select count(*) from n")  # a few hundred ms of pure SQLite work
HEAVY_ROWS = 3_000_000


async def test_a_phrase_repeating_a_common_word_is_refused_before_reading_the_index(forum,
                                                                                    client):
    query = '"' + " ".join(["de"] * (search.WORDS_MAX + 1)) + '"'
    assert len(query) <= search.QUERY_MAX  # the character bound alone let it through
    response = await client.get("/api/v1/search", params={"q": query})
    error = error_of(await response.json())
    assert response.status == 422 and error["field"] == "q"
    page = await client.get("/search", params={"q": query})
    assert page.status == 422 and 'id="q-error"' in await page.text()


async def test_a_word_given_many_times_is_searched_once(forum):
    assert search.parse_query("caméra " * 25) == '"caméra"'
    assert search.parse_query("Caméra caméra CAMÉRA vidéo") == '"Caméra" AND "vidéo"'
    board, author = await forum.board("Metz"), await forum.user("lea")
    _, post_id = await forum.thread(board, author, "Inventaire", "Une caméra de plus.")
    async with forum.db.read() as conn:
        results = await search.search(conn, "caméra " * 25)
    assert [hit.post_id for hit in results.hits] == [post_id]


async def test_a_search_past_its_budget_is_503_with_the_form_and_frees_its_reader(
        forum, client, monkeypatch):
    board, author = await forum.board("Metz"), await forum.user("lea")
    await forum.thread(board, author, "Inventaire", "Une caméra de plus.")
    monkeypatch.setattr(search, "TIME_BUDGET", 0.0)  # spent before the first statement ends
    monkeypatch.setattr(db_module, "PROGRESS_STEPS", 1)  # asked at once, however small
    page = await client.get("/search", params={"q": "caméra"})
    html = await page.text()
    assert page.status == 503 and page.headers["Retry-After"] == str(TooSlow.retry_after)
    assert 'id="q-error"' in html and escape(french(search.TOO_SLOW)) in html
    assert 'value="caméra"' in html  # what was typed is kept
    response = await client.get("/api/v1/search", params={"q": "caméra"})
    assert response.status == 503 and "Retry-After" in response.headers
    assert error_of(await response.json()) == {
        "code": "too_slow", "message": french(search.TOO_SLOW), "field": "q"}
    assert readers_free(forum.db), "every reader is back"
    monkeypatch.undo()
    assert (await client.get("/search", params={"q": "caméra"})).status == 200


def readers_free(db) -> bool:
    """No reader left checked out: SQLite's queue is full, PostgreSQL's pool has none in use."""
    if isinstance(db, PostgresDatabase):
        return db._pool is not None and db._pool.get_idle_size() == db._pool.get_size()
    return db._readers.qsize() == db.reader_count


async def test_an_interrupted_read_leaves_no_progress_handler_behind(tmp_path):
    database = Database(tmp_path / "budget.sqlite3", readers=1)
    await database.open()
    try:
        with pytest.raises(TooSlow):
            async with database.budgeted_read(0.05) as conn:
                await conn.value(HEAVY_SQL)
        async with database.read() as conn:  # the same and only reader, long past the deadline
            assert await conn.value(HEAVY_SQL) == HEAVY_ROWS
        async with database.budgeted_read(30) as conn:
            assert await conn.value(HEAVY_SQL) == HEAVY_ROWS
    finally:
        await database.close()


async def test_budgeted_reads_always_leave_a_reader_for_pages(tmp_path):
    readers = 3
    database = Database(tmp_path / "budget.sqlite3", readers=readers)
    await database.open()
    try:
        async with database.budgeted_read(30), database.budgeted_read(30):
            with pytest.raises(TooSlow):  # a third search waits its budget, then gives up
                async with database.budgeted_read(0.05):
                    pass
            async with database.read() as conn:  # a page still gets its reader at once
                assert await conn.value("select 1") == 1
    finally:
        await database.close()


# Storage faults: 503, nothing half-written, the writer never wedged ---------------------------

async def row_count(forum, table: str) -> int:
    async with forum.db.read() as conn:
        return int(await conn.value(f"select count(*) from {table}"))


# PostgreSQL's answer to an insert when its disk is full (a trigger gives it: a server's disk
# cannot be filled from a test).
DISK_FULL = ("create function disk_full() returns trigger language plpgsql as $$ begin"
             " raise exception 'could not extend file: No space left on device'"
             " using errcode = 'disk_full'; end $$")


async def fill_the_disk(forum) -> None:
    """The database may not grow: on SQLite by one page, every write that needs one fails
    SQLITE_FULL; on PostgreSQL every insert fails with disk_full (SQLSTATE 53100)."""
    async with forum.db.transaction() as tx:
        if tx.dialect == "sqlite":
            pages = await tx.value("pragma page_count")
            await tx.value(f"pragma max_page_count = {int(pages)}")
            return
        await tx.execute(DISK_FULL)
        for table in set(await table_names(tx)) - {"invalidations"}:  # what commits write
            await tx.execute(f'create trigger full_{table} before insert on "{table}"'
                             " for each statement execute function disk_full()")


async def free_the_disk(forum) -> None:
    async with forum.db.transaction() as tx:
        if tx.dialect == "sqlite":
            await tx.value("pragma max_page_count = 1073741823")
        else:  # the triggers go with it
            await tx.execute("drop function disk_full() cascade")


LONG_BODY = "Relevé des caméras, rue par rue. " * 600  # needs new pages whatever is free


async def test_a_full_disk_answers_503_in_french_and_saves_nothing(forum, client):
    board = await forum.board("Metz")
    await forum.user("lea")
    await log_in(client, "lea")
    threads_before, posts_before = await row_count(forum, "threads"), await row_count(forum,
                                                                                      "posts")
    await fill_the_disk(forum)
    response = await submit(client, f"/b/{board.slug}/new",
                            {"title": "Capteurs", "body": LONG_BODY, "action": "publish"})
    page = await response.text()
    assert response.status == 503 and "Retry-After" in response.headers
    assert escape(french(HTTP_MESSAGES[503])) in page
    assert (await row_count(forum, "threads"), await row_count(forum, "posts")) == (
        threads_before, posts_before)
    await free_the_disk(forum)  # space freed: the same post goes through, no restart
    response = await submit(client, f"/b/{board.slug}/new",
                            {"title": "Capteurs", "body": LONG_BODY, "action": "publish"})
    assert response.status == 303
    assert await row_count(forum, "threads") == threads_before + 1


async def test_a_full_disk_answers_a_json_503_in_the_api(forum, client):
    board = await forum.board("Metz")
    token = await forum.token(await forum.user("lea"))
    await fill_the_disk(forum)
    payload = await call(client, "POST", f"/boards/{board.slug}/threads", token, expect=503,
                         json={"title": "Capteurs", "body": LONG_BODY})
    assert error_of(payload) == {"code": "unavailable", "message": french(HTTP_MESSAGES[503])}
    assert await row_count(forum, "threads") == 0


async def test_a_commit_that_fails_is_rolled_back_and_the_writer_goes_on(forum):
    invalidated: list[set] = []
    forum.db.after_commit.append(invalidated.append)
    async with forum.db.transaction() as tx:  # temporary tables live on the writer only
        await tx.execute("create temp table parent (id integer primary key)")
        await tx.execute("create temp table child (parent_id integer references parent (id)"
                         " deferrable initially deferred)")
    invalidated.clear()
    # Checked at COMMIT, which then fails.
    with pytest.raises((sqlite3.IntegrityError, asyncpg.ForeignKeyViolationError)):
        async with forum.db.transaction() as tx:
            await tx.execute("insert into child (parent_id) values (42)")
            tx.changed("thread", 1)
    # Nothing committed: its page is not invalidated (background jobs may commit meanwhile).
    assert not any(("thread", 1) in tags for tags in invalidated)
    await forum.board("Metz")  # the next write works: no "transaction within a transaction"
    async with forum.db.read() as conn:
        assert (await boards.get_by_slug(conn, "metz")).name == "Metz"
    assert invalidated and ("thread", 1) not in set().union(*invalidated)
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from boards") == 1


@pytest.mark.parametrize("error, fault", [
    (sqlite3.OperationalError("database or disk is full"), False),  # no code: not ours to say
    (asyncpg.DiskFullError("could not extend file"), True),
    (asyncpg.ReadOnlySQLTransactionError("read-only"), True),  # a standby
    (asyncpg.CannotConnectNowError("the database system is starting up"), True),
    (asyncpg.UniqueViolationError("duplicate key"), False),
    (OSError(errno.ENOSPC, "No space left on device"), True),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), True),
    (OSError(errno.ENOENT, "No such file"), False),
    (ValueError("x"), False),
])
def test_storage_faults_are_told_from_bugs(error, fault):
    assert storage_fault(error) is fault


def test_sqlite_full_and_io_errors_are_storage_faults():
    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (x)")
    conn.execute(f"pragma max_page_count = {conn.execute('pragma page_count').fetchone()[0]}")
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.execute("insert into t values (zeroblob(100000))")
    assert full.value.sqlite_errorcode == sqlite3.SQLITE_FULL and storage_fault(full.value)
    io_error = sqlite3.OperationalError("disk I/O error")
    io_error.sqlite_errorcode = sqlite3.SQLITE_IOERR_WRITE
    assert storage_fault(io_error)


async def test_a_file_store_without_space_answers_503_and_keeps_nothing(forum, client,
                                                                        monkeypatch):
    token = await forum.token(await forum.user("lea"))
    real_receive = Store.receive

    async def disk_full(self, chunks, path, limit, too_large):
        await real_receive(self, chunks, path, limit, too_large)  # a partial file is written
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(Store, "receive", disk_full)
    response = await upload(client, token, "note.txt", b"Relev\xc3\xa9 des cam\xc3\xa9ras.")
    assert response.status == 503 and "Retry-After" in response.headers
    assert error_of(await response.json())["code"] == "unavailable"
    assert leftovers(forum) == [] and await row_count(forum, "uploads") == 0


# Markdown: bare addresses are read from bounded slices --------------------------------------

@pytest.mark.parametrize("text", ["a://" * (HOSTILE_LENGTH // 4), "http://a" * 5_000,
                                  "http://" + "a" * HOSTILE_LENGTH])
def test_bare_addresses_are_looked_for_in_bounded_slices(monkeypatch, text):
    # markdown-it's own rule searched the whole text at each "://": 1 to 2 s per body.
    linkifier = markdown._parser.linkify
    seen: list[int] = []
    real_match = linkifier.match_at_start

    def bounded_match(tail: str) -> Any:
        seen.append(len(tail))
        return real_match(tail)

    monkeypatch.setattr(markdown, "_SCHEME_AT_END",
                        GuardedPattern(markdown._SCHEME_AT_END, markdown.SCHEME_MAX))
    monkeypatch.setattr(linkifier, "match_at_start", bounded_match)
    markdown.render(text)
    assert seen and max(seen) <= markdown.LINK_MAX + markdown.SCHEME_MAX


def test_bare_addresses_are_still_links():
    html = markdown.render("Voir https://example.org/deliberation?id=12 et www.example.fr.")
    assert html.count('href="https://example.org/deliberation?id=12"') == 1
    assert 'href="http://www.example.fr"' in html
    long_address = "https://example.org/" + "a" * (markdown.LINK_MAX * 2)
    assert 'href="https://example.org/aaa' in markdown.render(long_address)


async def test_markdown_is_cooked_off_the_event_loop(forum, monkeypatch):
    # A hostile body holds the parser and sanitizer 0.3-0.8 s (bench/hostile.py): in another
    # process, the event loop goes on serving other requests meanwhile.
    cooked: list[tuple[str, int]] = []
    real_in_worker = markdown.in_worker

    async def in_worker(function: Any, *args: Any) -> Any:
        cooked.append((function.__name__, await real_in_worker(os.getpid)))
        return await real_in_worker(function, *args)

    monkeypatch.setattr(markdown, "in_worker", in_worker)
    board, author = await forum.board("Metz"), await forum.user("lea")
    _, post_id = await forum.thread(board, author, "Crochets", "[" * 5000 + "]" * 5000)
    assert [name for name, _pid in cooked] == ["references", "render"]
    assert os.getpid() not in {pid for _name, pid in cooked}
    async with forum.db.read() as conn:
        assert "[[[" in await conn.value("select body_html from posts where id = ?", (post_id,))


async def test_a_budgeted_read_gives_up_when_pages_hold_every_reader(tmp_path):
    database = Database(tmp_path / "budget.sqlite3", readers=2)
    await database.open()
    try:
        async with database.read(), database.read():
            with pytest.raises(TooSlow):
                await asyncio.wait_for(_budgeted_select(database, 0.05), 5)
        assert database._readers.qsize() == 2 and await _budgeted_select(database, 5) == 1
    finally:
        await database.close()


async def _budgeted_select(database: Database, seconds: float) -> int:
    async with database.budgeted_read(seconds) as conn:
        return await conn.value("select 1")


async def test_a_cook_that_died_is_replaced(forum):
    board, author = await forum.board("Metz"), await forum.user("lea")
    await forum.thread(board, author, "Avant", "Premier.")
    os.kill(await markdown.in_worker(os.getpid), signal.SIGKILL)  # out of memory, say
    _, post_id = await forum.thread(board, author, "Après", "Encore **publié**.")
    async with forum.db.read() as conn:
        html = await conn.value("select body_html from posts where id = ?", (post_id,))
    assert "<strong>publié</strong>" in html


def full_disk_for_the_cleaned_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second temporary file of the store (a sent file's cleaned copy) is a link to
    /dev/full, where every write fails with ENOSPC (the store removes the link afterwards,
    never the device)."""
    real_temp_path = Store.temp_path
    made: list[Path] = []

    @contextlib.contextmanager
    def temp_path(self: Store, suffix: str = "") -> Iterator[Path]:
        with real_temp_path(self, suffix) as path:
            made.append(path)
            if len(made) == 2:  # what was sent, then its cleaned copy
                path.symlink_to("/dev/full")
            yield path

    monkeypatch.setattr(Store, "temp_path", temp_path)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
async def test_a_cleaned_file_that_meets_a_full_disk_answers_503(forum, client, monkeypatch):
    token = await forum.token(await forum.user("lea"))
    full_disk_for_the_cleaned_copy(monkeypatch)
    response = await upload(client, token, "note.txt", "Relevé des caméras.\n".encode())
    assert response.status == 503, await response.text()
    assert error_of(await response.json())["code"] == "unavailable"
    assert leftovers(forum) == [] and await row_count(forum, "uploads") == 0
    monkeypatch.undo()
    assert (await upload(client, token, "note.txt", b"Encore.\n")).status == 201


@dataclasses.dataclass
class Lanes:
    """A database with three readers and the long lane, and two reads (a costly one past any
    slice, a cheap one) that note the connection each ran on in `used`."""
    database: Database
    used: list[object]
    costly: Any
    cheap: Any


@pytest.fixture
async def lanes(tmp_path: Path) -> AsyncIterator[Lanes]:
    database = Database(tmp_path / "lanes.sqlite3", readers=3)
    await database.open()
    used: list[object] = []

    async def costly(conn: db_module.Conn) -> int:
        used.append(conn.conn)
        return int(await conn.value(HEAVY_SQL))

    async def cheap(conn: db_module.Conn) -> int:
        used.append(conn.conn)
        return int(await conn.value("select 1"))

    yield Lanes(database, used, costly, cheap)
    await database.close()


async def test_a_costly_read_is_cut_to_the_long_lane_and_its_keys_remembered(lanes: Lanes):
    database, used, costly, cheap = lanes.database, lanes.used, lanes.costly, lanes.cheap
    long_reader = database._long_reader
    assert await database.budgeted(costly, 30, keys=["de de de", "198.51.100.1"]) \
        == HEAVY_ROWS
    # Cut after its slice of a shared reader, then run whole on the long lane's reader.
    assert used[0] is not long_reader and used[1] is long_reader and len(used) == 2
    used.clear()
    assert await database.budgeted(cheap, 30, keys=["caméras", "198.51.100.1"]) == 1
    assert used == [long_reader]  # the same client goes straight to the long lane
    used.clear()
    assert await database.budgeted(cheap, 30, keys=["caméras", "192.0.2.7"]) == 1
    assert used[0] is not long_reader  # another client's cheap search shares the readers
    assert database._readers.qsize() == 3


async def _thread_nice(conn: Any) -> int:
    """The CPU priority (nice value) of the thread that runs `conn`'s statements."""
    await conn.create_function(
        "thread_nice", 0, lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    return (await (await conn.execute("select thread_nice()")).fetchone())[0]


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread priority here")
async def test_the_long_lane_yields_the_cpu_to_the_readers(lanes: Lanes):
    """With all cores busy, a costly search repeated took a core from readers (issue 11)."""
    database = lanes.database
    reader = database._readers.get_nowait()
    database._readers.put_nowait(reader)
    base = await _thread_nice(reader)
    assert await _thread_nice(database._long_reader) == max(base, priority.BACKGROUND_NICE)


async def test_cheap_searches_pass_while_costly_ones_wait_for_each_other(tmp_path):
    database = Database(tmp_path / "lanes.sqlite3", readers=3)
    await database.open()
    release = asyncio.Event()

    async def costly_then_held(conn: db_module.Conn) -> int:
        rows = int(await conn.value(HEAVY_SQL))  # past its slice: run again in the long lane
        await release.wait()  # and held there until the test lets it go
        return rows

    async def costly(conn: db_module.Conn) -> int:
        return int(await conn.value(HEAVY_SQL))

    async def cheap(conn: db_module.Conn) -> int:
        return int(await conn.value("select 1"))

    try:
        first = asyncio.create_task(database.budgeted(costly_then_held, 30, keys=["a"]))
        while not database._long_lane.locked():
            await asyncio.sleep(0.01)
        # A second costly search waits for the first one, not for a reader, until its budget.
        with pytest.raises(TooSlow):
            await database.budgeted(costly, 0.5, keys=["b"])
        # Both costly searches together never held the readers a cheap search needs.
        second = asyncio.create_task(database.budgeted(costly, 30, keys=["c"]))
        await asyncio.sleep(0.2)
        assert await asyncio.wait_for(database.budgeted(cheap, 0.2, keys=["d"]), 5) == 1
        assert not first.done() and not second.done()
        release.set()
        assert await first == HEAVY_ROWS and await second == HEAVY_ROWS
    finally:
        release.set()
        await database.close()


async def test_a_text_too_slow_to_cook_is_refused_and_the_next_is_cooked(forum, client,
                                                                         monkeypatch):
    board, author = await forum.board("Metz"), await forum.user("lea")
    token = await forum.token(author)
    await forum.thread(board, author, "Avant", "Premier.")  # the cooks are up
    monkeypatch.setattr(markdown, "COOK_SECONDS", 0.05)  # nested brackets take ~0.3 s
    body = "[" * 5000 + "]" * 5000
    answer = await call(client, "POST", f"/boards/{board.slug}/threads", token, expect=422,
                        json={"title": "Crochets", "body": body})
    assert error_of(answer)["field"] == "body"
    assert error_of(answer)["message"] == french(posts.TOO_COMPLEX)
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from threads where title = 'Crochets'") == 0
    monkeypatch.undo()
    _, post_id = await forum.thread(board, author, "Après", "Encore **publié**.")
    async with forum.db.read() as conn:
        html = await conn.value("select body_html from posts where id = ?", (post_id,))
    assert "<strong>publié</strong>" in html


async def test_a_text_waiting_behind_slow_ones_is_not_refused_for_their_time(monkeypatch):
    """The cooking time counts from the start of a text's own work: one that waited behind
    slow texts (a member sending hostile bodies) is cooked, not refused as too complex."""
    await markdown.in_worker(os.getpid)  # the cooks are up
    monkeypatch.setattr(markdown, "COOK_SECONDS", 1.0)
    # Three rounds of slow work (0.4 s each) on every cook: the plain text waits 1.2 s.
    queued = [asyncio.ensure_future(markdown.in_worker(time.sleep, 0.4))
              for _ in range(3 * markdown.COOKS)]
    await asyncio.sleep(0)
    html = await markdown.in_worker(markdown.render, "Encore **publié**.")
    assert "<strong>publié</strong>" in html
    assert await asyncio.gather(*queued) == [None] * len(queued)  # none refused either
    # And one that works too long is still refused, its cook going on with the next text.
    cooks = markdown._cooks
    with pytest.raises(markdown.TooComplex):
        await markdown.in_worker(time.sleep, 3)
    assert markdown._cooks is cooks and await markdown.in_worker(os.getpid) > 0


async def test_a_client_goes_to_the_long_lane_after_several_costly_searches(lanes: Lanes):
    database, used, costly, cheap = lanes.database, lanes.used, lanes.costly, lanes.cheap
    long_reader = database._long_reader
    await database.budgeted(costly, 30, keys={"de de de": 1, "198.51.100.1": 2})
    used.clear()
    # One costly search may be bad luck: the client's next ones share the readers still.
    await database.budgeted(cheap, 30, keys={"caméras": 1, "198.51.100.1": 2})
    assert used == [used[0]] and used[0] is not long_reader
    await database.budgeted(costly, 30, keys={"la la la": 1, "198.51.100.1": 2})
    used.clear()
    await database.budgeted(cheap, 30, keys={"drones": 1, "198.51.100.1": 2})
    assert used == [long_reader]  # the second costly one makes a pattern


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread priority here")
async def test_markdown_cooks_yield_the_cpu_to_the_readers():
    """A hostile body's 0.8 s of parsing waits for readers when every core is busy."""
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert await markdown.in_worker(os.getpriority, os.PRIO_PROCESS, 0) \
        == max(base, priority.BACKGROUND_NICE)
