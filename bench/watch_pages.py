"""Watch pages speed (issues 7, 14): city page, national table (also per 10 000 inhabitants)
and map, comparison, exports, API and feed.

What it measures
  A forum is generated in a temporary data folder with bulk SQL into a migrated database:
  `--cities` city boards with `--findings` findings each (default 100 × 50 = 5 000), spread
  over the built-in kinds, the units (~15 % without a quantity) and the statuses, observed
  between 2005 and 2025 (as a year, a month or a day), ~5 % with coordinates, each with one
  source (40 % a public post of the one generated thread, else a link), ~2 % pending; then
  each city's population (located: a mark on the map) and a cameras total (a rate each).
  `--large` is 400 cities × 100 = 40 000 findings. The real server runs as
  `python -m forum serve` (one process) on 127.0.0.1, and for each page:

    render p50/p99  `--requests` sequential requests with `Cookie: vigie_session=bogus`:
                    no page cache, the page rendered for a visitor (SQL + Jinja) each time;
                    at most `--budget` seconds per page (never fewer than 3 requests)
    CPU ms          the server's CPU time per uncached request (from /proc)
    cached          an anonymous reader at `--connections` connections (wrk), `--duration`
                    seconds: served from the rendered-page cache. /api/ is never cached: its
                    line is the uncached JSON under load.
    check           what the response holds against what was generated (findings listed,
                    CSV rows, GeoJSON features, API total, feed entries): "ok" or the mismatch

How to read it
  Target: p99 < 50 ms at 16 connections for pages; a cached page close to the thread page's
  (bench/thread_page.py: several thousand req/s). Run the default size and `--large`: the
  city page, comparison, city export and API grow with a city's findings (50, then 100), not
  with the number of cities; the national page and exports hold every finding and must grow
  linearly, not worse. Above a load average of the number of CPUs, trust `CPU ms`.

  python bench/watch_pages.py [--cities 100] [--findings 50] [--large] [--requests 30]
                              [--duration 5] [--connections 16] [--keep]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import (  # the same servers and load tools as the thread page bench
    cpu_seconds,
    data_folder,
    fetch,
    free_port,
    run_wrk,
    start_process,
    stop_process,
    wait_ready,
)

from forum.migrate import migrate
from forum.text import pseudonym_key

SEED = 2026
MEMBERS, POSTS = 60, 300  # one thread of POSTS public posts in the first city: post sources
PENDING, WITH_COORDS, POST_SOURCE, NO_QUANTITY = 0.02, 0.05, 0.40, 0.15
P99_TARGET_MS = 50.0
READY_TIMEOUT = 120.0
AT = "2025-06-01T12:00:00.000Z"
STATUSES = ("planned", "voted", "installed", "in-use", "abandoned", "removed", "forbidden")
UNITS = {  # unit -> how a quantity of it is drawn (most findings count devices)
    "count": lambda r: r.randint(1, 2000), "eur": lambda r: r.randint(10, 5000) * 1000,
    "eur-per-year": lambda r: r.randint(5, 900) * 1000, "km2": lambda r: r.randint(5, 900) / 10,
    "agents": lambda r: r.randint(1, 80), "days": lambda r: r.randint(7, 90),
    "percent": lambda r: r.randint(0, 1000) / 10}
UNIT_WEIGHTS = (60, 8, 8, 4, 8, 6, 6)
PLACES = ("centre-ville", "quartier de la gare", "zone industrielle", "abords des écoles", "")


@dataclass
class Generated:
    data_dir: Path
    cities: int
    findings: int
    published: list[int]  # public findings per city (index 0 is the first city)
    with_coords: int  # public findings with coordinates
    seconds: float


@dataclass
class Figures:
    label: str
    path: str
    size: int = 0
    render: list[float] = field(default_factory=list)  # ms per uncached request
    cpu_ms: float | None = None
    cached: tuple[float, float] | None = None  # req/s, p99 ms
    check: str = ""


def _observed(rng: random.Random) -> str:
    year, month, day = rng.randint(2005, 2025), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice((f"{year}", f"{year}-{month:02d}", f"{year}-{month:02d}-{day:02d}"))


def _finding(rng: random.Random, finding_id: int, board: int, kinds: list[int],
             ) -> tuple[tuple, tuple, bool]:
    """One finding's row and its source's row; True when it is public."""
    unit = None if rng.random() < NO_QUANTITY else rng.choices(list(UNITS), UNIT_WEIGHTS)[0]
    quantity = UNITS[unit](rng) if unit else None
    lat, lon = ((rng.uniform(43.0, 50.5), rng.uniform(-4.0, 7.5))
                if rng.random() < WITH_COORDS else (None, None))
    public = rng.random() >= PENDING
    row = (finding_id, board, rng.choice(kinds), quantity, unit,
           "total" if unit else None, _observed(rng),
           rng.choice(STATUSES), rng.choice(PLACES), lat, lon, "Relevé d'après la source.",
           rng.randint(1, MEMBERS), "published" if public else "pending", AT,
           AT if public else None)
    if rng.random() < POST_SOURCE:
        source = (finding_id, "post", rng.randint(1, POSTS), None, "")
    else:
        source = (finding_id, "link", None, f"https://www.example.org/deliberation/{finding_id}",
                  "Délibération du conseil municipal")
    return row, source, public and lat is not None


def generate(data_dir: Path, cities: int, per_city: int) -> Generated:
    """Migrate, then insert members, cities, one thread of posts and the findings."""
    began = time.perf_counter()
    rng = random.Random(SEED)
    path = data_dir / "forum.sqlite3"
    migrate(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode = off", "synchronous = off"):
            conn.execute(f"pragma {pragma}")
        # Populations are one per city, added by add_populations (not drawn at random).
        kinds = [row[0] for row in conn.execute(
            "select id from finding_kinds where slug <> 'population'")]
        conn.execute("begin")
        conn.executemany(
            "insert into users (id, name, name_key, password_hash, created_at)"
            " values (?, ?, ?, '!', ?)",
            [(i, f"Veilleur{i}", pseudonym_key(f"Veilleur{i}"), AT) for i in range(1, MEMBERS + 1)])
        conn.executemany(
            "insert into boards (id, slug, name, region, position, thread_count, post_count,"
            " last_post_at, created_at) values (?, ?, ?, 'Région', ?, ?, ?, ?, ?)",
            [(i, f"commune-{i:03d}", f"Commune {i:03d}", i, int(i == 1), POSTS if i == 1 else 0,
              AT if i == 1 else None, AT) for i in range(1, cities + 1)])
        conn.execute("insert into threads (id, board_id, author_id, title, post_count,"
                     " created_at, last_post_at, last_post_id) values (1, 1, 1,"
                     " 'Délibérations sur la vidéoprotection', ?, ?, ?, ?)", (POSTS, AT, AT, POSTS))
        conn.executemany("insert into posts (id, thread_id, author_id, body_source, body_html,"
                         " created_at) values (?, 1, ?, ?, ?, ?)",
                         [(i, rng.randint(1, MEMBERS), f"Relevé {i}", f"<p>Relevé {i}</p>", AT)
                          for i in range(1, POSTS + 1)])
        rows, sources, published, coords = [], [], [0] * cities, 0
        for index in range(cities * per_city):
            row, source, mapped = _finding(rng, index + 1, index // per_city + 1, kinds)
            rows.append(row)
            sources.append(source)
            published[index // per_city] += row[13] == "published"
            coords += mapped
        conn.executemany(
            "insert into findings (id, board_id, kind_id, quantity, unit, scope, observed,"
            " status, place, latitude, longitude, note, author_id, review, created_at,"
            " published_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("insert into finding_sources (finding_id, position, kind, post_id, url,"
                         " label) values (?, 0, ?, ?, ?, ?)", sources)
        conn.execute("commit")
        conn.execute("pragma journal_mode = wal")
    finally:
        conn.close()
    return Generated(data_dir, cities, len(rows), published, coords, time.perf_counter() - began)


# Checks: what each response holds against what was generated ---------------------------------

def check(label: str, body: bytes, forum: Generated) -> str:
    """"ok", or what the response holds against what it should."""
    city, total = forum.published[0], sum(forum.published)
    counts = {  # label -> (what is counted, how many there are, how many there should be)
        "city page": lambda: ("findings", len(set(re.findall(rb'href="/f/(\d+)"', body))), city),
        "national page": lambda: ("cities", _national_rows(body), forum.cities),
        "national per 10k": lambda: ("cities with a rate", _rows_with_rate(body), forum.cities),
        "national map": lambda: ("marks", body.count(b'<g class="map-city'), forum.cities),
        "compare": lambda: ("names", b"Commune 001" in body and b"Commune 002" in body, True),
        "national CSV": lambda: ("rows", len(list(csv.reader(io.StringIO(body.decode())))) - 1,
                                 total),
        "national GeoJSON": lambda: ("features", len(json.loads(body)["features"]),
                                     forum.with_coords),
        "city JSON": lambda: ("findings", len(json.loads(body)["findings"]), city),
        "API city": lambda: ("total", json.loads(body)["total"], city),
        "national feed": lambda: ("entries", body.count(b"<entry>"), min(50, total))}
    name, got, wanted = counts[label]()
    return "ok" if got == wanted else f"MISMATCH {name}: {got}, expected {wanted}"


def _rows_with_rate(body: bytes) -> int:
    """Rows of the national table with at least one count per 10 000 inhabitants."""
    table = re.search(rb'<table class="watch-national">.*?</table>', body, re.S)
    rows = re.findall(rb"<tr>.*?</tr>", table.group(0), re.S) if table else []
    return sum(1 for row in rows if b'class="figure rate"' in row)


def _national_rows(body: bytes) -> int:
    table = re.search(rb'<table class="watch-national">.*?</table>', body, re.S)
    return table.group(0).count(b'<th scope="row">') if table else 0


PAGES = (("city page", "/b/commune-001/watch"), ("national page", "/watch"),
         ("compare", "/watch/compare?a=commune-001&b=commune-002"),
         ("national CSV", "/watch/findings.csv"), ("national GeoJSON", "/watch/findings.geojson"),
         ("city JSON", "/b/commune-001/watch/findings.json"),
         ("API city", "/api/v1/findings?city=commune-001"), ("national feed", "/watch/feed.atom"))


# Issue 14: populations, figures per 10 000 inhabitants, the national map ----------------------

# /watch holds the table and the map: its line above is both. These add the table per 10 000
# inhabitants (sorted by a kind's rate) and the map's own check (one mark per city).
WATCH_RECORD_PAGES = (
    ("national per 10k", "/watch?per=inhabitants&sort=cameras&order=desc"),
    ("national map", "/watch?sort=cameras&order=desc"))
MAP_RUNS = 20


def add_populations(forum: Generated) -> None:
    """Each city's population (a public total of kind 'population', 2021, at a place in
    France): the rates and the map read them. Every city gets a cameras total too, so that
    each one has a rate."""
    rng = random.Random(SEED + 14)
    conn = sqlite3.connect(forum.data_dir / "forum.sqlite3", isolation_level=None)
    try:
        kind = dict(conn.execute("select slug, id from finding_kinds").fetchall())
        first = conn.execute("select max(id) from findings").fetchone()[0] + 1
        rows = []
        for city in range(1, forum.cities + 1):
            lat, lon = rng.uniform(43.5, 50.0), rng.uniform(-1.0, 7.0)
            rows.append((kind["population"], rng.randint(2_000, 500_000), "2021", lat, lon,
                         city))
            rows.append((kind["cameras"], rng.randint(5, 900), "2026", None, None, city))
        conn.execute("begin")
        conn.executemany(
            "insert into findings (id, board_id, kind_id, quantity, unit, scope, observed,"
            " status, place, latitude, longitude, note, author_id, review, created_at,"
            " published_at) values (?, ?, ?, ?, 'count', 'total', ?, 'in-use', '', ?, ?,"
            " 'INSEE', 1, 'published', ?, ?)",
            [(first + i, city, kind_id, quantity, observed, lat, lon, AT, AT)
             for i, (kind_id, quantity, observed, lat, lon, city) in enumerate(rows)])
        conn.executemany(
            "insert into finding_sources (finding_id, position, kind, url, label)"
            " values (?, 0, 'link', 'https://www.insee.fr/', 'INSEE')",
            [(first + i,) for i in range(len(rows))])
        conn.execute("commit")
    finally:
        conn.close()
    for city in range(forum.cities):
        forum.published[city] += 2
    forum.with_coords += forum.cities
    forum.findings += len(rows)


def map_cost(root: Path) -> None:
    """The map alone, in this process: positions, marks and labels from the public findings
    (ms per map, median of MAP_RUNS), and the SVG's share of the page."""
    import asyncio

    from forum import i18n, watch, watch_map
    from forum.db import Database
    from forum.models import findings

    async def load() -> list:
        db = Database(root / "forum.sqlite3", readers=1)
        await db.open()
        try:
            async with db.read() as conn:
                return await findings.search(conn, None, findings.Filters(), limit=1_000_000,
                                             with_sources=False)
        finally:
            await db.close()

    public = asyncio.run(load())
    rows = watch.national_table(public)
    kind_id = next(f.kind_id for f in public if f.kind_slug == "cameras")
    times = []
    i18n.current_locale.set("fr")
    for _ in range(MAP_RUNS):
        began = time.perf_counter()
        drawn = watch_map.national_map(rows, watch_map.city_positions(public), kind_id,
                                       "Video-surveillance cameras")
        times.append((time.perf_counter() - began) * 1000)
    print(f"\nMap alone ({len(drawn.marks)} marks, {len(public):,} public findings):"
          f" {_percentile(times, 50):.1f} ms p50, {_percentile(times, 99):.1f} ms p99"
          f" over {MAP_RUNS} runs (in the bench's process)")


# Measures -------------------------------------------------------------------------------------

def measure(figures: Figures, proc: subprocess.Popen[bytes], port: int, forum: Generated,
            args: argparse.Namespace, checker=None) -> None:
    bogus = {"Cookie": "vigie_session=bogus"}
    status, _headers, body = fetch(port, figures.path, bogus)
    figures.size = len(body)
    figures.check = ((checker or check)(figures.label, body, forum) if status == 200
                     else f"STATUS {status}")
    cpu_before, deadline = cpu_seconds(proc.pid), time.perf_counter() + args.budget
    while len(figures.render) < args.requests and (
            len(figures.render) < 3 or time.perf_counter() < deadline):
        began = time.perf_counter()
        status, _headers, _body = fetch(port, figures.path, bogus)
        figures.render.append((time.perf_counter() - began) * 1000)
        if status != 200:
            figures.check = f"STATUS {status}"
    cpu_after = cpu_seconds(proc.pid)
    if cpu_before is not None and cpu_after is not None:
        figures.cpu_ms = (cpu_after - cpu_before) * 1000 / len(figures.render)
    if args.duration > 0 and shutil.which("wrk"):
        fetch(port, figures.path)  # an anonymous reader fills the cache
        url = f"http://127.0.0.1:{port}{figures.path}"
        result = run_wrk(figures.label, url, {}, args.duration, args)
        figures.cached = (result.rps, result.percentiles["99%"])
        if result.bad_status or result.errors:
            figures.check += f" (wrk: {result.bad_status} bad, {result.errors} errors)"
    print(f"  {figures.label:<17} render p50 {_percentile(figures.render, 50):8.1f} ms"
          f"  {figures.check}", flush=True)


def _percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, len(ordered) * p // 100)]


def table(results: list[Figures], args: argparse.Namespace) -> None:
    print(f"\n{'':<18}{'bytes':>11} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8}"
          f" {'cached/s':>9} {'p99 ms':>7}  check")
    for f in results:
        cpu = "-" if f.cpu_ms is None else f"{f.cpu_ms:.1f}"
        rps, p99 = (f"{f.cached[0]:,.0f}", f"{f.cached[1]:.1f}") if f.cached else ("-", "-")
        note = " (API: never cached)" if f.path.startswith("/api/") else ""
        print(f"{f.label:<18}{f.size:>11,} {len(f.render):>4} {_percentile(f.render, 50):>8.1f}"
              f" {_percentile(f.render, 99):>8.1f} {cpu:>8} {rps:>9} {p99:>7}  {f.check}{note}")
    over = [f.label for f in results if f.cached and f.cached[1] >= P99_TARGET_MS]
    if any(f.cached for f in results):
        print(f"\np99 at {args.connections} connections (target < {P99_TARGET_MS:.0f} ms):"
              f" {'OVER for ' + ', '.join(over) if over else 'OK for every page'}")


def run(args: argparse.Namespace, root: Path) -> None:
    print(f"Generating {args.cities} cities × {args.findings} findings...", flush=True)
    forum = generate(root, args.cities, args.findings)
    add_populations(forum)
    made = generate_requests(root, args.cities, args.records_requests)
    print(f"  {made.total:,} records requests ({made.public:,} public)", flush=True)
    size = (root / "forum.sqlite3").stat().st_size / 1e6
    print(f"  {forum.findings:,} findings ({sum(forum.published):,} public, {forum.with_coords}"
          f" with coordinates) in {forum.seconds:.1f} s, {size:,.1f} MB", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env["PYTHONUNBUFFERED"] = "1"
    port, log = free_port(), root / "server.log"
    proc = start_process([sys.executable, "-m", "forum", "--data-dir", str(root), "serve",
                          "--workers", "1", "--host", "127.0.0.1", "--port", str(port)], log, env)
    try:
        began = time.perf_counter()
        wait_ready(proc, port, log, READY_TIMEOUT)
        print(f"Server ready in {time.perf_counter() - began:.1f} s; load before:"
              f" {os.getloadavg()[0]:.2f}", flush=True)
        results = []
        for label, path in PAGES + WATCH_RECORD_PAGES:
            results.append(Figures(label, path))
            measure(results[-1], proc, port, forum, args)
        for label, path in REQUEST_PAGES:
            results.append(Figures(label, path))
            measure(results[-1], proc, port, forum, args,
                    lambda label_, body, _forum: check_requests(label_, body, made))
    finally:
        stop_process(proc)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\nWatch pages, {forum.cities} cities × {args.findings} findings = {forum.findings:,}"
          f" ({sum(forum.published):,} public); render: up to {args.requests} uncached requests"
          f" or {args.budget:.0f} s; cached: wrk {args.connections} connections"
          f" {args.duration:.0f} s; load average {load} on {os.cpu_count()} CPUs")
    table(results, args)
    map_cost(root)
    if any(not f.check.startswith("ok") for f in results):
        raise SystemExit("some responses did not hold what was generated (see check)")


# Records requests (demandes CADA): 2 000 by default, their city page, national list, export ---

REQUESTS_DEFAULT = 2000
REQUEST_STATUSES = ("sent", "answered", "answered_part", "refused", "cada_referral",
                    "cada_favourable", "cada_unfavourable", "obtained", "abandoned")
ADMINISTRATIONS = ("Mairie de {city}", "Préfecture", "Police municipale de {city}",
                   "Métropole", "Direction départementale de la sécurité publique")
REQUEST_PAGES = (("city requests", "/b/commune-001/requests"),
                 ("national requests", "/requests"), ("requests CSV", "/requests.csv"))


@dataclass
class RequestsMade:
    total: int
    public: int
    first_city_public: int


def generate_requests(data_dir: Path, cities: int, count: int) -> RequestsMade:
    """Insert `count` requests (round-robin over the cities, ~2 % pending), each with 1 to 3
    events, dated over the last two years."""
    rng = random.Random(SEED + 1)
    conn = sqlite3.connect(data_dir / "forum.sqlite3", isolation_level=None)
    rows, events, public, first = [], [], 0, 0
    for index in range(count):
        request_id, board = index + 1, index % cities + 1
        sent = 20000 + rng.randint(0, 700)  # days since 1970: 2024-10 to 2026-09
        day = time.strftime("%Y-%m-%d", time.gmtime(sent * 86400))
        refusal = time.strftime("%Y-%m-%d", time.gmtime((sent + 30) * 86400))
        status = rng.choice(REQUEST_STATUSES)
        at = time.strftime("%Y-%m-%d", time.gmtime((sent + rng.randint(5, 90)) * 86400))
        review = "pending" if rng.random() < PENDING else "published"
        public += review == "published"
        first += review == "published" and board == 1
        rows.append((request_id, board, rng.randint(1, MEMBERS),
                     rng.choice(ADMINISTRATIONS).format(city=f"Commune {board:03d}"),
                     "Plan des caméras\nMarché de maintenance", rng.choice(
                         ("mail", "email", "online", "hand")), day, status,
                     day if status == "sent" else at, refusal, review, AT, AT))
        events.append((request_id, "sent", day, AT))
        if status != "sent":
            events.append((request_id, status, at, AT))
    conn.execute("begin")
    conn.executemany(
        "insert into records_requests (id, board_id, author_id, administration, documents,"
        " channel, sent_on, status, status_on, refusal_on, review, created_at, published_at)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany("insert into request_events (request_id, status, happened_on, author_id,"
                     " created_at) values (?, ?, ?, 1, ?)", events)
    conn.execute("commit")
    conn.close()
    return RequestsMade(count, public, first)


def check_requests(label: str, body: bytes, made: RequestsMade) -> str:
    """"ok", or what a requests page holds against what was generated."""
    listed = len(set(re.findall(rb'<tr id="r(\d+)"', body)))
    counts = {
        "city requests": ("requests", listed, min(50, made.first_city_public)),
        "national requests": ("requests", listed, min(50, made.public)),
        "requests CSV": ("rows", len(list(csv.reader(io.StringIO(body.decode())))) - 1,
                         made.public)}
    name, got, wanted = counts[label]
    return "ok" if got == wanted else f"MISMATCH {name}: {got}, expected {wanted}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cities", type=int, default=100)
    parser.add_argument("--findings", type=int, default=50, help="findings per city")
    parser.add_argument("--large", action="store_true", help="400 cities × 100 findings")
    parser.add_argument("--requests", type=int, default=30, help="uncached requests per page")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of uncached, max")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of wrk (0: none)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=1, help="2 cores: leave one")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--records-requests", type=int, default=REQUESTS_DEFAULT,
                        help="records requests, spread over the cities")
    args = parser.parse_args(argv)
    if args.large:
        args.cities, args.findings = 400, 100
    if args.cities < 2 or args.findings < 1 or args.requests < 3:
        parser.error("at least 2 cities, 1 finding per city and 3 requests")
    if not shutil.which("wrk"):
        print("wrk not found: cached figures are skipped.")
    with data_folder("vigie-watch-bench-", keep=args.keep) as root:
        run(args, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
