"""`vigie backup` and `vigie restore`: a consistent, self-checking copy of a data folder.

A backup is a folder DEST/vigie-<UTC time>/ holding forum.sqlite3 (a snapshot taken through
SQLite's online backup API: the site keeps serving and accepting posts meanwhile; on
PostgreSQL, forum.pgdump, pg_dump's custom format, see below), files/ (the
stored attachments, content-addressed as in the data folder) and manifest.json (the schema
version, and the size and SHA-256 of every file). It is written under a hidden name and renamed
once complete, so a crash never leaves a folder that looks like a backup.

Stored files never change once placed (their name is their hash) and are only ever removed when
an upload attached to nothing expires. So the files are copied *after* the database snapshot:
every file the snapshot refers to is then still there, except one such expired upload, which the
copy then leaves out of its database too.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from forum import migrate as migrations
from forum.storage import FolderStorage, Storage
from forum.uploads.storage import SHA256

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "forum.sqlite3"
PG_DUMP = "forum.pgdump"  # a PostgreSQL site's database: pg_dump's custom format
FILES = "files"
PREFIX = "vigie-"
BACKUP_NAME = re.compile(r"^vigie-\d{8}T\d{6}(\d{6})?Z$")
CHUNK = 1024 * 1024
BUSY_MS = 10_000  # how long the snapshot waits for a checkpoint or a migration to finish


class BackupError(Exception):
    """A backup or restore that cannot be made; the message says why and what to do."""


@dataclass
class Progress:
    """A one-line progress report on stderr (a terminal), or nothing (--quiet, cron)."""

    quiet: bool = False
    total: int = 0
    done: int = 0
    label: str = ""
    _last: float = field(default=0.0, repr=False)

    def step(self, size: int) -> None:
        self.done += 1
        now = time.monotonic()
        if not self.quiet and (now - self._last > 0.2 or self.done == self.total):
            self._last = now
            print(f"\r{self.label}: {self.done}/{self.total} files, {size_text(size)}",
                  end="", file=sys.stderr, flush=True)

    def say(self, text: str) -> None:
        if not self.quiet:
            if self.done:
                print(file=sys.stderr)
                self.done = 0
            print(text, file=sys.stderr, flush=True)


def size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def copy_hashed(src: Path, dst: Path) -> tuple[int, str]:
    """Copy a file and give its size and SHA-256, read once; dst is flushed to disk."""
    digest, size = hashlib.sha256(), 0
    with src.open("rb") as reader, dst.open("xb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return size, digest.hexdigest()


def hash_file(path: Path, sync: bool = False) -> tuple[int, str]:
    """Its size and SHA-256; with sync, flushed to disk too."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        if sync:
            os.fsync(reader.fileno())
    return size, digest.hexdigest()


def stored_files(files_dir: Path) -> Iterator[tuple[str, Path]]:
    """(sha256, path) of every file in a store laid out as ab/cd/<sha256> (tmp/ left out)."""
    if not files_dir.is_dir():
        return
    for first in sorted(files_dir.iterdir()):
        if first.name == "tmp" or not first.is_dir():
            continue
        for path in sorted(first.glob("*/*")):
            if path.is_file() and SHA256.fullmatch(path.name):
                yield path.name, path


REFERENCED = ("select sha256 from uploads union"
              " select thumbnail_sha256 from uploads where thumbnail_sha256 is not null"
              " union select sha256 from upload_sizes")


def referenced_files(conn: Any) -> set[str]:
    """Every stored file a database refers to: uploads, their thumbnails and smaller copies."""
    return {row[0] for row in conn.execute(REFERENCED)}


def schema_version(conn: sqlite3.Connection) -> tuple[int, list[str]]:
    rows = conn.execute("select version, name from schema_migrations order by version").fetchall()
    return (rows[-1][0] if rows else 0), [row[1] for row in rows]


def code_schema_version() -> int:
    found = migrations.available()
    return found[-1][0] if found else 0


def _snapshot(db_path: Path, target: Path) -> None:
    """Copy the live database in one step of the online backup API.

    One step reads a single consistent state under a read lock; in WAL mode that lock does not
    stop the server's writer (a stepwise copy would restart whenever the server writes).
    """
    source = sqlite3.connect(f"file:{db_path}?mode=rw", uri=True, timeout=BUSY_MS / 1000)
    copy = sqlite3.connect(target)
    try:
        source.execute(f"pragma busy_timeout = {BUSY_MS}")
        source.backup(copy)
        copy.execute("pragma journal_mode = delete")  # one self-contained file
    finally:
        copy.close()
        source.close()


def _drop_expired_uploads(copy_path: Path, missing: set[str], live_db: Path) -> set[str]:
    """Leave out of the copy the unattached uploads purged since the snapshot.

    Returns the missing files the copy still needs (the live site misses them too).
    """
    live = sqlite3.connect(f"file:{live_db}?mode=rw", uri=True, timeout=BUSY_MS / 1000)
    try:
        still_used = referenced_files(live) & missing
    finally:
        live.close()
    copy = sqlite3.connect(copy_path, isolation_level=None)
    try:
        marks = ", ".join("?" * len(missing))
        copy.execute("begin")
        copy.execute(
            f"delete from uploads where (sha256 in ({marks}) or thumbnail_sha256 in ({marks}))"
            " and id not in (select upload_id from post_attachments)"
            " and id not in (select upload_id from finding_sources where upload_id is not null)"
            " and id not in (select upload_id from request_files)",  # records requests' files
            (*missing, *missing))
        copy.execute("commit")
        needed = referenced_files(copy) & missing
    finally:
        copy.close()
    return needed | still_used


def backup(data_dir: Path, dest: Path, keep: int | None = None,
           progress: Progress | None = None,
           storage: Storage | None = None, database_url: str = "") -> tuple[Path, list[str]]:
    """Write a backup of data_dir (its files from storage: the data folder, or a bucket) into
    dest, its database from `database_url` when the site runs on PostgreSQL; returns the
    backup's folder and the problems found.

    Problems (a stored file whose bytes no longer match its name, a file the database needs
    that is missing) do not stop the backup: it is still the best copy there is.
    """
    progress = progress or Progress(quiet=True)
    db_path = data_dir / DATABASE
    if not database_url and not db_path.is_file():
        raise BackupError(f"No database at {db_path}: is --data-dir right?")
    dest.mkdir(parents=True, exist_ok=True)
    name = PREFIX + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=dest))
    db_name = PG_DUMP if database_url else DATABASE
    problems: list[str] = []
    try:
        os.chmod(work, 0o700)  # sessions, addresses and the site's secrets are in there
        if database_url:
            version, applied, needed = asyncio.run(_pg_dump(database_url, work / PG_DUMP))
        else:
            _snapshot(db_path, work / DATABASE)
            conn = sqlite3.connect(work / DATABASE)
            try:
                version, applied = schema_version(conn)
                needed = referenced_files(conn)
            finally:
                conn.close()
        progress.say(f"database: {size_text((work / db_name).stat().st_size)}")
        entries, copied = _copy_files(storage or FolderStorage(data_dir), needed, work / FILES,
                                      progress, problems)
        missing = needed - copied
        if missing and database_url:
            # The dump cannot be edited: an upload purged meanwhile keeps its row in it (and
            # expires again once restored); a file still needed is a problem.
            still = missing & asyncio.run(_pg_referenced(database_url))
            problems += [f"missing stored file {sha} (referenced by the database)"
                         for sha in sorted(still)]
        elif missing:
            for sha in sorted(_drop_expired_uploads(work / DATABASE, missing, db_path)):
                problems.append(f"missing stored file {sha} (referenced by the database)")
        db_size, db_sha = hash_file(work / db_name)
        manifest = {
            "format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "store": "postgresql" if database_url else "sqlite",
            "schema_version": version, "migrations": applied,
            "database": {"path": db_name, "size": db_size, "sha256": db_sha},
            "files": entries, "problems": problems,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        _sync_tree(work)
        final = dest / name
        os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    total = db_size + sum(entry["size"] for entry in entries)
    progress.say(f"backup {final}: {len(entries)} files, {size_text(total)} in all")
    if keep:
        for old in rotate(dest, keep):
            progress.say(f"removed old backup {old.name}")
    return final, problems


# PostgreSQL: pg_dump and pg_restore (Debian's postgresql-client) -----------------------------


def pg_program(name: str) -> str:
    """pg_dump or pg_restore: the newest installed (it must not be older than the server),
    from Debian's versioned folders, else from PATH."""
    found = sorted((int(p.parent.parent.name), p)
                   for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
                   if p.parent.parent.name.isdigit())
    program = str(found[-1][1]) if found else shutil.which(name)
    if program is None:
        raise BackupError(f"{name} is not installed: apt install postgresql-client.")
    return program


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The address without its password, and an environment giving it (PGPASSWORD): the
    command line of pg_dump shows in the process list."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is None:
        return url, env
    env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.netloc.replace(f":{parts.password}@", "@", 1)
    return urlunsplit(parts._replace(netloc=netloc)), env


async def _pg_run(name: str, url: str, *args: str) -> None:
    address, env = _libpq(url)
    process = await asyncio.create_subprocess_exec(
        pg_program(name), *args, f"--dbname={address}", env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, errors = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{name} failed: {errors.decode(errors='replace').strip()}")


async def _pg_dump(url: str, target: Path) -> tuple[int, list[str], set[str]]:
    """pg_dump of one snapshot, the one whose schema version and stored files are read
    here (the files are copied after it, as on SQLite)."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("select pg_export_snapshot()")
            rows = await conn.fetch("select version, name from schema_migrations"
                                    " order by version")
            needed = {row[0] for row in await conn.fetch(REFERENCED)}
            # Not the rows of unlogged tables (rate limits' keyed hashes: they stay only as
            # long as their window, never in a backup).
            await _pg_run("pg_dump", url, "--format=custom", f"--snapshot={snapshot}",
                          "--no-unlogged-table-data", f"--file={target}")
    finally:
        await conn.close()
    applied = list(dict.fromkeys(row[1] for row in rows))  # the baseline stands for 1 to 27
    return (rows[-1][0] if rows else 0), applied, needed


async def _pg_referenced(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        return {row[0] for row in await conn.fetch(REFERENCED)}
    finally:
        await conn.close()


async def _pg_check_empty(url: str) -> None:
    """A restore goes only into a database without tables (createdb makes one)."""
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetchval(
            "select count(*) from information_schema.tables"
            " where table_schema = current_schema()")
    finally:
        await conn.close()
    if tables:
        raise BackupError("The database is not empty: restore only into a new, empty"
                          " database (createdb), then point FORUM_DATABASE_URL at it.")


class FileEntry(TypedDict):
    """A file in the manifest (the database is one too)."""

    path: str  # relative to the backup folder
    size: int
    sha256: str


def _copy_files(storage: Storage, needed: set[str], target: Path, progress: Progress,
                problems: list[str]) -> tuple[list[FileEntry], set[str]]:
    """Copy the stored files the snapshot refers to (one uploaded since would be an orphan
    in the restored site), each hashed as it is copied."""
    found = [key for key in storage.list_keys(f"{FILES}/")
             if key.rpartition("/")[2] in needed and not key.startswith(f"{FILES}/tmp/")]
    progress.total, progress.label = len(found), "files"
    entries: list[FileEntry] = []
    copied: set[str] = set()
    total = 0
    for key in found:
        sha, path = key.rpartition("/")[2], target.parent / key
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            local = storage.local_path(key)
            if local is not None:
                size, digest = copy_hashed(local, path)
            else:  # from a bucket: downloaded, then read once more for its hash
                storage.download(key, path)
                size, digest = hash_file(path, sync=True)
        except FileNotFoundError:  # an expired upload removed meanwhile
            continue
        if digest != sha:
            problems.append(f"stored file {sha} does not match its hash (damaged)")
        entries.append(FileEntry(path=key, size=size, sha256=digest))
        copied.add(sha)
        total += size
        progress.step(total)
    return entries, copied


def _sync_tree(root: Path) -> None:
    """Flush the folders' entries (the files were flushed as they were written)."""
    for folder in [*(p for p in root.rglob("*") if p.is_dir()), root]:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def list_backups(dest: Path) -> list[Path]:
    """The complete backups in dest, oldest first (names sort by time)."""
    if not dest.is_dir():
        return []
    return sorted(p for p in dest.iterdir()
                  if p.is_dir() and BACKUP_NAME.match(p.name) and (p / MANIFEST).is_file())


def rotate(dest: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest complete backups; returns those removed.

    Also removes what an interrupted backup left (a day old: not one running now).
    """
    backups = list_backups(dest)
    old = backups[:-keep] if keep > 0 else []
    stale = time.time() - 24 * 3600
    old += [p for p in dest.glob(".partial-*") if p.is_dir() and p.stat().st_mtime < stale]
    for path in old:
        shutil.rmtree(path)
    return old


# Restore -----------------------------------------------------------------------------------


def find_backup(src: Path) -> Path:
    """src itself when it is a backup, else the newest backup inside it."""
    if (src / MANIFEST).is_file():
        return src
    backups = list_backups(src)
    if not backups:
        raise BackupError(f"{src} is not a Vigie backup (no {MANIFEST}) and holds none.")
    return backups[-1]


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"Unreadable manifest in {folder}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: unknown backup format.")
    return manifest


def check_target(data_dir: Path) -> None:
    """A restore goes only into a folder that does not exist yet or is empty."""
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(
            f"The data folder {data_dir} is not empty: restore only into a new or empty folder"
            " (stop the site, move its data folder away, then restore).")


def restore(src: Path, data_dir: Path, progress: Progress | None = None,
            storage: Storage | None = None, database_url: str = "") -> Path:
    """Restore the backup at src into the empty data_dir (its files into storage, when that is
    a bucket; its database into the empty PostgreSQL one at `database_url`, when given);
    every hash is checked first."""
    progress = progress or Progress(quiet=True)
    folder = find_backup(src)
    manifest = read_manifest(folder)
    made_on, wanted = manifest.get("store", "sqlite"), "postgresql" if database_url else "sqlite"
    if made_on != wanted:
        raise BackupError(
            f"This backup is of a site on {made_on}, and this one is set to run on {wanted}"
            " (FORUM_DATABASE_URL): restore it with the setting it was made with; then"
            " `vigie migrate-store` moves a SQLite site to PostgreSQL.")
    check_target(data_dir)
    if database_url:
        asyncio.run(_pg_check_empty(database_url))
    known = code_schema_version()
    version = manifest.get("schema_version")
    if not isinstance(version, int) or version > known:
        raise BackupError(
            f"This backup comes from a newer Vigie (database schema {version}; this version"
            f" knows up to {known}). Install the Vigie version that made it, or a newer one,"
            " then restore.")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".restoring-", dir=data_dir.parent))
    try:
        os.chmod(work, 0o700)
        entries = [manifest["database"], *manifest["files"]]
        progress.total, progress.label = len(entries), "restoring"
        total = 0
        for entry in entries:
            rel = _safe_relative(entry["path"])
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            try:
                size, digest = copy_hashed(folder / rel, work / rel)
            except FileNotFoundError:
                raise BackupError(f"The backup lacks {rel}: it is incomplete.") from None
            if digest != entry["sha256"] or size != entry["size"]:
                raise BackupError(f"{rel} does not match its hash in the manifest: the backup"
                                  " is damaged. Nothing was restored.")
            total += size
            progress.step(total)
        if not database_url:
            _check_database(work / DATABASE, version)
        if storage is not None and not storage.in_folder:
            _upload_files(storage, work, manifest["files"], progress)
        if database_url:  # last: a failure before leaves the database empty
            progress.say("pg_restore")
            asyncio.run(_pg_restore(database_url, work / PG_DUMP))
        (work / FILES / "tmp").mkdir(parents=True, exist_ok=True)
        _sync_tree(work)
        check_target(data_dir)  # still empty: nobody started a site there meanwhile
        if data_dir.exists():
            data_dir.rmdir()
        os.rename(work, data_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    progress.say(f"restored {folder.name} into {data_dir}")
    return folder


async def _pg_restore(url: str, dump: Path) -> None:
    """In one transaction: a failure leaves the database as empty as it was."""
    await _pg_check_empty(url)
    await _pg_run("pg_restore", url, "--exit-on-error", "--single-transaction", "--no-owner",
                  "--no-privileges", str(dump))
    dump.unlink()  # the database holds it now, not the data folder


def _upload_files(storage: Storage, work: Path, entries: list[FileEntry],
                  progress: Progress) -> None:
    """Put the checked files into the bucket (each whole; the same names, the same bytes: a
    bucket that holds some already is fine), leaving the data folder without them."""
    progress.say(f"uploading {len(entries)} files")
    for entry in entries:
        rel = _safe_relative(entry["path"])
        storage.put_file(rel.as_posix(), work / rel)
        (work / rel).unlink()  # in the bucket now, not in the data folder


def _safe_relative(path: str) -> Path:
    rel = Path(path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise BackupError(f"The manifest names a path outside the backup: {path!r}.")
    return rel


def _check_database(path: Path, version: int) -> None:
    conn = sqlite3.connect(path)
    try:
        result = conn.execute("pragma integrity_check").fetchone()[0]
        actual, _ = schema_version(conn)
    except sqlite3.Error as error:
        raise BackupError(f"The backed-up database cannot be read: {error}") from None
    finally:
        conn.close()
    if result != "ok":
        raise BackupError(f"The backed-up database is damaged: {result}")
    if actual != version:
        raise BackupError(f"The manifest says schema {version}, the database {actual}:"
                          " the backup was altered.")
