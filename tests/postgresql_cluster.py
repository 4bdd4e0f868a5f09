"""A throw-away PostgreSQL cluster for the tests: initdb + pg_ctl in /tmp, a Unix socket only.

Debian's server binaries (package `postgresql`, in the Makefile's TEST_DEBS). initdb refuses to
run as root, as CI runs: then the cluster runs as the `postgres` user (runuser), in a folder
given to it. Each test gets a database of its own, copied from a migrated template.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg

from forum.migrate import migrate_postgresql

TEMPLATE = "vigie_template"
USER = "vigie"


def server_binaries() -> Path | None:
    """The newest installed server's bin folder (/usr/lib/postgresql/<version>/bin)."""
    found = [(int(p.parent.name), p) for p in Path("/usr/lib/postgresql").glob("*/bin")
             if p.parent.name.isdigit() and (p / "initdb").exists()]
    return max(found)[1] if found else None


class Cluster:
    """One cluster for the test session; database(): a fresh migrated database's URL."""

    def __init__(self) -> None:
        binaries = server_binaries()
        if binaries is None:
            raise RuntimeError("PostgreSQL's server is not installed (make install-test)")
        self.bin = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
        self.data = self.folder / "data"
        self._names = itertools.count(1)
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.folder, "postgres")

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        # -N, fsync off: a test cluster need not survive a crash, and is much faster so.
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "-N")
        options = (f"-k {self.folder} -c listen_addresses='' -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.folder / "log"), "-w", "start")
        asyncio.run(self._template())

    def url(self, name: str) -> str:
        return f"postgresql://{USER}@/{name}?host={self.folder}"

    async def _template(self) -> None:
        await migrate_postgresql(await self.empty_database(TEMPLATE))

    async def empty_database(self, name: str) -> str:
        """A new database with no schema at all (for the template, a restore, a move)."""
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f"create database {name}")
        finally:
            await conn.close()
        return self.url(name)

    async def database(self) -> str:
        """A new database, a copy of the migrated template (a file copy: fast)."""
        name = f"test_{next(self._names)}"
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f"create database {name} template {TEMPLATE}")
        finally:
            await conn.close()
        return self.url(name)

    async def drop(self, url: str) -> None:
        name = url.split("?", 1)[0].rsplit("/", 1)[1]
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f"drop database if exists {name} with (force)")
        finally:
            await conn.close()

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
