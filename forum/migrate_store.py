"""`vigie migrate-store`: move a SQLite site to PostgreSQL (and its files to a bucket).

The source is the configured SQLite site, read in one read transaction (a consistent
snapshot, even if it still runs; stop it first, or what it writes meanwhile is not moved).
The target must be an empty PostgreSQL database: its schema comes from PostgreSQL's own
migrations, then every table both schemas have is copied, in the order of their foreign keys,
column by column where both have the column (SQLite's search index, FTS5, has no
counterpart; a column only PostgreSQL has takes its default or is computed). The rows are
written in one transaction, counted and checksummed against the source before it commits,
with the files copied and checked (size and SHA-256) meanwhile: on any failure nothing is
committed, and the target is still empty.
"""
from __future__ import annotations

import graphlib
import hashlib
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from forum.backup import hash_file
from forum.config import Config
from forum.dialect import is_postgresql
from forum.migrate import migrate, migrate_postgresql, stem_backlog
from forum.storage import BucketStorage, Storage, check_url, open_storage

BATCH = 2000  # source rows read at a time: memory stays flat on a large site
# Tables the migrations fill (their rows are the source's to give) or that are the target's
# own (the migrations' log): a target holding rows only there is still empty.
SEEDED = {"finding_kinds"}
OWN = {"schema_migrations"}
# Work queues the target's triggers fill as the rows arrive (the posts to stem for search),
# emptied after the copy by migrate.stem_backlog: not copied, not compared.
QUEUES = {"stem_queue"}
STORED_PREFIXES = ("files/", "drops/", "exports/")  # every stored file (forum/storage.py)
SQLITE_INTERNAL = re.compile(r"^sqlite_")


class MoveError(Exception):
    """The move cannot be made or did not check out; the message says why and what to do."""


@dataclass
class Table:
    """A table both schemas have: the columns copied and their PostgreSQL types."""

    name: str
    columns: list[str]
    types: dict[str, str]
    left_out: list[str] = field(default_factory=list)  # SQLite's columns PostgreSQL lacks


@dataclass
class Plan:
    tables: list[Table]  # in the order of their foreign keys
    sqlite_only: list[str]  # not copied: the search index (FTS5 tables, their shadows neither)
    postgresql_only: list[str]  # derived on PostgreSQL (its triggers fill them)


def shown_url(url: str) -> str:
    """The address without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def migrate_store(config: Config, target_url: str, files_url: str = "",
                        out: Callable[[str], None] = print) -> None:
    """Copy the SQLite site of `config` to the empty PostgreSQL database at `target_url`,
    and its stored files to `files_url` (a bucket) when given; raises MoveError."""
    if config.database_url:
        raise MoveError("This site already runs on PostgreSQL (FORUM_DATABASE_URL is set):"
                        " migrate-store moves a SQLite site.")
    if not is_postgresql(target_url):
        raise MoveError(f"--to must be a postgresql:// address, not {shown_url(target_url)!r}.")
    if files_url and (not files_url.startswith("s3://") or not check_url(files_url)):
        raise MoveError("--files must be a bucket's address: s3://bucket/prefix?endpoint=…"
                        "&region=… (as FORUM_FILES_URL).")
    if not config.db_path.is_file():
        raise MoveError(f"No SQLite database at {config.db_path}: is --data-dir right?")
    migrate(config.db_path)  # the source at this version's schema, as every command does
    source_files = open_storage(config.files_url, config.data_dir)
    target_files = (BucketStorage(files_url) if files_url and files_url != config.files_url
                    else None)
    try:
        conn = await asyncpg.connect(target_url)
    except (OSError, asyncpg.PostgresError) as error:
        raise MoveError(f"Cannot reach {shown_url(target_url)}: {error}") from None
    source = sqlite3.connect(config.db_path, isolation_level=None)  # read only, below
    try:
        await _refuse_non_empty(conn, target_url)
        applied = await migrate_postgresql(target_url)
        out(f"schema: {len(applied)} migration(s) applied on {shown_url(target_url)}")
        source.execute("begin")  # one snapshot for the copy and its check
        plan = await _plan(source, conn)
        async with conn.transaction():
            await _refuse_non_empty(conn, target_url)  # still: nothing started on it meanwhile
            for table in plan.tables:
                count = await _copy_table(source, conn, table)
                out(f"{table.name}: {count} row(s)" + (
                    f" (not copied, columns only SQLite has: {', '.join(table.left_out)})"
                    if table.left_out else ""))
            await _reset_sequences(conn)
            for name in plan.postgresql_only:
                count = await conn.fetchval(f'select count(*) from "{name}"')
                out(f"{name}: only on PostgreSQL, filled by its triggers ({count} row(s))")
            if plan.sqlite_only:
                out(f"not copied (SQLite's search index): {', '.join(plan.sqlite_only)}")
            await _verify_tables(source, conn, plan.tables)
            out(f"checked: {len(plan.tables)} table(s), every row")
            if target_files is not None:
                _copy_files(source_files, target_files, out)
        # The copy queued every public post for its search stems (forum/stems.py): stemmed
        # here, not by the new site's first write.
        out(f"search: {await stem_backlog(conn)} message(s) indexed")
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise MoveError(f"PostgreSQL refused the copy, nothing was committed: {error}"
                        ) from None
    finally:
        source.close()
        await conn.close()
    out(f"done. Start the site with FORUM_DATABASE_URL={shown_url(target_url)}"
        + (f" and FORUM_FILES_URL={shown_url(files_url)}" if target_files else "") + ".")


async def _user_tables(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "select table_name from information_schema.tables"
        " where table_schema = current_schema() and table_type = 'BASE TABLE'")
    return sorted(row[0] for row in rows)


async def _refuse_non_empty(conn: asyncpg.Connection, url: str) -> None:
    """A target with rows of its own (a site's, or anything else's) is never written to."""
    for name in await _user_tables(conn):
        if name in SEEDED | OWN:
            continue
        if await conn.fetchval(f'select exists (select 1 from "{name}")'):
            raise MoveError(
                f"The database {shown_url(url)} is not empty (table {name} has rows):"
                " migrate-store writes only into a new, empty database (createdb).")


async def _plan(source: sqlite3.Connection, conn: asyncpg.Connection) -> Plan:
    """The tables to copy, from both schemas, in the order of PostgreSQL's foreign keys."""
    virtual = [row[0] for row in source.execute(
        "select name from sqlite_master where type = 'table' and sql like 'create virtual%'")]
    sqlite_tables = {row[0] for row in source.execute(
        "select name from sqlite_master where type = 'table'")}
    search_index = {name for name in sqlite_tables
                    if any(name == v or name.startswith(f"{v}_") for v in virtual)}
    plain = {name for name in sqlite_tables - search_index
             if not SQLITE_INTERNAL.match(name)} - OWN - QUEUES
    target = set(await _user_tables(conn)) - OWN
    columns: dict[str, dict[str, str]] = {}
    for row in await conn.fetch(
            "select table_name, column_name, data_type from information_schema.columns"
            " where table_schema = current_schema() and is_generated = 'NEVER'"
            " order by table_name, ordinal_position"):
        columns.setdefault(row[0], {})[row[1]] = row[2]
    order = graphlib.TopologicalSorter[str]({name: set() for name in target})
    for child, parent in await conn.fetch(
            "select conrelid::regclass::text, confrelid::regclass::text from pg_constraint"
            " where contype = 'f' and connamespace = current_schema()::regnamespace"):
        if child != parent:
            order.add(child, parent)
    tables = []
    for name in order.static_order():
        if name not in plain:
            continue
        have = [row[1] for row in source.execute(f'pragma table_info("{name}")')]
        types = columns.get(name, {})
        tables.append(Table(name, [c for c in types if c in have], types,
                            [c for c in have if c not in types]))
    return Plan(tables, sorted(virtual), sorted(target - plain))


def _converter(pg_type: str, table: str, column: str) -> Callable[[Any], Any]:
    """SQLite's value as PostgreSQL's binary copy takes it for the column's type."""
    expected = {"bigint": int, "integer": int, "double precision": float, "real": float,
                "bytea": bytes}.get(pg_type, str)

    def convert(value: Any) -> Any:
        if value is None or (type(value) is expected and expected is not str):
            return value
        try:
            if pg_type == "bigint" or pg_type == "integer":
                return int(value)
            if pg_type in ("double precision", "real"):
                return float(value)
            if pg_type == "bytea":
                return bytes(value)
        except (TypeError, ValueError):
            raise MoveError(f"{table}.{column} holds {value!r}, not a number:"
                            " run `vigie check` on the SQLite site.") from None
        text = value if isinstance(value, str) else str(value)
        if "\x00" in text:
            raise MoveError(f"{table}.{column} holds a text with a NUL character, which"
                            " PostgreSQL refuses: nothing was committed.")
        return text
    return convert


def _source_rows(source: sqlite3.Connection, table: Table) -> Iterator[tuple[Any, ...]]:
    """The source's rows, converted, read in batches."""
    converters = [_converter(table.types[c], table.name, c) for c in table.columns]
    names = ", ".join(f'"{c}"' for c in table.columns)
    cursor = source.execute(f'select {names} from "{table.name}"')
    while batch := cursor.fetchmany(BATCH):
        for row in batch:
            yield tuple(convert(value) for convert, value in zip(converters, row, strict=True))


async def _copy_table(source: sqlite3.Connection, conn: asyncpg.Connection,
                      table: Table) -> int:
    """Replace the table's rows (the migrations' seeds, or what triggers derived) with the
    source's, in one COPY (a table referring to itself is checked at its end)."""
    await conn.execute(f'delete from "{table.name}"')
    if not table.columns:
        return 0
    await conn.copy_records_to_table(table.name, records=_source_rows(source, table),
                                     columns=table.columns)
    return int(await conn.fetchval(f'select count(*) from "{table.name}"'))


async def _reset_sequences(conn: asyncpg.Connection) -> None:
    """Each identity column's next value after the copied ids (else the first insert on the
    new site would take an id already used)."""
    for table, column in await conn.fetch(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = current_schema() and is_identity = 'YES'"):
        await conn.execute(
            f"select setval(pg_get_serial_sequence($1, $2),"
            f' coalesce((select max("{column}") from "{table}"), 1),'
            f' (select max("{column}") from "{table}") is not null)', f'"{table}"', column)


def _digest(values: tuple[Any, ...]) -> int:
    """A row's hash. Its repr tells types apart (1, 1.0, '1', None), and both sides give the
    same Python types: SQLite's values converted as for the copy, asyncpg's as decoded."""
    return int.from_bytes(hashlib.sha256(repr(values).encode()).digest())


def _sum(digests: Iterator[int]) -> tuple[int, int]:
    """(rows, sum of their hashes mod 2**256): independent of the rows' order, which the
    two databases' collations may give differently."""
    count = total = 0
    for value in digests:
        count += 1
        total = (total + value) % (1 << 256)
    return count, total


async def _verify_tables(source: sqlite3.Connection, conn: asyncpg.Connection,
                         tables: list[Table]) -> None:
    for table in tables:
        if not table.columns:
            continue
        expected = _sum(_digest(row) for row in _source_rows(source, table))
        names = ", ".join(f'"{c}"' for c in table.columns)
        count = total = 0
        async for row in conn.cursor(f'select {names} from "{table.name}"', prefetch=BATCH):
            count += 1
            total = (total + _digest(tuple(row))) % (1 << 256)
        if (count, total) != expected:
            raise MoveError(f"{table.name}: {count} row(s) on PostgreSQL, {expected[0]} on"
                            " SQLite, or different values: nothing was committed.")


def _stored_keys(storage: Storage) -> list[str]:
    return [key for prefix in STORED_PREFIXES for key in storage.list_keys(prefix)
            if not key.startswith("files/tmp/")]


def _copy_files(source: Storage, target: Storage, out: Callable[[str], None]) -> None:
    """Copy every stored file, then read each back from the target: same size, same hash."""
    keys = _stored_keys(source)
    expected: dict[str, tuple[int, str]] = {}
    with tempfile.TemporaryDirectory(prefix="vigie-move-") as work:
        for number, key in enumerate(keys, 1):
            local = source.local_path(key)
            if local is None:
                local = Path(work) / "copy"
                source.download(key, local)
            expected[key] = hash_file(local)
            target.put_file(key, local)
            if local.parent == Path(work):
                local.unlink()
            if number % 100 == 0 or number == len(keys):
                out(f"files: {number}/{len(keys)} copied")
        for number, key in enumerate(keys, 1):
            copy = Path(work) / "check"
            try:
                target.download(key, copy)
            except FileNotFoundError:
                raise MoveError(f"{key} is missing from the bucket after its copy.") from None
            found = hash_file(copy)
            copy.unlink()
            if found != expected[key]:
                raise MoveError(f"{key} differs in the bucket after its copy (size, SHA-256).")
            if number % 100 == 0 or number == len(keys):
                out(f"files: {number}/{len(keys)} checked")
