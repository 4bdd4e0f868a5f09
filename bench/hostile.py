"""Readers' latency (p50/p99) with and without hostile requests beside them.

What it measures
  A forum of --posts posts (the French word mix of bench/search.py, so "de" is in nearly every
  post) is served by the real server (`python -m forum serve`, one process). Readers fetch
  uncached thread pages and run ordinary searches, first alone, then while other connections
  send hostile requests in a loop:

    finding numbers of 40 000 digits (quantity, latitude), the search phrase of a common word
    repeated (over the words bound, and at the bound: the most a search may cost), a word
    repeated 66 times, a 100 000-character title, a 1.5 MB body, bodies of nested quotes,
    brackets, emphasis and lists, 2 000 @mentions, a thousand query parameters, malformed
    multipart forms (a page's, an upload's).

  Before that, each hostile request is sent alone three times: its status and slowest time.

How to read it
  Target: readers' p99 < 100 ms while hostile requests run (OK / OVER). Searches have a time
  budget (models.search.TIME_BUDGET) and at most all readers but one, for a slice of CPU time;
  a costly one goes on in the long lane, one at a time, and its terms and client are sent
  there directly for a while (db.Database.budgeted): a hostile search may take up to the budget
  itself, and is shown apart, but may not delay pages nor other clients' searches. Readers and
  attackers are different clients, named by X-Forwarded-For as behind the documented proxy.
  A client refused as invalid too often gets 429s (forum/input_limits.py, default limit): each
  phase's attackers, and each request sent alone, are new clients, so that what one phase
  earned does not turn away the next one's requests; the hostile answers' statuses are printed.
  Absolute figures move with whatever else runs on the machine: the load average is printed.
  Traffic goes to 127.0.0.1 only; every phase is bounded in time and the server is stopped.

  python bench/hostile.py [--posts 200000] [--duration 10] [--readers 2] [--hostile 2]
  python bench/hostile.py --data-dir DIR     # a folder kept by bench/search.py --keep
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from harness import ROOT, data_folder, free_port, start_process, stop_process, wait_ready
from search import generate

from forum.config import Config
from forum.migrate import migrate
from forum.models import search

P99_TARGET_MS = 100.0
READY_TIMEOUT = 120.0
REQUEST_TIMEOUT = 30.0  # a request slower than this counts as an error (the site stalled)
HOSTILE_NAME = "hostile"
CLIENTS = {"reader": "192.0.2", "attacker": "198.51.100"}  # RFC 5737 networks
PHASE_CLIENTS = 10  # phase i's attackers are numbered from 10 * i (or --hostile * i): new ones
ALONE_CLIENTS = 200  # and the hostile requests sent alone, from 200 on
READER_QUERIES = ["caméras", "conseil municipal", "vidéoprotection", '"place de la"',
                  "briefcam", "reconnaissance faciale"]


@dataclass
class Hostile:
    label: str
    group: str  # GROUPS: the phases send one group at a time, then all of them
    method: str
    path: str
    json: dict[str, Any] | None = None
    form: tuple[str, bytes] | None = None  # a raw form: its Content-Type, its bytes


GROUPS = {"input": "numbers, titles, sizes, parameters", "search": "repeated-word searches",
          "markdown": "bodies of nested Markdown and mentions"}


@dataclass
class Timings:
    label: str
    times: list[float] = field(default_factory=list)  # milliseconds
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0

    def add(self, status: int, ms: float) -> None:
        self.times.append(ms)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def percentile(self, p: int) -> float:
        ordered = sorted(self.times) or [0.0]
        return ordered[min(len(ordered) - 1, len(ordered) * p // 100)]


def hostile_requests(city: str, member: str) -> list[Hostile]:
    """Each input that stalled, or could stall, the site; none stores anything public."""
    body_max = Config().body_max
    digits = "1" * 40_000 + "x"
    finding = {"city": city, "kind": "cameras", "observed": "2020", "status": "in-use",
               "sources": [{"url": "https://example.org/a.pdf"}]}
    thread = f"/api/v1/boards/{city}/threads"

    def q(path: str, query: str) -> str:
        return f"{path}?{urllib.parse.urlencode({'q': query})}"

    return [
        Hostile("finding: 40 000-digit quantity", "input", "POST", "/api/v1/findings",
                {**finding, "quantity": digits, "unit": "count"}),
        Hostile("finding: 40 000-digit latitude", "input", "POST", "/api/v1/findings",
                {**finding, "latitude": digits, "longitude": "6.17"}),
        Hostile("search: phrase of 66 × de", "search", "GET",
                q("/search", '"' + " ".join(["de"] * 66) + '"')),
        Hostile(f"search: phrase of {search.WORDS_MAX} × de", "search", "GET",
                q("/api/v1/search", '"' + " ".join(["de"] * search.WORDS_MAX) + '"')),
        Hostile("search: de × 66", "search", "GET", q("/search", " ".join(["de"] * 66))),
        Hostile("thread: 100 000-character title", "input", "POST", thread,
                {"title": "x" * 100_000, "body": "x"}),
        Hostile("thread: 1.5 MB body", "input", "POST", thread,
                {"title": "Corps", "body": "x" * 1_500_000}),
        Hostile("thread: nested quotes", "markdown", "POST", thread,
                {"title": "Citations", "body": ">" * (body_max - 1) + "x"}),
        Hostile("thread: nested brackets", "markdown", "POST", thread,
                {"title": "Crochets", "body": "[" * (body_max // 2) + "]" * (body_max // 2)}),
        Hostile("thread: nested emphasis", "markdown", "POST", thread,
                {"title": "Emphase", "body": "*a" * (body_max // 4) + "a*" * (body_max // 4)}),
        Hostile("thread: nested lists", "markdown", "POST", thread,
                {"title": "Listes", "body": "- " * (body_max // 2 - 1) + "x"}),
        Hostile("thread: 2 000 @mentions", "markdown", "POST", thread,
                {"title": "Mentions", "body": f"@{member} " * (body_max // (len(member) + 2))}),
        Hostile("page: 1 000 query parameters", "input", "GET",
                f"/b/{city}?" + "&".join(f"p{n}=1" for n in range(1000))),
        Hostile("form: multipart cut short", "input", "POST", "/login",
                form=("multipart/form-data; boundary=edge", b"--edge\r\nContent-Disposition:"
                      b' form-data; name="name"\r\n')),
        Hostile("upload: multipart without its boundary", "input", "POST", "/api/v1/uploads",
                form=("multipart/form-data; boundary=edge", b"x" * 1_000_000)),
    ]


def reader_paths(data_dir: Path) -> list[str]:
    """Thread pages (uncached: the session cookie skips the page cache) and searches."""
    with contextlib.closing(sqlite3.connect(data_dir / "forum.sqlite3")) as conn:
        threads = [row[0] for row in conn.execute(
            "select id from threads where post_count > 0 order by id desc limit 20")]
    searches = [f"/search?{urllib.parse.urlencode({'q': query})}" for query in READER_QUERIES]
    return [path for pair in zip(
        [f"/t/{thread_id}" for thread_id in threads], searches * 4, strict=False)
        for path in pair]


def prepare(data_dir: Path) -> tuple[str, str, str]:
    """A member with an API token (through the CLI), a city and a member to mention.

    Migrations run here first, without the CLI's timeout: one that re-indexes a reused folder
    (0027: about a minute per 200 000 posts on a busy machine) would otherwise exceed it.
    """
    began = time.perf_counter()
    applied = migrate(data_dir / "forum.sqlite3")
    if applied:
        print(f"Migrated ({', '.join(applied)}) in {time.perf_counter() - began:.0f} s",
              flush=True)
    env = _env()
    command = [sys.executable, "-m", "forum", "--data-dir", str(data_dir)]
    subprocess.run([*command, "user", "add", HOSTILE_NAME, "--password-stdin"], cwd=ROOT,
                   env=env, input="hostile password 2026\n", text=True, capture_output=True,
                   timeout=60)  # fails harmlessly when the folder is reused
    token = subprocess.run([*command, "token", "create", HOSTILE_NAME], cwd=ROOT, env=env,
                           text=True, capture_output=True, timeout=60, check=True).stdout
    with contextlib.closing(sqlite3.connect(data_dir / "forum.sqlite3")) as conn:
        city = conn.execute("select slug from boards where is_city order by id").fetchone()[0]
        member = conn.execute("select name from users where id = 1").fetchone()[0]
    return token.strip(), city, member


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    # No rate limit in the way: every hostile post reaches the parsers, the worst case.
    # Readers and attackers are different clients, as behind the reverse proxy of
    # docs/deploy.md: the proxy (127.0.0.1) names each one in X-Forwarded-For (CLIENTS).
    env.update(FORUM_POSTS_PER_MINUTE="1000000", PYTHONUNBUFFERED="1",
               FORUM_TRUSTED_PROXIES="127.0.0.1")
    return env


@contextlib.contextmanager
def server(data_dir: Path) -> Iterator[int]:
    port = free_port()
    log = data_dir / "hostile-server.log"
    proc = start_process([sys.executable, "-m", "forum", "--data-dir", str(data_dir), "serve",
                   "--workers", "1", "--host", "127.0.0.1", "--port", str(port)], log, _env())
    try:
        wait_ready(proc, port, log, READY_TIMEOUT)
        yield port
    finally:
        stop_process(proc)


def client(kind: str, number: int) -> dict[str, str]:
    """The X-Forwarded-For of reader or attacker `number` (documentation addresses)."""
    return {"X-Forwarded-For": f"{CLIENTS[kind]}.{1 + number % 250}"}


async def send(session: aiohttp.ClientSession, base: str, hostile: Hostile,
               token: str, attacker: int = 0) -> tuple[int, float]:
    began = time.perf_counter()
    headers = client("attacker", attacker)
    if hostile.json is not None or hostile.path.startswith("/api/"):
        headers["Authorization"] = f"Bearer {token}"
    body = None
    if hostile.form is not None:
        headers["Content-Type"], body = hostile.form
    async with session.request(hostile.method, base + hostile.path, json=hostile.json,
                               data=body, headers=headers) as response:
        await response.read()
        return response.status, (time.perf_counter() - began) * 1000


async def one_by_one(port: int, hostiles: list[Hostile], token: str) -> list[Timings]:
    """Each hostile request alone, three times, from a client of its own: what it costs the
    server by itself."""
    results = []
    async with _session() as session:
        for number, hostile in enumerate(hostiles, start=ALONE_CLIENTS):
            timings = Timings(hostile.label)
            for _ in range(3):
                status, ms = await send(session, f"http://127.0.0.1:{port}", hostile, token,
                                        number)
                timings.add(status, ms)
            results.append(timings)
    return results


async def phase(port: int, paths: list[str], readers: int, hostiles: list[Hostile],
                hostile_connections: int, token: str, seconds: float,
                first_attacker: int = 0) -> Phase:
    """Readers (and hostile connections, if any, attackers numbered from `first_attacker`)
    for `seconds`; their timings."""
    base = f"http://127.0.0.1:{port}"
    result = Phase(Timings("pages"), Timings("searches"), Timings("hostile"))
    deadline = time.perf_counter() + seconds

    async def reader(session: aiohttp.ClientSession, offset: int) -> None:
        turn = offset
        while time.perf_counter() < deadline:
            path = paths[turn % len(paths)]
            turn += 1
            timings = result.searches if path.startswith("/search") else result.pages
            began = time.perf_counter()
            try:
                headers = {"Cookie": "vigie_session=bogus", **client("reader", offset)}
                async with session.get(base + path, headers=headers) as response:
                    await response.read()
                    timings.add(response.status, (time.perf_counter() - began) * 1000)
            except (aiohttp.ClientError, TimeoutError):
                timings.errors += 1

    async def attacker(session: aiohttp.ClientSession, offset: int) -> None:
        turn = offset
        while time.perf_counter() < deadline:
            hostile = hostiles[turn % len(hostiles)]
            turn += 1
            try:
                result.hostile.add(*await send(session, base, hostile, token, offset))
            except (aiohttp.ClientError, TimeoutError):
                result.hostile.errors += 1

    async with _session() as reading, _session() as attacking:
        await asyncio.gather(
            *(reader(reading, n * 7) for n in range(readers)),
            *(attacker(attacking, first_attacker + n)
              for n in range(hostile_connections if hostiles else 0)))
    return result


@dataclass
class Phase:
    pages: Timings
    searches: Timings
    hostile: Timings

    @property
    def readers(self) -> Timings:
        both = Timings("readers", self.pages.times + self.searches.times)
        both.errors = self.pages.errors + self.searches.errors
        return both


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                 timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))


def report(alone: list[Timings], phases: dict[str, Phase]) -> bool:
    print("\nEach hostile request alone (3 times):")
    print(f"  {'request':<36} {'status':>10} {'slowest ms':>11}")
    for timings in alone:
        statuses = "/".join(str(status) for status in sorted(timings.statuses))
        print(f"  {timings.label:<36} {statuses:>10} {max(timings.times):>11.1f}")
    print(f"\n  {'readers, beside':<44} {'pages p50/p99':>14} {'searches p50/p99':>17}"
          f" {'all p99':>8} {'hostile':>8}  verdict")
    verdicts = []
    for label, result in phases.items():
        readers = result.readers
        ok = readers.percentile(99) < P99_TARGET_MS and readers.errors == 0
        verdicts.append(ok or label == "nothing")
        pages = f"{result.pages.percentile(50):.0f}/{result.pages.percentile(99):.0f}"
        searches = f"{result.searches.percentile(50):.0f}/{result.searches.percentile(99):.0f}"
        print(f"  {label:<44} {pages:>14} {searches:>17} {readers.percentile(99):>8.0f}"
              f" {len(result.hostile.times):>8}  {'OK' if ok else 'OVER'}"
              + (f" ({readers.errors} errors)" if readers.errors else ""))
    print(f"  (milliseconds; readers' target: p99 < {P99_TARGET_MS:.0f} ms; 'hostile': hostile"
          " requests answered meanwhile)")
    print("\nHostile answers by status:")
    for label, result in phases.items():
        if result.hostile.statuses or result.hostile.errors:
            counts = "  ".join(f"{status}: {count}"
                               for status, count in sorted(result.hostile.statuses.items()))
            errors = f"  errors: {result.hostile.errors}" if result.hostile.errors else ""
            print(f"  {label:<44} {counts}{errors}")
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return all(verdicts)


def run(data_dir: Path, args: argparse.Namespace) -> bool:
    token, city, member = prepare(data_dir)
    hostiles = hostile_requests(city, member)
    paths = reader_paths(data_dir)
    plan = {"nothing": [], **{f"hostile {text}": [h for h in hostiles if h.group == group]
                              for group, text in GROUPS.items()},
            "every hostile request": hostiles}
    phases: dict[str, Phase] = {}
    with server(data_dir) as port:
        alone = asyncio.run(one_by_one(port, hostiles, token))
        asyncio.run(phase(port, paths, args.readers, [], 0, token, 2))  # warm the caches
        for number, (label, chosen) in enumerate(plan.items()):
            print(f"Readers beside {label}, {args.duration:.0f} s...", flush=True)
            phases[label] = asyncio.run(phase(port, paths, args.readers, chosen, args.hostile,
                                              token, args.duration,
                                              max(PHASE_CLIENTS, args.hostile) * number))
    return report(alone, phases)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--readers", type=int, default=2, help="reader connections")
    parser.add_argument("--hostile", type=int, default=2, help="hostile connections")
    parser.add_argument("--data-dir", type=Path, help="a forum folder to reuse")
    args = parser.parse_args(argv)
    with data_folder("vigie-hostile-bench-") as root:
        data_dir = args.data_dir
        if data_dir is None:
            print(f"Generating a forum of {args.posts:,} posts...", flush=True)
            data_dir = generate(root / "data", args.posts).data_dir
        return 0 if run(data_dir, args) else 1


if __name__ == "__main__":
    sys.exit(main())
