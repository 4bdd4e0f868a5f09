"""aiosqlite connections: one writer, a few readers; read() and transaction()."""
from __future__ import annotations

import asyncio
import contextlib
import json
import mmap
import os
import secrets
import sqlite3
import struct
import time
from collections import OrderedDict
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from forum import priority, stems
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
# Budgeted reads (searches) share the readers for at most SHARED_SLICE seconds of CPU time. One
# that needs more is cut and run again in the long lane: one at a time, on a connection of its
# own, its wait counted in its budget. Its keys (the query, the client) are remembered for
# LONG_MEMORY seconds; once a key was cut as often as it says (the same words at once, a client
# after a few costly searches), reads with it go straight to the long lane: a costly search
# repeated waits behind the previous costly one and never delays cheap searches or pages by
# more than a slice (bench/hostile.py).
SHARED_SLICE = 0.1
LONG_MEMORY = 600.0
LONG_KEYS = 4096  # remembered keys at most (the oldest are forgotten first)
# The long lane's thread runs at a lower CPU priority (forum/priority.py): with as many busy
# threads as cores, a costly search repeated kept a core from readers, whose searches' p99 went
# from ~40 to ~300 ms at load 8 on 2 cores (bench/hostile.py).


class _SliceSpent(Exception):
    """A budgeted read used its slice of the shared lane with budget left: try the long lane."""


ALL_TAG = ("all", None)  # forum.cache.ALL: every cached page
# The first copy of the WAL-index header at the start of the database's -shm file
# (https://www.sqlite.org/walformat.html, "The WAL-Index Header"): its change counter, frame
# count and checksums change at every commit of any connection of any process.
WAL_INDEX_HEADER = 48
# In that header, the number of valid frames in the WAL ("mxFrame", native byte order): 0 once a
# writer restarted the WAL after a full checkpoint, before its own commit is in it.
_WAL_FRAMES = struct.Struct("=I")
_WAL_FRAMES_OFFSET = 16
_LOG_INSERT = "insert into invalidations (origin, kind, key, at) values (?, ?, ?, ?)"


class Conn:
    """A connection with a few helpers that return rows, one row or one value."""

    dialect = "sqlite"  # or "postgresql" (forum/db_postgresql.py): for SQLite-only upkeep

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    # execute_fetchall: one trip to the connection's thread instead of three (execute, fetch,
    # close); measured as the larger part of a page's database time.
    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def value(self, sql: str, params: Params = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]

    async def all_each(self, statements: Sequence[tuple[str, tuple[Any, ...]]]
                       ) -> list[list[Row]]:
        """The rows of each statement, in order, from one trip to the connection's thread: a
        trip costs about as much CPU as a small query (thread hand-offs, waking the loop), and
        a thread page needs two reads that do not depend on each other.

        Through aiosqlite's queue of calls for its thread (`_execute`, private but the one
        thing aiosqlite is built on); statement by statement should it ever be gone.
        """
        run = getattr(self.conn, "_execute", None)
        if run is None:
            return [await self.all(sql, params) for sql, params in statements]
        raw = self.conn

        def each() -> list[list[Row]]:
            return [raw._conn.execute(sql, params).fetchall() for sql, params in statements]

        return list(await run(each))


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

    async def lock(self, names: Iterable[str]) -> None:
        """Hold these names until the transaction ends, against other processes' transactions
        (a stored content being recorded and found unused at once). Nothing to do on SQLite:
        its one writer holds them all; PostgreSQL's transactions take them one by one."""


async def _within(give_up: float, waiting: Awaitable[T]) -> T:
    """What `waiting` gives, or TooSlow at the event loop's time `give_up`."""
    try:
        async with asyncio.timeout_at(give_up):
            return await waiting
    except TimeoutError:
        raise TooSlow() from None


@asynccontextmanager
async def _interrupted_at(raw: aiosqlite.Connection, deadline: float,
                          cpu_slice: float | None = None) -> AsyncIterator[Conn]:
    """The connection with a progress handler stopping statements at `deadline` (monotonic):
    TooSlow; or, with `cpu_slice`, once they used that many seconds of CPU: _SliceSpent.

    CPU time (of the connection's thread, where SQLite runs) rather than wall-clock time for
    the slice: on a busy machine a cheap search takes longer but costs no more.
    """
    stopped: type[Exception] | None = None
    started: float | None = None

    def past_deadline() -> bool:  # called on the connection's thread
        nonlocal stopped, started
        if stopped is None:
            if time.monotonic() > deadline:
                stopped = TooSlow
            elif cpu_slice is not None:
                if started is None:
                    started = time.thread_time()
                elif time.thread_time() - started > cpu_slice:
                    stopped = _SliceSpent
        return stopped is not None

    await raw.set_progress_handler(past_deadline, PROGRESS_STEPS)
    try:
        yield Conn(raw)
    except sqlite3.OperationalError:
        # "interrupted", or another message when SQLite was opening a table then
        if stopped is None:
            raise
        raise stopped() from None
    finally:
        # Shielded: queued on the connection's thread before any later statement.
        # None removes the handler (sqlite3's documentation); aiosqlite's hint leaves it out.
        await asyncio.shield(raw.set_progress_handler(None, 0))  # type: ignore[arg-type]


async def _run_in_thread(conn: aiosqlite.Connection, function: Callable[[], None]) -> None:
    """`function()` on `conn`'s own thread, through a SQL function (aiosqlite's public way)."""
    await conn.create_function("vigie_in_thread", 0, function)
    await conn.execute("select vigie_in_thread()")


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
        self._long_lane = asyncio.Lock()
        self._long_reader: aiosqlite.Connection | None = None
        self._long_keys: OrderedDict[Hashable, list[float]] = OrderedDict()  # key -> its cuts
        # Called with the tags of every commit: this process's at once, the other processes'
        # (other workers, the CLI) when catch_up() finds them in the invalidations table.
        self.after_commit: list[Callable[[set[tuple[str, object]]], None]] = []
        self.origin = secrets.token_hex(8)  # names this Database's rows in invalidations
        self._watcher: sqlite3.Connection | None = None
        self._seen_version = 0  # the watcher's data_version when last caught up
        # The -shm file, mapped read-only, and its WAL-index header when last caught up.
        self._shm: mmap.mmap | None = None
        self._seen_header = b""
        self._watched = False  # whether close() gives the -shm file back to WAL_INDEX_MAPS
        self._seen_id = 0  # the last invalidations row applied
        self._logged = False  # whether the database has the invalidations table

    async def open(self) -> None:
        self._writer = await connect(self.path)
        for _ in range(self.reader_count):
            conn = await connect(self.path)
            await conn.execute("pragma query_only = on")
            self._all_readers.append(conn)
            self._readers.put_nowait(conn)
        self._long_reader = await connect(self.path)
        await self._long_reader.execute("pragma query_only = on")
        await _run_in_thread(self._long_reader, priority.lower)
        self._all_readers.append(self._long_reader)
        # A plain connection used on the event loop's thread: catch_up() runs before every
        # cached page, and a trip to a connection's thread would cost more than the check.
        self._watcher = sqlite3.connect(self.path, isolation_level=None,
                                        check_same_thread=False)
        self._watcher.execute("pragma query_only = on")
        self._watcher.execute("pragma busy_timeout = 1000")
        # A database without the table (not migrated: some tests, tools) only knows that
        # something changed.
        self._logged = self._watcher.execute(
            "select 1 from sqlite_master where name = 'invalidations'").fetchone() is not None
        self._shm = WAL_INDEX_MAPS.take(self.path, self._watcher)
        self._watched = True
        self._seen_header = self._wal_header()
        self._seen_version, self._seen_id = self._watcher.execute(
            "select (select data_version from pragma_data_version), "
            + ("coalesce((select max(id) from invalidations), 0)" if self._logged else "0")
        ).fetchone()

    @staticmethod
    def _wal_restarted(header: bytes) -> bool:
        """Whether this WAL-index header is that of a WAL holding no frame (just restarted)."""
        return (len(header) >= _WAL_FRAMES_OFFSET + _WAL_FRAMES.size
                and _WAL_FRAMES.unpack_from(header, _WAL_FRAMES_OFFSET)[0] == 0)

    def _wal_header(self) -> bytes:
        """The WAL-index header as it is now (b"" when the database has no -shm file)."""
        return b"" if self._shm is None else self._shm[:WAL_INDEX_HEADER]

    async def close(self) -> None:
        self._shm = None
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        for conn in self._all_readers:
            await conn.close()
        self._all_readers.clear()
        self._long_reader = None
        if self._writer is not None:
            # optimize is a nicety: a full disk must not keep the writer (and its thread, which
            # holds the process at exit) open.
            try:
                with contextlib.suppress(sqlite3.Error):
                    await self._writer.execute("pragma optimize")
            finally:
                await self._writer.close()
                self._writer = None
        if self._watched:  # after the connections: see _WalIndexMaps
            self._watched = False
            WAL_INDEX_MAPS.give_back(self.path)

    def catch_up(self) -> None:
        """Run the after-commit hooks for what other processes committed since the last call.

        Cheap when nobody wrote: SQLite's data_version, read from shared memory. Otherwise the
        new invalidations rows of other origins give their tags. A commit that left no row was
        made outside forum.db (sqlite3 by hand), and a gap in the ids means rows were pruned
        before this process read them: both drop everything.
        """
        watcher = self._watcher
        assert watcher is not None, "database not open"
        # The common case, before every cached page: nobody wrote. SQLite's own shared-memory
        # header, read as it does before a read (no lock, no system call: a third of a cached
        # page's cost in `pragma data_version`): unchanged, no commit happened. Read before the
        # check below, so that a commit landing in between is seen again next time.
        header = self._wal_header()
        if header and header == self._seen_header:
            return
        self._seen_header = header
        if watcher.execute("pragma data_version").fetchone()[0] == self._seen_version:
            return
        watcher.execute("begin")  # one snapshot for the version and the rows
        try:
            version = watcher.execute("pragma data_version").fetchone()[0]
            if version == self._seen_version:
                return
            rows = watcher.execute(
                "select id, origin, kind, key from invalidations where id > ? order by id",
                (self._seen_id,)).fetchall() if self._logged else []
        finally:
            if watcher.in_transaction:
                watcher.execute("commit")
        self._seen_version = version
        if not rows and self._logged and self._wal_restarted(header):
            # A writer restarted the WAL (after a full checkpoint, every few megabytes
            # written): SQLite counts it as a change, but nothing was committed yet, and its
            # commit comes with its rows. Dropping everything here emptied every cache a few
            # times a minute under writes (the mixed run: renders of every page anew).
            return
        tags: set[tuple[str, object]] = set()
        foreign = False  # another process committed, even naming no page (a log-out, a ban)
        if not rows or rows[0][0] != self._seen_id + 1:
            tags.add(ALL_TAG)
        for _id, origin, kind, key in rows:
            if origin != self.origin:
                foreign = True
                if kind is not None:
                    tags.add((kind, json.loads(key)))
        if rows:
            self._seen_id = rows[-1][0]
        # Every foreign commit reaches the hooks, tags or none: the per-reader data kept in
        # memory (forum/auth.py: SessionCache) is dropped at every write, as for this process's.
        if tags or foreign:
            for hook in self.after_commit:
                hook(tags)

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
        async with self._budgeted_reader(give_up, deadline) as conn:
            yield conn

    async def budgeted(self, work: Callable[[Conn], Awaitable[T]], seconds: float,
                       keys: Mapping[Hashable, int] | Iterable[Hashable] = ()) -> T:
        """`work(conn)` on a reader within `seconds`, waiting included; TooSlow past them.

        For work whose cost the visitor chooses (a search). It runs in the shared lane for at
        most SHARED_SLICE seconds of CPU time; past that it is run again, from the start, in
        the long lane (one at a time), and its `keys` are remembered: the next read with a key
        cut as many times as it says (a mapping key -> cuts; 1 for a plain list) goes to the
        long lane directly. `work` must only read (it may run twice).
        """
        deadline = time.monotonic() + seconds
        give_up = asyncio.get_running_loop().time() + seconds
        needed = dict(keys) if isinstance(keys, Mapping) else dict.fromkeys(keys, 1)
        if not self._is_long(needed):
            try:
                async with self._budgeted_reader(give_up, deadline, SHARED_SLICE) as conn:
                    return await work(conn)
            except _SliceSpent:
                now = time.monotonic()
                for key, times in needed.items():
                    cuts = [*self._recent_cuts(key), now][-times:]
                    self._long_keys[key] = cuts
                    self._long_keys.move_to_end(key)
                while len(self._long_keys) > LONG_KEYS:
                    self._long_keys.popitem(last=False)
        async with self._long_read(give_up, deadline) as conn:
            return await work(conn)

    def _recent_cuts(self, key: Hashable) -> list[float]:
        horizon = time.monotonic() - LONG_MEMORY
        cuts = [cut for cut in self._long_keys.get(key, ()) if cut >= horizon]
        if not cuts:
            self._long_keys.pop(key, None)
        return cuts

    def _is_long(self, needed: dict[Hashable, int]) -> bool:
        return any(len(self._recent_cuts(key)) >= times for key, times in needed.items())

    @asynccontextmanager
    async def _budgeted_reader(self, give_up: float, deadline: float,
                               slice_: float | None = None) -> AsyncIterator[Conn]:
        """A pooled reader until `deadline`; with `slice_`, _SliceSpent once its statements
        used that much CPU time within the budget."""
        await _within(give_up, self._heavy_reads.acquire())
        try:
            raw = await _within(give_up, self._readers.get())
            try:
                async with _interrupted_at(raw, deadline, slice_) as conn:
                    yield conn
            finally:
                self._readers.put_nowait(raw)
        finally:
            self._heavy_reads.release()

    @asynccontextmanager
    async def _long_read(self, give_up: float, deadline: float) -> AsyncIterator[Conn]:
        assert self._long_reader is not None, "database not open"
        await _within(give_up, self._long_lane.acquire())
        try:
            async with _interrupted_at(self._long_reader, deadline) as conn:
                yield conn
        finally:
            self._long_lane.release()

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
            # In the transaction: another process learns what changed exactly when it can
            # read the change (one row even for no tag: see catch_up).
            if self._logged:
                await self._writer.executemany(_LOG_INSERT,
                                               log_rows(self.origin, tx.changed_tags))
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


class _WalIndexMaps:
    """The -shm files mapped read-only, one per database file for the whole process.

    POSIX drops every lock a process holds on a file when any of its descriptors for that file
    is closed: closing ours would free SQLite's shared lock on the -shm file that says "in use",
    and the next process to open the database would reset the file under this process's live
    connections (corrupt reads, or SIGBUS once it is truncated). So a file is opened once and
    closed only when the last Database of this process on it has closed its connections.
    """

    def __init__(self) -> None:
        # path -> (descriptor, map or None when too short to map, Databases using it)
        self._maps: dict[str, tuple[int, mmap.mmap | None, int]] = {}

    def take(self, path: Path, watcher: sqlite3.Connection) -> mmap.mmap | None:
        """The map of `path`'s -shm file, or None when there is none (not in WAL mode).

        Pair every call with give_back(), which is harmless when nothing was kept.
        """
        key = str(Path(path).resolve())
        if key in self._maps:
            fd, kept, users = self._maps[key]
            self._maps[key] = (fd, kept, users + 1)
            return kept
        if watcher.execute("pragma journal_mode").fetchone()[0] != "wal":
            return None
        watcher.execute("select 1 from sqlite_master limit 1")  # a read: the file is set up
        try:
            fd = os.open(f"{key}-shm", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # not there: the pragma alone
            return None
        try:
            shm: mmap.mmap | None = mmap.mmap(fd, WAL_INDEX_HEADER, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # shorter than a header: the pragma alone
            shm = None
        self._maps[key] = (fd, shm, 1)
        return shm

    def give_back(self, path: Path) -> None:
        """One Database is done with the file (after closing its connections)."""
        key = str(Path(path).resolve())
        if key not in self._maps:
            return
        fd, shm, users = self._maps[key]
        if users > 1:
            self._maps[key] = (fd, shm, users - 1)
            return
        del self._maps[key]
        if shm is not None:
            shm.close()
        os.close(fd)


WAL_INDEX_MAPS = _WalIndexMaps()


def log_rows(origin: str, tags: set[tuple[str, object]]) -> list[tuple[str, str | None,
                                                                        str | None, float]]:
    """The invalidations rows of one commit: its tags, or one row naming nothing."""
    now = time.time()
    if ALL_TAG in tags:
        tags = {ALL_TAG}
    if not tags:
        return [(origin, None, None, now)]
    return [(origin, kind, json.dumps(key), now) for kind, key in sorted(tags, key=repr)]


# Rows older than this are pruned: every process catches up at least once a second.
INVALIDATIONS_KEEP_SECONDS = 600.0


async def read_schema(conn: Conn) -> None:
    """One read of the migrations table: the database opens and answers (GET /healthz)."""
    await conn.value("select 1 from schema_migrations limit 1")


async def prune_invalidations(tx: Transaction) -> None:
    """Forget the invalidations every process has long applied (a laggard drops everything)."""
    await tx.execute("delete from invalidations where at < ?",
                     (time.time() - INVALIDATIONS_KEEP_SECONDS,))


def log_plain_write(conn: sqlite3.Connection, tags: set[tuple[str, object]]) -> None:
    """Inside a write made with plain sqlite3 (`vigie check --repair`): its invalidations rows,
    so that a running site drops the pages it changed (a database not migrated yet has none)."""
    if conn.execute("select 1 from sqlite_master where name = 'invalidations'").fetchone():
        conn.executemany(_LOG_INSERT, log_rows("plain-" + secrets.token_hex(4), tags))
