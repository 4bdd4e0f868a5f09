"""Members' moderation queue and watch pages: in-process CPU per request (issue 15).

What it measures
  A forum in a temporary data folder, written through the app's own models: a city board on
  a-priori moderation with `--pending` messages waiting (half of them replies, so that the queue
  shows the message answered), `--findings` published findings and a few pending ones, a second
  city to compare with; a moderator of the city and a member, both logged in. The app runs in
  this process (aiohttp's TestServer); each page is asked `--requests` times after a warm-up,
  and the line is the process's CPU time per request (time.process_time: server and client,
  the client's share the same for every line), with the bytes of the page.

How to read it
  Compare the lines before and after a change on the same machine: the queue and the watch
  pages of a moderator and a member should cost close to a visitor's kept page once nothing
  changed (their page kept for their class, assembled per reader: forum/fragments.py).

  python bench/queue_watch.py [--pending 40] [--findings 50] [--requests 300]
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from datetime import date
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import data_folder  # noqa: E402

from forum import keys  # noqa: E402  (after the path: run as a script)
from forum.app import create_app  # noqa: E402
from forum.config import Config  # noqa: E402
from forum.models import (  # noqa: E402
    boards,
    finding_drafts,
    findings,
    moderation,
    posts,
    threads,
    users,
)

PASSWORD = "correct horse battery staple"
BODY = ("Le conseil municipal a voté **hier** l'extension du réseau : "
        "[le compte rendu](https://example.org/cr.pdf), 12 caméras de plus. ") * 3


async def _member(tx, name: str, role: str = "member", trusted: bool = True) -> users.User:
    user = await users.create(tx, name, PASSWORD, role, None)
    if trusted:
        await tx.execute("update users set trust_override = 1 where id = ?", (user.id,))
    return await users.get(tx, user.id)


async def _finding(tx, board: boards.Board, author: users.User, year: int, review: str) -> None:
    raw = finding_drafts.RawFinding(
        kind="cameras", quantity=str(10 + year % 40), unit="count", scope="total",
        observed=str(year), status="in-use", posts=[],
        links=[("https://example.org/source.pdf", "Source")])
    draft = await finding_drafts.check(tx, board, raw, date.today())
    await findings.create(tx, board, author, draft, review)


async def populate(app, pending: int, found: int) -> None:
    async with app[keys.DB].transaction() as tx:
        city = await boards.create(tx, "Metz", "metz", "", "", "a-priori")
        other = await boards.create(tx, "Nancy", "nancy", "", "", "a-posteriori")
        moderator = await _member(tx, "moderatrice")
        member = await _member(tx, "membre")
        newcomer = await _member(tx, "nouveau", trusted=False)
        await moderation.add_board_moderator(tx, city, moderator)
        thread_id, _post = await threads.create(tx, city, member, "Les caméras", BODY,
                                                10_000, 100_000)
        thread = await threads.get(tx, thread_id)
        for number in range(pending):
            await posts.create(tx, thread.id, thread.board_id, newcomer,
                               f"{BODY} (réponse {number})", 100_000, status="pending")
        for number in range(found):
            for board in (city, other):
                await _finding(tx, board, member, 1990 + number % 35, "published")
        for number in range(3):
            await _finding(tx, city, newcomer, 2000 + number, "pending")


async def logged_in(server: TestServer, name: str) -> TestClient:
    client = TestClient(server)
    await client.start_server()
    page = await (await client.get("/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no token on the log-in page"
    response = await client.post("/login", data={"csrf_token": token.group(1), "name": name,
                                                  "password": PASSWORD}, allow_redirects=False)
    assert response.status == 303, await response.text()
    return client


async def cost(client: TestClient, path: str, requests: int) -> tuple[float, int, int]:
    """CPU ms per request, the page's bytes and its status."""
    for _ in range(5):
        response = await client.get(path)
        body = await response.read()
    start = time.process_time()
    for _ in range(requests):
        response = await client.get(path)
        body = await response.read()
    return (time.process_time() - start) * 1000 / requests, len(body), response.status


async def run(args: argparse.Namespace) -> None:
    users._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    with data_folder("queue-watch-") as folder:
        app = create_app(Config.from_env(env={}, data_dir=folder / "data"))
        server = TestServer(app)
        await server.start_server()
        try:
            await populate(app, args.pending, args.findings)
            readers = {"visitor": TestClient(server), **{
                role: await logged_in(server, name)
                for role, name in (("moderator", "moderatrice"), ("member", "membre"),
                                   ("newcomer", "nouveau"))}}
            await readers["visitor"].start_server()
            pages = [("queue", "moderator", "/moderation"),
                     *((page, role, path) for page, path in (
                         ("national watch", "/watch"), ("city watch", "/b/metz/watch"),
                         ("compare", "/watch/compare?a=metz&b=nancy"))
                       for role in ("visitor", "member", "moderator", "newcomer"))]
            print(f"{'page':<16} {'reader':<10} {'CPU ms/req':>10} {'bytes':>8} status")
            for page, role, path in pages:
                ms, size, status = await cost(readers[role], path, args.requests)
                print(f"{page:<16} {role:<10} {ms:>10.3f} {size:>8} {status}")
            for client in readers.values():
                await client.close()
        finally:
            await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pending", type=int, default=40)
    parser.add_argument("--findings", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
