"""PostgreSQL as the store: the dialect's translations, the baseline, READ COMMITTED races
turned into the check's own 409, and other processes' commits reaching this one's caches."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from forum import migrate
from forum.db_postgresql import PostgresDatabase
from forum.dialect import postgresql
from forum.errors import Conflict
from forum.models import boards


@pytest.fixture
async def pg_url(postgresql_cluster) -> AsyncIterator[str]:
    """A fresh migrated PostgreSQL database (tests/postgresql_cluster.py)."""
    url = await postgresql_cluster.database()
    yield url
    await postgresql_cluster.drop(url)


@pytest.mark.parametrize(("sqlite", "expected"), [
    ("select a from t where b = ? and c = '?' and d in (?, ?)",
     "select a from t where b = $1 and c = '?' and d in ($2, $3)"),
    ("insert or ignore into t (a) values (?)",
     "insert into t (a) values ($1) on conflict do nothing"),
    ("insert or ignore into t (a) values (?) returning id",
     "insert into t (a) values ($1) on conflict do nothing returning id"),
    ("select max(coalesce(a, 0), b), max(c), min(d, max(e)) from t",
     "select greatest(coalesce(a, 0), b), max(c), least(d, max(e)) from t"),
    ("select id from t order by id limit ? offset ?",
     "select id from t order by id limit nullif($1, -1) offset $2"),
    ("select 1 where a is ? and b is not ? and c is null",
     "select 1 where a is not distinct from $1 and b is distinct from $2 and c is null"),
    ("select group_concat(board_id) from m", "select string_agg((board_id)::text, ',') from m"),
    ("select 1 where instr(body, ?) > 0", "select 1 where strpos(body, $1) > 0"),
    ("select json_extract(data, '$.kind_id') from r", "select (data::jsonb ->> 'kind_id') from r"),
    ("select julianday(coalesce(a, b)) from r",
     "select extract(julian from (coalesce(a, b))::date)::float8 from r"),
])
def test_the_dialect_translates_sqlite_statements(sqlite: str, expected: str) -> None:
    assert postgresql(sqlite) == expected


async def test_the_baseline_stands_for_sqlites_steps(pg_url: str) -> None:
    assert await migrate.migrate_postgresql(pg_url) == []  # the template is migrated
    db = PostgresDatabase(pg_url, readers=1)
    await db.open()
    try:
        async with db.read() as conn:
            versions = [row[0] for row in await conn.all(
                "select version from schema_migrations order by version")]
            kinds = await conn.value("select count(*) from finding_kinds")
    finally:
        await db.close()
    later = [version for version, _ in migrate.available() if version > migrate.BASELINE]
    assert later == [version for version, _ in migrate.available(migrate.POSTGRESQL_MIGRATIONS)
                     if version > migrate.BASELINE], (
        "a SQLite step past the baseline needs its file in migrations/postgresql/")
    assert versions == [*range(1, migrate.BASELINE + 1), *later]
    assert kinds > 0


async def _two_processes(url: str) -> tuple[PostgresDatabase, PostgresDatabase]:
    first, second = PostgresDatabase(url, readers=1), PostgresDatabase(url, readers=1)
    await first.open()
    await second.open()
    return first, second


async def test_two_processes_taking_one_address_get_the_checks_409(pg_url: str) -> None:
    """Both find the slug free (READ COMMITTED); the second insert waits for the first commit,
    breaks the unique constraint, and answers as the check would have."""
    first, second = await _two_processes(pg_url)
    try:
        async def create_in(db: PostgresDatabase) -> boards.Board:
            async with db.transaction() as tx:
                return await boards.create(tx, "Metz")

        async with first.transaction() as tx:
            made = await boards.create(tx, "Metz")  # not committed yet
            racing = asyncio.create_task(create_in(second))
            async with asyncio.timeout(10), first.read() as conn:  # a bound, not a measure
                while not await conn.value("select count(*) from pg_stat_activity"
                                           " where wait_event_type = 'Lock'"):
                    await asyncio.sleep(0.01)  # the other checked, and waits on the insert
            assert not racing.done()
        with pytest.raises(Conflict) as refused:
            await racing
        assert refused.value.field == "slug" and refused.value.message == (
            "A board already uses this address.")
        async with second.read() as conn:
            assert await conn.value("select count(*) from boards") == 1
        assert made.slug == "metz"
    finally:
        await first.close()
        await second.close()


async def test_a_commit_reaches_the_other_processes_caches(pg_url: str) -> None:
    """Through LISTEN/NOTIFY: the other process's hooks get the tags, this one's its own once."""
    first, second = await _two_processes(pg_url)
    try:
        seen_first: list[set] = []
        seen_second: list[set] = []
        told = asyncio.Event()
        first.after_commit.append(seen_first.append)
        second.after_commit.append(lambda tags: (seen_second.append(tags), told.set()))
        async with first.transaction() as tx:
            await boards.create(tx, "Metz")
            tx.changed("board", 7)
            tx.changed("thread", "x")
        async with asyncio.timeout(10):  # a bound, not a measure: it comes at once
            await told.wait()
        assert len(seen_second) == 1 and {("board", 7), ("thread", "x")} <= seen_second[0]
        assert seen_first == seen_second  # its own: once, at its commit
    finally:
        await first.close()
        await second.close()
