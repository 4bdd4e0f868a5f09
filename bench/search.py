"""Search latency (p50/p99) on a generated forum of --posts posts (default 1 000 000).

What it measures
  A forum is generated in a temporary data folder: 10 city boards, ~120 members, threads of
  skewed sizes over three years, and `--posts` posts of 30 to 80 French words drawn from a word
  list with a Zipf law and a long tail (so "caméras" is in 11 % of the posts and "de" in 99 %),
  plus rare words (briefcam: ~400 posts), with about 2 % of posts pending, rejected, hidden or
  deleted. Posts are inserted with plain SQL in large transactions and the search triggers fill
  the index as they would in production (the time is reported).

  Then, for each query below:
    model   forum.models.search.search() on a reader connection, `--iterations` times
    http    GET /search?q=… on the real server (`python -m forum serve`, one process, the page
            is never cached), with wrk at one connection for `--duration` seconds (a bounded
            Python client when wrk is missing); then all queries in turn at `--connections`.

How to read it
  Target: search p99 < 20 ms at 1 000 000 posts, at the model level and over HTTP at one
  connection. A query matching more than models.search.CANDIDATES posts ranks the most recent
  CANDIDATES of them (see models/search.py), so its cost stops growing with the forum.
  `CPU p50` (process CPU time per model call) hardly moves when other programs load the
  machine, while wall-clock p99 does: read it with the load average printed at the end.

  python bench/search.py [--posts 1000000] [--iterations 300] [--duration 5] [--keep]
  python bench/search.py --data-dir DIR [--optimize]   # reuse a folder kept by --keep

Documents (issue 18; --documents 0 leaves them out)
  `--documents` files (default 10 000, about 20 pages each: ~200 000 pages) are attached to
  random posts (whatever their state) and their pages indexed through the real table and
  triggers (document_pages -> document_search), with text drawn like posts' (rows written
  directly: reading 10 000 real PDFs would take an hour). Then:
    extraction   real PDFs written with pikepdf (French words, WinAnsi accents, 45 lines a
                 page) read by forum.uploads.text.extract (its own process, as the worker
                 does): pages per second and characters per second;
    search       models.documents.search_documents() for every query above, as a visitor,
                 and posts + documents together as the default /search page runs them;
    memory       the upload worker cleaning and reading a `--pdf-pages` (500) page PDF: its
                 peak resident memory and its text reader's, and the time.

  Posts carry no HTML (body_html is empty): only search is measured here.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import harness  # bench/ is on sys.path when a bench runs
from thread_page import (  # same shape
    BOARDS,
    FIRST_NAMES,
    MEMBERS,
    PLACES,
    SPAN,
    START,
    TOPICS,
    stem_posts,  # as the server would, before measuring
)

from forum.db import Database
from forum.migrate import migrate
from forum.models import documents, search
from forum.text import pseudonym_key
from forum.uploads import text as document_text

SEED = 2026
BATCH = 50_000  # posts per transaction while generating
MEAN_THREAD_POSTS = 20
P99_TARGET_MS = 20.0
READY_TIMEOUT = 300.0



def _words(text: str) -> list[str]:
    return list(dict.fromkeys(text.split()))


# Function words first: the Zipf law makes them the most frequent, as in real French.
COMMON = _words("""de la le les et à des en un une du est que pour qui dans sur pas au par plus
ce il on ne se avec nous sont mais ou vous elle ont sa son aux été cette ces tout bien fait très
aussi comme même leur sans deux encore avant après donc alors ici déjà""")
TOPICAL = _words("""caméras caméra mairie vidéoprotection vidéosurveillance conseil municipal images
données ville quartier rue place gare centre police préfecture délibération contrat marché
public budget coût euros installation installé installées nouvelles nouvelle relevé carte
photo panneau responsable traitement droit accès cnil loi décret arrêté préfectoral durée
conservation jours supervision opérateurs écrans réunion publique habitants association
collectif demande cada document réponse délai mois année maire adjoint sécurité tranquillité
prévention délinquance efficacité étude évaluation rapport chiffres statistiques infractions
verbalisation vidéoverbalisation amendes stationnement circulation algorithmique analyse
automatique intelligente reconnaissance faciale biométrie expérimentation jeux olympiques
drones survol lycée école parc jardin marché boulevard avenue quai pont tram bus métro parking
commerce boulangerie pharmacie église stade piscine médiathèque orientée fenêtres immeuble
masquage dynamique floutage enregistrement stockage serveur prestataire entreprise maintenance
appel offres subvention état région département fonds interministériel fipd équipement
équipements matériel boîtier mât poteau façade angle carrefour rond-point entrée sortie nord
sud est ouest recours tribunal administratif juge référé liberté vie privée libertés
transparence information affichage signalement observatoire citoyen citoyens militants
journalistes élus opposition majorité vote votée unanimité abstention budget primitif""")
# Rare words and the share of posts holding each (briefcam: ~400 posts in a million).
RARE = {"briefcam": 0.0004, "hikvision": 0.004, "anyvision": 0.001, "quadrature": 0.002,
        "technopolice": 0.002, "deveryware": 0.0005, "idemia": 0.001, "genetec": 0.001,
        "dahua": 0.001, "safecity": 0.0005}
RARE_TOTAL = sum(RARE.values())
SYLLABLES = ["ba", "cor", "di", "fen", "ga", "lu", "mar", "ni", "po", "que", "ra", "sel", "tin",
             "vo", "zeu", "bri", "cha", "dou", "gne", "lem"]
TAIL_WORDS = 20_000
NOT_PUBLIC_SHARE = 0.02

# label -> (query, extra parameters for models.search.search and /search)
QUERIES: dict[str, tuple[str, dict[str, object]]] = {
    "common word": ("caméras", {}),
    "very common (de la)": ("de la", {}),
    "rare word": ("briefcam", {}),
    "no accent, capitals": ("VIDEOPROTECTION", {}),
    "two words": ("conseil budget", {}),
    "phrase": ('"reconnaissance faciale"', {}),
    "rare + common": ("hikvision caméras", {}),
    "common, board filter": ("caméras", {"board": 3}),
    "common, author filter": ("caméras", {"author": 7}),
    "common, 2025 only": ("caméras", {"since": "2025-01-01", "until": "2025-12-31"}),
    "common, page 40": ("caméras", {"page": 40}),
    "no match": ("zzyzxq", {}),
}


@dataclass
class Generated:
    data_dir: Path
    posts: int
    seconds: float


def _body(rng: random.Random, words: list[str], weights: list[float]) -> str:
    text = rng.choices(words, cum_weights=weights, k=rng.randint(30, 80))
    if rng.random() < RARE_TOTAL:
        rare = rng.choices(list(RARE), weights=list(RARE.values()))[0]
        text.insert(rng.randrange(len(text)), rare)
    text[0] = text[0].capitalize()
    return " ".join(text) + "."


@functools.cache
def _vocabulary() -> tuple[list[str], list[float]]:
    """Words and cumulative Zipf weights (rank r weighs 1/r), with a long tail of made-up
    words as real text has (names, numbers, typos): "de" is then about 9 % of the words."""
    rng = random.Random(SEED + 1)
    tail = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(TAIL_WORDS)}
    words = COMMON + TOPICAL + sorted(tail - set(COMMON) - set(TOPICAL) - set(RARE))
    total, cumulative = 0.0, []
    for rank in range(1, len(words) + 1):
        total += 1 / rank
        cumulative.append(total)
    return words, cumulative


def _threads(rng: random.Random, posts: int) -> list[tuple[float, int, int, int, str]]:
    """(start time, id, board, author, title) per thread, in time order."""
    count = max(1, posts // MEAN_THREAD_POSTS)
    starts = sorted(START + rng.uniform(0, SPAN * 0.98) for _ in range(count))
    return [(start, number, rng.randint(1, len(BOARDS)), rng.randint(1, MEMBERS),
             rng.choice(TOPICS).format(place=rng.choice(PLACES)))
            for number, start in enumerate(starts, 1)]


def _timeline(rng: random.Random, posts: int, threads: list[tuple]) -> list[tuple[float, int]]:
    """(time, thread index) per post in time order: ids follow time, as in life.

    Each thread opens at its start; replies come after it, more of them in a few big threads.
    """
    sizes = [rng.lognormvariate(0, 1) for _ in threads]
    replies = rng.choices(range(len(threads)), weights=sizes, k=posts - len(threads))
    events = [(thread[0], index) for index, thread in enumerate(threads)]
    events += [(threads[i][0] + rng.expovariate(1 / (20 * 86400)), i) for i in replies]
    events.sort()
    return events


def _post_rows(rng: random.Random, events: list[tuple[float, int]], first_id: int,
               threads: list[tuple], opened: bytearray) -> list[tuple]:
    """One batch of posts; about NOT_PUBLIC_SHARE of them pending, rejected, hidden or deleted."""
    words, weights = _vocabulary()
    rows = []
    for post_id, (moment, index) in enumerate(events, first_id):
        author = rng.randint(1, MEMBERS) if opened[index] else threads[index][3]
        status, hidden, deleted = "published", 0, None
        if opened[index] and rng.random() < NOT_PUBLIC_SHARE:
            status, hidden, deleted = rng.choice([("pending", 0, None), ("rejected", 0, None),
                                                  ("published", 1, None),
                                                  ("published", 0, harness.iso(moment + 3600))])
        opened[index] = 1
        rows.append((post_id, threads[index][1], author, _body(rng, words, weights),
                     harness.iso(moment), status, hidden, deleted))
    return rows


def generate(data_dir: Path, posts: int) -> Generated:
    """Migrate, then bulk-insert boards, members, threads and posts; triggers fill the index."""
    began = time.perf_counter()
    rng = random.Random(SEED)
    db_path = data_dir / "forum.sqlite3"
    migrate(db_path)
    threads = _threads(rng, posts)
    events = _timeline(rng, posts, threads)
    opened = bytearray(len(threads))
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        for pragma in ("journal_mode = off", "synchronous = off", "cache_size = -524288"):
            conn.execute(f"pragma {pragma}")
        _insert_people_boards(conn, threads)
        for start in range(0, posts, BATCH):
            rows = _post_rows(rng, events[start:start + BATCH], start + 1, threads, opened)
            conn.execute("begin")
            conn.executemany(
                "insert into posts (id, thread_id, author_id, body_source, body_html,"
                " created_at, status, hidden, deleted_at) values (?, ?, ?, ?, '', ?, ?, ?, ?)",
                rows)
            conn.execute("commit")
            done = start + len(rows)
            if done % (BATCH * 4) == 0 or done == posts:
                print(f"  {done:,} posts in {time.perf_counter() - began:.0f} s", flush=True)
        _count(conn)
        # The stems (stem_search), as the server's first commit would compute them: without
        # them every model-level search would find the stem index empty (stem_queue full).
        stem_posts(conn)
        print(f"  stemmed in {time.perf_counter() - began:.0f} s", flush=True)
        conn.execute("pragma journal_mode = wal")
    finally:
        conn.close()
    return Generated(data_dir, posts, time.perf_counter() - began)


def _insert_people_boards(conn: sqlite3.Connection, threads: list[tuple]) -> None:
    joined = harness.iso(START - 86400)
    names = [f"{FIRST_NAMES[i % len(FIRST_NAMES)]}{i}" for i in range(MEMBERS + 1)]
    conn.execute("begin")
    conn.executemany("insert into users (id, name, name_key, password_hash, created_at)"
                     " values (?, ?, ?, '!', ?)",
                     [(i, names[i], pseudonym_key(names[i]), joined)
                      for i in range(1, MEMBERS + 1)])
    conn.executemany("insert into boards (id, slug, name, region, position, created_at)"
                     " values (?, ?, ?, ?, ?, ?)",
                     [(i, slug, name, region, i, joined)
                      for i, (slug, name, region) in enumerate(BOARDS, 1)])
    conn.executemany("insert into threads (id, board_id, author_id, title, created_at,"
                     " last_post_at) values (?, ?, ?, ?, ?, ?)",
                     [(number, board, author, title, harness.iso(start), harness.iso(start))
                      for start, number, board, author, title in threads])
    conn.execute("commit")


def _count(conn: sqlite3.Connection) -> None:
    """Counters of public posts, so that board and thread pages look right."""
    conn.execute("begin")
    conn.execute("update threads set post_count = (select count(*) from posts where thread_id"
                 " = threads.id and status = 'published' and hidden = 0),"
                 " last_post_at = (select max(created_at) from posts where thread_id"
                 " = threads.id)")
    conn.execute("update boards set thread_count = (select count(*) from threads where"
                 " board_id = boards.id), post_count = (select sum(post_count) from threads"
                 " where board_id = boards.id)")
    conn.execute("commit")


# Measures ------------------------------------------------------------------------------------

@dataclass
class Figures:
    label: str
    p50: float
    p99: float
    count: int  # measured requests
    total: int = 0  # results (model level)
    note: str = ""
    cpu_p50: float = 0.0  # process CPU time per call (model level): steadier on a busy machine


def _filters(params: dict[str, object]) -> tuple[search.Filters, int]:
    since, until = params.get("since"), params.get("until")
    return search.Filters(
        board_id=params.get("board"), author_id=params.get("author"),  # type: ignore[arg-type]
        since=date.fromisoformat(str(since)) if since else None,
        until=date.fromisoformat(str(until)) if until else None), int(params.get("page", 1))


def _percentiles(label: str, times: list[float], total: int = 0) -> Figures:
    times = sorted(times)
    return Figures(label, times[len(times) // 2] * 1000, times[len(times) * 99 // 100] * 1000,
                   len(times), total)


async def measure_model(data_dir: Path, iterations: int) -> list[Figures]:
    """search.search() on a reader connection, as the handlers call it."""
    db = Database(data_dir / "forum.sqlite3", readers=1)
    await db.open()
    results = []
    try:
        async with db.read() as conn:
            for label, (query, params) in QUERIES.items():
                filters, page = _filters(params)
                found = await search.search(conn, query, filters, page)  # warm the cache
                times, cpu = [], []
                for _ in range(iterations):
                    began, began_cpu = time.perf_counter(), time.process_time()
                    await search.search(conn, query, filters, page)
                    times.append(time.perf_counter() - began)
                    cpu.append(time.process_time() - began_cpu)
                figures = _percentiles(label, times, found.total)
                figures.note = "more" if found.more else ""
                figures.cpu_p50 = sorted(cpu)[len(cpu) // 2] * 1000
                results.append(figures)
                print(f"  model {label:<24} p50 {figures.p50:6.2f} ms  p99 {figures.p99:6.2f} ms"
                      f"  {found.total:>5} results{' (more)' if found.more else ''}", flush=True)
    finally:
        await db.close()
    return results


def search_path(query: str, params: dict[str, object]) -> str:
    """/search?… for a query of QUERIES: board and author by name, as a reader gives them."""
    values: dict[str, object] = {"q": query}
    for name, value in params.items():
        if name == "board":
            value = BOARDS[int(value) - 1][0]  # type: ignore[call-overload]
        elif name == "author":
            value = f"{FIRST_NAMES[int(value) % len(FIRST_NAMES)]}{value}"  # type: ignore[call-overload]
        values[name] = value
    return "/search?" + urllib.parse.urlencode(values)


@contextlib.contextmanager
def server(data_dir: Path) -> Iterator[int]:
    """The real server (`python -m forum serve`, one process) on a free port of 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env["PYTHONUNBUFFERED"] = "1"
    port = harness.free_port()
    log = data_dir / "server.log"
    proc = harness.start_process([sys.executable, "-m", "forum", "--data-dir", str(data_dir),
                                  "serve", "--workers", "1", "--host", "127.0.0.1", "--port",
                                  str(port)], log, env)
    try:
        harness.wait_ready(proc, port, log, READY_TIMEOUT)
        yield port
    finally:
        harness.stop_process(proc)


def measure_http(port: int, args: argparse.Namespace) -> list[Figures]:
    """Each query alone at one connection (latency), then all in turn at --connections."""
    load = argparse.Namespace(wrk_threads=1, connections=1)
    paths = {"page without a query": "/search"}
    paths.update({label: search_path(query, params)
                  for label, (query, params) in QUERIES.items()})
    results = []
    for label, path in paths.items():
        status, _headers, body = harness.fetch(port, path)
        if status != 200 or (b"<mark>" not in body and "q=" in path and "zzyzx" not in path):
            raise SystemExit(f"{path}: status {status}, no result")
        result = _load(label, f"http://127.0.0.1:{port}{path}", args.duration, load)
        results.append(Figures(label, result.percentiles["50%"], result.percentiles["99%"],
                               result.requests, note=f"{result.rps:,.0f} req/s"))
        print(f"  http  {label:<24} p50 {results[-1].p50:6.2f} ms  p99 {results[-1].p99:6.2f}"
              f" ms  {result.rps:,.0f} req/s", flush=True)
    mixed = _load_mixed(port, list(paths.values())[1:], args)
    results.append(mixed)
    return results


def _load(label: str, url: str, seconds: float, load: argparse.Namespace) -> harness.LoadResult:
    if shutil.which("wrk"):
        return harness.run_wrk(label, url, {}, seconds, load)
    return asyncio.run(harness.python_load(label, url, {}, seconds, load.connections))


MIXED_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def _load_mixed(port: int, paths: list[str], args: argparse.Namespace) -> Figures:
    """Every query in turn at --connections, with wrk (skipped without it)."""
    label = f"all queries, {args.connections} conn."
    if not shutil.which("wrk"):
        return Figures(label, 0.0, 0.0, 0, note="skipped: no wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(MIXED_SCRIPT % ", ".join(f'"{path}"' for path in paths))
    try:
        result = harness.run_wrk(label, f"http://127.0.0.1:{port}/", {}, args.duration * 2,
                         argparse.Namespace(wrk_threads=1, connections=args.connections),
                         script=script.name)
    finally:
        os.unlink(script.name)
    print(f"  http  {label:<24} p50 {result.percentiles['50%']:6.2f} ms  p99"
          f" {result.percentiles['99%']:6.2f} ms  {result.rps:,.0f} req/s", flush=True)
    return Figures(label, result.percentiles["50%"], result.percentiles["99%"], result.requests,
                   note=f"{result.rps:,.0f} req/s")


# Runs ----------------------------------------------------------------------------------------

def _table(model: list[Figures], http: list[Figures]) -> None:
    by_label = {figures.label: figures for figures in http}
    print(f"\n{'query':<26}{'results':>8} {'model p50':>10} {'model p99':>10} {'CPU p50':>8}"
          f" {'http p50':>9} {'http p99':>9}  (ms; http at 1 connection)")
    for row in model:
        other = by_label.get(row.label)
        total = f"{row.total}{'+' if row.note else ''}"
        print(f"{row.label:<26}{total:>8} {row.p50:>10.2f} {row.p99:>10.2f} {row.cpu_p50:>8.2f}"
              f" {other.p50 if other else 0:>9.2f} {other.p99 if other else 0:>9.2f}")
    for row in http:
        if row.label not in {figures.label for figures in model}:
            print(f"{row.label:<26}{'':>8} {'':>10} {'':>10} {'':>8} {row.p50:>9.2f}"
                  f" {row.p99:>9.2f}  {row.note}")


def _verdict(model: list[Figures], http: list[Figures]) -> None:
    worst_model = max(model, key=lambda f: f.p99)
    single = [f for f in http if "conn." not in f.label]
    worst_http = max(single, key=lambda f: f.p99)
    for where, worst in (("model", worst_model), ("http", worst_http)):
        verdict = "OK" if worst.p99 < P99_TARGET_MS else "OVER"
        print(f"worst p99, {where}: {worst.p99:.1f} ms ({worst.label}); target <"
              f" {P99_TARGET_MS:.0f} ms: {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=300, help="model calls per query")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per HTTP measure")
    parser.add_argument("--connections", type=int, default=8, help="for the mixed HTTP run")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--data-dir", type=Path, help="measure this folder (from --keep)")
    parser.add_argument("--optimize", action="store_true",
                        help="merge each FTS5 index into one segment before measuring")
    parser.add_argument("--documents", type=int, default=10_000,
                        help="attached documents to index (0: posts only)")
    parser.add_argument("--pdf-pages", type=int, default=500,
                        help="pages of the PDF whose cleaning and reading are measured")
    args = parser.parse_args(argv)
    if args.posts < 1000:
        parser.error("--posts must be at least 1000")
    root = Path(tempfile.mkdtemp(prefix="vigie-search-bench-"))
    try:
        data_dir = args.data_dir
        if data_dir is None:
            print(f"Generating a forum of {args.posts:,} posts...", flush=True)
            made = generate(root / "data", args.posts)
            data_dir = made.data_dir
            size = (data_dir / "forum.sqlite3").stat().st_size / 1e6
            print(f"  generated in {made.seconds:.0f} s (index filled by the triggers),"
                  f" {size:,.0f} MB", flush=True)
            if args.documents:
                generate_documents(data_dir, args.documents)
        if args.optimize:
            optimize(data_dir)
        run(data_dir, args)
    finally:
        if args.keep and args.data_dir is None:
            print(f"\nData kept in {root / 'data'}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def optimize(data_dir: Path) -> None:
    """FTS5's 'optimize': one segment per index (the triggers leave a few dozen)."""
    began = time.perf_counter()
    with contextlib.closing(sqlite3.connect(data_dir / "forum.sqlite3")) as conn:
        for table in ("post_search", "title_search"):
            conn.execute(f"insert into {table} ({table}) values ('optimize')")
        conn.commit()
    print(f"Indexes optimized in {time.perf_counter() - began:.1f} s", flush=True)


def run(data_dir: Path, args: argparse.Namespace) -> None:
    with contextlib.closing(sqlite3.connect(data_dir / "forum.sqlite3")) as conn:
        posts = conn.execute("select count(*) from posts").fetchone()[0]
        indexed = conn.execute("select count(*) from search_docs").fetchone()[0]
        segments = conn.execute("select count(distinct segid) from post_search_idx").fetchone()[0]
    print(f"Forum of {posts:,} posts, {indexed:,} public (indexed); SQLite"
          f" {sqlite3.sqlite_version}; {segments} index segments. Model level,"
          f" {args.iterations} calls per query:", flush=True)
    model = asyncio.run(measure_model(data_dir, args.iterations))
    print(f"HTTP, {args.duration:.0f} s per query:", flush=True)
    with server(data_dir) as port:
        http = measure_http(port, args)
    _table(model, http)
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    _verdict(model, http)
    if args.documents:
        run_documents(data_dir, args)


# Documents (issue 18) ------------------------------------------------------------------------

DOCUMENT_PAGES_MEAN = 20
PAGE_WORDS = (120, 260)  # words of a generated page (a PDF page holds 300 to 600)
DOCUMENT_QUERIES = {**QUERIES, "document word": ("serpenoise", {})}
EXTRACTION_FILES = 12  # real PDFs read for the extraction rate


def generate_documents(data_dir: Path, count: int) -> None:
    """`count` documents on random posts, their pages indexed by the real triggers."""
    began = time.perf_counter()
    rng = random.Random(SEED + 18)
    words, weights = _vocabulary()
    conn = sqlite3.connect(data_dir / "forum.sqlite3", isolation_level=None)
    try:
        conn.execute("pragma synchronous = off")
        posts = conn.execute("select max(id) from posts").fetchone()[0]
        chosen = rng.sample(range(1, posts + 1), count)
        pages = 0
        for start in range(0, count, 1000):
            conn.execute("begin")
            for number, post_id in enumerate(chosen[start:start + 1000], start + 1):
                author, created = conn.execute("select author_id, created_at from posts"
                                               " where id = ?", (post_id,)).fetchone()
                upload_id = conn.execute(
                    "insert into uploads (owner_id, sha256, filename, kind, content_type, size,"
                    " created_at, text_status) values (?, ?, ?, 'pdf', 'application/pdf', ?, ?,"
                    " 'indexed') returning id", (author, f"{number:064x}",
                                                 f"document-{number}.pdf", 100_000, created)
                ).fetchone()[0]
                conn.execute("insert into post_attachments (post_id, upload_id, position)"
                             " values (?, ?, 0)", (post_id, upload_id))
                total = min(2000, max(1, round(rng.expovariate(1 / DOCUMENT_PAGES_MEAN))))
                rows = []
                for page in range(1, total + 1):
                    body = rng.choices(words, cum_weights=weights, k=rng.randint(*PAGE_WORDS))
                    if rng.random() < 0.001:
                        body.insert(rng.randrange(len(body)), "Serpenoise")
                    rows.append((upload_id * documents.PAGE_SLOTS + page, upload_id, page,
                                 " ".join(body), upload_id))
                conn.executemany(
                    "insert into document_pages (id, upload_id, page, text, tags) values"
                    " (?, ?, ?, ?, coalesce((select tags from document_tags where upload_id"
                    " = ?), ''))", rows)
                pages += total
            conn.execute("commit")
            print(f"  {start + 1000:,} documents, {pages:,} pages in"
                  f" {time.perf_counter() - began:.0f} s", flush=True)
    finally:
        conn.close()


def _pdf_of(path: Path, pages: int, rng: random.Random) -> int:
    """A PDF of `pages` pages of French words (45 lines each); returns its characters."""
    import pikepdf

    words, weights = _vocabulary()
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica,
        Encoding=pikepdf.Name.WinAnsiEncoding))
    characters = 0
    for _ in range(pages):
        lines = [" ".join(rng.choices(words, cum_weights=weights, k=11)) for _ in range(45)]
        characters += sum(map(len, lines))
        stream = b"BT /F1 10 Tf 12 TL 60 780 Td " + b" ".join(
            b"(" + line.encode("cp1252", "replace").replace(b"(", b"").replace(b")", b"")
            + b") Tj T*" for line in lines) + b" ET"
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = pdf.make_stream(stream)
    pdf.save(path)
    return characters


def measure_extraction(folder: Path) -> None:
    """Pages and characters per second read by the text reader from real generated PDFs."""
    rng = random.Random(SEED + 19)
    files = []
    for number in range(EXTRACTION_FILES):
        path = folder / f"extraction-{number}.pdf"
        files.append((path, rng.randint(5, 60)))
        _pdf_of(path, files[-1][1], rng)
    began = time.perf_counter()
    pages = characters = 0
    for path, _count in files:
        found = document_text.extract(path, "pdf")
        pages += len(found["pages"])
        characters += sum(len(page) for _n, page in found["pages"])
    seconds = time.perf_counter() - began
    print(f"  extraction: {len(files)} PDFs, {pages} pages in {seconds:.1f} s:"
          f" {pages / seconds:.0f} pages/s, {characters / seconds / 1000:.0f} k characters/s"
          f" (a process per file included)", flush=True)
    began = time.perf_counter()  # the same reading without starting a process per file
    for path, _count in files:
        document_text.read(path, "pdf")
    seconds = time.perf_counter() - began
    print(f"  extraction inside one process: {pages / seconds:.0f} pages/s,"
          f" {characters / seconds / 1000:.0f} k characters/s", flush=True)


def measure_worker_memory(folder: Path, pages: int) -> None:
    """The upload worker cleaning and reading a PDF of `pages` pages: peak memory, time."""
    import json
    import subprocess

    source = folder / "long.pdf"
    characters = _pdf_of(source, pages, random.Random(SEED + 20))
    job = json.dumps({"src": str(source), "dst": str(folder / "long-clean.pdf"),
                      "thumb": str(folder / "long-thumb.jpg"), "filename": "long.pdf",
                      "claimed": "", "kinds": ["pdf"], "max_pixels": 50_000_000})
    # A small process runs the worker, so that its children's peak is the worker's (and the
    # reader's) alone; this process's own memory does not count.
    probe = ("import resource, subprocess, sys, json; done = subprocess.run([sys.executable,"
             " '-m', 'forum.uploads.worker'], input=sys.argv[1].encode(), capture_output=True);"
             " print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
             " json.loads(done.stdout)['text']['status']]))")
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe, job], capture_output=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    seconds = time.perf_counter() - began
    peak_kb, status = json.loads(done.stdout)
    found = document_text.extract(folder / "long-clean.pdf", "pdf")
    read_kb = resource_peak_of_reader(folder / "long-clean.pdf")
    print(f"  {pages}-page PDF ({characters / 1e6:.1f} M characters): cleaned and read by the"
          f" worker in {seconds:.1f} s ({status}, {len(found['pages'])} pages);"
          f" peak memory of the worker or its reader {peak_kb / 1024:.0f} MB, of the reader"
          f" alone {read_kb / 1024:.0f} MB; the server process itself holds none of it",
          flush=True)


def resource_peak_of_reader(path: Path) -> int:
    """Peak resident memory (kB) of the text reader's process on one file."""
    import subprocess

    probe = ("import resource, subprocess, sys; subprocess.run([sys.executable, '-m',"
             " 'forum.uploads.text', sys.argv[1], 'pdf'], capture_output=True);"
             " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True,
                          check=True, cwd=Path(__file__).resolve().parent.parent)
    return int(done.stdout)


async def measure_documents(data_dir: Path, iterations: int) -> None:
    """Document search, and posts + documents as the default /search page runs them."""
    db = Database(data_dir / "forum.sqlite3", readers=1)
    await db.open()
    worst: list[tuple[float, str]] = []
    try:
        async with db.read() as conn:
            for label, (query, params) in DOCUMENT_QUERIES.items():
                filters, page = _filters(params)
                found = await documents.search_documents(conn, None, query, filters)
                alone, both = [], []
                for _ in range(iterations):
                    began = time.perf_counter()
                    await documents.search_documents(conn, None, query, filters)
                    alone.append(time.perf_counter() - began)
                    began = time.perf_counter()
                    await search.search(conn, query, filters, page)
                    await documents.search_documents(conn, None, query, filters, 1,
                                                     documents.PREVIEW)
                    both.append(time.perf_counter() - began)
                docs, mixed = _percentiles(label, alone), _percentiles(label, both)
                worst.append((mixed.p99, label))
                print(f"  {label:<24} documents p50 {docs.p50:6.2f} p99 {docs.p99:6.2f} ms"
                      f"  {found.total:>5} docs{'+' if found.more else ' '}  posts + documents"
                      f" p50 {mixed.p50:6.2f} p99 {mixed.p99:6.2f} ms", flush=True)
    finally:
        await db.close()
    p99, label = max(worst)
    verdict = "OK" if p99 < P99_TARGET_MS else "OVER"
    print(f"worst p99, posts + documents: {p99:.1f} ms ({label}); target <"
          f" {P99_TARGET_MS:.0f} ms: {verdict}")


def run_documents(data_dir: Path, args: argparse.Namespace) -> None:
    with contextlib.closing(sqlite3.connect(data_dir / "forum.sqlite3")) as conn:
        count = conn.execute("select count(*) from uploads where text_status = 'indexed'"
                             ).fetchone()[0]
        pages = conn.execute("select count(*) from document_pages").fetchone()[0]
    print(f"\nDocuments: {count:,} files, {pages:,} pages indexed. Model level,"
          f" {args.iterations} calls per query (as a visitor):", flush=True)
    asyncio.run(measure_documents(data_dir, args.iterations))
    with tempfile.TemporaryDirectory(prefix="vigie-pdf-bench-") as folder:
        measure_extraction(Path(folder))
        measure_worker_memory(Path(folder), args.pdf_pages)


if __name__ == "__main__":
    sys.exit(main())
