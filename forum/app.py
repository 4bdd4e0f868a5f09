"""create_app(config) -> web.Application: wires the database, templates, middlewares, routes."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections import Counter
from collections.abc import AsyncIterator

from aiohttp import web

from forum import account_export, keys, mail, routes, templating
from forum.auth import SessionCache, auth_middleware
from forum.cache import PageCache, locale_middleware, page_cache_middleware
from forum.config import Config
from forum.csrf import csrf_middleware
from forum.db import Database, prune_invalidations
from forum.db_postgresql import PostgresDatabase
from forum.error_pages import error_middleware
from forum.fragments import FragmentCache
from forum.headers import security_headers_middleware
from forum.input_limits import input_limits_middleware
from forum.migrate import migrate, migrate_postgresql
from forum.models import reads, threads, users
from forum.ratelimit import DatabaseHits, RateLimiter, limits_secret
from forum.reads import KeptUnread, ReadLog
from forum.uploads import pipeline as uploads
from forum.views import drops
from forum.views import requests as records_requests

log = logging.getLogger("forum")
MAX_REQUEST_BYTES = 2 * 1024 * 1024
CATCH_UP_SECONDS = 1.0  # how often a process applies other processes' writes between requests


def create_app(config: Config) -> web.Application:
    app = web.Application(
        middlewares=[
            page_cache_middleware,  # first: a cached page costs no more than this
            security_headers_middleware,
            error_middleware,
            input_limits_middleware,  # before the session: a turned-away client costs little
            auth_middleware,
            locale_middleware,
            csrf_middleware,
        ],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[keys.CONFIG] = config
    app[keys.PAGE_CACHE] = PageCache(config.page_cache_entries)
    app[keys.FRAGMENTS] = FragmentCache(config.fragment_cache_entries)
    app[keys.SESSIONS] = SessionCache()
    # Every commit calls the page cache's invalidate (tags or none): sessions are dropped then.
    app[keys.PAGE_CACHE].listeners.append(app[keys.SESSIONS].drop)
    app[keys.LIMITER] = RateLimiter(config.trusted_proxies)
    app[keys.VIEWS] = Counter()
    app[keys.READS] = ReadLog()
    app[keys.UNREAD] = KeptUnread()
    templating.setup(app)
    routes.setup(app)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_maintenance)
    mail.setup(app)  # the outbox sender: a background task, like _maintenance
    uploads.setup(app)  # attached files: their store, and the purge of unattached ones
    drops.setup(app)  # the drop for sources: its store, no log lines, erasing old drops
    account_export.setup(app)  # members' exports of their own data, prepared in the background
    records_requests.setup(app)  # records requests: telling deadlines that passed
    return app


# A serving process's collector: the youngest objects as Python's default (700), the oldest
# ones walked ten times less often. A full collection of a warm server (its caches: 40 000
# objects) takes 20-70 ms of CPU, a pause for every request in flight; while caches churn
# (the mixed run: a write every 100 ms) Python's default ran one every two seconds, which put
# them into the 99th percentile of every measure. Cycles are rare among what lives that long
# (cache entries are plain values): the memory they hold is freed later, not lost.
GC_THRESHOLDS = (700, 10, 100)


def freeze_at_start(app: web.Application) -> None:
    """For a serving process (not the tests' many apps): once started, what start-up made
    (modules, routes, settings) is left out of every later garbage collection (gc.freeze), and
    full collections come less often (GC_THRESHOLDS). A full collection walks every object the
    collector tracks, and is a pause for every request in flight: those are a third of a warm
    server's."""

    async def freeze(_app: web.Application) -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    app.on_startup.append(freeze)


async def open_database(config: Config, readers: int) -> Database:
    """The configured store (PostgreSQL at FORUM_DATABASE_URL, else the data folder's SQLite
    file), brought up to date and open: the server's and every command's."""
    db: Database
    if config.database_url:
        applied = await migrate_postgresql(config.database_url)
        db = PostgresDatabase(config.database_url, readers=readers)
    else:
        applied = await asyncio.to_thread(migrate, config.db_path)
        db = Database(config.db_path, readers=readers)
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
    await db.open()
    return db


async def _database(app: web.Application) -> AsyncIterator[None]:
    config = app[keys.CONFIG]
    db = await open_database(config, config.readers)
    if isinstance(db, PostgresDatabase):  # other servers may share it: so do their limits
        app[keys.LIMITER].shared = DatabaseHits(db, await limits_secret(db))
    db.after_commit.append(app[keys.PAGE_CACHE].invalidate)
    db.after_commit.append(app[keys.FRAGMENTS].invalidate)
    db.after_commit.append(app[keys.UNREAD].invalidate)
    app[keys.DB] = db
    yield
    try:
        await flush_views(app)
    finally:  # a failed flush must not leave the connections (and their tasks) open
        await db.close()


async def flush_views(app: web.Application) -> None:
    """Write the page views counted in memory and the members' reads (forum/reads.py) in one
    transaction: no write on the read path."""
    views = app[keys.VIEWS]
    read = app[keys.READS].batch()
    if not views and not read:
        return
    batch = dict(views)
    views.clear()
    async with app[keys.DB].transaction() as tx:
        if batch:
            await threads.count_views(tx, batch)
        await reads.record(tx, read)
    app[keys.READS].forget(read)  # after the commit: a reader never sees a mark step back


async def _maintenance(app: web.Application) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            await asyncio.sleep(app[keys.CONFIG].view_flush_seconds)
            try:
                # Each worker adds its own counts (views = views + n) and reads (max()): they
                # merge in the tables.
                await flush_views(app)
                async with app[keys.DB].transaction() as tx:
                    await users.purge_expired_sessions(tx)
                    await prune_invalidations(tx)
            except Exception:
                log.exception("maintenance failed; will try again")

    async def follow() -> None:
        # Between requests too: other processes' writes drop their pages and fragments from
        # memory soon (a purged text), and wake the mail sender (mail queued by another worker).
        while True:
            await asyncio.sleep(CATCH_UP_SECONDS)
            try:
                app[keys.DB].catch_up()
            except Exception:
                log.exception("following other processes' writes failed; will try again")

    tasks = [asyncio.create_task(loop()), asyncio.create_task(follow())]
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
