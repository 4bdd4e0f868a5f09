"""`vigie serve --workers 2`: real processes on loopback, one data folder.

Every request here opens a new connection, so that the kernel spreads them over both workers'
sockets; each answer names its worker (X-Vigie-Worker, a header the master adds only when the
test sets VIGIE_WORKER_PID_HEADER) and the tests check that both workers answered.
"""
from __future__ import annotations

import asyncio
import gc
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from forum import workers
from forum.app import GC_THRESHOLDS, freeze_at_start
from forum.db import Database
from forum.migrate import migrate
from forum.models import boards, outbox, threads, users
from forum.ratelimit import RateLimiter, SharedHits
from tests.conftest import PASSWORD
from tests.test_mail import Mailbox

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 90.0  # two Python servers starting on a busy 2-core machine
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> Answer:
    """One request to the server on port, on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


class Answer:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def worker(self) -> int:
        return int(self.headers["X-Vigie-Worker"])

    @property
    def text(self) -> str:
        return self.body.decode()


class Site:
    """A data folder with a board, a thread and a member with an API token, and its master."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.data = tmp_path / "data"
        self.port = free_port()
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("FORUM_")},
                    workers.PID_HEADER: "1", "FORUM_POSTS_PER_MINUTE": "10000",
                    "FORUM_LEASE_SECONDS": "4", **env}
        self.log = tmp_path / "server.log"
        self.master: subprocess.Popen[bytes] | None = None
        self.thread_id, self.token = asyncio.run(self._populate())

    async def _populate(self) -> tuple[int, str]:
        migrate(self.data / "forum.sqlite3")
        db = Database(self.data / "forum.sqlite3", readers=1)
        await db.open()
        try:
            async with db.transaction() as tx:
                lea = await users.create(tx, "lea", PASSWORD, "member", "lea@example.org")
                await tx.execute("update users set trust_override = 1 where id = ?", (lea.id,))
                board = await boards.create(tx, "Metz", "metz", "", "")
                thread_id, _ = await threads.create(tx, board, lea, "Caméras de la gare",
                                                    "Premier relevé.", 150, 20_000)
                token = await users.create_token(tx, lea.id)
            return thread_id, token
        finally:
            await db.close()

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.master = subprocess.Popen(
                [sys.executable, "-m", "forum", "--data-dir", str(self.data), "serve",
                 "--port", str(self.port), "--workers", "2"],
                cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.wait_for_workers()

    def wait_for_workers(self, exclude: set[int] = frozenset()) -> set[int]:
        """The pids of the two workers, once both answered (none of `exclude`)."""
        deadline = time.monotonic() + START_SECONDS
        seen: set[int] = set()
        while len(seen - exclude) < 2:
            assert time.monotonic() < deadline, self.log.read_text()
            assert self.master is not None and self.master.poll() is None, self.log.read_text()
            try:
                seen.add(self.get("/healthz").worker)
            except OSError:
                time.sleep(0.2)
        return seen - exclude

    def children(self) -> set[int]:
        assert self.master is not None
        found = subprocess.run(["pgrep", "-P", str(self.master.pid)], capture_output=True,
                               text=True).stdout.split()
        return {int(pid) for pid in found}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        return request(self.port, method, path, body, headers)

    def get(self, path: str, **headers: str) -> Answer:
        return self.request("GET", path, headers=headers)

    def reply(self, body: str) -> Answer:
        return self.request("POST", f"/api/v1/threads/{self.thread_id}/posts",
                            json.dumps({"body": body}).encode(),
                            {"Authorization": f"Bearer {self.token}",
                             "Content-Type": "application/json"})

    def stop(self) -> None:
        if self.master is not None and self.master.poll() is None:
            self.master.send_signal(signal.SIGTERM)
            try:
                self.master.wait(60)
            except subprocess.TimeoutExpired:
                self.master.kill()
                self.master.wait()
        for pid in self._orphans():
            os.kill(pid, signal.SIGKILL)

    def _orphans(self) -> list[int]:
        found = subprocess.run(["pgrep", "-f", "forum.workers"], capture_output=True,
                               text=True).stdout.split()
        mine = []
        for pid in map(int, found):
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if f"FORUM_DATA_DIR={self.data.resolve()}".encode() in environ:
                mine.append(pid)
        return mine


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path)
    site.start()
    yield site
    site.stop()


def warm(site: Site, path: str) -> None:
    """Load `path` until both workers have it in their page cache."""
    seen: set[int] = set()
    for _ in range(200):
        answer = site.get(path)
        assert answer.status == 200
        seen.add(answer.worker)
        if len(seen) == 2:
            return
    raise AssertionError(f"{path} was served by one worker only")


def test_a_post_written_through_one_worker_is_on_every_page_of_both_at_once(site):
    pages = ("/", "/b/metz", f"/t/{site.thread_id}")
    for path in pages:
        warm(site, path)  # cached in both, as they were before the write
    answer = site.reply("Relevé PARTAGE-ENTRE-PROCESSUS : 12 caméras")
    assert answer.status == 201, answer.text
    writer = answer.worker
    fresh = {path: site.get(path).text for path in pages}
    assert all(site.get(path).text == fresh[path] for path in pages for _ in range(10))
    served = Counter()
    for _ in range(100):
        for path in pages:
            read = site.get(path)
            assert read.status == 200
            served[read.worker] += 1
            if path == f"/t/{site.thread_id}":
                assert "PARTAGE-ENTRE-PROCESSUS" in read.text, read.worker
            else:  # the home page and the board list the thread, now with its reply
                assert read.text == fresh[path], (path, read.worker)
    assert len(served) == 2 and served[writer] < sum(served.values()), served


def test_the_thread_list_shows_a_write_of_the_other_worker_at_once(site):
    """The board's thread list counts replies: a cached copy in the other worker is dropped."""
    warm(site, "/b/metz")
    before = site.get("/b/metz").text
    for number in range(3):
        assert site.reply(f"Réponse numéro {number}").status == 201
        pages = {site.get("/b/metz").text for _ in range(20)}
        assert len(pages) == 1 and before not in pages  # both workers: the same, new page
        before = pages.pop()


def test_twenty_failed_logins_across_two_workers_are_limited_as_with_one(tmp_path):
    site = Site(tmp_path, FORUM_LOGIN_ATTEMPTS="5")
    site.start()
    try:
        page = site.get("/login")
        cookie = page.headers["Set-Cookie"].split(";")[0]
        token = CSRF.search(page.text).group(1)
        statuses, served = [], set()
        for attempt in range(20):
            answer = site.request(
                "POST", "/login",
                f"csrf_token={token}&name=lea&password=wrong{attempt}".encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
            statuses.append(answer.status)
            served.add(answer.worker)
        assert len(served) == 2  # both workers took attempts
        assert statuses.count(429) == 15 and set(statuses[:5]) != {429}, statuses
        assert set(statuses[5:]) == {429}
    finally:
        site.stop()


def test_healthz_answers_from_every_worker(site):
    seen = {}
    for _ in range(50):
        answer = site.get("/healthz")
        seen[answer.worker] = (answer.status, json.loads(answer.body)["status"])
    assert len(seen) == 2 and set(seen.values()) == {(200, "ok")}


def test_killing_a_worker_under_load_loses_no_acknowledged_write(site):
    acknowledged: list[int] = []
    failed = 0
    stop = threading.Event()

    def write() -> None:
        nonlocal failed
        number = 0
        while not stop.is_set():
            number += 1
            try:
                answer = site.reply(f"Écrit sous charge {number}")
            except OSError:  # the killed worker's connection: not acknowledged
                failed += 1
                continue
            if answer.status == 201:
                acknowledged.append(json.loads(answer.body)["id"])

    writers = [threading.Thread(target=write) for _ in range(3)]
    for thread in writers:
        thread.start()
    time.sleep(1.5)
    victim = site.get("/healthz").worker
    os.kill(victim, signal.SIGKILL)
    at_kill = len(acknowledged)
    time.sleep(1.5)
    replacement = site.wait_for_workers(exclude={victim})
    # Writes go on until some were acknowledged after the kill (a busy machine writes slowly:
    # a fixed time proved too short on CI), then stop.
    deadline = time.monotonic() + START_SECONDS
    while len(acknowledged) < max(11, at_kill + 3) and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    for thread in writers:
        thread.join()
    assert site.children() == replacement and victim not in replacement
    assert len(acknowledged) > 10 and len(acknowledged) >= at_kill + 3
    stored = asyncio.run(_post_ids(site))
    assert set(acknowledged) <= stored
    after = {site.reply("Après le remplacement").worker for _ in range(30)}
    assert after == replacement  # the new worker takes writes too


async def _post_ids(site: Site) -> set[int]:
    db = Database(site.data / "forum.sqlite3", readers=1)
    await db.open()
    try:
        async with db.read() as conn:
            return {row[0] for row in await conn.all("select id from posts")}
    finally:
        await db.close()


async def _enqueue(site: Site, first: int, count: int) -> None:
    """Mail queued as another process would (the CLI, a worker): through forum.db."""
    db = Database(site.data / "forum.sqlite3", readers=1)
    await db.open()
    try:
        for number in range(first, first + count):
            async with db.transaction() as tx:
                await outbox.enqueue(tx, f"membre{number}@example.org", f"Courrier {number}",
                                     "Bonjour.", "")
    finally:
        await db.close()


def _wait_for_mail(mailbox: Mailbox, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(mailbox.messages) < count:
        assert time.monotonic() < deadline, f"{len(mailbox.messages)} mail(s), not {count}"
        time.sleep(0.1)


def test_each_mail_goes_out_once_with_two_workers_even_when_the_sender_dies(tmp_path):
    mailbox = Mailbox()
    mailbox.start()
    site = Site(tmp_path, FORUM_SMTP_HOST="127.0.0.1", FORUM_SMTP_PORT=str(mailbox.port),
                FORUM_SMTP_STARTTLS="false", FORUM_MAIL_INTERVAL_SECONDS="0.3")
    try:
        site.start()
        asyncio.run(_enqueue(site, 0, 20))
        _wait_for_mail(mailbox, 20)
        # The holder of the lease dies; the other worker (or its replacement) takes over.
        holder = asyncio.run(_mail_holder(site))
        assert holder in site.children()
        os.kill(holder, signal.SIGKILL)
        asyncio.run(_enqueue(site, 20, 20))
        _wait_for_mail(mailbox, 40)
        time.sleep(3)  # a second sender would have sent its copies by now
        subjects = Counter(str(message["Subject"]) for message in mailbox.messages)
        assert len(subjects) == 40 and set(subjects.values()) == {1}, subjects
        assert asyncio.run(_mail_holder(site)) != holder
    finally:
        site.stop()
        mailbox.stop()


async def _mail_holder(site: Site) -> int:
    db = Database(site.data / "forum.sqlite3", readers=1)
    await db.open()
    try:
        async with db.read() as conn:
            holder = await conn.value("select holder from leases where name = 'mail'")
        return int(holder.split("-")[0])
    finally:
        await db.close()


def test_sigterm_lets_a_request_in_progress_finish(site):
    """A request still sending its body when the master is told to stop gets its answer."""
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=60)
    body = b"name=lea&password=" + b"x" * 2000
    conn.putrequest("POST", "/login")
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    conn.send(body[:100])
    time.sleep(0.5)  # the handler is waiting for the rest of the body
    assert site.master is not None
    site.master.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    conn.send(body[100:])
    response = conn.getresponse()
    assert response.status in (200, 403, 422)  # an answer (the CSRF check), not a reset
    response.read()
    conn.close()
    assert site.master.wait(60) == 0
    with pytest.raises(OSError):
        site.get("/healthz")


def test_a_connection_opened_before_a_stop_gets_an_answer_to_its_late_request(site):
    """A client that connected before the stop but sends its request a moment later (a slow
    client, a loaded machine) is answered, not reset: no client retries a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=60)
    conn.connect()
    time.sleep(0.5)  # a worker has accepted the connection
    assert site.master is not None
    site.master.send_signal(signal.SIGTERM)
    time.sleep(1.5)
    conn.request("GET", f"/t/{site.thread_id}")
    response = conn.getresponse()
    assert response.status == 200
    assert "Caméras de la gare" in response.read().decode()
    conn.close()
    assert site.master.wait(60) == 0


def test_sighup_replaces_every_worker_without_refusing_a_request(site):
    before = site.children()
    assert site.master is not None
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal answered
        while not stop.is_set():
            try:
                status = site.get(f"/t/{site.thread_id}").status
            except OSError as error:
                failures.append(repr(error))
                continue
            if status != 200:
                failures.append(str(status))
            answered += 1

    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    time.sleep(0.5)
    site.master.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 2 * START_SECONDS
    while site.children() & before or len(site.children()) < 2:
        assert time.monotonic() < deadline, site.log.read_text()
        time.sleep(0.2)
    time.sleep(0.5)
    stop.set()
    for thread in readers:
        thread.join()
    assert failures == [] and answered > 50
    assert len(site.children()) == 2 and not site.children() & before


def test_a_board_renamed_from_the_cli_shows_at_once_on_both_workers(site):
    """The CLI writes through forum.db too: both workers drop the pages naming the board."""
    pages = ("/", "/b/metz", f"/t/{site.thread_id}")
    for path in pages:
        warm(site, path)
    renamed = subprocess.run(
        [sys.executable, "-m", "forum", "--data-dir", str(site.data), "board", "rename", "metz",
         "Metz-RENOMMEE-CLI"], cwd=ROOT, env=site.env, capture_output=True, text=True)
    assert renamed.returncode == 0, renamed.stderr
    served = set()
    for _ in range(20):
        for path in pages:
            answer = site.get(path)
            served.add(answer.worker)
            assert "Metz-RENOMMEE-CLI" in answer.text, (path, answer.worker)
    assert len(served) == 2


async def test_two_limiters_on_one_file_count_together_and_never_store_an_address(tmp_path):
    """Two workers' limiters: one budget for both; the file holds keyed hashes only."""
    secret = os.urandom(32)
    path = tmp_path / "hits.sqlite3"
    first = RateLimiter("", SharedHits(path, secret), workers=2)
    second = RateLimiter("", SharedHits(path, secret), workers=2)
    key = "login:203.0.113.7"
    for limiter in (first, second, first, second, first):
        assert await limiter.retry_after(key, 5, 300) == 0
        await limiter.hit(key, 300)
    assert await first.retry_after(key, 5, 300) > 0 and await second.retry_after(key, 5, 300) > 0
    await second.unhit(key)
    assert await first.retry_after(key, 5, 300) == 0
    assert b"203.0.113" not in path.read_bytes() + Path(f"{path}-wal").read_bytes()


async def test_the_drops_limits_stay_in_memory_and_each_worker_allows_its_share(tmp_path):
    """A source's address never reaches the file; two workers together allow the budget once."""
    path = tmp_path / "hits.sqlite3"
    limiters = [RateLimiter("", SharedHits(path, os.urandom(32)), workers=2) for _ in range(2)]
    key = "drop:198.51.100.9"
    allowed = 0
    for _ in range(10):
        for limiter in limiters:
            if await limiter.retry_after(key, 10, 3600) == 0:
                await limiter.hit(key, 3600)
                allowed += 1
    assert allowed == 10
    rows = sqlite3.connect(path).execute("select count(*) from hits").fetchone()[0]
    assert rows == 0


def test_page_views_counted_by_both_workers_add_up(site):
    """Each worker counts in memory and adds its count to the row (at the latest when it
    stops): no worker's views overwrite the other's."""
    served = Counter(site.get(f"/t/{site.thread_id}").worker for _ in range(40))
    assert len(served) == 2
    site.stop()
    assert asyncio.run(_views(site)) == 40


async def _views(site: Site) -> int:
    db = Database(site.data / "forum.sqlite3", readers=1)
    await db.open()
    try:
        async with db.read() as conn:
            return int(await conn.value("select views from threads where id = ?",
                                        (site.thread_id,)))
    finally:
        await db.close()


async def test_a_serving_process_leaves_its_start_up_out_of_garbage_collections():
    """cli serve and every worker: once started, what start-up made is frozen (gc.freeze), so
    that a full collection, a pause for every request in flight, walks only what came later."""
    from aiohttp import web

    app = web.Application()
    freeze_at_start(app)
    app.freeze()
    thresholds = gc.get_threshold()
    try:
        await app.startup()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == GC_THRESHOLDS  # full collections ten times less often
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
