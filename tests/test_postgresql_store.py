"""PostgreSQL as the store: the dialect's translations, the baseline, READ COMMITTED races
turned into the check's own 409, and other processes' commits reaching this one's caches."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from forum import account_export, migrate
from forum.config import Config
from forum.db_postgresql import PostgresDatabase
from forum.dialect import postgresql
from forum.errors import Conflict, Forbidden
from forum.leases import Lease
from forum.models import boards, invitations, moderation, posts, search, threads, uploads, users
from forum.ratelimit import DatabaseHits, RateLimiter, limits_secret
from tests.conftest import PASSWORD


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
        "a step past the baseline needs its file in both migrations/ and migrations/postgresql/")
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


async def test_a_site_on_the_baseline_finds_its_posts_after_the_search_step(
        postgresql_cluster, monkeypatch) -> None:
    """0028 indexes what was public on a baseline site, and migrate stems it (not the first
    write): pending posts stay out."""
    url = await postgresql_cluster.empty_database("baseline_only")
    everything = migrate.available

    def until_baseline(folder=migrate.MIGRATIONS):
        return [step for step in everything(folder) if step[0] <= migrate.BASELINE]

    try:
        monkeypatch.setattr(migrate, "available", until_baseline)
        await migrate.migrate_postgresql(url)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "insert into users (id, name, name_key, password_hash, created_at)"
                " values (1, 'a', 'a', '!', '2024-01-01T00:00:00.000Z');"
                " insert into boards (id, slug, name, created_at) values (1, 'metz', 'Metz',"
                " '2024'); insert into threads (id, board_id, author_id, title, created_at,"
                " last_post_at) values (1, 1, 1, 'Survols', '2024-01-01T00:00:00.000Z', '2024');"
                " insert into posts (id, thread_id, author_id, body_source, body_html,"
                " created_at, status) values (1, 1, 1, 'Des drones.', '',"
                " '2024-01-01T00:00:00.000Z', 'published'), (2, 1, 1, 'Des drones cachés.', '',"
                " '2024-01-02T00:00:00.000Z', 'pending')")
        finally:
            await conn.close()
        monkeypatch.setattr(migrate, "available", everything)
        applied = await migrate.migrate_postgresql(url)
        assert applied[0] == "0028_pgsearch.sql", applied
        db = PostgresDatabase(url, readers=1)
        await db.open()
        try:
            async with db.read() as conn:
                assert await conn.value("select count(*) from stem_queue") == 0
                found = await search.search(conn, "drone")  # by its stem only
        finally:
            await db.close()
        assert [hit.post_id for hit in found.hits] == [1]
    finally:
        await postgresql_cluster.drop(url)
async def _waiting_on_a_lock(db: PostgresDatabase) -> None:
    """Until another transaction waits for a lock this one holds (a row's, an advisory one)."""
    async with asyncio.timeout(10), db.read() as conn:  # a bound, not a measure
        while not await conn.value("select count(*) from pg_stat_activity"
                                   " where wait_event_type = 'Lock'"):
            await asyncio.sleep(0.01)


async def test_two_servers_deleting_one_post_at_once_delete_it_once(pg_url: str) -> None:
    """Both read it live (READ COMMITTED); the second's conditional update waits for the
    first, finds it deleted, and answers 409: one journal line, one notification."""
    first, second = await _two_processes(pg_url)
    try:
        async with first.transaction() as tx:
            lea = await users.create(tx, "lea", PASSWORD, "member", "lea@example.org")
            modo = await users.create(tx, "modo", PASSWORD, "admin", "modo@example.org")
            board = await boards.create(tx, "Metz")
            _thread_id, post_id = await threads.create(tx, board, lea, "Caméras", "Relevé.",
                                                       150, 20_000)
        async with first.read() as conn:
            post = await posts.get(conn, post_id)

        async def delete_in(db: PostgresDatabase) -> None:
            async with db.transaction() as tx:
                await moderation.delete_post(tx, post, modo, "Doublon")

        async with first.transaction() as tx:
            await moderation.delete_post(tx, post, modo, "Doublon")
            racing = asyncio.create_task(delete_in(second))
            await _waiting_on_a_lock(first)
        with pytest.raises(Conflict):
            await racing
        async with second.read() as conn:
            assert await conn.value("select count(*) from moderation_log"
                                    " where action = 'delete'") == 1
            assert await conn.value("select count(*) from notifications"
                                    " where kind = 'deleted'") == 1
    finally:
        await first.close()
        await second.close()


async def test_a_content_found_unused_waits_for_another_server_recording_it(
        pg_url: str) -> None:
    """A purge on one server, an upload of the same bytes on the other: the purge's check
    waits for the upload's commit and then sees the new row (it keeps the file)."""
    first, second = await _two_processes(pg_url)
    sha = "ab" * 32
    try:
        async with first.transaction() as tx:
            lea = await users.create(tx, "lea", PASSWORD)
            old = await uploads.insert(tx, lea.id, sha, "a.pdf", "pdf", "application/pdf", 10,
                                       None, None, None, [])

        async def purge_in(db: PostgresDatabase) -> set[str]:
            async with db.transaction() as tx:
                await uploads.delete(tx, [old.id])
                return await uploads.unused(tx, {sha})

        async with first.transaction() as tx:  # the upload, recorded, not committed yet
            await uploads.insert(tx, lea.id, sha, "b.pdf", "pdf", "application/pdf", 10,
                                 None, None, None, [])
            purging = asyncio.create_task(purge_in(second))
            await _waiting_on_a_lock(first)
            assert not purging.done()
        assert await purging == set()  # still used: the file stays
    finally:
        await first.close()
        await second.close()


async def test_two_servers_claim_different_exports(pg_url: str) -> None:
    """Claims at once take different rows (SKIP LOCKED), each once; then none is left."""
    first, second = await _two_processes(pg_url)
    try:
        async with first.transaction() as tx:
            for name in ("lea", "marc"):
                member = await users.create(tx, name, PASSWORD)
                await account_export.request(tx, member.id)
                assert await account_export.request(tx, member.id)  # asked twice: one row
        claims = await asyncio.gather(*(account_export.claim(db) for db in (first, second)))
        assert all(claims) and claims[0]["id"] != claims[1]["id"]
        assert await account_export.claim(first) is None
        async with first.read() as conn:
            assert await conn.value("select count(*) from account_exports") == 2
    finally:
        await first.close()
        await second.close()


async def test_two_servers_count_one_limit_and_the_table_names_nobody(pg_url: str) -> None:
    first, second = await _two_processes(pg_url)
    try:
        limiters = [RateLimiter("", DatabaseHits(db, await limits_secret(db)))
                    for db in (first, second)]
        key = "login:203.0.113.7"
        for limiter in (*limiters, *limiters[:1]):
            assert await limiter.retry_after(key, 3, 300) == 0
            await limiter.hit(key, 300)
        assert all([await limiter.retry_after(key, 3, 300) > 0 for limiter in limiters])
        await limiters[1].unhit(key)
        assert await limiters[0].retry_after(key, 3, 300) == 0
        for limiter in limiters:  # the drop's stay in memory, each process its own
            await limiter.hit("drop:198.51.100.9", 3600)
        async with first.read() as conn:
            keys = [bytes(row[0]) for row in await conn.all("select key from rate_hits")]
        assert len(keys) == 2 and {len(key) for key in keys} == {16}
        assert not any(b"203.0.113" in key or b"198.51" in key for key in keys)
    finally:
        await first.close()
        await second.close()


async def test_two_servers_asking_for_one_lease_at_once_get_it_once(pg_url: str) -> None:
    first, second = await _two_processes(pg_url)
    try:
        leases = [Lease("mail", 60), Lease("mail", 60)]
        for _ in range(5):
            taken = await asyncio.gather(leases[0].renew(first), leases[1].renew(second))
            assert sorted(taken) == [False, True]
            holder = taken.index(True)
            assert leases[holder].held() and not leases[1 - holder].held()
        await leases[holder].release((first, second)[holder])
        assert await leases[1 - holder].renew((first, second)[1 - holder])
    finally:
        await first.close()
        await second.close()


async def test_the_last_invitation_left_is_made_once_through_two_servers(pg_url: str) -> None:
    """Counted then written: the second server's count waits for the first's commit."""
    first, second = await _two_processes(pg_url)
    config = Config(invitation_min_posts=0, invitations_per_member=1)
    try:
        async with first.transaction() as tx:
            lea = await users.create(tx, "lea", PASSWORD)

        async def invite_in(db: PostgresDatabase) -> str:
            async with db.transaction() as tx:
                return await invitations.create(tx, lea, config)

        async with first.transaction() as tx:
            await invitations.create(tx, lea, config)
            racing = asyncio.create_task(invite_in(second))
            await _waiting_on_a_lock(first)
        with pytest.raises(Forbidden):
            await racing
        async with first.read() as conn:
            assert await conn.value("select count(*) from invitations") == 1
    finally:
        await first.close()
        await second.close()


async def test_two_trusted_flags_at_once_through_two_servers_hide_the_post(pg_url: str) -> None:
    """Each flag counts the trusted flags after the other's commit: the second hides it, once."""
    first, second = await _two_processes(pg_url)
    try:
        async with first.transaction() as tx:
            lea = await users.create(tx, "lea", PASSWORD)
            flaggers = [await users.create(tx, name, PASSWORD) for name in ("marc", "zoe")]
            await tx.execute("update users set trust_override = 1", ())
            board = await boards.create(tx, "Metz")
            _thread_id, post_id = await threads.create(tx, board, lea, "Caméras", "Relevé.",
                                                       150, 20_000)
        async with first.read() as conn:
            post = await posts.get(conn, post_id)
            flaggers = [await users.get(conn, member.id) for member in flaggers]

        async def flag_in(db: PostgresDatabase) -> bool:
            async with db.transaction() as tx:
                return await moderation.flag(tx, post, flaggers[1], "Adresse privée", 2, 5)

        async with first.transaction() as tx:
            assert not await moderation.flag(tx, post, flaggers[0], "Adresse privée", 2, 5)
            racing = asyncio.create_task(flag_in(second))
            await _waiting_on_a_lock(first)
        assert await racing
        async with first.read() as conn:
            assert await conn.value("select hidden from posts where id = ?", (post_id,)) == 1
    finally:
        await first.close()
        await second.close()
