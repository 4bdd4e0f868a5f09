"""Each mail claimed before it is sent (forum/mail/send.py: CLAIM_SECONDS): a sender whose
lease lapsed in the middle of an SMTP exchange never sees its mail sent again by the new
holder, and a claim left by a sender that died expires. Real SMTP (aiosmtpd), real processes
(`vigie serve --workers 2`) on one database, on both stores."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forum import clock, mail, workers
from forum.app import open_database
from forum.config import Config
from forum.mail import send
from forum.mail.send import CLAIM_SECONDS
from forum.models import outbox
from tests.conftest import in_store
from tests.test_mail import BASE_URL, Mailbox, outbox_rows, settle, wait_for_mail
from tests.test_workers import ROOT, START_SECONDS, free_port, request

pytestmark = pytest.mark.both_stores

MAILS = 5
LEASE_SECONDS = 4  # the shortest sensible (FORUM_LEASE_SECONDS): the test waits for it to lapse
DEAD = "4242-0000000000000000"  # the claimer id of a sender that died (pid-random)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def config(tmp_path, mailbox, database_url: str) -> Config:
    return Config.from_env(
        env={}, data_dir=tmp_path / "data", database_url=database_url, base_url=BASE_URL,
        smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_starttls=False,
        mail_interval_seconds=0.2, mail_retry_seconds=0.05)


def subjects(mailbox: Mailbox) -> Counter[str]:
    return Counter(str(message["Subject"]) for message in mailbox.messages)


async def enqueue(tx: Any, number: int) -> int:
    return await outbox.enqueue(tx, f"membre{number}@example.org", f"Courrier {number}",
                                "Bonjour.", "")


# One process: a live claim is respected, an expired one taken up ---------------------------------

async def test_a_mail_claimed_by_a_dead_sender_goes_once_its_claim_expired(forum, mailbox):
    async with forum.db.transaction() as tx:  # claimed in the transaction that queued it
        claimed = await enqueue(tx, 0)
        assert (await outbox.claim(tx, DEAD, CLAIM_SECONDS))["id"] == claimed
    async with forum.db.transaction() as tx:
        await enqueue(tx, 1)
    await wait_for_mail(forum.app, mailbox)  # the sender runs, and passes the claimed one by
    await settle(forum.app)
    assert subjects(mailbox) == {"Courrier 1": 1}
    # The time goes by (CLAIM_SECONDS are minutes): the dead sender's claim expires.
    async with forum.db.transaction() as tx:
        await tx.execute("update outbox set claimed_until = ? where id = ?",
                         (clock.later(seconds=-1), claimed))
    await wait_for_mail(forum.app, mailbox, count=2)
    await settle(forum.app)
    assert subjects(mailbox) == {"Courrier 0": 1, "Courrier 1": 1}
    row = (await outbox_rows(forum.app))[0]
    assert row["sent_at"] and row["claimed_by"] is None and row["claimed_until"] is None


async def test_a_server_down_puts_off_its_mails_but_not_those_claimed_elsewhere(forum, mailbox):
    mailbox.stop()
    async with forum.db.transaction() as tx:
        claimed = await enqueue(tx, 0)
        await outbox.claim(tx, DEAD, CLAIM_SECONDS)
        free = await enqueue(tx, 1)
    deadline = time.monotonic() + 5
    while True:
        rows = {row["id"]: row for row in await outbox_rows(forum.app)}
        if rows[free]["attempts"] >= 1:
            break
        assert time.monotonic() < deadline, "the sender did not try"
        mail.wake(forum.app)
        await asyncio.sleep(0.02)
    assert rows[free]["last_error"] and rows[free]["claimed_by"] is None  # kept for a retry
    assert rows[claimed]["attempts"] == 0 and rows[claimed]["claimed_by"] == DEAD
    assert rows[claimed]["next_attempt_at"] == rows[claimed]["created_at"]


async def test_a_send_outlasting_its_bound_is_cut_and_kept_for_a_retry(forum, mailbox,
                                                                       monkeypatch):
    monkeypatch.setattr(send, "SEND_SECONDS", 0.5)  # the bound, not the server's time, cuts it
    mailbox.accepting = False  # DATA hangs
    async with forum.db.transaction() as tx:
        await enqueue(tx, 0)
    deadline = time.monotonic() + 5
    while (row := (await outbox_rows(forum.app))[0])["attempts"] < 1:
        assert time.monotonic() < deadline, "the send was not cut"
        await asyncio.sleep(0.02)
    assert row["sent_at"] is None and row["given_up_at"] is None
    assert "no answer within" in row["last_error"] and row["claimed_until"] is None


async def test_two_senders_claiming_at_once_take_different_mails(config):
    senders = [await open_database(config, readers=1) for _ in range(2)]

    async def claim(db: Any, claimer: str) -> int | None:
        async with db.transaction() as tx:
            row = await outbox.claim(tx, claimer, CLAIM_SECONDS)
            return None if row is None else int(row["id"])

    try:
        async with senders[0].transaction() as tx:
            for number in range(MAILS):
                await enqueue(tx, number)
        taken = await asyncio.gather(*(claim(senders[n % 2], f"{n}-x")
                                       for n in range(MAILS + 2)))
        claimed = [mail_id for mail_id in taken if mail_id is not None]
        assert len(claimed) == MAILS and len(set(claimed)) == MAILS  # none for two senders
        assert await claim(senders[1], "late-x") is None  # all claims live
    finally:
        for db in senders:
            await db.close()


# Two processes on one database: the lease lapses during a DATA held by the server -------------

class StallingMailbox(Mailbox):
    """Holds the first DATA until released: a server that hangs on the first mail."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        if not self.holding.is_set():
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


def _serve(tmp_path: Path, config: Config, port: int,
           mailbox: Mailbox) -> subprocess.Popen[bytes]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FORUM_")},
           workers.PID_HEADER: "1", "FORUM_DATABASE_URL": config.database_url,
           "FORUM_LEASE_SECONDS": str(LEASE_SECONDS), "FORUM_SMTP_HOST": "127.0.0.1",
           "FORUM_SMTP_PORT": str(mailbox.port), "FORUM_SMTP_STARTTLS": "false",
           "FORUM_MAIL_INTERVAL_SECONDS": "0.3"}
    with (tmp_path / "server.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "forum", "--data-dir", str(config.data_dir), "serve",
             "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, stdout=log, stderr=log)


def _wait_for_two_workers(port: int, master: subprocess.Popen[bytes], log: Path) -> None:
    deadline, seen = time.monotonic() + START_SECONDS, set()
    while len(seen) < 2:
        assert time.monotonic() < deadline and master.poll() is None, log.read_text()
        try:
            seen.add(request(port, "GET", "/healthz").worker)
        except OSError:
            time.sleep(0.2)


def _until(what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return found


def _query(config: Config, sql: str) -> list[Any]:
    async def work(tx: Any) -> list[Any]:
        return list(await tx.all(sql))
    return asyncio.run(in_store(config, work))


def _lease_holder(config: Config) -> int | None:
    rows = _query(config, "select holder from leases where name = 'mail'")
    return int(rows[0][0].split("-")[0]) if rows else None


def test_a_lapsed_lease_during_a_held_data_sends_each_mail_once(tmp_path, database_url):
    mailbox = StallingMailbox()
    mailbox.start()
    config = Config.from_env(env={}, data_dir=tmp_path / "data", database_url=database_url)
    port = free_port()
    master = _serve(tmp_path, config, port, mailbox)
    stopped: int | None = None
    try:
        _wait_for_two_workers(port, master, tmp_path / "server.log")

        async def queue(tx: Any) -> None:
            for number in range(MAILS):
                await enqueue(tx, number)
        asyncio.run(in_store(config, queue))
        _until("no DATA reached the server", mailbox.holding.is_set)
        sender = _lease_holder(config)
        assert sender is not None
        # The sender stalls in its DATA (paused: as a process cut from its database would,
        # its lease is not renewed); the other worker takes the lease over.
        os.kill(sender, signal.SIGSTOP)
        stopped = sender
        _until("the lease did not pass", lambda: _lease_holder(config) not in (None, sender))
        _until("the others were not sent", lambda: len(mailbox.messages) >= MAILS - 1)
        time.sleep(1)  # the new holder sends oldest first: a copy of the first would be here
        assert subjects(mailbox) == {f"Courrier {n}": 1 for n in range(1, MAILS)}
        claims = _query(config, "select claimed_by from outbox where sent_at is null")
        assert [row[0].split("-")[0] for row in claims] == [str(sender)]
        mailbox.release.set()  # the server answers the held DATA; its sender goes on
        os.kill(sender, signal.SIGCONT)
        stopped = None
        _until("not all marked sent", lambda: _query(
            config, "select count(*) from outbox where sent_at is not null")[0][0] == MAILS)
        time.sleep(1)
        assert subjects(mailbox) == {f"Courrier {n}": 1 for n in range(MAILS)}
    finally:
        if stopped is not None:
            os.kill(stopped, signal.SIGCONT)
        mailbox.release.set()
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(60)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()
        mailbox.stop()
