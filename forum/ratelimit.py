"""Sliding-window rate limits, keyed on the real client; keys (addresses) live only as long as
their window.

One process keeps them in memory. Several workers (`vigie serve --workers N`) share them
through SharedHits, a small SQLite file the master makes in a temporary folder (never in the
data folder, so never in a backup), where a key is stored only as a keyed hash whose secret
lives in the processes' memory: N workers allow what one allows, and the file names nobody.
The drop's limits (MEMORY_ONLY) never leave memory, whatever the file holds (a source's address
must not touch a disk): each worker keeps its own and allows 1/N of the budget, so that the
workers together still allow it once.

On PostgreSQL (several servers, each perhaps with workers) the hits live in the database
instead (DatabaseHits: an UNLOGGED table, never in the WAL nor a replica), hashed with a key
every server reads from the database (site_secrets): all servers allow what one allows. The
drop's limits stay in each process's memory there too, 1/N per worker of one server; K
servers thus allow the drop K times its budget (an address of a source is worth more than
an exact count). The key is in the same database as the hashes: they keep addresses out of
the table's rows and dumps, not from whoever can read both; rows are swept after a day at
most (SHARED_HORIZON: the longest window).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import secrets
import sqlite3
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from forum import clock

if TYPE_CHECKING:
    from forum.db import Database
    from forum.db_postgresql import PostgresDatabase

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Keys (by prefix) counted in this process's memory only: the drop for sources (issue 18).
MEMORY_ONLY = ("drop:", "drop_code:")
SWEEP_SECONDS = 60.0
SHARED_HORIZON = 86400.0  # the longest window of any limit (a day: exports of one's data)
SECRET_NAME = "rate_limits"  # site_secrets' row keying DatabaseHits


def parse_proxies(text: str) -> tuple[Network, ...]:
    """FORUM_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges (empty: none)."""
    networks = []
    for part in text.split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"FORUM_TRUSTED_PROXIES: {part.strip()!r} is not an IP address"
                                 " or a CIDR range (e.g. 127.0.0.1, 10.0.0.0/8)") from None
    return tuple(networks)


@functools.lru_cache(maxsize=4096)  # run for every request: a few peers ask again and again
def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class Hits(Protocol):
    """Where the hits of several processes are counted together: keyed hashes and times."""

    async def recent(self, key: str, window: float) -> list[float]: ...
    async def add(self, key: str) -> None: ...
    async def remove_latest(self, key: str) -> None: ...
    async def clear(self, key: str) -> None: ...
    async def sweep(self, horizon: float) -> None: ...


def keyed_hash(secret: bytes, key: str) -> bytes:
    """What a shared store holds instead of a key (an address): useless without the secret."""
    return hmac.new(secret, key.encode(), hashlib.sha256).digest()[:16]


class SharedHits:
    """Hits of every worker in one SQLite file: (hashed key, unix time) rows."""

    def __init__(self, path: Path, secret: bytes) -> None:
        self.secret = secret
        # On the event loop's thread: a rate-limited action (a login) costs one short statement
        # on a tiny file, less than a trip to another thread.
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=2.0,
                                    check_same_thread=False)
        self.conn.execute("pragma journal_mode = wal")
        self.conn.execute("pragma synchronous = off")  # lost at a crash: limits start again
        self.conn.execute("create table if not exists hits (key blob not null, at real not null)")
        self.conn.execute("create index if not exists hits_by_key on hits (key, at)")

    def _hash(self, key: str) -> bytes:
        return keyed_hash(self.secret, key)

    async def recent(self, key: str, window: float) -> list[float]:
        return [at for (at,) in self.conn.execute(
            "select at from hits where key = ? and at > ? order by at",
            (self._hash(key), time.time() - window))]

    async def add(self, key: str) -> None:
        self.conn.execute("insert into hits (key, at) values (?, ?)",
                          (self._hash(key), time.time()))

    async def remove_latest(self, key: str) -> None:
        self.conn.execute("delete from hits where rowid = (select rowid from hits where key = ?"
                          " order by at desc limit 1)", (self._hash(key),))

    async def clear(self, key: str) -> None:
        self.conn.execute("delete from hits where key = ?", (self._hash(key),))

    async def sweep(self, horizon: float) -> None:
        self.conn.execute("delete from hits where at < ?", (time.time() - horizon,))

    def close(self) -> None:
        self.conn.close()


class DatabaseHits:
    """Hits of every server in PostgreSQL's rate_hits table (migration 0028).

    Written on a pooled connection, one statement each, outside the write lock and without
    telling the caches: no page shows them.
    """

    def __init__(self, db: PostgresDatabase, secret: bytes) -> None:
        self.db = db
        self.secret = secret

    async def recent(self, key: str, window: float) -> list[float]:
        async with self.db.read() as conn:
            rows = await conn.all("select at from rate_hits where key = ? and at > ?"
                                  " order by at", (keyed_hash(self.secret, key),
                                                   time.time() - window))
        return [row["at"] for row in rows]

    async def _write(self, sql: str, params: tuple[object, ...]) -> None:
        async with self.db.unlogged() as conn:
            await conn.value(sql, params)

    async def add(self, key: str) -> None:
        await self._write("insert into rate_hits (key, at) values (?, ?)",
                          (keyed_hash(self.secret, key), time.time()))

    async def remove_latest(self, key: str) -> None:
        await self._write("delete from rate_hits where id = (select id from rate_hits"
                          " where key = ? order by at desc limit 1)",
                          (keyed_hash(self.secret, key),))

    async def clear(self, key: str) -> None:
        await self._write("delete from rate_hits where key = ?", (keyed_hash(self.secret, key),))

    async def sweep(self, horizon: float) -> None:
        await self._write("delete from rate_hits where at < ?", (time.time() - horizon,))


async def limits_secret(db: Database) -> bytes:
    """The key of DatabaseHits' hashes, the same for every server: made by the first one to
    start, kept in the database (site_secrets, as the unsubscribe links' key)."""
    async with db.transaction() as tx:
        await tx.execute(
            "insert or ignore into site_secrets (name, value, created_at) values (?, ?, ?)",
            (SECRET_NAME, secrets.token_hex(32), clock.now()))
        return bytes.fromhex(str(await tx.value(
            "select value from site_secrets where name = ?", (SECRET_NAME,))))


class RateLimiter:
    def __init__(self, trusted_proxies: str = "", shared: Hits | None = None,
                 workers: int = 1) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._last_sweep = time.monotonic()
        self._longest = 3600.0  # the longest window this process counted: what a sweep keeps
        self.trusted = parse_proxies(trusted_proxies)
        self.shared = shared  # None: one process, every limit in memory
        self.workers = workers  # processes sharing the port: divides the memory-only budgets

    def client(self, peer: str | None, forwarded_for: list[str]) -> str:
        """The address limits are counted against.

        Only a peer that is a trusted proxy may name the client, through X-Forwarded-For:
        each proxy appends the address it received from, so the right-most address that is not
        a trusted proxy is the first one nobody we trust could have invented.
        """
        address = _address(peer or "")
        if address is None:
            return peer or "unknown"
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        while self._is_trusted(address) and hops:
            previous = _address(hops.pop())
            if previous is None:  # garbage from a proxy we trust: stop at that proxy
                break
            address = previous
        return self._key(address)

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def _key(address: Address) -> str:
        # One IPv6 subscriber gets a whole /64: counting single addresses would let it
        # step around every limit.
        if isinstance(address, ipaddress.IPv6Address):
            return str(ipaddress.IPv6Network((address, 64), strict=False))
        return str(address)

    def _in_file(self, key: str) -> Hits | None:
        if self.shared is None or key.startswith(MEMORY_ONLY):
            return None
        return self.shared

    async def retry_after(self, key: str, limit: int, window: float) -> int:
        """Seconds to wait before `key` may act again (0: it may act now). Does not count
        (writes nothing: a page that only asks stays a read)."""
        shared = self._in_file(key)
        if shared is not None:
            times = await shared.recent(key, window)
            if len(times) < limit:
                return 0
            return max(1, int(times[0] + window - time.time()) + 1)
        if self.workers > 1:  # memory only, with other workers: this one's share
            limit = max(1, limit // self.workers)
        if key not in self._hits:  # asked on every request by some limits: keep no address
            return 0
        hits = self._recent(key, window)
        if len(hits) < limit:
            return 0
        return max(1, int(hits[0] + window - time.monotonic()) + 1)

    async def hit(self, key: str, window: float) -> None:
        shared = self._in_file(key)
        if shared is not None:
            await shared.add(key)
        else:
            self._recent(key, window).append(time.monotonic())
        await self._sweep(window)

    async def unhit(self, key: str) -> None:
        """Take back the latest hit of `key` (an attempt that turned out not to count)."""
        shared = self._in_file(key)
        if shared is not None:
            await shared.remove_latest(key)
            return
        hits = self._hits.get(key)
        if hits:
            hits.pop()

    async def clear(self, key: str) -> None:
        shared = self._in_file(key)
        if shared is not None:
            await shared.clear(key)
        self._hits.pop(key, None)

    def _recent(self, key: str, window: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        cutoff = time.monotonic() - window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        return hits

    async def _sweep(self, window: float) -> None:
        # Forget idle keys so that no address is kept longer than needed against abuse.
        now = time.monotonic()
        self._longest = horizon = max(self._longest, window)
        if now - self._last_sweep < SWEEP_SECONDS:
            return
        self._last_sweep = now
        if self.shared is not None:  # others' keys too, whose windows this one may not know
            await self.shared.sweep(max(horizon, SHARED_HORIZON))
        for key in [k for k, v in self._hits.items() if not v or v[-1] < now - horizon]:
            del self._hits[key]
