"""Thread page speed: Vigie against a bare aiohttp handler serving the same bytes, in one run.

What it measures
  A forum is generated in a temporary data folder (10 boards, ~120 members, `--posts` posts with
  cooked French HTML, counters consistent), with one target thread of exactly 50 posts. The real
  server runs as `python -m forum serve` (one process, FORUM_POSTS_PER_PAGE=50, so all 50 posts
  are on one page) and wrk loads that page on 127.0.0.1:

    bare              a bare aiohttp app returning the page's bytes from memory, measured before
                      and after the others: the ceiling of Python + aiohttp on this machine
    cached            an anonymous reader: served from the rendered-page cache
    304               the same with If-None-Match: the cache answers "not modified"
    render (no cache) `Cookie: vigie_session=bogus`: skips the cache, looks the session up, finds
                      none and renders the page as for a visitor (SQL + Jinja every time)
    member            a logged-in member: their session from memory (forum/auth.py), the page
                      kept for their capability class with their bits joined in (CSRF token,
                      header, follow form: forum/fragments.py ReaderPage); rendered again
                      (shell and posts from their caches) only after a write that changes it
    moderator         the same for a global moderator (moderation tools on every post)
    member (unread on / no unread)  the member on two more servers, with unread tracking and
                      with FORUM_UNREAD_TRACKING=0, measured in turn three times each (the
                      round with the least CPU per page kept): the member read half of the
                      thread, so that with tracking their page carries the "new messages"
                      marker (issue 16); the summary compares CPU per page with and without
                      (target: no worse, 5 % for noise)
    render (all posts) a second server with FORUM_FRAGMENT_CACHE_ENTRIES=0, as `render (no
                      cache)`: every post and the page around them rendered every time (a page
                      whose 50 posts all changed at once, or the first page after a full
                      invalidation). Stricter than issue 15's "uncached render (first reader
                      after a write)", which is `render (no cache)`: printed against the same
                      1.5 ms as a goal, marked "goal", not "target"
    mixed             `--skip-mixed` leaves it out: 16 connections read up to 1 000 threads
                      picked by a Zipf law (s = 1), half of them as the member, while a global
                      moderator edits the first post of a thread picked by the same law every
                      100 ms through the API (each edit drops its pages and changes a fragment)

How to read it
  Absolute figures move from run to run; ratios to `bare` in the same run move much less.
  Targets (issue 15): cached / bare >= 0.75, member >= 0.30, moderator >= 0.25, mixed >= 0.25;
  an uncached page (`render (no cache)`: the first reader after a write, whose other posts are
  still in the fragment cache) <= 1.5 ms server CPU; p99 < 50 ms at 16 connections.
  A forum of 1 000 posts has ~50 threads: the mixed run then reads all of them. wrk is a
  closed loop: with c connections, p50 ~ c / (req/s), so latency grows with connections once
  the server is busy.
  `CPU ms` is the server process's CPU time (all threads, from /proc) per request: it hardly
  moves when other programs load the machine, while req/s and p99 do (the load average is
  printed: above the number of CPUs, trust `CPU ms` and the CPU ratio, not the latencies).
  `--compare-sizes` runs the same page on a 1 000-post forum and on a `--posts` forum: the
  figures should match, page time must not depend on forum size. "SQL per page" counts the
  statements SQLite runs for one uncached page (in-process trace, server code untouched).

  python bench/thread_page.py [--posts 100000] [--duration 10] [--connections 16] [--keep]
                              [--rounds 3]
  python bench/thread_page.py --sizes 1000,1000000     every figure at both sizes
  python bench/thread_page.py --compare-sizes --posts 1000000
  python bench/thread_page.py --store both --servers 1,2 --posts 1000   (bench/stores.py)
"""
from __future__ import annotations

import argparse
import asyncio
import bisect
import calendar
import contextlib
import functools
import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from harness import (  # bench/ is on sys.path when a bench runs
    LoadResult,
    cpu_seconds,
    data_folder,
    fetch,
    free_port,
    iso,
    python_load,
    run_wrk,
    start_process,
    stop_process,
    wait_ready,
)

from forum import markdown, stems
from forum.migrate import migrate
from forum.models.users import token_hash
from forum.text import pseudonym_key

TARGET_POSTS = 50  # the thread under test, all on one page (FORUM_POSTS_PER_PAGE)
MEAN_THREAD_POSTS = 20
MEMBERS = 120
BATCH = 50_000  # rows per transaction while generating
SEED = 2026
START = calendar.timegm((2023, 11, 1, 0, 0, 0))
SPAN = 3 * 365 * 86400  # three years of activity
SMALL_FORUM = 1_000
READY_TIMEOUT = 180.0  # the server checks foreign keys at start: long on big forums
# Issue 15's targets: ratios to bare aiohttp serving the same bytes, in the same run.
CACHED_RATIO_TARGET, MEMBER_RATIO_TARGET, MODERATOR_RATIO_TARGET = 0.75, 0.30, 0.25
MIXED_RATIO_TARGET, RENDER_CPU_TARGET_MS, P99_TARGET_MS = 0.25, 1.5, 50.0
# Issue 16: a member's page with unread tracking costs no more than without (CPU per page; the
# margin is the run-to-run noise of two servers measured one after the other).
UNREAD_COST_TARGET = 1.05
UNREAD_ROUNDS = 3  # measures of each, in turn (compare_unread)
# No post kept (FORUM_FRAGMENT_CACHE_ENTRIES=0): stricter than the uncached render.
ALL_POSTS = "render (all posts)"

BOARDS = [("paris", "Paris", "Île-de-France"), ("lyon", "Lyon", "Auvergne-Rhône-Alpes"),
          ("marseille", "Marseille", "Provence-Alpes-Côte d'Azur"),
          ("toulouse", "Toulouse", "Occitanie"), ("nantes", "Nantes", "Pays de la Loire"),
          ("lille", "Lille", "Hauts-de-France"), ("bordeaux", "Bordeaux", "Nouvelle-Aquitaine"),
          ("strasbourg", "Strasbourg", "Grand Est"), ("rennes", "Rennes", "Bretagne"),
          ("saint-etienne", "Saint-Étienne", "Auvergne-Rhône-Alpes")]
FIRST_NAMES = ["Camille", "Léa", "Hugo", "Inès", "Karim", "Sophie", "Yanis", "Manon", "Lucas",
               "Chloé", "Nadia", "Théo", "Élodie", "Mathis", "Zoé"]
TOPICS = ["Nouvelles caméras {place}", "Conseil municipal : budget vidéoprotection {place}",
          "Demande CADA sur les contrats {place}", "Carte des caméras {place}, mise à jour",
          "Vidéoverbalisation {place} : des chiffres ?", "Réunion publique {place}",
          "Caméras « intelligentes » testées {place}", "Qui consulte les images {place} ?"]
PLACES = ["place de la Mairie", "rue de la Gare", "au marché", "près du lycée", "quai Est",
          "boulevard Victor-Hugo", "dans le tram", "au parc des sports"]
# About twenty French posts, cooked once with forum.markdown.render and reused.
BODIES_TEXT = """Bonjour à tous,

J'ai compté **quatre nouvelles caméras** ce matin en allant au travail. Quelqu'un sait si
le conseil municipal a voté ça ?
%%
Merci pour le relevé ! Je les ajoute à la carte ce soir.
%%
> J'ai compté quatre nouvelles caméras ce matin

Il y en a une cinquième, au coin de la boulangerie, orientée vers les fenêtres de
l'immeuble d'en face. C'est légal, ça ?
%%
Non : une caméra sur la voie publique ne doit **pas** filmer l'intérieur des habitations.
La délibération doit prévoir un *masquage dynamique*. Voir
https://www.cnil.fr/fr/la-videoprotection-sur-la-voie-publique pour le détail.
%%
Compte rendu de la réunion publique d'hier soir :

1. Le maire annonce 40 caméras supplémentaires d'ici 2027 ;
2. coût estimé : 1,2 M€, dont 30 % subventionnés par l'État ;
3. aucune étude d'efficacité n'a été présentée ;
4. le centre de supervision sera ouvert *24 h/24*.

Questions de la salle : surtout sur la durée de conservation des images (30 jours).
%%
J'ai fait une demande CADA pour obtenir le marché public. Voici le modèle utilisé :

```
Madame, Monsieur,
En application des articles L311-1 et suivants du CRPA, je sollicite la communication
du marché relatif à l'extension du système de vidéoprotection...
```

Délai de réponse : un mois. Je vous tiens au courant.
%%
Quelqu'un a les chiffres de la vidéoverbalisation ? La mairie parle de ~~500~~ 5 000
contraventions par an, ça paraît énorme.
%%
| Quartier | Caméras 2023 | Caméras 2025 |
|---|---|---|
| Centre | 42 | 61 |
| Gare | 18 | 27 |
| Nord | 7 | 19 |

Source : délibérations du conseil municipal, pages 14 et 22.
%%
+1, même constat dans mon quartier.
%%
Attention aux caméras dites « augmentées » : la loi JO 2024 n'autorisait l'analyse
algorithmique qu'à titre **expérimental** et pour des événements précis. Si la ville s'en
sert au quotidien, il faut le signaler.
%%
Photo prise ce matin, rue des Lilas : le boîtier porte l'inscription *Zone sous
vidéoprotection* mais aucun panneau n'indique le responsable du traitement ni comment exercer
son droit d'accès. C'est pourtant obligatoire.
%%
Je relance : la réponse de la mairie à la demande CADA est arrivée.

- marché attribué à une entreprise locale ;
- maintenance sur 5 ans ;
- **pas** de clause sur la sécurité des données.

Le document complet est déposé sur le forum.
%%
Pour ceux qui débutent : notre [guide du relevé](/p/1) explique comment noter une caméra
(type, orientation, panneau, date). Une photo suffit, pas besoin de s'approcher.
%%
D'accord avec vous sur le fond, mais restons factuels dans les messages : date, lieu, photo.
Les accusations sans source desservent le relevé.
%%
Le conseil municipal se réunit jeudi à 18 h 30. Le point 12 de l'ordre du jour porte sur
le renouvellement du contrat de maintenance. Qui peut y aller ?
%%
J'y serai. Je prendrai des notes et je les publierai ici.
%%
Petite précision juridique : la durée de conservation maximale fixée par l'arrêté
préfectoral est de **trente jours**. Au-delà, les images doivent être détruites, sauf
procédure judiciaire en cours.
%%
La caméra du parc a été déplacée : elle filme maintenant l'aire de jeux. J'ai écrit au
délégué à la protection des données de la ville, adresse `dpo@ville.example`.
%%
Récapitulatif du mois :

* 14 caméras ajoutées à la carte ;
* 3 retirées (travaux) ;
* 2 demandes CADA en cours.

Merci à toutes et à tous pour les relevés !
%%
Question bête : est-ce qu'on a le droit de photographier une caméra depuis la rue ?
%%
Oui, photographier un équipement sur la voie publique est libre, tant qu'on ne vise pas
des personnes identifiables."""
BODIES = BODIES_TEXT.split("\n%%\n")

BARE_SERVER = """
import sys
from aiohttp import web
body = open(sys.argv[1], "rb").read()
headers = {"Content-Type": sys.argv[3]}
async def page(request):
    return web.Response(body=body, headers=headers)
app = web.Application()
app.router.add_get("/{tail:.*}", page)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
"""


@dataclass
class GeneratedForum:
    data_dir: Path
    posts: int
    thread_id: int
    member_token: str
    seconds: float
    moderator_token: str = ""  # a global moderator's session (member 2)
    api_token: str = ""  # member 2's API token: the writer of the mixed run


@dataclass
class Servers:
    forum_port: int
    bare_port: int
    forum: subprocess.Popen[bytes]
    bare: subprocess.Popen[bytes]
    page: bytes
    etag: str
    startup_seconds: float


# Generation ----------------------------------------------------------------------------------

def _plan_threads(rng: random.Random, total: int) -> tuple[list[int], int]:
    """Posts per thread (skewed, at least one each) and the index of the 50-post target."""
    others = total - TARGET_POSTS
    count = max(1, others // MEAN_THREAD_POSTS)
    weights = [rng.lognormvariate(0, 1) for _ in range(count)]
    sizes = [1] * count
    for index in rng.choices(range(count), weights=weights, k=others - count):
        sizes[index] += 1
    target = count // 2
    sizes.insert(target, TARGET_POSTS)
    return sizes, target


def _timeline(rng: random.Random, sizes: list[int],
              ) -> tuple[list[float], list[int], list[float]]:
    """Thread start times, then each post's thread index and time, in time order as in life."""
    starts, events = [], []
    for index, size in enumerate(sizes):
        start = START + rng.uniform(0, SPAN * 0.98)
        life = min(START + SPAN - start, rng.expovariate(1 / (30 * 86400)))
        starts.append(start)
        events.append((start, index))
        events.extend((start + rng.uniform(0, life), index) for _ in range(size - 1))
    events.sort()  # posts of all threads interleave on disk, as in a real forum
    return starts, [index for _moment, index in events], [moment for moment, _ in events]


def generate(data_dir: Path, total: int) -> GeneratedForum:
    """Migrate, then bulk-insert boards, members, threads, posts and first revisions."""
    began = time.perf_counter()
    rng = random.Random(SEED)
    db_path = data_dir / "forum.sqlite3"
    migrate(db_path)
    cooked = [markdown.render(body) for body in BODIES]
    sizes, target = _plan_threads(rng, total)
    starts, post_threads, post_times = _timeline(rng, sizes)
    thread_ids = [0] * len(sizes)
    for rank, index in enumerate(sorted(range(len(sizes)), key=starts.__getitem__), 1):
        thread_ids[index] = rank  # thread ids follow creation time
    thread_author = [rng.randint(1, MEMBERS) for _ in sizes]
    thread_board = [rng.randint(1, len(BOARDS)) for _ in sizes]
    last_at, last_id = [""] * len(sizes), [0] * len(sizes)
    started, user_posts = bytearray(len(sizes)), [0] * (MEMBERS + 1)
    rows = []
    for post_id, (index, moment) in enumerate(zip(post_threads, post_times, strict=True), 1):
        author = rng.randint(1, MEMBERS) if started[index] else thread_author[index]
        started[index] = 1
        body = rng.randrange(len(BODIES))
        at = iso(moment)
        rows.append((post_id, thread_ids[index], author, BODIES[body], cooked[body], at))
        last_at[index], last_id[index] = at, post_id
        user_posts[author] += 1
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        for pragma in ("journal_mode = off", "synchronous = off", "cache_size = -262144"):
            conn.execute(f"pragma {pragma}")
        tokens = _insert_people(conn, user_posts)
        _insert_boards_threads(conn, rng, sizes, thread_ids, thread_author, thread_board,
                               starts, last_at, last_id)
        _insert_posts(conn, rows)
        stem_posts(conn)
        # Member 1 read the target thread halfway (issue 16): their page carries the "new
        # messages" marker, computed per request like the rest of their bits.
        conn.execute("insert into thread_reads (user_id, thread_id, last_read_post_id)"
                     " select 1, thread_id, id from posts where thread_id = ?"
                     " order by id limit 1 offset ?", (thread_ids[target], TARGET_POSTS // 2))
        settle(conn)
        conn.execute("pragma journal_mode = wal")
    finally:
        conn.close()
    return GeneratedForum(data_dir, total, thread_ids[target], tokens[0],
                          time.perf_counter() - began, tokens[1], tokens[2])


def _insert_people(conn: sqlite3.Connection, user_posts: list[int]) -> tuple[str, str, str]:
    """Members (no usable password), an open session for member 1, and member 2 a global
    moderator with a session and an API token; returns the three tokens."""
    joined = iso(START - 86400)
    names = [f"{FIRST_NAMES[i % len(FIRST_NAMES)]}{i}" for i in range(MEMBERS + 1)]
    members = [(i, names[i], pseudonym_key(names[i]), user_posts[i], joined)
               for i in range(1, MEMBERS + 1)]
    token, moderator, api = (secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                             "vigie_" + secrets.token_urlsafe(32))
    conn.execute("begin")
    conn.executemany("insert into users (id, name, name_key, password_hash, post_count,"
                     " created_at) values (?, ?, ?, '!', ?, ?)", members)
    conn.execute("update users set role = 'moderator' where id = 2")
    for user_id, secret in ((1, token), (2, moderator)):
        conn.execute("insert into sessions (id, user_id, csrf_token, created_at, expires_at)"
                     " values (?, ?, ?, ?, '2999-01-01T00:00:00.000Z')",
                     (hashlib.sha256(secret.encode()).hexdigest(), user_id,
                      secrets.token_urlsafe(32), joined))
    conn.execute("insert into api_tokens (user_id, token_hash, label, created_at)"
                 " values (2, ?, 'bench', ?)", (token_hash(api), joined))
    conn.execute("commit")
    return token, moderator, api


def _insert_boards_threads(conn: sqlite3.Connection, rng: random.Random, sizes: list[int],
                           thread_ids: list[int], authors: list[int], boards: list[int],
                           starts: list[float], last_at: list[str], last_id: list[int]) -> None:
    threads, board_threads, board_posts = [], [0] * (len(BOARDS) + 1), [0] * (len(BOARDS) + 1)
    board_last = [""] * (len(BOARDS) + 1)
    for index, size in enumerate(sizes):
        board = boards[index]
        title = rng.choice(TOPICS).format(place=rng.choice(PLACES))
        threads.append((thread_ids[index], board, authors[index], title, size,
                        rng.randint(size, size * 40), iso(starts[index]), last_at[index],
                        last_id[index]))
        board_threads[board] += 1
        board_posts[board] += size
        board_last[board] = max(board_last[board], last_at[index])
    conn.execute("begin")
    conn.executemany(
        "insert into boards (id, slug, name, region, description, position, thread_count,"
        " post_count, last_post_at, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(i, slug, name, region, f"Le relevé citoyen de {name}.", i, board_threads[i],
          board_posts[i], board_last[i] or None, iso(START - 86400))
         for i, (slug, name, region) in enumerate(BOARDS, 1)])
    for chunk in range(0, len(threads), BATCH):
        conn.executemany(
            "insert into threads (id, board_id, author_id, title, post_count, views,"
            " created_at, last_post_at, last_post_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            threads[chunk:chunk + BATCH])
    conn.execute("commit")


def _insert_posts(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Posts and their first revision, one transaction per BATCH posts."""
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        conn.execute("begin")
        conn.executemany("insert into posts (id, thread_id, author_id, body_source, body_html,"
                         " created_at) values (?, ?, ?, ?, ?, ?)", chunk)
        conn.executemany(
            "insert into post_revisions (id, post_id, editor_id, body_source, body_html,"
            " created_at) values (?, ?, ?, ?, ?, ?)",
            [(row[0], row[0], row[2], row[3], row[4], row[5]) for row in chunk])
        conn.execute("commit")


def settle(conn: sqlite3.Connection) -> None:
    """The full-text indexes merged, as in a forum that has been running: bulk inserts leave
    them in dozens of segments, which the first edits of the first server merged. No ANALYZE:
    a running forum has no statistics (`pragma optimize` at a server's close takes none here),
    and with those of `analyze` (analysis_limit 1000) the thread page's queries plan worse (an
    uncached page at a million posts: 0.65 -> 1.06 ms CPU in-process)."""
    tables = [name for (name,) in conn.execute(
        "select name from sqlite_master where type = 'table'"
        " and sql like 'create virtual table%using fts5%'")]
    for table in tables:
        conn.execute(f"insert into {table}({table}) values ('optimize')")


def stem_posts(conn: sqlite3.Connection) -> None:
    """The French stems of every post (forum/stems.py), as the server's first commit would
    compute them: a million posts left in stem_queue would hold its writer for minutes. The
    forum has few distinct texts, so each is stemmed once."""
    stemmed = functools.lru_cache(maxsize=None)(stems.stems)
    while True:
        conn.execute("begin")
        rows = conn.execute(
            "select search_docs.id, search_docs.title, search_docs.body, search_docs.tags,"
            " threads.title || ' ' || boards.name from search_docs"
            " join posts on posts.id = search_docs.id join threads on threads.id = posts.thread_id"
            " join boards on boards.id = threads.board_id"
            " where search_docs.id in (select id from stem_queue order by id limit ?)",
            (BATCH,)).fetchall()
        conn.executemany(
            "insert into stem_search (rowid, title, body, tags, context) values (?, ?, ?, ?, ?)",
            [(doc, stemmed(title), stemmed(body), tags, stemmed(context))
             for doc, title, body, tags, context in rows])
        done = conn.execute("delete from stem_queue where id in"
                            " (select id from stem_queue order by id limit ?)", (BATCH,)).rowcount
        conn.execute("commit")
        if done < BATCH:
            return


# Servers -------------------------------------------------------------------------------------

@contextlib.contextmanager
def serving(forum: GeneratedForum, **settings: str) -> Iterator[Servers]:
    """The real server on the forum, its thread page checked, and a bare server of its bytes.

    `settings`: more FORUM_* variables for the server (e.g. FORUM_FRAGMENT_CACHE_ENTRIES="0").
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update(FORUM_POSTS_PER_PAGE=str(TARGET_POSTS), PYTHONUNBUFFERED="1", **settings)
    forum_port, bare_port = free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        began = time.perf_counter()
        log = forum.data_dir / "server.log"
        procs.append(start_process([sys.executable, "-m", "forum", "--data-dir",
                                    str(forum.data_dir), "serve", "--workers", "1", "--host",
                                    "127.0.0.1", "--port", str(forum_port)], log, env))
        wait_ready(procs[0], forum_port, log, READY_TIMEOUT)
        startup = time.perf_counter() - began
        status, headers, page = fetch(forum_port, f"/t/{forum.thread_id}")
        articles = page.count(b"<article")
        if status != 200 or articles != TARGET_POSTS:
            raise SystemExit(f"/t/{forum.thread_id}: status {status}, {articles} <article>")
        page_file = forum.data_dir / "page.html"
        page_file.write_bytes(page)
        bare_log = forum.data_dir / "bare.log"
        procs.append(start_process([sys.executable, "-c", BARE_SERVER, str(page_file),
                                    str(bare_port), headers["Content-Type"]], bare_log, env))
        wait_ready(procs[1], bare_port, bare_log, 30)
        yield Servers(forum_port, bare_port, procs[0], procs[1], page, headers["ETag"], startup)
    finally:
        for proc in procs:
            stop_process(proc)


# Load ----------------------------------------------------------------------------------------

def measure(label: str, proc: subprocess.Popen[bytes], port: int, path: str,
            headers: dict[str, str], args: argparse.Namespace) -> LoadResult:
    """A short warm-up, then one measured run on http://127.0.0.1:<port><path>."""
    url = f"http://127.0.0.1:{port}{path}"
    status, _headers, body = fetch(port, path, headers)
    expected = 304 if "If-None-Match" in headers else 200
    articles = body.count(b"<article") if expected == 200 else TARGET_POSTS
    problem = "" if status == expected and articles == TARGET_POSTS else (
        f"CHECK FAILED: status {status}, {articles} <article>")
    use_wrk = shutil.which("wrk") is not None
    if use_wrk and args.warmup > 0:
        run_wrk(label, url, headers, args.warmup, args)
    cpu_before = cpu_seconds(proc.pid)
    if use_wrk:
        result = run_wrk(label, url, headers, args.duration, args)
    else:
        result = asyncio.run(python_load(label, url, headers, args.duration, args.connections))
    cpu_after = cpu_seconds(proc.pid)
    if cpu_before is not None and cpu_after is not None and result.requests:
        # Robust to noisy neighbours: what one page costs the server, whatever the wall clock.
        result.cpu_ms = (cpu_after - cpu_before) * 1000 / result.requests
    result.note = " ".join(filter(None, (result.note, problem)))
    print(f"  {label:<20} {result.rps:>9,.0f} req/s  p99 {result.percentiles['99%']:.1f} ms",
          flush=True)
    return result


Target = tuple[str, subprocess.Popen[bytes], int, dict[str, str]]  # label, server, port, headers


def measure_all(targets: list[Target], path: str, args: argparse.Namespace) -> list[LoadResult]:
    """Every target in turn, `--rounds` times; keeps each target's median round (by req/s)."""
    rounds = []
    for number in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f" round {number}/{args.rounds}", flush=True)
        rounds.append([measure(label, proc, port, path, headers, args)
                       for label, proc, port, headers in targets])
    by_target = zip(*rounds, strict=True)
    return [sorted(runs, key=lambda r: r.rps)[len(runs) // 2] for runs in by_target]


# SQL per page --------------------------------------------------------------------------------

async def count_queries(forum: GeneratedForum) -> dict[str, list[str]]:
    """Statements SQLite runs for one uncached thread page, traced in-process."""
    from forum import db as forum_db
    from forum import keys
    from forum.app import create_app
    from forum.config import Config

    statements: list[str] = []
    original = forum_db.connect

    async def traced(path: Path) -> object:
        conn = await original(path)
        await conn.set_trace_callback(statements.append)
        return conn

    forum_db.connect = traced  # type: ignore[assignment]
    runner = web.AppRunner(create_app(Config.from_env(
        env={}, data_dir=forum.data_dir, posts_per_page=TARGET_POSTS)), access_log=None)
    found: dict[str, list[str]] = {}
    try:
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        url = f"http://127.0.0.1:{port}/t/{forum.thread_id}"
        readers = (("render (no cache)", "bogus"), ("member", forum.member_token))
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
            for _label, cookie in readers:  # the server's start-up writes (leases, purges)
                async with session.get(url, headers={"Cookie": f"vigie_session={cookie}"}):
                    pass
            await asyncio.sleep(2)  # end meanwhile, and stay out of the trace
            for label, cookie in readers:
                # As after a write: nothing kept (the member's session neither).
                runner.app[keys.PAGE_CACHE].invalidate({("all", None)})
                runner.app[keys.FRAGMENTS].invalidate({("thread", forum.thread_id)})
                statements.clear()
                async with session.get(url, headers={"Cookie": f"vigie_session={cookie}"}) as page:
                    await page.read()
                found[label] = list(statements)
    finally:
        forum_db.connect = original
        await runner.cleanup()
    return found


# Runs ----------------------------------------------------------------------------------------

def _table(results: list[LoadResult], bare_rps: float) -> None:
    """req/s and latencies; `/ bare` is req/s over bare's; `CPU ms` is server CPU per request."""
    print(f"\n{'':<22}{'req/s':>9} {'p50 ms':>8} {'p75 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
          f" {'/ bare':>7} {'CPU ms':>7} {'bad':>5} {'err':>5}")
    for r in results:
        p = r.percentiles
        cpu = "-" if r.cpu_ms is None else f"{r.cpu_ms:.3f}"
        print(f"{r.label:<22}{r.rps:>9,.0f} {p['50%']:>8.2f} {p['75%']:>8.2f} {p['90%']:>8.2f}"
              f" {p['99%']:>8.2f} {r.rps / bare_rps:>7.2f} {cpu:>7} {r.bad_status:>5}"
              f" {r.errors:>5} {r.note}")


def make_forum(root: Path, posts: int) -> GeneratedForum:
    print(f"Generating a forum of {posts:,} posts...", flush=True)
    forum = generate(root / f"forum-{posts}", posts)
    size = (forum.data_dir / "forum.sqlite3").stat().st_size / 1e6
    # On disk before a server starts, as a running forum's: a million posts leave 2 GB for the
    # kernel to write back, which the first server's commits may wait behind.
    began = time.perf_counter()
    os.sync()
    print(f"  {forum.seconds:.1f} s, {size:,.0f} MB, target thread /t/{forum.thread_id};"
          f" written to disk in {time.perf_counter() - began:.1f} s", flush=True)
    return forum


def full_run(args: argparse.Namespace, root: Path) -> None:
    forum = make_forum(root, args.posts)
    path = f"/t/{forum.thread_id}"
    with serving(forum) as servers:
        print(f"Server ready in {servers.startup_seconds:.1f} s; page {len(servers.page):,}"
              f" bytes. Load: {args.connections} connections, {args.duration:.0f} s each.")
        f, fp, b, bp = servers.forum_port, servers.forum, servers.bare_port, servers.bare
        results = measure_all([
            ("bare (before)", bp, b, {}),
            ("cached", fp, f, {}),
            ("304 (If-None-Match)", fp, f, {"If-None-Match": servers.etag}),
            ("render (no cache)", fp, f, {"Cookie": "vigie_session=bogus"}),
            ("member", fp, f, {"Cookie": f"vigie_session={forum.member_token}"}),
            ("moderator", fp, f, {"Cookie": f"vigie_session={forum.moderator_token}"}),
        ], path, args)
        mixed = mixed_run(forum, fp, f, args) if not args.skip_mixed else None
        results += measure_all([("bare (after)", bp, b, {})], path, args)
    with serving(forum, FORUM_FRAGMENT_CACHE_ENTRIES="0") as cold:
        # Every post rendered for every request: what a page costs when all its posts changed.
        results.insert(-1, measure_all([(ALL_POSTS, cold.forum, cold.forum_port,
                                         {"Cookie": "vigie_session=bogus"})], path, args)[0])
    results[-1:-1] = compare_unread(forum, path, args)
    print(f"\nThread page, {TARGET_POSTS} posts, forum of {forum.posts:,} posts"
          f" (generated in {forum.seconds:.1f} s), {len(servers.page):,} bytes;"
          f" load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    _summary(args, results, mixed, asyncio.run(count_queries(forum)))


def compare_unread(forum: GeneratedForum, path: str,
                   args: argparse.Namespace) -> list[LoadResult]:
    """The member's page with unread tracking on and off (no marker, no read noted), on two
    servers up at once and measured in turn UNREAD_ROUNDS times: each keeps its round with the
    least CPU per page, since other programs' load only ever adds to it (one measure each, one
    server after the other, differed by up to a tenth either way)."""
    member = {"Cookie": f"vigie_session={forum.member_token}"}
    with serving(forum) as on, serving(forum, FORUM_UNREAD_TRACKING="0") as off:
        rounds = [[measure(label, servers.forum, servers.forum_port, path, member, args)
                   for label, servers in (("member (unread on)", on), ("member (no unread)", off))]
                  for _ in range(UNREAD_ROUNDS)]
    return [min(runs, key=lambda r: float("inf") if r.cpu_ms is None else r.cpu_ms)
            for runs in zip(*rounds, strict=True)]


# The mixed run ---------------------------------------------------------------------------

MIXED_THREADS, ZIPF_S, WRITE_EVERY = 1_000, 1.0, 0.1
MIXED_LUA = """
local ids = {%(ids)s}
local cdf = {%(cdf)s}
local member = "vigie_session=%(token)s"
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(1000 + seed)
end
function request()
  local r, lo, hi = math.random(), 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < r then lo = mid + 1 else hi = mid end
  end
  local path = "/t/" .. ids[lo]
  if math.random() < 0.5 then return wrk.format("GET", path, {["Cookie"] = member}) end
  return wrk.format("GET", path)
end
"""


def _zipf(forum: GeneratedForum) -> tuple[list[int], list[float], dict[int, int]]:
    """Up to MIXED_THREADS public threads in a random popularity order, the Zipf law's
    cumulative weights, and each thread's first post (what the writer edits)."""
    with sqlite3.connect(forum.data_dir / "forum.sqlite3") as conn:
        first = dict(conn.execute("select thread_id, min(id) from posts group by thread_id"
                                  " order by thread_id limit ?", (MIXED_THREADS,)).fetchall())
    ids = sorted(first)
    random.Random(SEED).shuffle(ids)
    weights = [1 / rank ** ZIPF_S for rank in range(1, len(ids) + 1)]
    total, running, cdf = sum(weights), 0.0, []
    for weight in weights:
        running += weight
        cdf.append(running / total)
    cdf[-1] = 1.0
    return ids, cdf, first


def _writer(port: int, forum: GeneratedForum, ids: list[int], cdf: list[float],
            first: dict[int, int], stop: threading.Event, counts: dict[str, int]) -> None:
    """One edit every WRITE_EVERY seconds, through the API, of a thread readers pick by the
    same law: each write invalidates pages and a post that readers are reading."""
    rng = random.Random(SEED + 1)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {forum.api_token}",
               "Content-Type": "application/json"}
    due = time.perf_counter()
    while not stop.wait(max(0.0, (due := due + WRITE_EVERY) - time.perf_counter())):
        # On time even when a write is slow: the next one is due WRITE_EVERY after the last.
        thread_id = ids[bisect.bisect_left(cdf, rng.random())]
        body = json.dumps({"body": f"{rng.choice(BODIES)}\n\n(édité, {counts['ok'] + 1})"})
        try:
            connection.request("PATCH", f"/api/v1/posts/{first[thread_id]}", body, headers)
            response = connection.getresponse()
            response.read()
            counts["ok" if response.status == 200 else "bad"] += 1
        except (OSError, http.client.HTTPException):
            counts["bad"] += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.close()


def _read_once(port: int, forum: GeneratedForum, ids: list[int],
               proc: subprocess.Popen[bytes]) -> str:
    """Every thread of the run read once by a visitor and by the member, one at a time: the
    pages a site that has been running holds (the run measures reading beside writes, not a
    start with nothing in memory). Returns what those first renders cost, for the note."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    cpu_before, began = cpu_seconds(proc.pid), time.perf_counter()
    try:
        for thread_id in ids:
            for headers in ({}, {"Cookie": f"vigie_session={forum.member_token}"}):
                connection.request("GET", f"/t/{thread_id}", headers=headers)
                connection.getresponse().read()
    finally:
        connection.close()
    cpu_after = cpu_seconds(proc.pid)
    cpu = "" if cpu_before is None or cpu_after is None else (
        f", {(cpu_after - cpu_before) * 1000 / (2 * len(ids)):.2f} ms CPU each")
    return (f"first renders of the {len(ids)} threads (visitor, member) before:"
            f" {time.perf_counter() - began:.1f} s{cpu}")


def mixed_run(forum: GeneratedForum, proc: subprocess.Popen[bytes], port: int,
              args: argparse.Namespace) -> LoadResult:
    """Readers on many threads (Zipf), half of them members, while a member edits posts."""
    ids, cdf, first = _zipf(forum)
    script = forum.data_dir / "mixed.lua"
    script.write_text(MIXED_LUA % {"ids": ", ".join(map(str, ids)),
                                   "cdf": ", ".join(f"{c:.9f}" for c in cdf),
                                   "token": forum.member_token})
    counts = {"ok": 0, "bad": 0}
    stop = threading.Event()
    writer = threading.Thread(target=_writer, args=(port, forum, ids, cdf, first, stop, counts))
    url = f"http://127.0.0.1:{port}/"
    first_renders = _read_once(port, forum, ids, proc)
    if args.warmup > 0:
        run_wrk("mixed", url, {}, args.warmup, args, str(script))
    cpu_before = cpu_seconds(proc.pid)
    writer.start()
    try:
        result = run_wrk("mixed", url, {}, args.duration, args, str(script))
    finally:
        stop.set()
        writer.join()
    cpu_after = cpu_seconds(proc.pid)
    if cpu_before is not None and cpu_after is not None and result.requests:
        result.cpu_ms = (cpu_after - cpu_before) * 1000 / result.requests
    result.label = f"mixed ({len(ids)} threads)"
    result.note = f"{counts['ok']} edits, {counts['bad']} failed; {first_renders}"
    print(f"  {result.label:<20} {result.rps:>9,.0f} req/s  p99 {result.percentiles['99%']:.1f}"
          f" ms  ({result.note})", flush=True)
    return result


def _verdict(ok: bool) -> str:
    return "OK" if ok else "OVER"


def _summary(args: argparse.Namespace, results: list[LoadResult], mixed: LoadResult | None,
             queries: dict[str, list[str]]) -> None:
    """The table (ratios to the mean of both bare runs), each target with OK/OVER, the SQL."""
    bare = (results[0].rps + results[-1].rps) / 2
    _table(results + ([mixed] if mixed else []), bare)
    by_label = {r.label: r for r in results}
    print()
    for label, target in (("cached", CACHED_RATIO_TARGET), ("member", MEMBER_RATIO_TARGET),
                          ("moderator", MODERATOR_RATIO_TARGET)):
        ratio = by_label[label].rps / bare
        print(f"{label} / bare = {ratio:.2f} (target >= {target:.2f}): {_verdict(ratio >= target)}")
    bare_cpu = [r.cpu_ms for r in (results[0], results[-1]) if r.cpu_ms]
    for label in ("cached", "member", "moderator"):
        cpu = by_label[label].cpu_ms
        if len(bare_cpu) == 2 and cpu:
            print(f"  same ratio from server CPU per request (less sensitive to other load),"
                  f" {label}: {sum(bare_cpu) / 2 / cpu:.2f}")
    tracked, plain = by_label.get("member (unread on)"), by_label.get("member (no unread)")
    if tracked is not None and plain is not None and tracked.cpu_ms and plain.cpu_ms:
        # Issue 16: unread tracking must not make a member's page dearer. Judged by server
        # CPU per page (two servers measured one after the other: req/s moves with the load).
        cost = tracked.cpu_ms / plain.cpu_ms
        print(f"member pages, unread tracking on / off: / bare {tracked.rps / bare:.2f} /"
              f" {plain.rps / bare:.2f}, CPU {tracked.cpu_ms:.3f} / {plain.cpu_ms:.3f} ms"
              f" per page ({cost:.2f}x, target <= {UNREAD_COST_TARGET:.2f}x):"
              f" {_verdict(cost <= UNREAD_COST_TARGET)}")
    for label, kind in (("render (no cache)", "target"), (ALL_POSTS, "goal")):
        cpu = by_label[label].cpu_ms
        if cpu is not None:
            print(f"{label}: {cpu:.2f} ms CPU per page ({kind} <= {RENDER_CPU_TARGET_MS} ms):"
                  f" {_verdict(cpu <= RENDER_CPU_TARGET_MS)}")
    print(f"  ({ALL_POSTS}: every post of the page rendered, stricter than issue 15's uncached"
          f" render, the first reader after a write, which is `render (no cache)`)")
    if mixed is not None:
        ratio = mixed.rps / bare
        p99 = mixed.percentiles["99%"]
        print(f"{mixed.label} / bare = {ratio:.2f} (target >= {MIXED_RATIO_TARGET:.2f}):"
              f" {_verdict(ratio >= MIXED_RATIO_TARGET)}, p99 {p99:.1f} ms (target <"
              f" {P99_TARGET_MS:.0f} ms): {_verdict(p99 < P99_TARGET_MS)}; {mixed.note}")
    for r in [*results[1:-1], *([mixed] if mixed else [])]:
        p99 = r.percentiles["99%"]
        print(f"p99 at {args.connections} connections, {r.label}: {p99:.1f} ms"
              f" (target < {P99_TARGET_MS:.0f} ms): {_verdict(p99 < P99_TARGET_MS)}")
    for label, statements in queries.items():
        print(f"SQL per page, {label}: {len(statements)}")
        for sql in statements:
            print(f"    {' '.join(sql.split())[:110]}")


def compare_sizes(args: argparse.Namespace, root: Path) -> None:
    rows: list[tuple[GeneratedForum, float, list[LoadResult], float]] = []
    for posts in (SMALL_FORUM, args.posts):
        forum = make_forum(root, posts)
        with serving(forum) as servers:
            print(f"Server ready in {servers.startup_seconds:.1f} s", flush=True)
            f, fp = servers.forum_port, servers.forum
            results = measure_all([
                ("bare", servers.bare, servers.bare_port, {}),
                ("cached", fp, f, {}),
                ("render (no cache)", fp, f, {"Cookie": "vigie_session=bogus"}),
            ], f"/t/{forum.thread_id}", args)
        rows.append((forum, servers.startup_seconds, results, os.getloadavg()[0]))
        if not args.keep:
            shutil.rmtree(forum.data_dir, ignore_errors=True)
    for forum, startup, results, load in rows:
        print(f"\nForum of {forum.posts:,} posts (generated in {forum.seconds:.1f} s,"
              f" server ready in {startup:.1f} s), /t/{forum.thread_id};"
              f" load average {load:.1f} on {os.cpu_count()} CPUs")
        _table(results, results[0].rps)


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000, help="posts in the forum")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measure")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat all measures, keep the median (on a busy machine)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="2 cores: leave one")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--skip-mixed", action="store_true",
                        help="leave out the mixed run (Zipf readers beside a writer)")
    parser.add_argument("--sizes", type=_sizes, default=None, metavar="N,N",
                        help="the full run on each of these forum sizes in turn, instead of"
                             " --posts (issue 15: 1000,1000000)")
    parser.add_argument("--compare-sizes", action="store_true",
                        help=f"cached and uncached page on {SMALL_FORUM:,} and --posts posts")
    parser.add_argument("--workers", type=int, default=0,
                        help="instead: cached, uncached and member pages with 1 and N server"
                             " processes, and the scaling ratio (bench/workers.py)")
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="sqlite",
                        help="instead, unless sqlite: cached, uncached and member pages and"
                             " replies per second on each store (bench/stores.py)")
    parser.add_argument("--servers", default="1", metavar="1|2|1,2",
                        help="with --store: Vigie servers on the store, load split over them")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if min(args.sizes or [args.posts]) < TARGET_POSTS * 2:
        parser.error(f"--posts must be at least {TARGET_POSTS * 2}")
    if not shutil.which("wrk"):
        print("wrk not found: using a Python load generator (it competes for the CPU).")
    with data_folder("vigie-bench-", keep=args.keep) as root:
        if args.workers:
            import workers  # bench/workers.py: several processes (issue 13)

            workers.compare(args, root)
        elif args.store != "sqlite" or args.servers != "1":
            import stores  # bench/stores.py: PostgreSQL beside SQLite, 1 and 2 servers

            args.servers = stores.server_counts(args.servers)
            stores.compare(args, root)
        elif args.sizes:
            for posts in args.sizes:
                args.posts = posts
                full_run(args, root)
                if not args.keep:  # a million posts take 1.4 GB
                    shutil.rmtree(root / f"forum-{posts}", ignore_errors=True)
        else:
            (compare_sizes if args.compare_sizes else full_run)(args, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
