"""Files on disk: received into a temporary file, stored once by content as files/ab/cd/<sha256>.

Everything lives in the data folder (never under static/): `files/tmp/` for what is being
received or cleaned, on the same file system as the store so that placing a file is an atomic
rename. A temporary file is removed on any failure, and those a crash left behind are swept.
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

from forum.errors import TooLarge

SHA256 = re.compile(r"[0-9a-f]{64}")
STALE_TEMP_SECONDS = 3600  # no upload takes that long; older temporary files are leftovers


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"

    def open(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if not SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256")
        return self.root / sha256[:2] / sha256[2:4] / sha256

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

    def place(self, temp: Path, sha256: str) -> None:
        """Move a finished (synced) file into the store, atomically; kept once if already there."""
        target = self.path_for(sha256)
        if target.exists():
            temp.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)

    def sync(self, *paths: Path | None) -> None:
        """Flush files to disk (before placing them: a crash never leaves a half-written one)."""
        for path in paths:
            if path is not None:
                with path.open("rb") as file:
                    os.fsync(file.fileno())

    def remove(self, sha256: str) -> None:
        self.path_for(sha256).unlink(missing_ok=True)

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
