"""Files received into a temporary file, then stored once by content as files/ab/cd/<sha256>.

What is being received or cleaned lives in the data folder (never under static/), in
`files/tmp/`, on the same file system as the folder store so that placing a file there is an
atomic rename; the stored files live where forum/storage.py says (that folder, or a bucket).
A temporary file is removed on any failure, and those a crash left behind are swept.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from aiohttp import web

from forum.errors import TooLarge
from forum.storage import FolderStorage, Storage

SHA256 = re.compile(r"[0-9a-f]{64}")
STALE_TEMP_SECONDS = 3600  # no upload takes that long; older temporary files are leftovers


class Store:
    """The content-addressed files of one kind (`files`, `drops`) in a storage."""

    def __init__(self, storage: Storage, name: str, tmp: Path) -> None:
        self.storage = storage
        self.name = name
        self.tmp = tmp

    @classmethod
    def in_folder(cls, data_dir: Path, name: str, storage: Storage | None = None) -> Store:
        """The store `name` of a site: its temporary files in data_dir/name/tmp/."""
        return cls(storage or FolderStorage(data_dir), name, data_dir / name / "tmp")

    def open(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)

    def key(self, sha256: str) -> str:
        """Its key in the storage: <name>/ab/cd/<sha256>."""
        if not SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256")
        return f"{self.name}/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def local_copy(self, sha256: str) -> contextlib.AbstractAsyncContextManager[Path]:
        """A local file with the stored bytes (the file itself in a folder store)."""
        return self.storage.local_copy(self.key(sha256), self.tmp)

    async def response(self, request: web.Request, sha256: str,
                       headers: dict[str, str]) -> web.StreamResponse:
        return await self.storage.response(request, self.key(sha256), headers)

    @contextlib.contextmanager
    def temp_path(self, suffix: str = "") -> Iterator[Path]:
        """A fresh name in files/tmp/, removed on the way out unless it was placed."""
        path = self.tmp / f"{secrets.token_hex(16)}{suffix}"
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    async def receive(self, chunks: AsyncIterator[bytes], path: Path, limit: int,
                      too_large: TooLarge) -> int:
        """Write chunks to path, counting: past `limit` bytes, stop reading and raise.

        Writes go to the page cache (microseconds per chunk), so they stay in the event loop.
        """
        size = 0
        with path.open("xb") as file:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large
                file.write(chunk)
        return size

    async def place(self, temp: Path, sha256: str) -> None:
        """Store a finished (synced) file, whole or not at all; kept once if already there."""
        key = self.key(sha256)
        if await self.storage.exists(key):
            temp.unlink(missing_ok=True)
            return
        await self.storage.put(key, temp)

    async def stage(self, files: list[tuple[Path, str]], staged: set[str]) -> None:
        """Before the transaction that records them, put files into a bucket (an upload takes a
        while; place() in the transaction then finds them there); adds to `staged` those that
        were not there before. Nothing to do in a folder, where place() is a rename."""
        if self.storage.in_folder:
            return
        for path, sha in files:
            key = self.key(sha)
            if sha not in staged and not await self.storage.exists(key):
                staged.add(sha)  # before the put: one that fails halfway is removed too
                await self.storage.put(key, path)

    def sync(self, *paths: Path | None) -> None:
        """Flush files to disk (before placing them: a crash never leaves a half-written one)."""
        for path in paths:
            if path is not None:
                with path.open("rb") as file:
                    os.fsync(file.fileno())

    def blur_times(self) -> int:
        """Stored files that still show when they were first sent (put there by an older
        version) get the time all others have (FolderStorage.put_file); returns how many.
        A bucket's object times cannot be set."""
        if not isinstance(self.storage, FolderStorage):
            return 0
        keys = (key for key in self.storage.list_keys(self.name)
                if key.count("/") == 3 and SHA256.fullmatch(key.rsplit("/", 1)[1]))
        return self.storage.blur_times(keys)

    async def remove(self, sha256: str) -> None:
        await self.storage.delete(self.key(sha256))

    def sweep_temp(self, older_than: float = STALE_TEMP_SECONDS) -> int:
        """Remove temporary files a crash left behind; returns how many."""
        cutoff, count = time.time() - older_than, 0
        for path in self.tmp.glob("*"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    count += 1
        return count


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
