"""`vigie migrate-store` (issue 19): the demo site moved from SQLite to PostgreSQL and a
bucket, then compared as the site shows it: every post, revision, finding and file, and pages.

PostgreSQL from tests/postgresql_cluster.py, the bucket from tests/storages.py (moto).
"""
from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from forum import demo, keys
from forum.app import create_app
from forum.config import Config
from forum.migrate_store import MoveError, _plan, _verify_tables, migrate_store
from forum.models import users

from .storages import stored_copy, stored_keys
from .test_photos import post_with
from .test_uploads import jpeg_with_gps, uploaded

ROOT = Path(__file__).resolve().parent.parent
# What differs between two answers of the same page: per-request tokens and nonces.
PER_REQUEST = re.compile(r'(nonce|csrf_token" value|content)="[^"]*"')


@pytest.fixture
async def target(postgresql_cluster, request):
    name = f"move_{abs(hash(request.node.nodeid)) % 10**8}"
    url = await postgresql_cluster.empty_database(name)
    yield url
    await asyncio.shield(postgresql_cluster.drop(url))


@pytest.fixture
def aiohttp_client(target, aiohttp_client):
    """Set up after the target database: the apps close before it is dropped."""
    return aiohttp_client


@pytest.fixture
async def sqlite_site(tmp_path, aiohttp_client):
    """The demo site on SQLite, with a photo and a text file attached to a reply (served)."""
    config = Config.from_env(env={}, data_dir=tmp_path / "sqlite-site", uploads_per_minute=1000)
    await asyncio.to_thread(demo.build, config)
    app = create_app(config)
    client = await aiohttp_client(app)
    db = app[keys.DB]
    async with db.transaction() as tx:
        lea = await users.get_by_name(tx, "lea")
        token = await users.create_token(tx, lea.id)
        thread_id = await tx.value("select thread_id from posts where author_id = ?"
                                   " order by id limit 1", (lea.id,))
    photo = await uploaded(client, token, "parvis.jpg", jpeg_with_gps((900, 700)), "image/jpeg")
    notes = await uploaded(client, token, "notes.txt", b"Compte rendu du conseil.", "text/plain")
    await post_with(client, token, thread_id, [photo["id"], notes["id"]],
                    body="Les photos du parvis et mes notes.")
    return app, client, thread_id


def vigie(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    return subprocess.run([sys.executable, "-m", "forum", "--data-dir", str(data_dir), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


async def rows(db, sql: str) -> list[dict]:
    async with db.read() as conn:
        return [dict(row) for row in await conn.all(sql)]


def page(html: str) -> str:
    return PER_REQUEST.sub("", html)


async def test_the_demo_moves_to_postgresql_and_a_bucket_and_reads_the_same(
        sqlite_site, target, bucket_url, tmp_path, aiohttp_client):
    app, client, thread_id = sqlite_site
    config = app[keys.CONFIG]
    moved = await asyncio.to_thread(vigie, config.data_dir, "migrate-store", "--to", target,
                                    "--files", bucket_url)
    assert moved.returncode == 0, moved.stderr
    assert re.search(r"^posts: \d+ row\(s\)$", moved.stdout, re.MULTILINE), moved.stdout
    assert re.search(r"^files: (\d+)/\1 checked$", moved.stdout, re.MULTILINE), moved.stdout
    # Every public message is stemmed for search by the move, not by the new site's first
    # write (which would hold its writer for as long on a large forum).
    conn = await asyncpg.connect(target)
    try:
        assert await conn.fetchval("select count(*) from stem_queue") == 0
        assert await conn.fetchval("select count(*) from stem_search") > 0
    finally:
        await conn.close()

    pg_config = Config.from_env(env={}, data_dir=tmp_path / "pg-site", database_url=target,
                                files_url=bucket_url)
    pg_app = create_app(pg_config)
    pg_client: TestClient = await aiohttp_client(pg_app)
    old, new = app[keys.DB], pg_app[keys.DB]
    for sql in ("select * from posts order by id", "select * from post_revisions order by id",
                "select * from findings order by id", "select * from finding_sources order by id",
                "select * from finding_revisions order by id", "select * from threads order by id",
                "select * from uploads order by id", "select * from users order by id"):
        before = await rows(old, sql)
        assert before, sql
        assert await rows(new, sql) == before, sql
    files = stored_keys(app, "files/")
    assert files and stored_keys(pg_app, "files/") == files
    for key in files:
        assert stored_copy(pg_app, key).read_bytes() == stored_copy(app, key).read_bytes()

    for path in ("/b/metz/watch", "/b/metz", "/watch", "/f/1", f"/t/{thread_id}"):
        sqlite_page = await (await client.get(path)).text()
        pg_page = await (await pg_client.get(path)).text()
        assert page(pg_page) == page(sqlite_page), path
    assert "Les photos du parvis" in sqlite_page
    # Search finds the same messages (by their words and by their stems) on the new site.
    assert re.search(r"^search: [1-9]\d* message\(s\) indexed$", moved.stdout, re.MULTILINE)
    for words in ("caméras", "camera", "parvis"):
        found = [re.findall(r'<h3><a href="(/p/\d+)"', await (await c.get(
            "/search", params={"q": words})).text()) for c in (client, pg_client)]
        assert found[0] and sorted(found[1]) == sorted(found[0]), words

    async with new.transaction() as tx:  # the sequences follow the copied ids
        lea = await users.get_by_name(tx, "lea")
        token = await users.create_token(tx, lea.id)
    reply = await post_with(pg_client, token, thread_id, [], body="Après le déménagement.")
    assert reply["id"] > max(row["id"] for row in await rows(old, "select id from posts"))

    photo_id = (await rows(old, "select id from uploads where kind = 'jpeg'"))[0]["id"]
    old_photo = await client.get(f"/files/{photo_id}/parvis.jpg")
    new_photo = await pg_client.get(f"/files/{photo_id}/parvis.jpg")
    assert new_photo.status == 200 and await new_photo.read() == await old_photo.read()


async def test_a_database_with_rows_is_refused_and_left_as_it_is(sqlite_site, postgresql_cluster):
    app, _client, _thread = sqlite_site
    url = await postgresql_cluster.database()  # migrated: a site's schema
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("insert into users (name, name_key, name_skeleton, password_hash,"
                           " role, created_at) values ('x', 'x', 'x', '', 'member', 'now')")
        with pytest.raises(MoveError, match=r"not empty \(table users has rows"):
            await migrate_store(app[keys.CONFIG], url)
        assert await conn.fetchval("select count(*) from users") == 1
        assert await conn.fetchval("select count(*) from posts") == 0
    finally:
        await conn.close()
        await postgresql_cluster.drop(url)


async def test_a_migrated_empty_database_is_accepted(sqlite_site, postgresql_cluster):
    app, _client, _thread = sqlite_site
    url = await postgresql_cluster.database()
    lines: list[str] = []
    try:
        await migrate_store(app[keys.CONFIG], url, out=lines.append)
        conn = await asyncpg.connect(url)
        try:
            posts = await rows(app[keys.DB], "select count(*) as n from posts")
            assert await conn.fetchval("select count(*) from posts") == posts[0]["n"] > 0
        finally:
            await conn.close()
    finally:
        await postgresql_cluster.drop(url)
    assert any(line.startswith("checked:") for line in lines)


@pytest.mark.parametrize(("to", "files", "message"), [
    ("sqlite:///tmp/x", "", "--to must be a postgresql:// address"),
    ("postgresql://nobody@/nothing?host=/nonexistent", "", "Cannot reach"),
    ("postgresql://u@/d", "/tmp/files", "--files must be a bucket"),
])
def test_bad_addresses_are_refused_clearly(tmp_path, to, files, message):
    data_dir = tmp_path / "site"
    sqlite3.connect(data_dir.mkdir() or data_dir / "forum.sqlite3").close()
    result = vigie(data_dir, "migrate-store", "--to", to, *(["--files", files] if files else []))
    assert result.returncode == 1
    assert message in result.stderr, result.stderr


async def test_a_failure_midway_leaves_the_target_without_rows(sqlite_site, target):
    """A text PostgreSQL refuses (a NUL character), in a table copied late: nothing stays."""
    app, _client, _thread = sqlite_site
    async with app[keys.DB].transaction() as tx:
        await tx.execute("update post_revisions set body_source = 'a' || char(0) || 'b'"
                         " where id = (select max(id) from post_revisions)")
    before = await rows(app[keys.DB], "select count(*) as n from post_revisions")
    assert before[0]["n"] > 0
    with pytest.raises(MoveError, match="NUL character"):
        await migrate_store(app[keys.CONFIG], target)
    conn = await asyncpg.connect(target)
    try:
        for table in ("users", "boards", "threads", "posts", "findings"):
            assert await conn.fetchval(f"select count(*) from {table}") == 0, table
    finally:
        await conn.close()
    # The cause fixed, the same target takes the site.
    async with app[keys.DB].transaction() as tx:
        await tx.execute("update post_revisions set body_source = 'ab'"
                         " where body_source = 'a' || char(0) || 'b'")
    await migrate_store(app[keys.CONFIG], target, out=lambda _line: None)


async def test_the_check_finds_one_value_changed_after_the_copy(sqlite_site, target):
    """The verification pass can fail: one post's HTML changed on PostgreSQL is caught."""
    app, _client, _thread = sqlite_site
    config = app[keys.CONFIG]
    await migrate_store(config, target, out=lambda _line: None)
    source = sqlite3.connect(config.db_path)
    conn = await asyncpg.connect(target)
    try:
        plan = await _plan(source, conn)
        work = conn.transaction()
        await work.start()
        await _verify_tables(source, conn, plan.tables)  # as committed: equal
        await conn.execute("update posts set body_html = body_html || ' '"
                           " where id = (select max(id) from posts)")
        with pytest.raises(MoveError, match=r"^posts: "):
            await _verify_tables(source, conn, plan.tables)
        await work.rollback()
    finally:
        await conn.close()
        source.close()


async def test_a_move_killed_midway_leaves_the_target_without_rows(sqlite_site, target):
    """SIGKILL during the copy (no clean-up of ours runs): PostgreSQL rolls the transaction
    back when the connection drops, and the same target then takes the whole site."""
    app, _client, _thread = sqlite_site
    config = app[keys.CONFIG]
    now = time.time()
    conn = sqlite3.connect(config.db_path)
    with conn:  # enough rows for the copy to last a while
        conn.executemany("insert into invalidations (origin, kind, key, at) values (?, ?, ?, ?)",
                         (("bulk", "thread", str(n), now) for n in range(100_000)))
    conn.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "forum", "--data-dir", str(config.data_dir), "migrate-store",
        "--to", target, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    assert process.stdout is not None
    seen = []
    while not (line := (await process.stdout.readline()).decode()).endswith("row(s)\n"):
        assert line, f"migrate-store ended before copying: {seen}"
        seen.append(line)
    process.kill()
    rest = (await process.stdout.read()).decode()
    await process.wait()
    assert "done." not in rest and "checked:" not in rest
    conn = await asyncpg.connect(target)
    try:
        await asyncio.sleep(0.5)  # the server notices the dropped connection
        for table in ("users", "boards", "posts", "findings", "invalidations"):
            assert await conn.fetchval(f"select count(*) from {table}") == 0, table
    finally:
        await conn.close()
    await migrate_store(config, target, out=lambda _line: None)
