"""Search latency on PostgreSQL (issue 19), ordinary and hostile queries, at the model level.

What it measures
  `--posts` posts with bench/search.py's French word mix ("de" in nearly every post, "caméras"
  in about one in ten, rare words) are written into the empty PostgreSQL database `--url`
  (migrated first; posts inserted in batches through the real triggers, then stemmed by the
  writer as the server would: both times are printed). Then each query runs `--iterations`
  times through models.search.run, with its time budget (TooSlow past it): bench/search.py's
  queries, then hostile ones (a word repeated 66 times, a phrase of 12 "de", ten prefixes,
  the most common words).

How to read it
  A search may never take much more than models.search.TIME_BUDGET (1 s): the hostile ones
  either answer within it or answer TooSlow (their statement is cancelled on the server).
  Absolute figures move with whatever else runs on the machine: the load average is printed.

  python bench/search_postgresql.py --url postgresql://user@/empty_db?host=/run/postgresql
      [--posts 50000] [--iterations 5]
  A database that already holds posts is measured as it is (run it again on the same --url).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import time

import asyncpg
from search import QUERIES, SEED, _body, _vocabulary  # bench/search.py (bench/ is on sys.path)

from forum.db_postgresql import PostgresDatabase
from forum.errors import Invalid, TooSlow
from forum.migrate import migrate_postgresql
from forum.models import search

BATCH = 10_000  # posts per transaction
THREAD_POSTS = 20
HOSTILE = {
    "de x66": " ".join(["de"] * 66),
    '"de" x12 (phrase)': '"' + " ".join(["de"] * 12) + '"',
    "10 common words": "de la le les et à des en un une",
    "10 prefixes": " ".join(f"{prefix}*" for prefix in ("cam", "vid", "con", "bud", "pla",
                                                       "rue", "dro", "sec", "pol", "mai")),
    "10 common prefixes": " ".join(f"{prefix}*" for prefix in ("cam", "dem", "con", "des",
                                                              "pou", "que", "dan", "sur",
                                                              "pas", "par")),
}


async def generate(url: str, posts: int) -> None:
    await migrate_postgresql(url)
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("select count(*) from posts"):
            print("posts already there: measured as they are")
            return
        rng = random.Random(SEED)
        words, weights = _vocabulary()
        threads = max(1, posts // THREAD_POSTS)
        await conn.execute(
            "insert into users (id, name, name_key, password_hash, created_at) select g,"
            " 'm' || g, 'm' || g, '!', '2024-01-01T00:00:00.000Z' from generate_series(1, 100) g;"
            " insert into boards (id, slug, name, created_at) select g, 'b' || g, 'Ville ' || g,"
            " '2024' from generate_series(1, 10) g")
        await conn.execute(
            "insert into threads (id, board_id, author_id, title, created_at, last_post_at)"
            " select g, 1 + g % 10, 1 + g % 100, 'Sujet caméras ' || g,"
            " '2024-01-01T00:00:00.000Z', '2024' from generate_series(1, $1) g", threads)
        started = time.monotonic()
        for first in range(1, posts + 1, BATCH):
            ids = list(range(first, min(posts, first + BATCH - 1) + 1))
            async with conn.transaction():
                await conn.execute(
                    "insert into posts (id, thread_id, author_id, body_source, body_html,"
                    " created_at, status) select i, 1 + (i * 7919) % $4, 1 + i % 100, b, '', a,"
                    " 'published' from unnest($1::bigint[], $2::text[], $3::text[]) as u(i, b, a)",
                    ids, [_body(rng, words, weights) for _ in ids],
                    [f"2024-{1 + i * 12 // (posts + 1):02d}-15T10:00:00.000Z" for i in ids],
                    threads)
        print(f"{posts} posts written through the triggers: {time.monotonic() - started:.1f} s")
    finally:
        await conn.close()
    db = PostgresDatabase(url, readers=1)
    await db.open()
    try:
        started = time.monotonic()
        async with db.transaction():
            pass  # the writer stems what the triggers queued, before its COMMIT
        print(f"stemmed: {time.monotonic() - started:.1f} s")
    finally:
        await db.close()


async def measure(url: str, iterations: int) -> None:
    db = PostgresDatabase(url, readers=3)
    await db.open()
    try:
        cases = {**{label: (query, params) for label, (query, params) in QUERIES.items()},
                 **{label: (query, {}) for label, query in HOSTILE.items()}}
        print(f"{'query':32} {'outcome':16} {'p50 ms':>8} {'max ms':>8}")
        for label, (query, params) in cases.items():
            times, outcome = [], ""
            filters = {key: str(value) for key, value in params.items() if key != "page"}
            page = int(str(params.get("page", 1)))
            if "board" in filters:
                filters["board"] = f"b{filters['board']}"
            if "author" in filters:
                filters["author"] = f"m{filters['author']}"
            for _ in range(iterations):
                started = time.monotonic()
                try:
                    found = await search.run(db, query, "bench", page, **filters)
                    outcome = f"{found.total} found"
                except Invalid:
                    outcome = "invalid (422)"
                except TooSlow:
                    outcome = "TooSlow"
                times.append((time.monotonic() - started) * 1000)
            times.sort()
            print(f"{label:32} {outcome:16} {times[len(times) // 2]:8.1f} {times[-1]:8.1f}")
    finally:
        await db.close()
    print("load average: " + " ".join(f"{value:.2f}" for value in os.getloadavg()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True, help="an empty PostgreSQL database to fill")
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(generate(args.url, args.posts))
    asyncio.run(measure(args.url, args.iterations))


if __name__ == "__main__":
    main()
