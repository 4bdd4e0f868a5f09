"""PostgreSQL as the store (FORUM_DATABASE_URL): asyncpg behind forum/db.py's interface.

The models' SQL is SQLite's, translated once per statement by forum/dialect.py. Writes of
one process still go one at a time (as on SQLite: the models' check-then-write steps rely on
it); writes of several processes meet under READ COMMITTED, where the schema's constraints
decide, and a unique violation becomes a 409 (Conflict) rather than a 500.

Other processes' writes reach this one's caches through LISTEN/NOTIFY: every commit sends,
inside its transaction, a notification naming its tags (PostgreSQL delivers it only once
committed); the listener connection applies them as they arrive. A lost listener connection
drops every cache (it cannot know what it missed) and listens again. The invalidations
table is still written, as on SQLite, for tools and for the prune.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
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

import asyncpg

from forum import (
    search_postgresql,  # noqa: F401 -- adds PostgreSQL to models.search.OTHER_ENGINES
    stems,
)
from forum.db import _LOG_INSERT, ALL_TAG, Conn, Database, Params, Row, Transaction, log_rows
from forum.dialect import postgresql
from forum.errors import Conflict, TooSlow

T = TypeVar("T")
log = logging.getLogger("forum")
CHANNEL = "vigie_invalidations"
# A notification's payload is at most 8000 bytes: a commit naming more drops every page.
PAYLOAD_MAX = 7000
LISTEN_RETRY_SECONDS = 1.0
# Prepared statements kept per connection: the models have about a thousand distinct ones;
# asyncpg's default (100) would prepare most of them again at every use (two trips, not one).
STATEMENTS_KEPT = 2000
# The models check a name or address is free before writing it; two processes may both find
# it free under READ COMMITTED, and the second insert then breaks a unique constraint. Then
# the same answer as the check's (by constraint name); any other: a plain 409.
UNIQUE_CONFLICTS = {
    "users_name_key_key": ("This pseudonym is already taken.", "name"),
    "users_by_skeleton": ("This pseudonym is already taken.", "name"),
    "boards_slug_key": ("A board already uses this address.", "slug"),
    "flags_post_id_user_id_key": ("You have already flagged this message.", None),
    "finding_kinds_slug_key": ("This kind of equipment already exists.", "label"),
    # One file attached twice at once (two servers): the second finds it taken.
    "post_attachments_upload_id_key": (
        "Some of these files do not exist or are not yours to attach.", "attachments"),
    "request_files_upload_id_key": (
        "Some of these files do not exist or are not yours to attach.", "files"),
}


def _conflict(error: asyncpg.UniqueViolationError) -> Conflict:
    message, field = UNIQUE_CONFLICTS.get(error.constraint_name or "", ("", None))
    return Conflict(message, field=field)


def _arguments(params: Params) -> tuple[Any, ...]:
    if isinstance(params, dict):
        raise TypeError("named parameters are not used with PostgreSQL: pass a sequence")
    return tuple(params)


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """What a reader gives back to the pool needs no reset query (asyncpg's default sends one,
    a round trip per read: a third of an uncached thread page's): readers never SET, LISTEN,
    take advisory locks or open cursors. asyncpg still rolls back a transaction left open."""


class PgConn(Conn):
    """A pooled asyncpg connection behind Conn's all/one/value; statements end by `deadline`
    (monotonic time) when one is given: TooSlow."""

    dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection, deadline: float | None = None) -> None:
        self.pg = conn  # not Conn.conn: that one is SQLite's (stems.py uses it on SQLite only)
        self.deadline = deadline

    def _timeout(self) -> float | None:
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TooSlow()
        return left

    async def _run(self, method: Callable[..., Awaitable[T]], sql: str, params: Params) -> T:
        try:
            return await method(postgresql(sql), *_arguments(params), timeout=self._timeout())
        except TimeoutError:  # asyncpg cancelled the statement on the server
            raise TooSlow() from None
        except asyncpg.PostgresSyntaxError as error:  # the statement, translated (no values)
            error.add_note(postgresql(sql))
            raise
        except asyncpg.PostgresError as error:
            error.add_note(postgresql(sql))
            raise

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._run(self.pg.fetch, sql, params)

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        return await self._run(self.pg.fetchrow, sql, params)

    async def value(self, sql: str, params: Params = ()) -> Any:
        return await self._run(self.pg.fetchval, sql, params)

    async def all_each(self, statements: Sequence[tuple[str, tuple[Any, ...]]]
                       ) -> list[list[Row]]:
        """One statement after the other: asyncpg has no thread to hand them to."""
        return [await self.all(sql, params) for sql, params in statements]


class PgTransaction(Transaction, PgConn):
    """A connection inside a READ COMMITTED transaction; records which pages a write changes."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        PgConn.__init__(self, conn)
        self.changed_tags = set()

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement (its lastrowid is SQLite's only: use `insert ... returning id`)."""
        await self._run(self.pg.execute, sql, params)
        return 0

    async def update(self, sql: str, params: Params = ()) -> int:
        """Run an update or delete; returns how many rows it changed."""
        status = await self._run(self.pg.execute, sql, params)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an insert ... returning id and give the id."""
        value = await self.value(sql, params)
        assert value is not None
        return int(value)

    async def lock(self, names: Iterable[str]) -> None:
        """An advisory lock per name, released at the end of the transaction; taken in order,
        so that two transactions locking the same names never wait for each other in a
        circle. Taking one again in the same transaction does not wait."""
        for name in sorted(set(names)):
            await self.value("select pg_advisory_xact_lock(hashtextextended(?, 0))", (name,))


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database, with Database's interface."""

    def __init__(self, url: str, readers: int = 3) -> None:
        # Not Database.__init__: none of its SQLite files; the shared attributes only.
        self.path = Path()  # no file: SQLite's tools (check, backup) do not apply
        self.url = url
        self.reader_count = readers
        self._pool: asyncpg.Pool | None = None  # the readers
        self._writer: asyncpg.Connection | None = None
        self._listener: asyncpg.Connection | None = None
        self._listening: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()
        self._heavy_reads = asyncio.Semaphore(max(1, readers - 1))
        self.after_commit: list[Callable[[set[tuple[str, object]]], None]] = []
        self.origin = secrets.token_hex(8)

    async def open(self) -> None:
        # As on SQLite: `readers` connections for reads, one for writes. Apart, so that a
        # handler writing while it holds a reader never waits for a reader to be free.
        self._pool = await asyncpg.create_pool(self.url, min_size=1,
                                               max_size=self.reader_count,
                                               statement_cache_size=STATEMENTS_KEPT,
                                               reset=_keep_session)
        self._writer = await asyncpg.connect(self.url, statement_cache_size=STATEMENTS_KEPT)
        await self._listen()
        self._listening = asyncio.create_task(self._keep_listening())

    async def _listen(self) -> None:
        self._listener = await asyncpg.connect(self.url)
        self._listener.add_termination_listener(lambda _conn: self._lost())
        await self._listener.add_listener(CHANNEL, self._notified)

    def _lost(self) -> None:
        self._listener = None
        self._apply({ALL_TAG})  # what was missed meanwhile is unknown

    async def _keep_listening(self) -> None:
        while True:
            await asyncio.sleep(LISTEN_RETRY_SECONDS)
            if self._listener is None or self._listener.is_closed():
                try:
                    await self._listen()
                except (OSError, asyncpg.PostgresError):
                    log.warning("cannot listen to PostgreSQL's notifications; trying again")
                else:
                    self._apply({ALL_TAG})

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        origin, tags = json.loads(payload)
        if origin != self.origin:
            self._apply({(kind, key) for kind, key in tags})

    def _apply(self, tags: set[tuple[str, object]]) -> None:
        for hook in self.after_commit:
            hook(tags)

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
            self._listening = None
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.close()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def catch_up(self) -> None:
        """Nothing to do: other processes' commits arrive as notifications (see above)."""

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """A pooled connection; each statement sees the last committed state."""
        assert self._pool is not None, "database not open"
        async with self._pool.acquire() as conn:
            yield PgConn(conn)

    @asynccontextmanager
    async def unlogged(self) -> AsyncIterator[Conn]:
        """A pooled connection for one-statement writes no page shows (rate_hits: each
        statement its own transaction): no write lock, no invalidation, no notification."""
        assert self._pool is not None, "database not open"
        async with self._pool.acquire() as conn:
            yield PgConn(conn)

    @asynccontextmanager
    async def budgeted_read(self, seconds: float) -> AsyncIterator[Conn]:
        """A connection whose statements are cancelled `seconds` from now (TooSlow), waiting
        included; at most readers - 1 such reads at once, as on SQLite."""
        assert self._pool is not None, "database not open"
        deadline = time.monotonic() + seconds
        try:
            async with asyncio.timeout(seconds):
                await self._heavy_reads.acquire()
        except TimeoutError:
            raise TooSlow() from None
        try:
            async with self._pool.acquire(timeout=max(0.001, deadline - time.monotonic())
                                          ) as conn:
                yield PgConn(conn, deadline)
        except TimeoutError:
            raise TooSlow() from None
        finally:
            self._heavy_reads.release()

    async def budgeted(self, work: Callable[[Conn], Awaitable[T]], seconds: float,
                       keys: Mapping[Hashable, int] | Iterable[Hashable] = ()) -> T:
        """`work(conn)` within `seconds`. No long lane: each PostgreSQL connection is a
        process of its own, so a costly read holds one connection, never the others."""
        async with self.budgeted_read(seconds) as conn:
            return await work(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN ... COMMIT (READ COMMITTED); rolled back on any exception.

        A unique violation (another process wrote the same name, slug or pair first) is a
        Conflict (409), nothing written. The after-commit hooks run only once committed.
        """
        async with self._write_lock:
            if self._writer is None or self._writer.is_closed():  # the server restarted
                self._writer = await asyncpg.connect(self.url,
                                                     statement_cache_size=STATEMENTS_KEPT)
            conn = self._writer
            tx = PgTransaction(conn)
            work = conn.transaction()
            await asyncio.shield(work.start())
            try:
                yield tx
                # Still inside the transaction: the search stems of the posts it changed.
                await stems.index_waiting(tx)
                await self._log(tx)
            except BaseException as error:
                await asyncio.shield(self._roll_back(work))
                if isinstance(error, asyncpg.UniqueViolationError):
                    raise _conflict(error) from error
                raise
            try:
                await asyncio.shield(work.commit())
            except BaseException as error:  # the transaction must not stay open
                await asyncio.shield(self._roll_back(work))
                if isinstance(error, asyncpg.UniqueViolationError):  # a deferred constraint
                    raise _conflict(error) from error
                raise
            self._apply(tx.changed_tags)

    @staticmethod
    async def _roll_back(work: Any) -> None:
        """Roll back if still open; a lost connection is replaced at the next transaction."""
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await work.rollback()

    async def _log(self, tx: PgTransaction) -> None:
        """The invalidations rows and the notification of this commit, inside it."""
        rows = log_rows(self.origin, tx.changed_tags)
        await tx.pg.executemany(postgresql(_LOG_INSERT), rows)
        tags = [[kind, json.loads(key or "null")] for _o, kind, key, _at in rows
                if kind is not None]
        payload = json.dumps([self.origin, tags])
        if len(payload) > PAYLOAD_MAX:
            payload = json.dumps([self.origin, [list(ALL_TAG)]])
        await tx.execute("select pg_notify(?, ?)", (CHANNEL, payload))
