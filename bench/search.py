"""Search latency (p50/p99) on a generated forum of --posts posts (default 1 000 000).

What it measures
  A forum is generated in a temporary data folder: 10 city boards, ~120 members, threads of
  skewed sizes over three years, and `--posts` posts of 30 to 80 French words drawn from a word
  list with a Zipf law (so "caméras" is in a third of the posts and "de" in nearly all), plus
  rare words (a few hundred posts each), with about 2 % of posts pending, rejected, hidden or
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

  python bench/search.py [--posts 1000000] [--iterations 300] [--duration 5] [--keep]
  python bench/search.py --data-dir DIR      # reuse a folder kept by --keep
"""
from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from thread_page import (  # the same forum shape, servers and load tools as the page bench
    BOARDS,
    FIRST_NAMES,
    MEMBERS,
    PLACES,
    SPAN,
    START,
    TOPICS,
    _iso,
    _python_load,
    _start,
    _stop,
    _wait_ready,
    fetch,
    free_port,
    run_wrk,
)

from forum.db import Database
from forum.migrate import migrate
from forum.models import search
from forum.text import pseudonym_key

SEED = 2026
BATCH = 50_000  # posts per transaction while generating
MEAN_THREAD_POSTS = 20
P99_TARGET_MS = 20.0
READY_TIMEOUT = 300.0

# Function words first: the Zipf law makes them the most frequent, as in real French.
COMMON = """de la le les et à des en un une du est que pour qui dans sur pas au par plus ce il
on ne se avec nous sont mais ou vous elle ont sa son aux été cette ces tout bien fait très
aussi comme même leur sans deux encore avant après donc alors ici déjà""".split()
TOPICAL = """caméras caméra mairie vidéoprotection vidéosurveillance conseil municipal images
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
journalistes élus opposition majorité vote votée unanimité abstention budget primitif""".split()
# Rare words and the share of posts holding each (briefcam: ~400 posts in a million).
RARE = {"briefcam": 0.0004, "hikvision": 0.004, "anyvision": 0.001, "quadrature": 0.002,
        "technopolice": 0.002, "deveryware": 0.0005, "idemia": 0.001, "genetec": 0.001,
        "dahua": 0.001, "safecity": 0.0005}
RARE_TOTAL = sum(RARE.values())
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


def _vocabulary() -> tuple[list[str], list[float]]:
    """Words and cumulative Zipf weights (rank r weighs 1/r)."""
    words = COMMON + TOPICAL
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
                                                  ("published", 0, _iso(moment + 3600))])
        opened[index] = 1
        rows.append((post_id, threads[index][1], author, _body(rng, words, weights),
                     _iso(moment), status, hidden, deleted))
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
        conn.execute("pragma journal_mode = wal")
    finally:
        conn.close()
    return Generated(data_dir, posts, time.perf_counter() - began)


def _insert_people_boards(conn: sqlite3.Connection, threads: list[tuple]) -> None:
    joined = _iso(START - 86400)
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
                     [(number, board, author, title, _iso(start), _iso(start))
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
