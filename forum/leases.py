"""Jobs only one process may run at a time: a lease row in the database, renewed by its holder.

With `vigie serve --workers N` every worker starts the outbox sender and the purge of
unattached files, but only the holder of the job's lease runs it: a mail is sent by one process
only. The holder renews the lease every third of its length; if it dies, the lease expires and
another worker takes it at its next try. A holder acts only while the lease has at least half
its length left. A holder that stalls (paused, or cut from the database) while a step of its
job runs may still finish that step after another has taken over: the outbox is safe from it
by a claim on each mail (forum/mail/send.py: CLAIM_SECONDS), not by the lease.

Several servers on one PostgreSQL database share the leases table the same way: the
conditional upsert in renew() locks the row and judges the holder and the expiry on its latest
committed version (READ COMMITTED), so of two servers trying at once one takes it. Their clocks
(each server's time.time()) must agree within half a lease (60 s by default): NTP's do.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Callable

from forum.db import Database

log = logging.getLogger("forum")


class Lease:
    """This process's claim on the job `name` (held or not)."""

    def __init__(self, name: str, seconds: float,
                 on_acquire: Callable[[], None] | None = None) -> None:
        self.name = name
        self.seconds = seconds
        self.holder = f"{os.getpid()}-{secrets.token_hex(8)}"  # the pid: for the logs, tests
        self.expires_at = 0.0  # unix time; 0: not held
        self.on_acquire = on_acquire  # called when this process (again) becomes the holder

    def held(self) -> bool:
        """Whether the job may act now: held, with at least half the lease left."""
        return self.expires_at - time.time() >= self.seconds / 2

    async def renew(self, db: Database) -> bool:
        """Take or extend the lease if it is ours or has expired; whether we hold it."""
        now = time.time()
        async with db.transaction() as tx:
            row = await tx.one(
                "insert into leases (name, holder, expires_at) values (?, ?, ?)"
                " on conflict (name) do update set holder = excluded.holder,"
                " expires_at = excluded.expires_at"
                " where leases.holder = excluded.holder or leases.expires_at < ?"
                " returning holder", (self.name, self.holder, now + self.seconds, now))
        was_held = self.expires_at > now
        self.expires_at = now + self.seconds if row is not None else 0.0
        if row is not None and not was_held:
            log.info("process %d now runs %s", os.getpid(), self.name)
            if self.on_acquire is not None:
                self.on_acquire()
        return row is not None

    async def release(self, db: Database) -> None:
        """Give the lease up (at a clean stop): another process may take it at once."""
        self.expires_at = 0.0
        async with db.transaction() as tx:
            await tx.execute("delete from leases where name = ? and holder = ?",
                             (self.name, self.holder))

    async def keep(self, db: Database) -> None:
        """Renew (or try to take) the lease every third of its length, until cancelled."""
        while True:
            try:
                await self.renew(db)
            except Exception:  # a busy or failing database: the lease lapses by itself
                log.exception("could not renew the lease %s", self.name)
            await asyncio.sleep(self.seconds / 3)

    async def stop(self, task: asyncio.Task[None], db: Database) -> None:
        """Stop `task` (the keep() loop) and release the lease."""
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await self.release(db)
