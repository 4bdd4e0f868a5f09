"""aiosqlite connections: one writer, a few readers; read() and transaction()."""
from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from forum import stems
from forum.errors import TooSlow

PRAGMAS = (
    "pragma journal_mode = wal",
    "pragma foreign_keys = on",
    "pragma synchronous = normal",  # WAL + normal: durable at checkpoint, never corrupt
    "pragma busy_timeout = 5000",
    "pragma temp_store = memory",
    "pragma cache_size = -16000",
    "pragma secure_delete = on",  # a purged text is zeroed, not left in free pages
)

Row = sqlite3.Row
T = TypeVar("T")
Params = Iterable[Any] | dict[str, Any]
# How often SQLite asks a budgeted read whether its time is up, in virtual machine steps
# (FTS5's reads of its index count too): about every 0.1 ms, at no measurable cost.
PROGRESS_STEPS = 1000


class Conn:
    """A connection with a few helpers that return rows, one row or one value."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    # execute_fetchall: one trip to the connection's thread instead of three (execute, fetch,
    # close); measured as the larger part of a page's database time.
    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.conn.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def value(self, sql: str, params: Params = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]


class Transaction(Conn):
    """The writer connection inside BEGIN IMMEDIATE; records which pages a write changes."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        self.changed_tags: set[tuple[str, object]] = set()

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; returns lastrowid (for inserts)."""
        async with self.conn.execute(sql, params) as cur:
            return cur.lastrowid or 0

    async def update(self, sql: str, params: Params = ()) -> int:
        """Run an update or delete; returns how many rows it changed."""
        async with self.conn.execute(sql, params) as cur:
            return cur.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an insert ... returning id and give the id."""
        row = await self.one(sql, params)
        assert row is not None
        return int(row[0])

    def changed(self, kind: str, key: object) -> None:
        """Mark a cached page family (e.g. ("thread", 12)) as changed by this transaction."""
        self.changed_tags.add((kind, key))


async def _within(give_up: float, waiting: Awaitable[T]) -> T:
    """What `waiting` gives, or TooSlow at the event loop's time `give_up`."""
    try:
        async with asyncio.timeout_at(give_up):
            return await waiting
    except TimeoutError:
        raise TooSlow() from None


@asynccontextmanager
async def _interrupted_at(raw: aiosqlite.Connection, deadline: float) -> AsyncIterator[Conn]:
    """The connection with a progress handler stopping statements at `deadline` (monotonic)."""
    stopped = False

    def past_deadline() -> bool:  # called on the connection's thread
        nonlocal stopped
        stopped = stopped or time.monotonic() > deadline
        return stopped

    await raw.set_progress_handler(past_deadline, PROGRESS_STEPS)
    try:
        yield Conn(raw)
    except sqlite3.OperationalError:
        # "interrupted", or another message when SQLite was opening a table then
        if not stopped:
            raise
        raise TooSlow() from None
    finally:
        # Shielded: queued on the connection's thread before any later statement.
        await asyncio.shield(raw.set_progress_handler(None, 0))


async def connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        await conn.execute(pragma)
    return conn


class Database:
    """All writes go through one connection (serialised by a lock); reads use a small pool."""

    def __init__(self, path: Path, readers: int = 3) -> None:
        self.path = path
        self.reader_count = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._write_lock = asyncio.Lock()
        # Budgeted (heavy) reads take at most all readers but one: pages always find one.
        self._heavy_reads = asyncio.Semaphore(max(1, readers - 1))
        self.after_commit: list[Callable[[set[tuple[str, object]]], None]] = []

    async def open(self) -> None:
        self._writer = await connect(self.path)
        for _ in range(self.reader_count):
            conn = await connect(self.path)
            await conn.execute("pragma query_only = on")
            self._all_readers.append(conn)
            self._readers.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all_readers:
            await conn.close()
        self._all_readers.clear()
        if self._writer is not None:
            # optimize is a nicety: a full disk must not keep the writer (and its thread, which
            # holds the process at exit) open.
            try:
                with contextlib.suppress(sqlite3.Error):
                    await self._writer.execute("pragma optimize")
            finally:
                await self._writer.close()
                self._writer = None

    async def foreign_version(self) -> int:
        """A number that changes when another process (the CLI) commits, and only then.

        SQLite's data_version on the writer counts commits by other connections; this process's
        readers never write, so they are other processes' commits.
        """
        assert self._writer is not None, "database not open"
        return int(await Conn(self._writer).value("pragma data_version"))

    async def writer_free(self, timeout: float) -> bool:
        """Whether a write could start within `timeout` seconds (for /healthz)."""
        try:
            await asyncio.wait_for(self._write_lock.acquire(), timeout)
        except TimeoutError:
            return False
        self._write_lock.release()
        return True

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """A reader connection; each statement sees the last committed state."""
        conn = await self._readers.get()
        try:
            yield Conn(conn)
        finally:
            self._readers.put_nowait(conn)

    @asynccontextmanager
    async def budgeted_read(self, seconds: float) -> AsyncIterator[Conn]:
        """A reader for work whose cost the visitor chooses (a search): TooSlow past `seconds`.

        The time counts from the call, waiting included; at most readers - 1 such reads run at
        once. SQLite's progress handler interrupts the running statement at the deadline and
        is removed before the reader goes back to the pool, so other reads are never cut.
        """
        deadline = time.monotonic() + seconds
        give_up = asyncio.get_running_loop().time() + seconds
        await _within(give_up, self._heavy_reads.acquire())
        try:
            raw = await _within(give_up, self._readers.get())
            try:
                async with _interrupted_at(raw, deadline) as conn:
                    yield conn
            finally:
                self._readers.put_nowait(raw)
        finally:
            self._heavy_reads.release()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE ... COMMIT on the writer; rolled back on any exception.

        BEGIN, COMMIT and ROLLBACK are shielded: a cancelled request must not leave the one
        writer connection inside a transaction, nor a commit without its cache invalidation.
        A COMMIT that fails (disk full, a deferred foreign key) may leave the transaction open:
        it is rolled back, or the next BEGIN would fail on every write until a restart. The
        after-commit hooks (page cache invalidation, mail wake-up) run only once committed.
        """
        assert self._writer is not None, "database not open"
        async with self._write_lock:
            tx = Transaction(self._writer)
            try:
                await asyncio.shield(self._writer.execute("begin immediate"))
                yield tx
                # Still inside the transaction: the search stems of the posts it changed.
                await stems.index_waiting(tx)
            except BaseException:
                await asyncio.shield(self._rollback())
                raise
            # One shielded step: a request cancelled meanwhile still gets its hooks or rollback.
            await asyncio.shield(self._commit(tx))

    async def _commit(self, tx: Transaction) -> None:
        assert self._writer is not None
        try:
            await self._writer.execute("commit")
        except BaseException:
            await self._rollback()
            raise
        for hook in self.after_commit:
            hook(tx.changed_tags)

    async def _rollback(self) -> None:
        """Roll back the writer's transaction if one is still open (a failed COMMIT may not)."""
        assert self._writer is not None
        if self._writer.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                await self._writer.execute("rollback")
