"""`vigie serve --workers N`: a master process and N workers serving one port, one data folder.

The master applies the migrations, opens N listening sockets on the port with SO_REUSEPORT (the
kernel spreads new connections over them) and starts one worker per socket: a whole Vigie
server (`python -m forum.workers`) that serves from that socket. The master keeps every socket
open itself, so a socket outlives its worker: connections that arrive while a worker restarts
wait in the socket's queue instead of being refused.

- A worker that dies is started again on its socket (after a pause if it keeps dying).
- SIGTERM (or SIGINT): every worker stops accepting, finishes its requests (DRAIN_SECONDS at
  most) and exits; then the master.
- SIGHUP: one socket at a time, a new worker starts on it, says it is ready, and only then is
  the old one stopped as above; nothing is refused (a new release, new settings).

What the workers share goes through the database (forum/db.py: invalidations, forum/leases.py)
and a rate-limit file (forum/ratelimit.py: SharedHits) in a temporary folder of the master; on
PostgreSQL the limits too go through the database, shared with other servers (DatabaseHits).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from forum import keys, logs
from forum.config import Config
from forum.migrate import migrate, migrate_postgresql
from forum.ratelimit import RateLimiter, SharedHits

log = logging.getLogger("forum")

DRAIN_SECONDS = 30.0  # a stopping worker's requests may take this long to finish
READY_SECONDS = 60.0  # a new worker must be serving within this (migrations ran in the master)
RESTART_PAUSE_MAX = 30.0  # the longest pause before starting again a worker that keeps dying
POLL_SECONDS = 0.2
# A connection accepted before a stop that has not sent its first request yet (a client slowed
# down, a loaded machine) has this long to send it: closing it would reset a fresh connection,
# which no client retries.
ACCEPTED_GRACE = 5.0
BACKLOG = 1024

# What the master tells a worker, in its environment.
SOCKET_FD = "VIGIE_WORKER_SOCKET"  # the listening socket's file descriptor
READY_FD = "VIGIE_WORKER_READY"  # a pipe to write one byte into once serving
COUNT = "VIGIE_WORKERS"  # how many workers share the port
LIMITS = "VIGIE_RATE_LIMITS"  # the shared rate-limit file
LIMITS_SECRET = "VIGIE_RATE_LIMITS_SECRET"  # hashes its keys; only in the processes' memory
# Set by tests only: each answer names the worker that gave it (X-Vigie-Worker: pid).
PID_HEADER = "VIGIE_WORKER_PID_HEADER"


def default_count() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Slot:
    """A listening socket and the worker serving it."""

    sock: socket.socket
    process: subprocess.Popen[bytes] | None = None
    ready_pipe: int = -1  # the read end of the pipe on which the new worker says it serves
    started_at: float = 0.0
    failures: int = 0  # deaths in a row soon after starting
    next_start: float = 0.0  # monotonic; when a dead worker may be started again


class Master:
    def __init__(self, config: Config, host: str, port: int, count: int) -> None:
        self.config = config
        self.host, self.port, self.count = host, port, count
        self.slots: list[Slot] = []
        self.stopping = False
        self.reloading = False
        self.limits_dir = Path(tempfile.mkdtemp(prefix="vigie-limits-"))
        self.env = {**os.environ, "FORUM_DATA_DIR": str(config.data_dir.resolve()),
                    COUNT: str(count), LIMITS: str(self.limits_dir / "hits.sqlite3"),
                    LIMITS_SECRET: secrets.token_hex(32)}

    def run(self) -> int:
        try:
            # Once, before any worker opens the database.
            applied = (asyncio.run(migrate_postgresql(self.config.database_url))
                       if self.config.database_url else migrate(self.config.db_path))
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
            SharedHits(Path(self.env[LIMITS]), b"").close()  # its table, before N race for it
            self.slots = [Slot(self._listen()) for _ in range(self.count)]
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
            signal.signal(signal.SIGHUP, self._reload)
            for slot in self.slots:
                self._start(slot)
            for slot in self.slots:
                self._wait_ready(slot)
            log.info("serving with %d workers on %s:%d", self.count, self.host, self.port)
            while not self.stopping:
                time.sleep(POLL_SECONDS)
                self._replace_dead()
                if self.reloading and not self.stopping:
                    self.reloading = False
                    self._replace_all()
            self._stop_all()
            return 0
        finally:
            shutil.rmtree(self.limits_dir, ignore_errors=True)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _reload(self, signum: int, frame: object) -> None:
        self.reloading = True

    def _listen(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((self.host, self.port))
        sock.listen(BACKLOG)
        return sock

    def _start(self, slot: Slot) -> subprocess.Popen[bytes]:
        read_end, write_end = os.pipe()
        env = {**self.env, SOCKET_FD: str(slot.sock.fileno()), READY_FD: str(write_end)}
        process = subprocess.Popen([sys.executable, "-m", "forum.workers"], env=env,
                                   pass_fds=(slot.sock.fileno(), write_end))
        os.close(write_end)
        slot.process, slot.ready_pipe, slot.started_at = process, read_end, time.monotonic()
        return process

    def _wait_ready(self, slot: Slot) -> bool:
        """Whether the slot's new worker said it serves (within READY_SECONDS)."""
        pipe = slot.ready_pipe
        try:
            readable, _, _ = select.select([pipe], [], [], READY_SECONDS)
            return bool(readable) and os.read(pipe, 1) == b"1"
        except InterruptedError:
            return False
        finally:
            os.close(pipe)

    def _replace_dead(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            process = slot.process
            if process is not None and process.poll() is not None:
                log.warning("worker %d ended (status %s); starting another",
                            process.pid, process.returncode)
                slot.process = None
                quick = now - slot.started_at < 10
                slot.failures = slot.failures + 1 if quick else 0
                slot.next_start = now + min(RESTART_PAUSE_MAX, 2 ** slot.failures - 1)
            if slot.process is None and now >= slot.next_start and not self.stopping:
                self._start(slot)
                self._wait_ready(slot)

    def _replace_all(self) -> None:
        """SIGHUP: a new worker on each socket, serving before the old one stops."""
        log.info("reloading the workers one by one")
        for slot in self.slots:
            if self.stopping:
                return
            old = slot.process
            self._start(slot)
            if not self._wait_ready(slot):
                log.error("a new worker did not start: keeping the old ones")
                self._end(slot.process)
                slot.process = old
                return
            self._end(old)

    def _stop_all(self) -> None:
        for slot in self.slots:
            if slot.process is not None:
                slot.process.send_signal(signal.SIGTERM)
        for slot in self.slots:
            self._end(slot.process)
            slot.sock.close()

    @staticmethod
    def _end(process: subprocess.Popen[bytes] | None) -> None:
        """Let a worker finish its requests and stop (killed past DRAIN_SECONDS)."""
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(DRAIN_SECONDS + 5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve(config: Config, host: str, port: int, count: int) -> int:
    """Run the master until SIGTERM; the exit status."""
    print(f"Vigie: http://{host}:{port} (data in {config.data_dir}, {count} workers)",
          flush=True)
    return Master(config, host, port, count).run()


# The worker side. -----------------------------------------------------------------------------


def _worker_app(config: Config) -> web.Application:
    from forum.app import create_app, freeze_at_start  # the master never builds an app

    app = create_app(config)
    freeze_at_start(app)
    shared = SharedHits(Path(os.environ[LIMITS]), bytes.fromhex(os.environ[LIMITS_SECRET]))
    app[keys.LIMITER] = RateLimiter(config.trusted_proxies, shared, int(os.environ[COUNT]))
    parent = os.getppid()
    watch: list[asyncio.Task[None]] = []

    async def ready(app: web.Application) -> None:  # after every startup step of create_app
        fd = int(os.environ.pop(READY_FD))
        os.write(fd, b"1")
        os.close(fd)
        watch.append(asyncio.create_task(_stop_when_orphaned(parent)))

    async def close(app: web.Application) -> None:
        for task in watch:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        shared.close()

    app.on_startup.append(ready)
    app.on_cleanup.append(close)
    if os.environ.get(PID_HEADER):
        async def name_worker(request: web.Request, response: web.StreamResponse) -> None:
            response.headers["X-Vigie-Worker"] = str(os.getpid())

        app.on_response_prepare.append(name_worker)
    return app


async def _stop_when_orphaned(parent: int) -> None:
    """A worker whose master died (kill -9) stops as at SIGTERM rather than serve forever."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def worker_main() -> int:
    logs.configure()
    config = Config.from_env()
    sock = socket.socket(fileno=int(os.environ[SOCKET_FD]))
    asyncio.run(_serve(_worker_app(config), sock))
    return 0


async def _serve(app: web.Application, sock: socket.socket) -> None:
    """Serve until SIGTERM, then drain: no new connection, every request begun is answered.

    aiohttp's own stop reads nothing more from open connections, which would cut a request
    whose body is still arriving (an upload): so the requests in progress are waited for first
    (DRAIN_SECONDS at most), and only then are the connections closed.
    """
    busy = [0]

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        busy[0] += 1
        try:
            return await handler(request)
        finally:
            busy[0] -= 1

    app.middlewares.insert(0, count)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=DRAIN_SECONDS)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await site.stop()  # this process stops accepting; the socket lives on in the master
    # A connection accepted in the same loop turn as the stop gets its protocol (and so shows
    # in server.connections) a few turns later: let them run before the first look.
    for _ in range(5):
        await asyncio.sleep(0)
    now = loop.time()
    deadline, fresh_deadline = now + DRAIN_SECONDS, now + ACCEPTED_GRACE
    server = runner.server
    while loop.time() < deadline:
        fresh = loop.time() < fresh_deadline
        waiting = server is not None and any(
            _request_coming(conn, fresh) for conn in server.connections)
        if not busy[0] and not waiting:
            break
        await asyncio.sleep(0.05)
    await runner.cleanup()


def _request_coming(conn: object, fresh: bool) -> bool:
    """Whether a connection may still have a request to answer.

    A connection is idle only while it waits for its next request after answering one (its
    `_waiter` set, nothing read). Anything else is coming: a request read and not yet handed
    to a handler (`busy` does not count it yet), a response being finished, and, while `fresh`,
    a connection accepted whose first request has not arrived yet.

    aiohttp says so only in private fields: without them (another version), none is coming.
    """
    served = getattr(conn, "_request_count", 1)
    if getattr(conn, "_messages", ()):
        return True
    if served == 0:
        return fresh
    return getattr(conn, "_waiter", True) is None


if __name__ == "__main__":
    sys.exit(worker_main())
