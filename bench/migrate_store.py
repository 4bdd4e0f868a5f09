"""`vigie migrate-store` on a generated forum: how long a move to PostgreSQL takes.

    python bench/migrate_store.py [--posts 100000]

The forum is bench/thread_page.py's (members, boards, threads, posts and their first revisions,
bulk-inserted into SQLite); the target a throw-away cluster (tests/postgresql_cluster.py).
Prints the seconds of the whole move (migrations, copy, checksums, commit) and rows per second.
"""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from thread_page import generate  # noqa: E402

from forum.config import Config  # noqa: E402
from forum.migrate_store import migrate_store  # noqa: E402
from tests.postgresql_cluster import Cluster  # noqa: E402


def rows_in(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        tables = [row[0] for row in conn.execute(
            "select name from sqlite_master where type = 'table' and sql not like"
            " 'create virtual%' and name not like 'sqlite_%'")]
        return sum(conn.execute(f'select count(*) from "{name}"').fetchone()[0]
                   for name in tables)
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    cluster = Cluster()
    cluster.start()
    try:
        with tempfile.TemporaryDirectory(prefix="vigie-bench-move-") as root:
            forum = generate(Path(root) / "site", args.posts)
            config = Config.from_env(env={}, data_dir=forum.data_dir)
            rows = rows_in(config.db_path)
            target = asyncio.run(cluster.database())
            began = time.perf_counter()
            asyncio.run(migrate_store(config, target, out=lambda _line: None))
            seconds = time.perf_counter() - began
            print(f"{args.posts:,} posts ({rows:,} rows): moved and checked in {seconds:.1f} s,"
                  f" {rows / seconds:,.0f} rows/s")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
