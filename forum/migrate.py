"""Applies migrations/NNNN_name.sql in order, forward only, each in its own transaction."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import asyncpg

from forum.confusables import pseudonym_skeleton
from forum.stems import stems

MIGRATIONS = Path(__file__).parent / "migrations"
# PostgreSQL's steps: a baseline equal to SQLite's schema after its step BASELINE (no
# PostgreSQL site predates it), then one file per later step, with SQLite's number.
POSTGRESQL_MIGRATIONS = MIGRATIONS / "postgresql"
BASELINE = 27
STEM_BATCH = 5000  # posts stemmed per transaction after a PostgreSQL step
NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available(folder: Path = MIGRATIONS) -> list[tuple[int, Path]]:
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := NAME.match(p.name))]
    return sorted(found)


def migrate(db_path: Path) -> list[str]:
    """Bring the database at db_path up to date; returns the names of applied migrations."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path, isolation_level=None)
    # Backfills that SQL alone cannot compute (0010: the skeletons of existing pseudonyms).
    conn.create_function("pseudonym_skeleton", 1, pseudonym_skeleton, deterministic=True)
    conn.create_function("search_stems", 1, stems, deterministic=True)  # 0024, 0025, 0027
    applied: list[str] = []
    try:
        conn.execute("pragma journal_mode = wal")
        conn.execute("pragma foreign_keys = off")
        conn.execute(
            "create table if not exists schema_migrations ("
            " version integer primary key, name text not null,"
            " applied_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ')))"
        )
        done = {row[0] for row in conn.execute("select version from schema_migrations")}
        for version, path in available():
            if version in done:
                continue
            conn.execute("begin immediate")
            try:
                for statement in split_statements(path.read_text(encoding="utf-8")):
                    conn.execute(statement)
                conn.execute(
                    "insert into schema_migrations (version, name) values (?, ?)",
                    (version, path.name),
                )
                conn.execute("commit")
            except BaseException:
                conn.execute("rollback")
                raise
            applied.append(path.name)
        conn.execute("pragma foreign_keys = on")
        # Only after a change: on a large forum the check takes seconds at every start.
        problems = conn.execute("pragma foreign_key_check").fetchall() if applied else []
        if problems:
            raise RuntimeError(f"foreign key check failed after migration: {problems[:5]}")
    finally:
        conn.close()
    return applied


def split_statements(script: str) -> list[str]:
    """Split a script into complete statements (handles triggers' inner semicolons)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


async def migrate_postgresql(url: str) -> list[str]:
    """Bring the PostgreSQL database at `url` up to date; the names of applied steps.

    Each step in its own transaction, under an advisory lock: several servers starting at
    once apply each step once. The baseline stands for steps 1 to BASELINE.
    """
    conn = await asyncpg.connect(url)
    applied: list[str] = []
    try:
        await conn.execute("select pg_advisory_lock(hashtext('vigie migrations'))")
        await conn.execute(
            "create table if not exists schema_migrations ("
            " version bigint primary key, name text not null,"
            " applied_at text not null default"
            " (to_char(now() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')))")
        done = {row[0] for row in await conn.fetch("select version from schema_migrations")}
        for version, path in available(POSTGRESQL_MIGRATIONS):
            if version in done:
                continue
            steps = range(1, BASELINE + 1) if version == BASELINE else [version]
            async with conn.transaction():
                await conn.execute(path.read_text(encoding="utf-8"))
                await conn.executemany(
                    "insert into schema_migrations (version, name) values ($1, $2)",
                    [(step, path.name) for step in steps])
            applied.append(path.name)
        if applied:
            await stem_backlog(conn)
    finally:
        await conn.close()  # the advisory lock goes with the session
    return applied


async def stem_backlog(conn: asyncpg.Connection) -> int:
    """Stem what a step or a copy queued (0028: every post public before it; `vigie
    migrate-store`: every post), in batches of their own transaction: left to the server's
    first write, a large forum's would hold the writer. Returns how many."""
    count = 0
    while ids := [row[0] for row in await conn.fetch(
            "select id from stem_queue order by id limit $1", STEM_BATCH)]:
        async with conn.transaction():
            rows = await conn.fetch(
                "select search_docs.id, search_docs.title, search_docs.body,"
                " threads.title || ' ' || boards.name as context from search_docs"
                " join posts on posts.id = search_docs.id"
                " join threads on threads.id = posts.thread_id"
                " join boards on boards.id = threads.board_id where search_docs.id = any($1)",
                ids)
            await conn.execute("delete from stem_search where id = any($1)", ids)
            await conn.executemany(
                "insert into stem_search (id, title, body, context) values ($1, $2, $3, $4)",
                [(row["id"], stems(row["title"]), stems(row["body"]), stems(row["context"]))
                 for row in rows])
            await conn.execute("delete from stem_queue where id = any($1)", ids)
        count += len(ids)
    return count
