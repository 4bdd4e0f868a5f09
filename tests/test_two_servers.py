"""Two Vigie servers on one PostgreSQL database: real processes on two loopback ports, each
with a data folder of its own, so that nothing but the database is shared (issue 19).

A write through one is on every page of the other (LISTEN/NOTIFY drops its cached copies);
failed logins are counted together (forum/ratelimit.py: DatabaseHits); both run the mail
sender, and each mail goes out once (forum/leases.py) to a real SMTP server.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from forum.db_postgresql import PostgresDatabase
from forum.models import boards, outbox, threads, users
from tests.conftest import PASSWORD
from tests.test_mail import Mailbox
from tests.test_workers import CSRF, ROOT, START_SECONDS, Answer, free_port, request

LOGIN_ATTEMPTS = 5
THREADS = 4  # lea's, each to get one reply (one notification, one mail, each)
# A bound, not a measure: a notification crosses PostgreSQL and two event loops in
# milliseconds; a cached page still stale after this is never refreshed.
FRESH_SECONDS = 10.0


@dataclass
class Server:
    """One `vigie serve` (its master, or its one process) with its own data folder."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        return request(self.port, method, path, body, headers)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            try:
                if self.get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Site:
    url: str
    mailbox: Mailbox
    thread_ids: list[int]
    token: str  # marc's API token
    servers: list[Server] = field(default_factory=list)


async def _populate(url: str) -> tuple[list[int], str]:
    """lea (who wants mail at once, and follows her threads) and marc, who will reply."""
    db = PostgresDatabase(url, readers=1)
    await db.open()
    try:
        async with db.transaction() as tx:
            lea = await users.create(tx, "lea", PASSWORD, "member", "lea@example.org")
            marc = await users.create(tx, "marc", PASSWORD, "member", "marc@example.org")
            await tx.execute("update users set trust_override = 1", ())
            board = await boards.create(tx, "Metz", "metz", "", "")
            thread_ids = [(await threads.create(tx, board, lea, f"Caméras {number}",
                                                "Premier relevé.", 150, 20_000))[0]
                          for number in range(THREADS)]
            token = await users.create_token(tx, marc.id)
        return thread_ids, token
    finally:
        await db.close()


def _start(tmp_path: Path, name: str, env: dict[str, str], workers: int) -> Server:
    data, log, port = tmp_path / name, tmp_path / f"{name}.log", free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "forum", "--data-dir", str(data), "serve", "--port",
             str(port), "--workers", str(workers)], cwd=ROOT, env=env, stdout=out, stderr=out)
    return Server(port, process, log)


@pytest.fixture(scope="module")
def site(postgresql_cluster, tmp_path_factory) -> Iterator[Site]:
    url = asyncio.run(postgresql_cluster.database())
    mailbox = Mailbox()
    mailbox.start()
    thread_ids, token = asyncio.run(_populate(url))
    site = Site(url, mailbox, thread_ids, token)
    tmp_path = tmp_path_factory.mktemp("two_servers")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FORUM_")},
           "FORUM_DATABASE_URL": url, "FORUM_LOGIN_ATTEMPTS": str(LOGIN_ATTEMPTS),
           "FORUM_POSTS_PER_MINUTE": "10000", "FORUM_LEASE_SECONDS": "4",
           "FORUM_SMTP_HOST": "127.0.0.1", "FORUM_SMTP_PORT": str(mailbox.port),
           "FORUM_SMTP_STARTTLS": "false", "FORUM_MAIL_INTERVAL_SECONDS": "0.3"}
    try:
        # A: a master and two workers (their limits go to the database too); B: one process.
        site.servers = [_start(tmp_path, "a", env, 2), _start(tmp_path, "b", env, 1)]
        for server in site.servers:
            server.wait_ready()
        for server in site.servers:
            _warm_cooks(server, site)
        yield site
    finally:
        for server in site.servers:
            server.stop()
        mailbox.stop()
        asyncio.run(postgresql_cluster.drop(url))


def _warm_cooks(server: Server, site: Site) -> None:
    """Start the server's Markdown workers (forum/markdown.py) before the tests post: spawned
    at a low priority on a busy machine, they may take longer than a text may take to cook."""
    deadline = time.monotonic() + START_SECONDS
    while server.request("POST", "/api/v1/preview", b'{"body": "Bonjour"}',
                         {"Authorization": f"Bearer {site.token}",
                          "Content-Type": "application/json"}).status != 200:
        assert time.monotonic() < deadline, server.log.read_text()


def _reply(server: Server, site: Site, thread_id: int, body: str) -> Answer:
    return server.request("POST", f"/api/v1/threads/{thread_id}/posts",
                          json.dumps({"body": body}).encode(),
                          {"Authorization": f"Bearer {site.token}",
                           "Content-Type": "application/json"})


def test_a_write_through_one_server_is_on_every_page_of_the_other(site):
    first, second = site.servers
    thread_id = site.thread_ids[0]
    pages = ("/", "/b/metz", f"/t/{thread_id}", "/feed.atom", f"/t/{thread_id}/feed.atom",
             "/b/metz/feed.atom", "/u/marc")
    before = {}
    for path in pages:  # cached by the other, as they were before the write
        before[path] = second.get(path).text
        assert second.get(path).text == before[path]
    answer = _reply(first, site, thread_id, "Relevé PARTAGE-ENTRE-SERVEURS : 12 caméras")
    assert answer.status == 201, answer.text
    stale: Counter[str] = Counter()
    deadline = time.monotonic() + FRESH_SECONDS
    for path in pages:
        fresh = first.get(path).text  # the writer's own page, as the write left it
        assert fresh != before[path], path
        while (page := second.get(path)).text != fresh:
            assert page.status == 200, (path, page.status)
            assert time.monotonic() < deadline, f"{path} is stale on the other server"
            stale[path] += 1
            time.sleep(0.01)
    print(f"stale answers after the write, by page: {dict(stale)}")
    for path in (f"/t/{thread_id}", "/feed.atom", "/u/marc"):
        assert "PARTAGE-ENTRE-SERVEURS" in second.get(path).text, path


def _login_form(server: Server) -> tuple[str, str]:
    page = server.get("/login")
    return page.headers["Set-Cookie"].split(";")[0], CSRF.search(page.text).group(1)


def test_failed_logins_spread_over_both_servers_meet_one_limit(site):
    forms = {server.port: _login_form(server) for server in site.servers}
    statuses = []
    for attempt in range(2 * LOGIN_ATTEMPTS):
        server = site.servers[attempt % 2]
        cookie, token = forms[server.port]
        answer = server.request(
            "POST", "/login", f"csrf_token={token}&name=lea&password=wrong{attempt}".encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        statuses.append(answer.status)
    assert 429 not in statuses[:LOGIN_ATTEMPTS], statuses
    assert set(statuses[LOGIN_ATTEMPTS:]) == {429}, statuses


async def _hit_keys(url: str) -> list[bytes]:
    db = PostgresDatabase(url, readers=1)
    await db.open()
    try:
        async with db.read() as conn:
            return [bytes(row["key"]) for row in await conn.all("select key from rate_hits")]
    finally:
        await db.close()


def test_the_shared_limits_hold_keyed_hashes_only(site):
    server = site.servers[0]
    cookie, token = _login_form(server)
    server.request("POST", "/login", f"csrf_token={token}&name=personne&password=x".encode(),
                   {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    keys = asyncio.run(_hit_keys(site.url))
    assert keys and {len(key) for key in keys} == {16}
    assert not any(b"127.0.0.1" in key or b"personne" in key for key in keys)


async def _enqueue(url: str, count: int) -> None:
    db = PostgresDatabase(url, readers=1)
    await db.open()
    try:
        for number in range(count):
            async with db.transaction() as tx:
                await outbox.enqueue(tx, f"membre{number}@example.org", f"Courrier {number}",
                                     "Bonjour.", "")
    finally:
        await db.close()


def _wait_for_mail(mailbox: Mailbox, count: int) -> None:
    deadline = time.monotonic() + 60  # a bound: the sender's round is 0.3 s
    while len(mailbox.messages) < count:
        assert time.monotonic() < deadline, f"{len(mailbox.messages)} mail(s), not {count}"
        time.sleep(0.1)


def test_each_mail_goes_out_once_though_both_servers_run_their_sender(site):
    before = len(site.mailbox.messages)
    for number, thread_id in enumerate(site.thread_ids[1:]):
        server = site.servers[number % 2]
        answer = _reply(server, site, thread_id, f"Réponse NOTIFIEE-{number}")
        assert answer.status == 201, answer.text
    asyncio.run(_enqueue(site.url, 20))
    expected = before + len(site.thread_ids[1:]) + 20
    _wait_for_mail(site.mailbox, expected)
    time.sleep(3)  # a second sender would have sent its copies by now
    messages = site.mailbox.messages[before:]
    to_lea = [m for m in messages if m["To"] == "lea@example.org"]
    assert len(to_lea) == len(site.thread_ids[1:]), [m["Subject"] for m in to_lea]
    bodies = {m.get_body(("plain",)).get_content() for m in to_lea}
    assert len(bodies) == len(to_lea)  # one mail per reply, none twice
    subjects = Counter(str(m["Subject"]) for m in messages if m["To"] != "lea@example.org")
    assert len(subjects) == 20 and set(subjects.values()) == {1}, subjects
