"""Receiving a file: streamed to disk under limits, cleaned in a worker process, stored once.

accept() is the one way in, for the pages' forms and the API alike; purge() removes the files
nobody attached. Nothing a member sent is kept as they sent it: only the cleaned file is stored.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from forum import clock, keys
from forum.config import MB, Config
from forum.db import Database, Transaction
from forum.errors import Invalid, TooLarge, TooManyRequests, Unavailable
from forum.leases import Lease
from forum.models import documents, uploads
from forum.models.uploads import Size, Upload
from forum.models.users import User
from forum.storage import open_storage
from forum.uploads import kinds, names, text
from forum.uploads.kinds import DAMAGED, KINDS
from forum.uploads.sizes import sized_path
from forum.uploads.storage import Store, sha256_of

log = logging.getLogger("forum")
WORKER_SECONDS = 90  # wall clock; the worker also has a CPU-time limit of its own
WORKERS = max(1, os.cpu_count() or 1)  # files cleaned at once
PURGE_INTERVAL = 15 * 60.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


class Uploader:
    """The files of one site: where they are stored, and the workers that clean them."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.storage = open_storage(config.files_url, config.data_dir)
        self.store = Store.in_folder(config.data_dir, "files", self.storage)
        self.kinds = kinds.enabled(config.upload_kinds)
        self._workers = asyncio.Semaphore(WORKERS)

    async def check_quota(self, db: Database, user: User, adding: int = 0) -> None:
        """429 once a member sent uploads_per_day files or upload_bytes_per_day in 24 hours."""
        since = clock.iso(datetime.now(UTC) - timedelta(days=1))
        async with db.read() as conn:
            count, total = await uploads.usage_since(conn, user.id, since)
        if count >= self.config.uploads_per_day or (
                total + adding > self.config.upload_bytes_per_day):
            raise TooManyRequests("You have sent as many files as allowed in one day. "
                                  "Please try again tomorrow.", retry_after=3600)

    async def accept(self, db: Database, user: User, chunks: AsyncIterator[bytes],
                     filename: str, claimed: str, limit: int, field: str) -> Upload:
        """Receive one file, clean it and store it: an upload of `user`, attached to nothing.

        Raises TooLarge past `limit` bytes (reading stops there), Invalid for a file refused.
        Nothing stays on disk unless the upload was recorded.
        """
        await self.check_quota(db, user)
        name = names.clean_filename(filename)
        too_large = TooLarge("This file is too large (at most %(max)s MB).", field=field,
                             max=max(1, limit // MB))
        with self.store.temp_path() as raw, self.store.temp_path() as clean, \
                self.store.temp_path() as thumb, self._size_paths() as size_paths:
            size = await self.store.receive(chunks, raw, limit, too_large)
            if size == 0:
                raise Invalid("This file is empty.", field=field)
            result = await self._clean(raw, clean, thumb, name, claimed, field,
                                       sizes=size_paths)
            raw.unlink()  # what was sent is never kept, only the cleaned copy
            kind = KINDS[result["kind"]]
            thumb_sha = sha256_of(thumb) if result["thumbnail"] else None
            await self.check_quota(db, user, result["size"])
            # On disk before any row points to it; outside the transaction (the writer's lock).
            await asyncio.to_thread(self.store.sync, clean, thumb if thumb_sha else None)
            sized = await asyncio.to_thread(self._sync_sizes, result["sizes"], size_paths)
            files = [(clean, result["sha256"]), *([(thumb, thumb_sha)] if thumb_sha else []),
                     *((sized_path(size_paths, w), sha) for w, _h, sha in sized)]
            staged: set[str] = set()
            try:
                # To a bucket before the transaction: the writer's lock waits for no upload.
                await self.store.stage(files, staged)
                async with db.transaction() as tx:
                    # All at once, in order: against a purge of the same bytes on another
                    # server (models/uploads.py: unused), never waiting in a circle.
                    await uploads.lock_contents(tx, [sha for _path, sha in files])
                    upload = await uploads.insert(
                        tx, user.id, result["sha256"], names.final_name(name, kind), kind.name,
                        kind.content_type, result["size"], result["width"], result["height"],
                        thumb_sha, result["removed"])
                    await documents.store_text(tx, upload.id, result["text"])
                    # In the transaction: purge() removes unused files under the same lock
                    # (a staged file it removed meanwhile is put again here).
                    await self.store.place(clean, result["sha256"])
                    if thumb_sha:
                        await self.store.place(thumb, thumb_sha)
                    await self._place_sizes(tx, upload.id, sized, size_paths)
            except BaseException:
                await self._forget(db, staged)
                raise
        return replace(upload, sizes=tuple(Size(upload.id, w, h) for w, h, _sha in sized))

    @contextlib.contextmanager
    def _size_paths(self) -> Iterator[Path]:
        """A temporary prefix for a photo's smaller copies (the worker writes <prefix>.<width>),
        all removed on the way out unless placed."""
        with self.store.temp_path() as prefix:
            try:
                yield prefix
            finally:
                for path in prefix.parent.glob(prefix.name + ".*"):
                    path.unlink(missing_ok=True)

    def _sync_sizes(self, made: list[list[int]], prefix: Path) -> list[tuple[int, int, str]]:
        """The copies the worker made, flushed to disk: (width, height, sha256) of each."""
        sized = []
        for width, height in made:
            path = sized_path(prefix, width)
            self.store.sync(path)
            sized.append((width, height, sha256_of(path)))
        return sized

    async def _place_sizes(self, tx: Transaction, upload_id: int,
                           sized: list[tuple[int, int, str]], prefix: Path) -> None:
        """Record and store the copies, in the upload's transaction (as purge() removes)."""
        await uploads.add_sizes(tx, upload_id, sized)
        for width, _height, sha in sized:
            await self.store.place(sized_path(prefix, width), sha)

    async def _forget(self, db: Database, staged: set[str]) -> None:
        """Remove the files staged for an upload that was not recorded, unless another upload
        (of the same bytes) uses them by now: nothing is left without a row."""
        if not staged:
            return
        try:
            async with db.transaction() as tx:
                for sha in await uploads.unused(tx, staged):
                    await self.store.remove(sha)
        except Exception:  # the bucket or the database failing again: `vigie check` finds them
            log.exception("could not remove the files of an upload that failed")

    async def make_sizes(self, db: Database, upload: Upload) -> int:
        """The smaller copies of an image stored before they were made (`vigie thumbnails`),
        made in a worker from the stored file; returns how many (0: refused or gone)."""
        with self._size_paths() as size_paths:
            try:
                async with self.store.local_copy(upload.sha256) as source:
                    job = {"only_sizes": True, "src": str(source), "kind": upload.kind,
                           "max_pixels": self.config.upload_max_pixels,
                           "sizes": str(size_paths)}
                    async with self._workers:
                        output, errors = await _run_worker(json.dumps(job).encode())
            except FileNotFoundError:  # purged meanwhile (a bucket has nothing to copy)
                return 0
            if errors:
                log.info("thumbnails of upload %s: %s", upload.id, errors.decode(
                    errors="replace")[:500])
            try:
                result = json.loads(output)
            except ValueError:
                return 0
            if not result.get("ok"):
                return 0
            sized = await asyncio.to_thread(self._sync_sizes, result["sizes"], size_paths)
            async with db.transaction() as tx:
                if not await tx.value("select 1 from uploads where id = ?", (upload.id,)):
                    return 0  # purged meanwhile: nothing to show
                await self._place_sizes(tx, upload.id, sized, size_paths)
                # Its thread's pages now show the photo inline: kept copies are dropped.
                thread_id = await tx.value(
                    "select posts.thread_id from post_attachments join posts on posts.id ="
                    " post_attachments.post_id where post_attachments.upload_id = ?",
                    (upload.id,))
                if thread_id is not None:
                    tx.changed("thread", thread_id)
                    tx.changed("post", await uploads.post_of(tx, upload.id))
        return len(sized)

    async def clean(self, raw: Path, clean: Path, thumb: Path, filename: str, claimed: str,
                    field: str) -> dict[str, Any]:
        """Clean a received file into `clean` (and `thumb`) in a worker, for a file that is no
        member's upload (the drop for sources, forum/views/drops.py); Invalid if refused.
        Its text is not read: a drop is never searched (a file published from it is)."""
        return await self._clean(raw, clean, thumb, filename, claimed, field, read_text=False)

    async def _clean(self, raw: Path, clean: Path, thumb: Path, filename: str, claimed: str,
                     field: str, read_text: bool = True,
                     sizes: Path | None = None) -> dict[str, Any]:
        job = {"src": str(raw), "dst": str(clean), "thumb": str(thumb), "filename": filename,
               "claimed": claimed, "kinds": sorted(self.kinds),
               "max_pixels": self.config.upload_max_pixels, "read_text": read_text}
        if sizes is not None:
            job["sizes"] = str(sizes)
        async with self._workers:
            output, errors = await _run_worker(json.dumps(job).encode())
        if errors:
            log.info("upload worker said: %s", errors.decode(errors="replace")[:500])
        try:
            result = json.loads(output)
        except ValueError:  # killed: out of memory or CPU time, or a crash
            raise Invalid(DAMAGED, field=field) from None
        if result.get("no_space"):
            raise Unavailable()  # 503: the data folder's disk is full
        if not result.get("ok"):
            message = result["message"]  # a msgid the worker chose (not a literal to extract)
            raise Invalid(message, field=field, **result.get("params", {}))
        if result["size"] == 0:
            raise Invalid("This file is empty.", field=field)
        result.setdefault("sizes", [])
        return result

    async def read_text(self, db: Database, upload_id: int, sha256: str, kind: str) -> str:
        """Read a stored file's text again (`vigie reindex-files`, a drop's file published) and
        index it; returns its text status."""
        async with self.store.local_copy(sha256) as path:
            found = await asyncio.to_thread(text.extract, path, kind)
        async with db.transaction() as tx:
            if await tx.value("select 1 from uploads where id = ?", (upload_id,)):
                await documents.store_text(tx, upload_id, found)
        return str(found["status"])

    async def purge(self, db: Database) -> int:
        """Remove the files never attached after orphan_upload_hours; returns how many."""
        hours = self.config.orphan_upload_hours
        before = clock.iso(datetime.now(UTC) - timedelta(hours=hours))
        async with db.transaction() as tx:
            gone = await uploads.orphans(tx, before)
            contents = await uploads.stored_shas(tx, [upload.id for upload in gone])
            await uploads.delete(tx, [upload.id for upload in gone])
            # Under the write lock, and the contents' locks (several servers): an upload of
            # the same content cannot slip in between.
            for sha in await uploads.unused(tx, contents):
                await self.store.remove(sha)
        self.store.sweep_temp()
        return len(gone)


async def _run_worker(job: bytes) -> tuple[bytes, bytes]:
    """Run forum.uploads.worker on one job; killed if it outlives WORKER_SECONDS."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "forum.uploads.worker", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    try:
        return await asyncio.wait_for(process.communicate(job), WORKER_SECONDS)
    except TimeoutError:
        return b"", b"timed out"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def setup(app: web.Application) -> None:
    """The site's Uploader, and the background task that purges unattached files."""
    app[keys.UPLOADER] = Uploader(app[keys.CONFIG])
    app.cleanup_ctx.append(_purge_loop)


async def _purge_loop(app: web.Application) -> AsyncIterator[None]:
    uploader = app[keys.UPLOADER]
    uploader.store.open()
    db = app[keys.DB]
    # Several workers: only the holder of this lease purges (forum/leases.py).
    lease = Lease("uploads", app[keys.CONFIG].lease_seconds)
    await lease.renew(db)
    keeper = asyncio.create_task(lease.keep(db))

    async def loop() -> None:
        blurred = False
        while True:
            if lease.held():
                try:
                    if not blurred:  # once per start, off the loop: a stat per stored file
                        count = await asyncio.to_thread(uploader.store.blur_times)
                        if count:
                            log.info("stored files whose time was blurred: %d", count)
                        blurred = True
                    await uploader.purge(db)
                except Exception:
                    log.exception("purging unattached files failed; will try again")
            await asyncio.sleep(PURGE_INTERVAL if lease.held() else lease.seconds / 3)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await lease.stop(keeper, db)
