"""`bench/thread_page.py --store sqlite|postgresql|both --servers 1,2`: the thread page and
replies per second on each store, with one or two Vigie servers, in the same run (issue 19).

For each forum size, the forum is generated once in SQLite (thread_page.generate), then copied
table by table into a throw-away PostgreSQL cluster (initdb + pg_ctl on a Unix socket in /tmp,
tests/postgresql_cluster.py's, run as `postgres` when we are root). Each store is then served
by 1 and by 2 real `python -m forum serve` processes (ports on 127.0.0.1; with two, the load is
split over both: one wrk per server, half the connections each), and measured:

    bare      one bare aiohttp process per Vigie server, returning the page's bytes: the ceiling
              (measured before and after the pages; the mean of both)
    cached    an anonymous reader (the rendered-page cache)
    render    `Cookie: vigie_session=bogus`: no page cache, the page rendered for a visitor with
              its posts from the fragment cache (issue 15's "uncached render": the first reader
              after a write)
    member    a logged-in member's page
    writes    replies posted through the API (POST /api/v1/threads/{id}/posts) by 16 members on
              random threads, `--connections` at once, for `--duration` s; counted from the
              201 answers and checked against the posts table afterwards

The forum is the one thread_page.py generates, with what a running forum also holds and a
reply reads or writes: each thread followed by those who posted in it, and NOTIFIED (read,
mailed) notifications per post (Vigie never prunes them).

Columns: req/s; `/ bare`; `CPU ms`, the Vigie servers' CPU per request (all their processes,
the Markdown workers included); `PG ms`, PostgreSQL's (the postmaster and its backends: they
share the same cores, so a page on PostgreSQL costs CPU ms + PG ms); `/ bare CPU`, bare's CPU
per request over the page's (CPU ms + PG ms): the ratio that other programs' load hardly
moves, unlike req/s on this busy 2-core machine; p99. After the PostgreSQL runs, the
statements pg_stat_statements saw per uncached page and per write (mean time each) are printed.

PostgreSQL runs with fsync on and synchronous_commit off: a commit may be lost on a crash but
never corrupts, as SQLite's WAL with synchronous = normal that Vigie uses.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import harness
import thread_page as tp

from forum.models.users import token_hash

if str(harness.ROOT) not in sys.path:  # tests/ holds the cluster the test suite uses too
    sys.path.append(str(harness.ROOT))
from tests.postgresql_cluster import Cluster

WRITERS = 16  # members posting in the write run, each with an API token
NOTIFIED = 5  # notifications per post already in the forum
COPY_BATCH = 20_000
PG_OPTIONS = ("-c listen_addresses='' -c synchronous_commit=off -c max_connections=200"
              " -c shared_preload_libraries=pg_stat_statements -c shared_buffers=256MB")
STATEMENTS_SHOWN = 12
WRITE_LUA = """
local tokens = {%(tokens)s}
local threads = {%(threads)s}
local bodies = {%(bodies)s}
local counter, seed = 0, 0
function setup(thread)
  seed = seed + 1
  thread:set("seed", seed)
end
function init(args)
  math.randomseed(2000 + seed)
end
function request()
  counter = counter + 1
  local body = bodies[math.random(#bodies)]
  local text = '{"body": "' .. body .. ' (' .. seed .. '-' .. counter .. ')"}'
  return wrk.format("POST", "/api/v1/threads/" .. threads[math.random(#threads)] .. "/posts",
                    {["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
                     ["Content-Type"] = "application/json"}, text)
end
"""


@dataclass
class Store:
    """Where a forum lives: its label, the data folder the servers get, and their settings."""

    name: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    cluster: BenchCluster | None = None
    url: str = ""


@dataclass
class Row:
    label: str
    rps: float
    p99: float
    cpu_ms: float | None
    pg_ms: float | None
    requests: int = 0
    note: str = ""


class BenchCluster(Cluster):
    """The tests' throw-away cluster, with the settings of a real site (fsync on) and
    pg_stat_statements loaded."""

    def start(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "vigie",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o",
                  f"-k {self.folder} {PG_OPTIONS}", "-l", str(self.folder / "log"), "-w",
                  "start")
        asyncio.run(self._template())

    def cpu_seconds(self) -> float:
        """CPU time of the postmaster, its live children and those it reaped."""
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        stat = Path(f"/proc/{master}/stat").read_text().rpartition(")")[2].split()
        total = sum(int(value) for value in stat[11:15]) / os.sysconf("SC_CLK_TCK")
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                                  text=True).stdout.split()
        return total + sum(harness.cpu_seconds(int(pid)) or 0.0 for pid in children)


# Data ----------------------------------------------------------------------------------------

def add_writers(forum: tp.GeneratedForum) -> tuple[list[str], list[int]]:
    """What a forum that has been running holds and the write run needs: each thread
    followed by those who posted in it (as posting does by default), NOTIFIED notifications
    per post, read and mailed (the table is never pruned: publishing a post reads it), and API
    tokens for members 3 .. 3 + WRITERS, the write run's authors. Returns the tokens and the
    threads they reply to: every thread but the one the page measures (it keeps 50 posts)."""
    tokens = ["vigie_" + os.urandom(24).hex() for _ in range(WRITERS)]
    with sqlite3.connect(forum.data_dir / "forum.sqlite3") as conn:
        conn.execute("insert or ignore into follows (user_id, target_kind, target_id, mode,"
                     " created_at) select author_id, 'thread', thread_id, 'follow',"
                     " min(created_at) from posts group by author_id, thread_id")
        conn.execute(
            "with recursive k (n) as (select 1 union all select n + 1 from k where n < ?)"
            " insert into notifications (user_id, kind, post_id, thread_id, actor_id,"
            " created_at, read_at, mailed_at) select 1 + (posts.id * 7 + k.n) % ?, 'reply',"
            " posts.id, posts.thread_id, posts.author_id, posts.created_at, posts.created_at,"
            " posts.created_at from posts, k", (NOTIFIED, tp.MEMBERS))
        conn.executemany("insert into api_tokens (user_id, token_hash, label, created_at)"
                         " values (?, ?, 'bench writer', '2023-01-01T00:00:00.000Z')",
                         [(3 + i, token_hash(token)) for i, token in enumerate(tokens)])
        threads = [tid for (tid,) in conn.execute("select id from threads where id <> ?",
                                                  (forum.thread_id,))]
    return tokens, threads


async def copy_to_postgresql(sqlite_path: Path, url: str) -> dict[str, int]:
    """Every table the SQLite forum fills and PostgreSQL has empty, rows copied as they are
    (foreign keys not checked meanwhile: `session_replication_role = replica`), identity
    sequences moved past the copied ids, then VACUUM ANALYZE as autovacuum would after a
    bulk load. Returns the rows copied per table."""
    source = sqlite3.connect(sqlite_path)
    conn = await asyncpg.connect(url)
    copied: dict[str, int] = {}
    try:
        await conn.execute("set session_replication_role = replica")
        columns = await conn.fetch(
            "select table_name, column_name, is_identity from information_schema.columns"
            " join information_schema.tables using (table_schema, table_name)"
            " where table_schema = 'public' and table_type = 'BASE TABLE'"
            " and is_generated = 'NEVER' order by table_name, ordinal_position")
        tables: dict[str, list[tuple[str, bool]]] = {}
        for row in columns:
            tables.setdefault(row["table_name"], []).append(
                (row["column_name"], row["is_identity"] == "YES"))
        for table, cols in tables.items():
            copied[table] = await _copy_table(source, conn, table, cols)
        await conn.execute("reset session_replication_role")
        await conn.execute("vacuum analyze")
    finally:
        await conn.close()
        source.close()
    return {table: rows for table, rows in copied.items() if rows}


async def _copy_table(source: sqlite3.Connection, conn: asyncpg.Connection, table: str,
                      cols: list[tuple[str, bool]]) -> int:
    if table == "schema_migrations" or await conn.fetchval(
            f"select exists (select 1 from {table})"):
        return 0  # the baseline's own rows (finding kinds)
    try:
        have = {row[1] for row in source.execute(f"pragma table_info({table})")}
    except sqlite3.Error:
        return 0
    names = [name for name, _identity in cols if name in have]
    if not names:
        return 0
    cursor = source.execute(f"select {', '.join(names)} from {table}")
    count = 0
    while rows := cursor.fetchmany(COPY_BATCH):
        await conn.copy_records_to_table(table, records=rows, columns=names)
        count += len(rows)
    for name, identity in cols:
        if identity and count:
            await conn.execute(f"select setval(pg_get_serial_sequence('{table}', '{name}'),"
                               f" (select max({name}) from {table}))")
    return count


# Servers -------------------------------------------------------------------------------------

@dataclass
class Running:
    ports: list[int]
    procs: list[subprocess.Popen[bytes]]
    bare_ports: list[int]
    bare: list[subprocess.Popen[bytes]]


@contextlib.contextmanager
def serving(store: Store, forum: tp.GeneratedForum, count: int) -> Iterator[Running]:
    """`count` Vigie servers on the store, one after the other (the first applies migrations),
    each checked to serve the 50-post page; then as many bare servers of its bytes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update(FORUM_POSTS_PER_PAGE=str(tp.TARGET_POSTS), PYTHONUNBUFFERED="1",
               FORUM_POSTS_PER_MINUTE="1000000", FORUM_TRUST_THRESHOLD="0", **store.env)
    running = Running([], [], [], [])
    path = f"/t/{forum.thread_id}"
    try:
        for number in range(count):
            port = harness.free_port()
            log = store.data_dir / f"server-{number}.log"
            running.procs.append(harness.start_process(
                [sys.executable, "-m", "forum", "--data-dir", str(store.data_dir), "serve",
                 "--workers", "1", "--host", "127.0.0.1", "--port", str(port)], log, env))
            running.ports.append(port)
            harness.wait_ready(running.procs[-1], port, log, tp.READY_TIMEOUT)
        for port in running.ports:
            status, headers, page = harness.fetch(port, path)
            if status != 200 or page.count(b"<article") != tp.TARGET_POSTS:
                raise SystemExit(f"{store.name} {path}: status {status},"
                                 f" {page.count(b'<article')} <article>")
        page_file = store.data_dir / "page.html"
        page_file.write_bytes(page)
        for number in range(count):
            port = harness.free_port()
            log = store.data_dir / f"bare-{number}.log"
            running.bare.append(harness.start_process(
                [sys.executable, "-c", tp.BARE_SERVER, str(page_file), str(port),
                 headers["Content-Type"]], log, env))
            running.bare_ports.append(port)
            harness.wait_ready(running.bare[-1], port, log, 30)
        yield running
    finally:
        for proc in running.procs + running.bare:
            harness.stop_process(proc)


# Load ----------------------------------------------------------------------------------------

def _wrk(ports: list[int], path: str, headers: dict[str, str], seconds: float,
         args: argparse.Namespace, script: str | None = None) -> harness.LoadResult:
    """One wrk per port at once, the connections split between them; req/s and requests
    added up, each percentile the worst of them."""
    share = argparse.Namespace(**{**vars(args),
                                  "connections": max(1, args.connections // len(ports))})
    with ThreadPoolExecutor(len(ports)) as pool:
        results = list(pool.map(
            lambda port: harness.run_wrk("", f"http://127.0.0.1:{port}{path}", headers,
                                         seconds, share, script), ports))
    return harness.LoadResult(
        "", sum(r.rps for r in results),
        {p: max(r.percentiles[p] for r in results) for p in results[0].percentiles},
        sum(r.requests for r in results), sum(r.bad_status for r in results),
        sum(r.errors for r in results))


def _cpu(procs: list[subprocess.Popen[bytes]]) -> float:
    """The servers' CPU time and their children's: the workers that cook posts' Markdown."""
    pids = [proc.pid for proc in procs]
    for proc in procs:
        pids += [int(pid) for pid in subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()]
    return sum(harness.cpu_seconds(pid) or 0.0 for pid in pids)


def measure(label: str, store: Store, procs: list[subprocess.Popen[bytes]], ports: list[int],
            path: str, headers: dict[str, str], args: argparse.Namespace,
            script: str | None = None) -> tuple[Row, harness.LoadResult]:
    """A warm-up, then one measured run over every port; CPU of the servers and of PG."""
    if args.warmup > 0:
        _wrk(ports, path, headers, args.warmup, args, script)
    asyncio.run(reset_statements(store))
    cpu, pg = _cpu(procs), store.cluster.cpu_seconds() if store.cluster else None
    result = _wrk(ports, path, headers, args.duration, args, script)
    requests = max(1, result.requests)
    cpu_ms = (_cpu(procs) - cpu) * 1000 / requests
    pg_ms = None if pg is None or store.cluster is None else (
        (store.cluster.cpu_seconds() - pg) * 1000 / requests)
    row = Row(label, result.rps, result.percentiles["99%"], cpu_ms, pg_ms, result.requests)
    if result.bad_status or result.errors:
        row.note = f"{result.bad_status} bad status, {result.errors} errors"
    print(f"  {store.name:<10} {len(ports)} server(s) {label:<8} {result.rps:>8,.0f} req/s"
          f"  p99 {row.p99:.1f} ms  CPU {cpu_ms:.2f} ms"
          + ("" if pg_ms is None else f" + PG {pg_ms:.2f} ms") + f"  {row.note}", flush=True)
    return row, result


def read_rows(store: Store, forum: tp.GeneratedForum, running: Running,
              args: argparse.Namespace) -> list[Row]:
    path = f"/t/{forum.thread_id}"
    bare = [measure("bare", store, running.bare, running.bare_ports, path, {}, args)[0]]
    rows = []
    for label, headers in (("cached", {}), ("render", {"Cookie": "vigie_session=bogus"}),
                           ("member", {"Cookie": f"vigie_session={forum.member_token}"})):
        for port in running.ports:  # what each server answers this reader, checked once
            status, _h, body = harness.fetch(port, path, headers)
            if status != 200 or body.count(b"<article") != tp.TARGET_POSTS:
                raise SystemExit(f"{store.name} {label}: status {status}")
        rows.append(measure(label, store, running.procs, running.ports, path, headers,
                            args)[0])
        if label == "render":
            rows[-1].note += asyncio.run(statements(store, rows[-1], "per uncached page"))
    bare.append(measure("bare", store, running.bare, running.bare_ports, path, {}, args)[0])
    # Before and after the others, as thread_page.py does: the machine's load moves meanwhile.
    return [Row("bare", (bare[0].rps + bare[1].rps) / 2, max(bare[0].p99, bare[1].p99),
                (bare[0].cpu_ms or 0.0) / 2 + (bare[1].cpu_ms or 0.0) / 2, bare[0].pg_ms),
            *rows]


def write_row(store: Store, forum: tp.GeneratedForum, running: Running, tokens: list[str],
              threads: list[int], args: argparse.Namespace) -> Row:
    """Replies through the API for --duration s; writes/s from the 201s, checked against the
    posts table."""
    sample = [json.dumps(body[:300])[1:-1] for body in tp.BODIES]
    script = store.data_dir / "writes.lua"
    script.write_text(WRITE_LUA % {
        "tokens": ", ".join(f'"{token}"' for token in tokens),
        "threads": ", ".join(map(str, threads)),
        "bodies": ", ".join(f"[==[{body}]==]" for body in sample)})
    # The warm-up starts each server's Markdown workers (a second of CPU each, once): two
    # replies at once per server, answered before the warm-up run, then that run.
    with ThreadPoolExecutor(2 * len(running.ports)) as pool:
        list(pool.map(lambda job: _reply(job[0], tokens[job[1]], threads[job[1]]),
                      [(port, i) for port in running.ports for i in range(2)]))
    _wrk(running.ports, "/", {}, max(1.0, args.warmup), args, str(script))
    before = asyncio.run(post_count(store))
    warmup, args.warmup = args.warmup, 0.0  # done: every post after it counted
    try:
        row, result = measure("writes", store, running.procs, running.ports, "/", {}, args,
                              str(script))
    finally:
        args.warmup = warmup
    written = asyncio.run(post_count(store)) - before
    row.rps = (result.requests - result.bad_status) / args.duration
    row.note += f"{written:,} posts written ({result.requests - result.bad_status:,} 201s)"
    row.note += asyncio.run(statements(store, row, "per write"))
    return row


def _reply(port: int, token: str, thread_id: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", f"/api/v1/threads/{thread_id}/posts",
                           json.dumps({"body": "Première réponse du banc d'essai."}),
                           {"Authorization": f"Bearer {token}",
                            "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if response.status != 201:
        raise SystemExit(f"a reply on port {port}: status {response.status}")


async def post_count(store: Store) -> int:
    if store.url:
        conn = await asyncpg.connect(store.url)
        try:
            return int(await conn.fetchval("select count(*) from posts"))
        finally:
            await conn.close()
    with sqlite3.connect(store.data_dir / "forum.sqlite3") as conn:
        return int(conn.execute("select count(*) from posts").fetchone()[0])


async def reset_statements(store: Store) -> None:
    if store.url:
        conn = await asyncpg.connect(store.url)
        try:
            await conn.execute("select pg_stat_statements_reset()")
        finally:
            await conn.close()


async def statements(store: Store, row: Row, per: str) -> str:
    """PostgreSQL's statements since the reset, per request, with their mean time."""
    if not store.url:
        return ""
    conn = await asyncpg.connect(store.url)
    try:
        found = await conn.fetch(
            "select calls, total_exec_time, mean_exec_time, query from pg_stat_statements"
            " join pg_database on pg_database.oid = dbid where datname = current_database()"
            " and query not like '%pg_stat_statements%' and query <> 'select count(*) from posts'"
            " order by total_exec_time desc")
    finally:
        await conn.close()
    calls = sum(r["calls"] for r in found)
    lines = [f"\n      statements {per}: ~{calls / max(1, row.requests):.1f}"
             f" (of {calls:,} in {len(found)} kinds), top by total time:"]
    for r in found[:STATEMENTS_SHOWN]:
        lines.append(f"        {r['calls']:>8,} x {r['mean_exec_time']:.3f} ms  "
                     f"{' '.join(r['query'].split())[:100]}")
    return "\n".join(lines)


# The run -------------------------------------------------------------------------------------

def server_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(c not in (1, 2) for c in counts):
        raise SystemExit("--servers: 1, 2 or 1,2")
    return counts


def stores_of(choice: str) -> list[str]:
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


def compare(args: argparse.Namespace, root: Path) -> None:
    """Each size: generate, copy to PostgreSQL if asked, then every store x servers."""
    cluster = None
    if "postgresql" in stores_of(args.store):
        cluster = BenchCluster()
        began = time.perf_counter()
        cluster.start()
        print(f"PostgreSQL cluster ({cluster.bin.parent.name}) started in"
              f" {time.perf_counter() - began:.1f} s in {cluster.folder}", flush=True)
    try:
        for posts in args.sizes or [args.posts]:
            one_size(args, root, posts, cluster)
    finally:
        if cluster is not None:
            cluster.stop()


def one_size(args: argparse.Namespace, root: Path, posts: int,
             cluster: BenchCluster | None) -> None:
    forum = tp.make_forum(root, posts)
    tokens, threads = add_writers(forum)
    stores, timings = [], [f"SQLite generated in {forum.seconds:.1f} s"]
    if "sqlite" in stores_of(args.store):
        stores.append(Store("sqlite", forum.data_dir))
    if cluster is not None:
        began = time.perf_counter()
        url = asyncio.run(cluster.database())
        copied = asyncio.run(copy_to_postgresql(forum.data_dir / "forum.sqlite3", url))
        asyncio.run(_extension(url))
        timings.append(f"copied to PostgreSQL in {time.perf_counter() - began:.1f} s"
                       f" ({sum(copied.values()):,} rows in {len(copied)} tables)")
        pg_dir = root / f"pg-{posts}"
        pg_dir.mkdir()
        stores.append(Store("postgresql", pg_dir, {"FORUM_DATABASE_URL": url}, cluster, url))
    print("  " + "; ".join(timings), flush=True)
    reads: dict[tuple[str, int], list[Row]] = {}
    writes: dict[tuple[str, int], Row] = {}
    for store in stores:
        for count in args.servers:
            with serving(store, forum, count) as running:
                reads[store.name, count] = read_rows(store, forum, running, args)
        for count in args.servers:  # last: the replies change the forum
            with serving(store, forum, count) as running:
                writes[store.name, count] = write_row(store, forum, running, tokens, threads,
                                                      args)
    report(args, forum, timings, reads, writes)


async def _extension(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("create extension if not exists pg_stat_statements")
    finally:
        await conn.close()


def report(args: argparse.Namespace, forum: tp.GeneratedForum, timings: list[str],
           reads: dict[tuple[str, int], list[Row]],
           writes: dict[tuple[str, int], Row]) -> None:
    print(f"\nThread page ({tp.TARGET_POSTS} posts) and replies, forum of {forum.posts:,}"
          f" posts ({'; '.join(timings)}); {args.connections} connections, {args.duration:.0f}"
          f" s each; load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
          f" on {os.cpu_count()} CPUs")
    print(f"{'store':<11}{'servers':>7}  {'page':<8}{'req/s':>9}{'/ bare':>8}{'CPU ms':>8}"
          f"{'PG ms':>7}{'/ bare CPU':>11}{'p99 ms':>8}")
    for (name, count), rows in reads.items():
        bare = rows[0]
        for row in rows:
            pg = "-" if row.pg_ms is None else f"{row.pg_ms:.2f}"
            cpu = "-" if row.cpu_ms is None else f"{row.cpu_ms:.2f}"
            spent = (row.cpu_ms or 0.0) + (row.pg_ms or 0.0)
            by_cpu = f"{(bare.cpu_ms or 0.0) / spent:.2f}" if spent else "-"
            print(f"{name:<11}{count:>7}  {row.label:<8}{row.rps:>9,.0f}"
                  f"{row.rps / bare.rps:>8.2f}{cpu:>8}{pg:>7}{by_cpu:>11}{row.p99:>8.1f}")
    print(f"\n{'store':<11}{'servers':>7}  {'writes/s':>9}{'CPU ms':>8}{'PG ms':>7}"
          f"{'p99 ms':>8}")
    for (name, count), row in writes.items():
        pg = "-" if row.pg_ms is None else f"{row.pg_ms:.2f}"
        print(f"{name:<11}{count:>7}  {row.rps:>9,.0f}{row.cpu_ms or 0:>8.2f}{pg:>7}"
              f"{row.p99:>8.1f}  {row.note.splitlines()[0] if row.note else ''}")
    for (name, count), rows in reads.items():
        for row in rows:
            if "\n" in row.note:
                print(f"\n{row.label}, {name}, {count} server(s): {row.note}")
    for (name, count), row in writes.items():
        if "\n" in row.note:
            print(f"\nwrites, {name}, {count} server(s): {row.note}")
