"""Time to tell 1 000 followers about one post, through the real models and database.

Builds a fresh forum in a temporary folder: one thread followed by N members (default 1 000),
then publishes replies with `posts.create` — the same call the pages and the API make — and
reports how long each publishing transaction takes, from BEGIN to COMMIT, with the fan-out
(one notification per follower, written in that same transaction) included. Also times an
approval of a pending post (the fan-out then happens at approval).

    python bench/notify.py [--followers 1000] [--posts 20]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forum import clock
from forum.db import Database
from forum.migrate import migrate
from forum.models import boards, moderation, posts, threads, users


async def build(db: Database, followers: int) -> tuple[users.User, users.User, int, int]:
    """A board, a thread, and `followers` members following it (bulk SQL, not timed)."""
    async with db.transaction() as tx:
        author = await users.create(tx, "autrice", "mot de passe assez long")
        moderator = await users.create(tx, "moderatrice", "mot de passe assez long", "moderator")
        board = await boards.create(tx, "Metz")
        thread_id, _ = await threads.create(tx, board, author, "Metz - équipement", "Début",
                                            150, 20_000)
        now = clock.now()
        await tx.conn.executemany(
            "insert into users (name, name_key, password_hash, created_at) values (?, ?, 'x', ?)",
            [(f"veilleur{n}", f"veilleur{n}", now) for n in range(followers)])
        await tx.execute(
            "insert into follows (user_id, target_kind, target_id, mode, created_at)"
            " select id, 'thread', ?, 'follow', ? from users where name like 'veilleur%'",
            (thread_id, now))
    return author, moderator, board.id, thread_id


async def run(followers: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "forum.sqlite3"
        migrate(path)
        db = Database(path, readers=1)
        await db.open()
        try:
            author, moderator, board_id, thread_id = await build(db, followers)
            direct, approvals = [], []
            for n in range(count):
                start = time.perf_counter()
                async with db.transaction() as tx:
                    await posts.create(tx, thread_id, board_id, author, f"Relevé {n}", 20_000)
                direct.append(time.perf_counter() - start)
                async with db.transaction() as tx:
                    pending = await posts.create(tx, thread_id, board_id, author,
                                                 f"En attente {n}", 20_000, status="pending")
                start = time.perf_counter()
                async with db.transaction() as tx:
                    await moderation.approve(tx, await posts.get(tx, pending), moderator)
                approvals.append(time.perf_counter() - start)
            async with db.read() as conn:
                made = await conn.value("select count(*) from notifications where kind = 'reply'")
        finally:
            await db.close()
    expected = followers * count * 2
    print(f"followers: {followers}, posts published: {count * 2}")
    print(f"notifications written: {made} (expected {expected})")
    for label, times in (("publish a reply", direct), ("approve a pending reply", approvals)):
        ms = sorted(t * 1000 for t in times)
        print(f"{label:<24} p50 {statistics.median(ms):7.1f} ms   max {ms[-1]:7.1f} ms"
              f"   ({followers / statistics.median(ms) * 1000:,.0f} notifications/s)")
    if made != expected:
        raise SystemExit("wrong number of notifications")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.followers, args.posts))


if __name__ == "__main__":
    main()
