"""`vigie check [--repair]`: is a data folder sound? SQLite, stored files, counters.

On PostgreSQL (FORUM_DATABASE_URL) the same checks of files and counters run on its database
through a small adapter; SQLite's integrity pragmas have no counterpart to run (PostgreSQL
enforces foreign keys as it writes, and checks its pages' checksums as it reads them: their
failures are counted, and reported here).

It reads only, unless told to repair; a repair changes only what can be worked out again from
the rest: counters are recomputed, and files no upload refers to are moved (never deleted) to
the data folder's quarantine/. A missing or damaged file cannot be repaired here: it comes back
from a backup (`vigie restore` into a new folder, then copy that one file).
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

import asyncpg

from forum.backup import BUSY_MS, DATABASE, FILES, hash_file, referenced_files, stored_files
from forum.db import _LOG_INSERT, ALL_TAG, log_plain_write, log_rows
from forum.db_postgresql import CHANNEL
from forum.dialect import postgresql
from forum.permissions import public_post, published_post, published_thread, shown_post
from forum.storage import Storage
from forum.uploads.storage import SHA256

QUARANTINE = "quarantine"
# An upload places its file just before its row commits: a younger file without a row may be
# one on its way. A repair looks again under the write lock instead.
ORPHAN_MIN_AGE_SECONDS = 60

# Each counter the schema keeps, as (table, column, query giving id -> expected value).
# A post counts while public (published, not hidden by flags), tombstone or not, as the models
# count it (posts._count); a board counts its published threads and their public posts; a
# member (whose count anyone reads) their public posts outside closed boards.
COUNTERS = (
    ("threads", "post_count",
     f"select threads.id, (select count(*) from posts where posts.thread_id = threads.id"
     f" and {shown_post()}) from threads"),
    ("boards", "thread_count",
     "select boards.id, (select count(*) from threads where threads.board_id = boards.id"
     f" and {published_thread()}) from boards"),
    ("boards", "post_count",
     f"select boards.id, (select count(*) from posts join threads on threads.id = posts.thread_id"
     f" where threads.board_id = boards.id and {published_post()})"
     " from boards"),
    ("users", "post_count",
     f"select users.id, (select count(*) from posts join threads on threads.id = posts.thread_id"
     f" where posts.author_id = users.id and {public_post()}) from users"),
)
# Activity never goes backwards (a hidden post leaves it), so it may be later than the newest
# public post, never earlier.
ACTIVITY = (
    ("threads", "last_post_at",
     f"select threads.id, (select max(posts.created_at) from posts"
     f" where posts.thread_id = threads.id and {shown_post()}) from threads"),
    ("boards", "last_post_at",
     f"select boards.id, (select max(posts.created_at) from posts join threads"
     f" on threads.id = posts.thread_id where threads.board_id = boards.id"
     f" and {published_post()}) from boards"),
)


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.problems.append(text)


class Checked(Protocol):
    """What the checks call of a database: sqlite3.Connection's execute (SQLite's SQL)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...


class PgChecked:
    """A PostgreSQL connection behind sqlite3's execute, for the checks: SQLite's SQL is
    translated (forum/dialect.py); `begin immediate` (SQLite's write lock, which an upload
    placing its file waits for) becomes a share lock on the uploads' tables, which waits for
    the uploads being written and holds back new ones until the transaction ends."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.conn: asyncpg.Connection = self.loop.run_until_complete(asyncpg.connect(url))

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if sql == "begin immediate":
            sql = "begin; lock table uploads, upload_sizes in share mode"
            return self._run(self.conn.execute(sql))
        if sql in ("commit", "rollback"):
            return self._run(self.conn.execute(sql))
        rows = self._run(self.conn.fetch(postgresql(sql), *parameters))
        return [tuple(row) for row in rows]

    def tell_servers(self) -> None:
        """Inside a repair: every running server drops its cached pages (the invalidations
        row and the notification they listen to, as forum/db_postgresql.py sends them)."""
        rows = log_rows("plain-" + secrets.token_hex(4), {ALL_TAG})
        self._run(self.conn.executemany(postgresql(_LOG_INSERT), rows))
        payload = json.dumps([rows[0][0], [list(ALL_TAG)]])
        self._run(self.conn.execute("select pg_notify($1, $2)", CHANNEL, payload))

    def _run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        try:
            self._run(self.conn.close())
        finally:
            self.loop.close()


def check(data_dir: Path, repair: bool = False, storage: Storage | None = None,
          database_url: str = "") -> Report:
    """Check the data folder (and the bucket of its files, if any; the PostgreSQL database at
    `database_url`, if given); with repair, fix counters and set orphan files aside."""
    report = Report()
    if database_url:
        return _check_on_postgresql(database_url, data_dir, repair, storage, report)
    db_path = data_dir / DATABASE
    if not db_path.is_file():
        report.add(f"no database at {db_path}")
        return report
    conn = sqlite3.connect(f"file:{db_path}?mode=rw", uri=True, isolation_level=None,
                           timeout=BUSY_MS / 1000)
    try:
        conn.execute(f"pragma busy_timeout = {BUSY_MS}")
        _check_sqlite(conn, report)
        _check_contents(conn, storage, data_dir, report, repair)
    finally:
        conn.close()
    return report


def _check_on_postgresql(url: str, data_dir: Path, repair: bool, storage: Storage | None,
                         report: Report) -> Report:
    conn = PgChecked(url)
    try:
        failures = conn.execute("select coalesce(checksum_failures, 0) from pg_stat_database"
                                " where datname = current_database()")
        if failures and failures[0][0]:
            report.add(f"database: {failures[0][0]} page checksum failure(s): see PostgreSQL's"
                       " log, restore from a backup")
        report.notes.append("PostgreSQL enforces foreign keys as it writes: SQLite's"
                            " integrity and foreign key checks are not needed")
        _check_contents(conn, storage, data_dir, report, repair)
    finally:
        conn.close()
    return report


def _check_contents(conn: Checked, storage: Storage | None, data_dir: Path, report: Report,
                    repair: bool) -> None:
    """What both stores check the same way: the stored files, then the counters."""
    if storage is None or storage.in_folder:
        _check_files(conn, data_dir, report, repair)
    else:
        _check_bucket(conn, storage, data_dir, report, repair)
    _check_counters(conn, report, repair)


def _check_sqlite(conn: sqlite3.Connection, report: Report) -> None:
    for (line,) in conn.execute("pragma integrity_check"):
        if line != "ok":
            report.add(f"database integrity: {line}")
    for table, rowid, parent, _ in conn.execute("pragma foreign_key_check"):
        report.add(f"database: row {rowid} of {table} refers to a missing {parent} row")


def _check_files(conn: Checked, data_dir: Path, report: Report,
                 repair: bool) -> None:
    files_dir = data_dir / FILES
    on_disk = dict(stored_files(files_dir))  # listed first: a newer upload is never an orphan
    needed = referenced_files(conn)
    for sha in sorted(needed):
        path = files_dir / sha[:2] / sha[2:4] / sha
        if not path.is_file():
            report.add(f"missing file {sha}: restore it from a backup")
        elif hash_file(path)[1] != sha:
            report.add(f"changed file {sha}: its content no longer matches its hash;"
                       " restore it from a backup")
    candidates = sorted(set(on_disk) - needed)
    if not candidates:
        return
    if repair:
        # Under the write lock: an upload placing its file commits before we look again.
        conn.execute("begin immediate")
        try:
            orphans = sorted(set(candidates) - referenced_files(conn))
            moved = _quarantine(data_dir, [on_disk[sha] for sha in orphans])
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
        for sha, target in zip(orphans, moved, strict=True):
            report.repaired.append(f"orphan file {sha} moved to {target}")
        return
    settled = time.time() - ORPHAN_MIN_AGE_SECONDS
    for sha in candidates:
        if on_disk[sha].stat().st_mtime < settled:
            report.add(f"orphan file {sha}: no upload refers to it")


def _check_bucket(conn: Checked, storage: Storage, data_dir: Path, report: Report,
                  repair: bool) -> None:
    """The same checks on a bucket, from its listing: bytes are not read again (that would
    download the whole store); `vigie backup` checks every hash as it copies."""
    listed = {key.rpartition("/")[2]: key for key in storage.list_keys(f"{FILES}/")
              if SHA256.fullmatch(key.rpartition("/")[2])}
    for sha in sorted(referenced_files(conn) - set(listed)):
        report.add(f"missing file {sha}: restore it from a backup")
    candidates = set(listed) - referenced_files(conn)
    if not candidates:
        return
    # Listed before: under the write lock, a file still without a row is no upload's on its
    # way (those place their file inside their transaction).
    conn.execute("begin immediate")
    try:
        orphans = sorted(candidates - referenced_files(conn))
        if repair:
            folder = data_dir / QUARANTINE / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            for sha in orphans:
                target = folder / listed[sha].removeprefix(f"{FILES}/")
                target.parent.mkdir(parents=True, exist_ok=True)
                storage.download(listed[sha], target)
                storage.remove(listed[sha])
                report.repaired.append(f"orphan file {sha} moved to {target}")
        else:
            for sha in orphans:
                report.add(f"orphan file {sha}: no upload refers to it")
    finally:
        conn.execute("rollback")


def _quarantine(data_dir: Path, paths: list[Path]) -> list[Path]:
    folder = data_dir / QUARANTINE / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = []
    for path in paths:
        target = folder / path.relative_to(data_dir / FILES)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        moved.append(target)
    return moved


def _check_counters(conn: Checked, report: Report, repair: bool) -> None:
    wrong: list[tuple[str, str, int, object, object]] = []
    for table, column, query in COUNTERS:
        actual = dict(conn.execute(f"select id, {column} from {table}"))
        for row_id, expected in conn.execute(query):
            if actual.get(row_id) != expected:
                wrong.append((table, column, row_id, actual.get(row_id), expected))
    for table, column, query in ACTIVITY:
        actual = dict(conn.execute(f"select id, {column} from {table}"))
        for row_id, newest in conn.execute(query):
            if newest is not None and (actual.get(row_id) is None or actual[row_id] < newest):
                wrong.append((table, column, row_id, actual.get(row_id), newest))
    if not wrong:
        return
    if not repair:
        for table, column, row_id, was, expected in wrong:
            report.add(f"counter {table}.{column} of #{row_id} is {was}, should be {expected}")
        return
    conn.execute("begin immediate")
    try:
        for table, column, row_id, _actual, expected in wrong:
            conn.execute(f"update {table} set {column} = ? where id = ?", (expected, row_id))
            if (table, column) == ("threads", "last_post_at"):
                conn.execute(
                    f"update threads set last_post_id = (select max(posts.id) from posts"
                    f" where posts.thread_id = threads.id and posts.created_at = ?"
                    f" and {shown_post()}) where id = ?", (expected, row_id))
        # Counters show on most pages: a running site drops them.
        if isinstance(conn, sqlite3.Connection):
            log_plain_write(conn, {ALL_TAG})
        else:
            cast(PgChecked, conn).tell_servers()
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    for table, column, row_id, was, expected in wrong:
        report.repaired.append(
            f"counter {table}.{column} of #{row_id} set from {was} to {expected}")
