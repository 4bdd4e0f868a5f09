"""Backup, restore and check of a site on PostgreSQL (issue 19), through the real CLI:
pg_dump and pg_restore of Debian's postgresql-client, files in the data folder or a bucket."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from forum import backup, keys
from forum.app import create_app
from forum.config import Config

from .conftest import Forum, submit
from .storages import STORAGES, new_bucket, storage_url
from .test_operations import member_thread, post
from .test_uploads import stored_path

ROOT = Path(__file__).resolve().parent.parent
V1 = "/api/v1"


@pytest.fixture
def store() -> str:
    return "postgresql"


@pytest.fixture(params=STORAGES)
def files_url(request: pytest.FixtureRequest) -> str:
    return storage_url(request)


@pytest.fixture
async def fresh(postgresql_cluster, request):
    """A database without any table, for a restore; dropped at the end."""
    made: list[str] = []

    async def new() -> str:
        made.append(await postgresql_cluster.empty_database(
            f"restore_{os.getpid()}_{len(made)}_{abs(hash(request.node.nodeid)) % 10**6}"))
        return made[-1]

    yield new
    for url in made:
        await asyncio.shield(postgresql_cluster.drop(url))


def vigie(data_dir: Path, database_url: str, files_url: str, *args: str
          ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env |= {"FORUM_DATABASE_URL": database_url, "FORUM_FILES_URL": files_url}
    return subprocess.run([sys.executable, "-m", "forum", "--data-dir", str(data_dir), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)


async def test_backup_then_restore_into_a_new_database_gives_every_post_and_file(
        forum: Forum, tmp_path, fresh, aiohttp_client, s3_endpoint) -> None:
    config = forum.config
    token, thread_id = await member_thread(forum)
    written = [await post(forum, token, thread_id, f"Message {n}.",
                          f"Relevé {n}.\n".encode() if n % 2 else None) for n in range(6)]
    # A failed login: a rate limit's keyed hash, which no backup holds (an unlogged table).
    await submit(forum.client, "/login", {"name": "personne", "password": "pas le bon"})
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from rate_hits") > 0
    result = await asyncio.to_thread(vigie, config.data_dir, config.database_url,
                                     config.files_url, "backup", str(tmp_path / "bk"))
    assert result.returncode == 0, result.stderr
    folder = backup.list_backups(tmp_path / "bk")[-1]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["store"] == "postgresql"
    assert manifest["database"]["path"] == "forum.pgdump"
    assert (folder / "forum.pgdump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert len(manifest["files"]) == 3

    target = await fresh()
    files_url = new_bucket(s3_endpoint) if config.files_url else ""
    restored = tmp_path / "restored"
    result = await asyncio.to_thread(vigie, restored, target, files_url, "restore",
                                     str(tmp_path / "bk"))
    assert result.returncode == 0, result.stderr
    assert not (restored / "forum.pgdump").exists()
    restored_db = await asyncpg.connect(target)
    try:
        assert await restored_db.fetchval("select count(*) from rate_hits") == 0
    finally:
        await restored_db.close()
    client = await aiohttp_client(create_app(Config.from_env(
        env={}, data_dir=restored, database_url=target, files_url=files_url)))
    auth = {"Authorization": f"Bearer {token}"}
    for post_id, upload in written:
        response = await client.get(f"{V1}/posts/{post_id}", headers=auth)
        assert response.status == 200
        if upload:
            response = await client.get(upload["url"], headers=auth)
            assert response.status == 200
            assert await response.read() == stored_path(forum, upload["sha256"]).read_bytes()
    checked = await asyncio.to_thread(vigie, restored, target, files_url, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "ok"


async def test_restore_refuses_a_database_with_tables_or_a_sqlite_backup(
        forum: Forum, tmp_path, postgresql_cluster) -> None:
    config = forum.config
    token, thread_id = await member_thread(forum)
    await post(forum, token, thread_id, "Un message.", b"Contenu.\n")
    result = await asyncio.to_thread(vigie, config.data_dir, config.database_url,
                                     config.files_url, "backup", str(tmp_path / "bk"), "--quiet")
    assert result.returncode == 0, result.stderr
    used = await postgresql_cluster.database()  # a site's schema already
    try:
        result = await asyncio.to_thread(vigie, tmp_path / "new", used, "", "restore",
                                         str(tmp_path / "bk"))
        assert result.returncode == 1 and "not empty" in result.stderr
        assert not (tmp_path / "new").exists()
        # A PostgreSQL backup is not restored as a SQLite site, nor the other way round.
        result = await asyncio.to_thread(vigie, tmp_path / "new", "", "", "restore",
                                         str(tmp_path / "bk"))
        assert result.returncode == 1 and "migrate-store" in result.stderr
    finally:
        await postgresql_cluster.drop(used)


async def test_check_on_postgresql_finds_and_repairs_counters_and_finds_a_missing_file(
        forum: Forum) -> None:
    config = forum.config
    member = await forum.user()
    board = await forum.board()
    thread_id, _ = await forum.thread(board, member)
    token = await forum.token(member)
    _, upload = await post(forum, token, thread_id, "Avec un fichier.", b"Perdu.\n")
    run = [config.data_dir, config.database_url, config.files_url]
    result = await asyncio.to_thread(vigie, *run, "check")
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stdout
    assert "foreign keys" in result.stderr  # the note on SQLite's pragmas
    conn = await asyncpg.connect(config.database_url)
    try:
        await conn.execute("update threads set post_count = 7 where id = $1", thread_id)
    finally:
        await conn.close()
    shown = await forum.client.get(f"{V1}/threads/{thread_id}")  # and cached, if it is
    assert (await shown.json())["thread"]["post_count"] == 7
    result = await asyncio.to_thread(vigie, *run, "check")
    assert result.returncode == 1
    assert f"counter threads.post_count of #{thread_id} is 7, should be 2" in result.stdout
    repaired = await asyncio.to_thread(vigie, *run, "check", "--repair")
    assert repaired.returncode == 0, repaired.stdout
    assert (await asyncio.to_thread(vigie, *run, "check")).stdout.strip() == "ok"
    await asyncio.sleep(0.5)  # the repair's notification reaches this server's listener
    response = await forum.client.get(f"{V1}/threads/{thread_id}")
    assert (await response.json())["thread"]["post_count"] == 2
    store = forum.app[keys.UPLOADER].store
    store.storage.remove(store.key(upload["sha256"]))
    result = await asyncio.to_thread(vigie, *run, "check")
    assert result.returncode == 1
    assert f"missing file {upload['sha256']}" in result.stdout
