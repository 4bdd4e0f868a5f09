"""The database's -shm file stays marked "in use" while this process has it open.

SQLite holds a shared lock on one byte of the -shm file (the "DMS" byte, offset 128) for as long
as a process uses it; a process that opens the database and can lock that byte exclusively
believes it is alone and resets the file. POSIX drops all of a process's locks on a file when
the process closes any descriptor for it, so Vigie's own look at the file (Database.catch_up
reads its header) must never close one under live connections: another worker or the CLI would
then reset the file under them (wrong reads, or the whole process killed by SIGBUS).
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from forum.db import Database
from forum.migrate import migrate

DMS_BYTE = 128
# Run in another process: can it lock the DMS byte exclusively (then nobody is using the file)?
PROBE = """
import fcntl, sys
with open(sys.argv[1], "r+b") as shm:
    try:
        fcntl.lockf(shm, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
    except OSError:
        print("in use")
    else:
        print("free")
"""


def dms_state(db: Path) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, f"{db}-shm"], capture_output=True,
                          text=True, check=True, timeout=30)
    return done.stdout.strip()


def descriptors_on(path: Path) -> int:
    fds = Path("/proc/self/fd")
    count = 0
    for entry in fds.iterdir():
        try:
            if os.readlink(entry) == str(path):
                count += 1
        except OSError:
            continue
    return count


async def make(path: Path) -> Database:
    migrate(path)
    database = Database(path, readers=2)
    await database.open()
    try:
        async with database.transaction() as tx:
            await tx.execute("insert into site_secrets (name, value, created_at)"
                             " values (?, 'oui', 'maintenant')", (f"essai-{id(database)}",))
    except BaseException:
        await database.close()
        raise
    return database


async def test_the_shared_memory_stays_in_use_while_the_database_is_open(tmp_path):
    path = tmp_path / "forum.sqlite3"
    database = await make(path)
    try:
        database.catch_up()
        assert dms_state(path) == "in use"
    finally:
        await database.close()


@pytest.fixture
async def two_on_one_file(tmp_path) -> AsyncIterator[tuple[Path, Database, Database]]:
    """Two Database objects on one file, as two workers of a server have: (the file, the first,
    the second). Both are closed at the end (closing again is harmless) if a test did not."""
    path = tmp_path / "forum.sqlite3"
    first = await make(path)
    try:
        second = await make(path)
        try:
            yield path, first, second
        finally:
            await second.close()
    finally:
        await first.close()


async def test_a_second_database_on_the_same_file_closing_keeps_it_in_use(two_on_one_file):
    path, first, second = two_on_one_file
    await second.close()
    assert dms_state(path) == "in use"
    first.catch_up()
    async with first.read() as conn:
        assert await conn.value(
            "select count(*) from site_secrets where name like 'essai-%'") == 2


async def test_closing_every_database_lets_go_of_the_file(two_on_one_file):
    path, first, second = two_on_one_file
    await first.close()
    await second.close()
    assert descriptors_on(Path(f"{path.resolve()}-shm")) == 0
