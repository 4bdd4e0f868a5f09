"""A member's export of their own data (RGPD: the right to take it): a ZIP of everything they
wrote and sent, as JSON, plus the files they uploaded (the cleaned bytes the forum serves).

Asked for in /settings, prepared by a background task (the queries run on the database's
threads, the ZIP is written in a worker thread: never on the event loop), announced by a
notification, downloadable by its owner only, and deleted after Config.export_hours.

To add a kind of content (records requests, for instance), write an async function
`(conn, user_id) -> JSON-able data` and add it to SECTIONS under its name: it becomes
`<name>` in data.json. A section that also has files returns them through `files_of`.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from forum import clock, keys, periodic
from forum.db import Conn, Database, Row, Transaction
from forum.dialect import skip_locked
from forum.errors import Conflict, NotFound
from forum.models import notifications
from forum.storage import Storage

log = logging.getLogger("forum")
FORMAT_VERSION = 1
CHECK_SECONDS = 300.0  # expired exports are removed at least this often
READY_KIND = "export_ready"  # the notification's kind
CLAIM_MINUTES = 30  # an export not ready by then (its process died) is taken up by another


@dataclass(frozen=True)
class Export:
    id: int
    status: str  # waiting | ready | failed
    file_name: str | None
    size: int | None
    requested_at: str
    ready_at: str | None
    expires_at: str | None

    @property
    def downloadable(self) -> bool:
        return (self.status == "ready" and self.expires_at is not None
                and self.expires_at > clock.now())


_EXPORT = "select id, status, file_name, size, requested_at, ready_at, expires_at"


EXPORTS = "exports"  # their key prefix in the storage (forum/storage.py): exports/<name>.zip


def folder(data_dir: Path) -> Path:
    """Where an export's ZIP is written (and kept, when files stay in the data folder)."""
    return data_dir / EXPORTS


def key(file_name: str) -> str:
    """An export's key in the storage (its bare name: never a path from elsewhere)."""
    return f"{EXPORTS}/{Path(file_name).name}"


async def request(tx: Transaction, user_id: int) -> int:
    """Ask for an export; one already waiting is not asked for twice (the index
    account_exports_one_waiting: two servers asked at once make one)."""
    for _ in range(2):  # the waiting one may be finished between the insert and the select
        made = await tx.value("insert or ignore into account_exports (user_id, requested_at)"
                              " values (?, ?) returning id", (user_id, clock.now()))
        if made is None:
            made = await tx.value("select id from account_exports where user_id = ?"
                                  " and status = 'waiting'", (user_id,))
        if made is not None:
            return int(made)
    raise Conflict()


async def list_for(conn: Conn, user_id: int) -> list[Export]:
    rows = await conn.all(f"{_EXPORT} from account_exports where user_id = ?"
                          " order by id desc limit 5", (user_id,))
    return [Export(*row) for row in rows]


async def get_own(conn: Conn, user_id: int, export_id: int) -> Export:
    """A member's own export, ready and not expired; NotFound for anything else."""
    row = await conn.one(f"{_EXPORT} from account_exports where id = ? and user_id = ?",
                         (export_id, user_id))
    export = Export(*row) if row else None
    if export is None or not export.downloadable:
        raise NotFound("This export does not exist (any more).")
    return export


# What goes in: one function per kind of content -----------------------------------------------

def _rows(rows: list[Row]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


async def _account(conn: Conn, user_id: int) -> dict[str, Any]:
    row = await conn.one(
        "select users.name, users.email, users.role, users.locale, users.created_at,"
        " users.registration_answer, inviter.name as invited_by from users"
        " left join users as inviter on inviter.id = users.invited_by where users.id = ?",
        (user_id,))
    return dict(row) if row else {}


async def _settings(conn: Conn, user_id: int) -> dict[str, Any]:
    row = await conn.one(
        "select follow_on_post, email_notifications, login_notices,"
        " exists (select 1 from two_factor where user_id = users.id"
        " and enabled_at is not null) as two_factor from users where id = ?", (user_id,))
    return dict(row) if row else {}


async def _posts(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    """Their posts with every version they wrote, the private ones (waiting, refused,
    replaced) included; a moderator's correction is the moderator's text, not theirs."""
    items = _rows(await conn.all(
        "select posts.id, posts.thread_id, threads.title as thread_title, boards.slug as board,"
        " posts.status, posts.created_at, posts.edited_at, posts.deleted_at, posts.body_source"
        " from posts join threads on threads.id = posts.thread_id"
        " join boards on boards.id = threads.board_id where posts.author_id = ?"
        " order by posts.id", (user_id,)))
    versions = await conn.all(
        "select post_id, id, created_at, state, body_source from post_revisions"
        " where editor_id = ? and post_id in (select id from posts where author_id = ?)"
        " order by id", (user_id, user_id))
    by_post: dict[int, list[dict[str, Any]]] = {}
    for row in versions:
        by_post.setdefault(row["post_id"], []).append(
            {"id": row["id"], "created_at": row["created_at"], "state": row["state"],
             "body_source": row["body_source"]})
    for item in items:
        item["revisions"] = by_post.get(item["id"], [])
    return items


async def _threads(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    return _rows(await conn.all(
        "select threads.id, threads.title, boards.slug as board, threads.status,"
        " threads.created_at from threads join boards on boards.id = threads.board_id"
        " where threads.author_id = ? order by threads.id", (user_id,)))


async def _findings(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    items = _rows(await conn.all(
        "select findings.id, boards.slug as board, finding_kinds.slug as kind, quantity, unit,"
        " scope, observed, findings.status, place, latitude, longitude, note, review,"
        " findings.created_at, deleted_at from findings"
        " join boards on boards.id = findings.board_id"
        " join finding_kinds on finding_kinds.id = findings.kind_id"
        " where author_id = ? order by findings.id", (user_id,)))
    versions = await conn.all(
        "select finding_id, id, data, reason, created_at from finding_revisions"
        " where editor_id = ? order by id", (user_id,))
    by_finding: dict[int, list[dict[str, Any]]] = {}
    for row in versions:
        by_finding.setdefault(row["finding_id"], []).append(
            {"id": row["id"], "created_at": row["created_at"], "reason": row["reason"],
             "data": json.loads(row["data"])})
    for item in items:
        item["revisions"] = by_finding.pop(item["id"], [])
    # Versions they wrote of others' findings (corrections they proposed) come too.
    extra = [{"finding_id": key, "revisions": value} for key, value in by_finding.items()]
    return items + extra


async def _files(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    items = _rows(await conn.all(
        "select uploads.id, filename, kind, content_type, size, uploads.created_at,"
        " post_attachments.post_id from uploads"
        " left join post_attachments on post_attachments.upload_id = uploads.id"
        " where owner_id = ? order by uploads.id", (user_id,)))
    for item in items:
        item["path"] = file_path(item["id"], item["filename"])
    return items


async def _follows(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    return _rows(await conn.all("select target_kind, target_id, mode, created_at from follows"
                                " where user_id = ? order by target_kind, target_id", (user_id,)))


async def _flags(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    return _rows(await conn.all("select post_id, reason, created_at from flags"
                                " where user_id = ? order by id", (user_id,)))


async def _invitations(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    return _rows(await conn.all("select created_at, expires_at, used_at from invitations"
                                " where inviter_id = ? order by id", (user_id,)))


async def _requests(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    """Their records requests, each with its timeline and the ids of its files (in files)."""
    items = _rows(await conn.all(
        "select records_requests.id, boards.slug as board, administration, documents, channel,"
        " sent_on, received_on, records_requests.status, review, records_requests.created_at"
        " from records_requests join boards on boards.id = records_requests.board_id"
        " where author_id = ? order by records_requests.id", (user_id,)))
    for item in items:
        item["events"] = _rows(await conn.all(
            "select status, happened_on, note, created_at from request_events"
            " where request_id = ? order by id", (item["id"],)))
        item["files"] = [row[0] for row in await conn.all(
            "select upload_id from request_files where request_id = ? order by position",
            (item["id"],))]
    return items


async def _drafts(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    return _rows(await conn.all("select thread_id, board_id, title, body, updated_at from drafts"
                                " where user_id = ? order by id", (user_id,)))


async def _reads(conn: Conn, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Where they stopped reading (issue 16): per thread, and "marked as read" per board."""
    return {"threads": _rows(await conn.all(
                "select thread_id, last_read_post_id from thread_reads where user_id = ?"
                " order by thread_id", (user_id,))),
            "boards": _rows(await conn.all(
                "select board_id, read_before from board_reads where user_id = ?"
                " order by board_id", (user_id,)))}


Section = Callable[[Conn, int], Awaitable[Any]]
# data.json's keys, in order.
SECTIONS: dict[str, Section] = {
    "account": _account,
    "settings": _settings,
    "posts": _posts,
    "threads": _threads,
    "findings": _findings,
    "requests": _requests,
    "drafts": _drafts,
    "reads": _reads,
    "files": _files,
    "follows": _follows,
    "flags": _flags,
    "invitations": _invitations,
}


def file_path(upload_id: int, filename: str) -> str:
    """Where a file goes in the ZIP (the shown name is already cleaned of path parts)."""
    return f"files/{upload_id}-{filename.replace('/', '_')}"


async def gather(conn: Conn, user_id: int) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT_VERSION, "exported_at": clock.now()}
    for name, section in SECTIONS.items():
        data[name] = await section(conn, user_id)
    return data


async def files_of(conn: Conn, user_id: int) -> list[tuple[str, str]]:
    """(path in the ZIP, sha256 of the stored cleaned file) of each file they uploaded."""
    rows = await conn.all("select id, filename, sha256 from uploads where owner_id = ?",
                          (user_id,))
    return [(file_path(row["id"], row["filename"]), row["sha256"]) for row in rows]


def write_zip(target: Path, data: dict[str, Any], files: list[tuple[str, str]],
              storage: Storage) -> None:
    """Write the ZIP into target (a temporary name), the stored files read one at a time
    (copied next to it first when they are in a bucket: memory stays flat)."""
    # Stored files carry no time (1970, forum/storage.py), which ZIP cannot hold: they are
    # written as of 1980-01-01, the earliest it can (strict_timestamps=False).
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, strict_timestamps=False) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for name, stored in files:
            local = storage.local_path(stored)
            if local is not None:
                if local.exists():
                    archive.write(local, name)
                continue
            copy = target.with_suffix(".part")
            try:
                storage.download(stored, copy)
            except FileNotFoundError:  # removed meanwhile: left out, as in a folder
                continue
            os.utime(copy, ns=(0, 0))  # as a stored file in a folder: no time
            try:
                archive.write(copy, name)
            finally:
                copy.unlink(missing_ok=True)


# The background task ---------------------------------------------------------------------------

async def prepare(app: web.Application, export_id: int, user_id: int) -> None:
    """Build one export and tell its owner (a notification) when it is ready."""
    config, db = app[keys.CONFIG], app[keys.DB]
    async with db.read() as conn:
        data = await gather(conn, user_id)
        stored = await files_of(conn, user_id)
    store = app[keys.UPLOADER].store
    files = [(name, store.key(sha)) for name, sha in stored]
    name = f"{secrets.token_hex(16)}.zip"
    temp = folder(config.data_dir) / f"{name}.tmp"
    temp.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Written under a temporary name, then put whole (renamed, or uploaded): never half.
        await asyncio.to_thread(write_zip, temp, data, files, store.storage)
        size = temp.stat().st_size
        await store.storage.put(key(name), temp)
    finally:
        temp.unlink(missing_ok=True)
    async with db.transaction() as tx:
        done = await tx.update(
            "update account_exports set status = 'ready', file_name = ?, size = ?,"
            " ready_at = ?, expires_at = ? where id = ? and status = 'waiting'",
            (name, size, clock.now(), clock.later(hours=config.export_hours), export_id))
        if done:
            await notifications.add(tx, user_id, READY_KIND)
    if not done:  # the member left meanwhile: nothing to keep
        await store.storage.delete(key(name))


async def claim(db: Database) -> Row | None:
    """The oldest waiting export no process is preparing, now this one's for CLAIM_MINUTES
    (several workers or servers each run the task: each export is prepared once)."""
    async with db.transaction() as tx:
        return await tx.one(
            "update account_exports set claimed_until = ? where id = (select id"
            " from account_exports where status = 'waiting'"
            " and (claimed_until is null or claimed_until < ?)"
            f" order by id limit 1{skip_locked(tx.dialect)}) returning id, user_id",
            (clock.later(minutes=CLAIM_MINUTES), clock.now()))


async def run_once(app: web.Application) -> None:
    """Prepare every waiting export, then remove expired ones (rows and files)."""
    db = app[keys.DB]
    while True:
        row = await claim(db)
        if row is None:
            break
        try:
            await prepare(app, row["id"], row["user_id"])
        except Exception:
            log.exception("export %s failed", row["id"])
            async with db.transaction() as tx:
                await tx.execute("update account_exports set status = 'failed' where id = ?",
                                 (row["id"],))
    async with db.transaction() as tx:
        expired = await tx.all("delete from account_exports where expires_at <= ?"
                               " returning file_name", (clock.now(),))
    await remove_files(app, [row[0] for row in expired if row[0]])


async def remove_files(app: web.Application, names: list[str] | tuple[str, ...]) -> None:
    storage = app[keys.UPLOADER].storage
    for name in names:
        await storage.delete(key(name))


def wake(app: web.Application) -> None:
    """A new request: the task starts at once instead of at its next round."""
    app[keys.EXPORT_WAKE].set()


def setup(app: web.Application) -> None:
    app[keys.EXPORT_WAKE] = asyncio.Event()
    app.cleanup_ctx.append(periodic.every(CHECK_SECONDS, run_once, "exports round",
                                          keys.EXPORT_WAKE))
