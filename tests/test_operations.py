"""Backup, restore, check and /healthz, through the real CLI beside the real server."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from forum import backup, keys, logs
from forum.app import create_app
from forum.config import Config
from forum.migrate import available
from forum.views.health import OUTBOX_STUCK

from .conftest import Forum
from .storages import new_bucket, on_both_storages
from .test_uploads import stored_path

pytestmark = pytest.mark.both_stores
# The backup, restore and check of a PostgreSQL site are another step of issue 19's.
SQLITE_TOOLS = pytest.mark.sqlite_only(reason="vigie backup, restore and check read SQLite's "
                                       "file (PostgreSQL's: tests/test_backup*.py, test_check*)")

ROOT = Path(__file__).resolve().parent.parent
V1 = "/api/v1"


@pytest.fixture
def config(tmp_path, files_url: str, database_url: str, monkeypatch) -> Config:
    """Limits raised: the tests write as fast as they can. The CLI gets the same files_url."""
    monkeypatch.setenv("FORUM_FILES_URL", files_url)
    return Config.from_env(env={}, data_dir=tmp_path / "data", database_url=database_url,
                           posts_per_minute=100_000,
                           uploads_per_minute=100_000, uploads_per_day=100_000,
                           files_url=files_url)


def vigie(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """The CLI as an operator runs it: a separate process."""
    return subprocess.run([sys.executable, "-m", "forum", "--data-dir", str(data_dir), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=_env())


async def vigie_async(data_dir: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "forum", "--data-dir", str(data_dir), *args, cwd=ROOT,
        env=_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


def _env() -> dict[str, str]:
    """No FORUM_* setting of the caller's, but the test's storage (the config fixture's)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("FORUM_") or k == "FORUM_FILES_URL"}


async def member_thread(forum: Forum) -> tuple[str, int]:
    """A member's API token and a thread of theirs to reply in."""
    member = await forum.user()
    thread_id, _ = await forum.thread(await forum.board(), member)
    return await forum.token(member), thread_id


async def post(forum: Forum, token: str, thread_id: int, body: str,
               file: bytes | None = None) -> tuple[int, dict | None]:
    """A reply through the API, with one attached text file; (post id, upload) once answered."""
    auth = {"Authorization": f"Bearer {token}"}
    upload = None
    if file is not None:
        form = aiohttp.FormData()
        form.add_field("file", file, filename="note.txt", content_type="text/plain")
        response = await forum.client.post(f"{V1}/uploads", data=form, headers=auth)
        assert response.status == 201, await response.text()
        upload = await response.json()
    response = await forum.client.post(
        f"{V1}/threads/{thread_id}/posts", headers=auth,
        json={"body": body, "attachments": [upload["id"]] if upload else []})
    assert response.status == 201, await response.text()
    return (await response.json())["id"], upload


@SQLITE_TOOLS
@on_both_storages
async def test_backup_under_writes_restores_every_acknowledged_post_and_file(
        forum: Forum, tmp_path, aiohttp_client, monkeypatch, s3_endpoint) -> None:
    member = await forum.user()
    token = await forum.token(member)
    board = await forum.board()
    thread_id, _ = await forum.thread(board, member)
    acknowledged: list[tuple[float, int, str, dict | None]] = []
    stop = asyncio.Event()

    async def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            body = f"Message {n} pendant la sauvegarde."
            file = f"Relevé {n}: {os.urandom(8).hex()}\n".encode() if n % 4 == 0 else None
            post_id, upload = await post(forum, token, thread_id, body, file)
            acknowledged.append((time.monotonic(), post_id, body, upload))

    task = asyncio.create_task(writer())
    while len(acknowledged) < 60:  # a site with some history
        await asyncio.sleep(0.05)
    started = time.monotonic()
    code, output = await vigie_async(forum.config.data_dir, "backup", str(tmp_path / "bk"),
                                     "--quiet")
    finished_with = len(acknowledged)
    await asyncio.sleep(0.3)
    stop.set()
    await task
    assert code == 0, output
    assert output == ""  # --quiet: nothing for cron to mail
    before = [entry for entry in acknowledged if entry[0] < started]
    assert finished_with > len(before), "no write was answered while the backup ran"

    restored = tmp_path / "restored"
    # Restored into a new, empty bucket: the files come from the backup, not the old bucket.
    files_url = new_bucket(s3_endpoint) if forum.config.files_url else ""
    monkeypatch.setenv("FORUM_FILES_URL", files_url)
    result = vigie(restored, "restore", str(tmp_path / "bk"))
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(restored / "forum.sqlite3")
    bodies = dict(conn.execute("select id, body_source from posts"))
    conn.close()
    for _, post_id, body, _ in before:
        assert bodies.get(post_id) == body
    # Open the restored site: every file acknowledged before the backup is served, same bytes.
    client: TestClient = await aiohttp_client(create_app(Config.from_env(
        env={}, data_dir=restored, files_url=files_url)))
    files = [upload for *_, upload in before if upload]
    assert files
    for upload in files:
        response = await client.get(upload["url"], headers={"Authorization": f"Bearer {token}"})
        assert response.status == 200
        assert await response.read() == stored_path(forum, upload["sha256"]).read_bytes()
    response = await client.get(f"{V1}/posts/{before[-1][1]}")
    assert (await response.json())["body_source"] == before[-1][2]
    assert vigie(restored, "check").returncode == 0


@SQLITE_TOOLS
@on_both_storages
async def test_backup_keeps_n_newest_and_writes_a_manifest(forum: Forum, tmp_path) -> None:
    token, thread_id = await member_thread(forum)
    _, upload = await post(forum, token, thread_id, "Avec un fichier.", b"Un texte.\n")
    dest = tmp_path / "bk"
    crashed = dest / ".partial-crashed"  # what a backup killed midway left
    crashed.mkdir(parents=True)
    a_day_ago = time.time() - 25 * 3600
    os.utime(crashed, (a_day_ago, a_day_ago))
    for _ in range(3):
        result = vigie(forum.config.data_dir, "backup", str(dest), "--keep", "2")
        assert result.returncode == 0, result.stderr
        assert "backup" in result.stderr  # the progress lines
    kept = backup.list_backups(dest)
    assert len(kept) == 2 and sorted(p.name for p in dest.iterdir()) == [p.name for p in kept]
    manifest = json.loads((kept[-1] / "manifest.json").read_text())
    assert manifest["schema_version"] == available()[-1][0]
    paths = {entry["path"]: entry for entry in manifest["files"]}
    sha = upload["sha256"]
    assert paths[f"files/{sha[:2]}/{sha[2:4]}/{sha}"]["sha256"] == sha
    assert manifest["database"]["sha256"] == backup.hash_file(kept[-1] / "forum.sqlite3")[1]


def test_backup_exit_codes(tmp_path) -> None:
    assert vigie(tmp_path / "none", "backup").returncode == 2  # usage: DEST missing
    assert vigie(tmp_path / "none", "backup", str(tmp_path / "bk"), "--keep", "0"
                 ).returncode == 2
    result = vigie(tmp_path / "none", "backup", str(tmp_path / "bk"))
    assert result.returncode == 1 and "No database" in result.stderr


async def _one_backup(forum: Forum, tmp_path) -> Path:
    token, thread_id = await member_thread(forum)
    await post(forum, token, thread_id, "Un message.", b"Contenu.\n")
    result = vigie(forum.config.data_dir, "backup", str(tmp_path / "bk"), "--quiet")
    assert result.returncode == 0, result.stderr
    return backup.list_backups(tmp_path / "bk")[-1]


@SQLITE_TOOLS
@on_both_storages
async def test_restore_refuses_a_live_or_non_empty_folder(forum: Forum, tmp_path) -> None:
    folder = await _one_backup(forum, tmp_path)
    live = forum.config.data_dir
    before = sorted(p.name for p in live.iterdir())
    result = vigie(live, "restore", str(folder))
    assert result.returncode == 1 and "not empty" in result.stderr
    assert sorted(p.name for p in live.iterdir()) == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("à moi")
    assert vigie(other, "restore", str(folder)).returncode == 1
    assert [p.name for p in other.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert vigie(empty, "restore", str(folder)).returncode == 0


@SQLITE_TOOLS
async def test_restore_refuses_a_newer_schema(forum: Forum, tmp_path) -> None:
    folder = await _one_backup(forum, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["schema_version"] = available()[-1][0] + 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = vigie(tmp_path / "new", "restore", str(folder))
    assert result.returncode == 1
    assert "newer Vigie" in result.stderr
    assert not (tmp_path / "new").exists()


@SQLITE_TOOLS
@on_both_storages
async def test_restore_checks_every_hash_before_writing(forum: Forum, tmp_path) -> None:
    folder = await _one_backup(forum, tmp_path)
    entry = json.loads((folder / "manifest.json").read_text())["files"][0]
    damaged = folder / entry["path"]
    damaged.write_bytes(damaged.read_bytes().replace(b"Contenu", b"Contenv"))
    result = vigie(tmp_path / "new", "restore", str(folder))
    assert result.returncode == 1 and "does not match" in result.stderr
    assert not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".restoring")] == []


@SQLITE_TOOLS
async def test_check_finds_a_missing_file_a_changed_file_and_an_orphan(
        forum: Forum, tmp_path) -> None:
    token, thread_id = await member_thread(forum)
    _, first = await post(forum, token, thread_id, "Un.", b"Premier fichier.\n")
    _, second = await post(forum, token, thread_id, "Deux.", b"Second fichier.\n")
    data = forum.config.data_dir
    assert vigie(data, "check").stdout.strip() == "ok"
    store = forum.app[keys.UPLOADER].store
    local = store.storage.local_path
    local(store.key(first["sha256"])).unlink()
    local(store.key(second["sha256"])).write_bytes(b"Second fichier, modifi\xc3\xa9.\n")
    orphan_sha = "ab" * 32
    orphan = local(store.key(orphan_sha))
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"nobody's")
    assert "orphan" not in vigie(data, "check").stdout  # may be an upload being placed
    an_hour_ago = time.time() - 3600
    os.utime(orphan, (an_hour_ago, an_hour_ago))
    result = vigie(data, "check")
    assert result.returncode == 1
    assert f"missing file {first['sha256']}" in result.stdout
    assert f"changed file {second['sha256']}" in result.stdout
    assert f"orphan file {orphan_sha}" in result.stdout
    repaired = vigie(data, "check", "--repair")
    assert f"orphan file {orphan_sha} moved" in repaired.stdout
    assert not orphan.exists()
    assert next(iter((data / "quarantine").rglob(orphan_sha))).read_bytes() == b"nobody's"
    assert repaired.returncode == 1  # the missing and changed files need a backup
    assert "orphan" not in vigie(data, "check").stdout


@SQLITE_TOOLS
async def test_check_repair_recomputes_counters(forum: Forum) -> None:
    member = await forum.user()
    board = await forum.board()
    thread_id, _ = await forum.thread(board, member)
    await forum.reply(thread_id, member)
    async with forum.db.transaction() as tx:
        await tx.execute("update threads set post_count = 7, last_post_at = '2000-01-01' "
                         "where id = ?", (thread_id,))
        await tx.execute("update boards set thread_count = 0, post_count = 40 where id = ?",
                         (board.id,))
        await tx.execute("update users set post_count = 99 where id = ?", (member.id,))
    data = forum.config.data_dir
    result = vigie(data, "check")
    assert result.returncode == 1
    assert f"counter threads.post_count of #{thread_id} is 7, should be 2" in result.stdout
    assert "counter boards.thread_count" in result.stdout
    assert "counter users.post_count" in result.stdout
    assert "threads.last_post_at" in result.stdout
    assert vigie(data, "check", "--repair").returncode == 0
    assert vigie(data, "check").stdout.strip() == "ok"
    response = await forum.client.get(f"{V1}/boards")
    shown = next(b for b in (await response.json())["boards"] if b["slug"] == board.slug)
    assert (shown["thread_count"], shown["post_count"]) == (1, 2)


# /healthz ----------------------------------------------------------------------------------


async def test_healthz_answers_ok_uncached(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.json() == {"status": "ok",
                                     "checks": {"database": "ok", "writer": "ok"}}


async def test_healthz_is_503_while_the_writer_is_stuck(forum: Forum) -> None:
    held, release = asyncio.Event(), asyncio.Event()

    async def stuck_write() -> None:
        async with forum.db.transaction():
            held.set()
            await release.wait()

    task = asyncio.create_task(stuck_write())
    await held.wait()
    response = await forum.client.get("/healthz")
    release.set()
    await task
    assert response.status == 503
    assert (await response.json())["checks"]["writer"] == "busy"
    assert (await forum.client.get("/healthz")).status == 200


async def test_healthz_is_503_when_mail_waits_too_long(tmp_path, aiohttp_client,
                                                        database_url) -> None:
    config = Config.from_env(env={}, data_dir=tmp_path / "data", database_url=database_url,
                             smtp_host="127.0.0.1",
                             smtp_port=9, mail_interval_seconds=3600)
    app = create_app(config)
    client = await aiohttp_client(app)
    assert (await (await client.get("/healthz")).json())["checks"]["outbox"] == "ok"
    old = time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                        time.gmtime(time.time() - OUTBOX_STUCK.total_seconds() - 60))
    async with app[keys.DB].transaction() as tx:
        await tx.execute(
            "insert into outbox (to_address, subject, text_body, created_at, next_attempt_at)"
            " values ('secret@example.org', 'Sujet privé', 'texte', ?, ?)", (old, old))
    response = await client.get("/healthz")
    assert response.status == 503
    text = await response.text()
    assert json.loads(text)["checks"]["outbox"] == "stuck"
    assert "secret@example.org" not in text and "privé" not in text


@SQLITE_TOOLS
@on_both_storages
async def test_backup_leaves_out_an_unattached_upload_purged_during_the_copy(
        forum: Forum, tmp_path, monkeypatch) -> None:
    """The only file that may vanish after the snapshot: an expired upload, never attached."""
    token, thread_id = await member_thread(forum)
    _, kept = await post(forum, token, thread_id, "Avec un fichier.", b"Garde-moi.\n")
    form = aiohttp.FormData()
    form.add_field("file", b"Jamais joint.\n", filename="brouillon.txt",
                   content_type="text/plain")
    response = await forum.client.post(f"{V1}/uploads", data=form,
                                       headers={"Authorization": f"Bearer {token}"})
    expired = await response.json()
    store = forum.app[keys.UPLOADER].store
    snapshot = backup._snapshot

    def snapshot_then_purge(db_path: Path, target: Path) -> None:
        snapshot(db_path, target)
        live = sqlite3.connect(db_path)
        with live:
            live.execute("delete from uploads where id = ?", (expired["id"],))
        live.close()
        store.storage.remove(store.key(expired["sha256"]))

    monkeypatch.setattr(backup, "_snapshot", snapshot_then_purge)
    folder, problems = backup.backup(forum.config.data_dir, tmp_path / "bk",
                                     storage=store.storage)
    assert problems == []
    copy = sqlite3.connect(folder / "forum.sqlite3")
    ids = {row[0] for row in copy.execute("select id from uploads")}
    copy.close()
    assert kept["id"] in ids and expired["id"] not in ids
    restored = tmp_path / "restored"
    backup.restore(folder, restored, storage=store.storage)
    assert vigie(restored, "check").stdout.strip() == "ok"


@SQLITE_TOOLS
@on_both_storages
async def test_backup_reports_a_missing_attached_file(forum: Forum, tmp_path) -> None:
    token, thread_id = await member_thread(forum)
    _, upload = await post(forum, token, thread_id, "Avec un fichier.", b"Perdu.\n")
    store = forum.app[keys.UPLOADER].store
    store.storage.remove(store.key(upload["sha256"]))
    result = vigie(forum.config.data_dir, "backup", str(tmp_path / "bk"), "--quiet")
    assert result.returncode == 1
    assert f"missing stored file {upload['sha256']}" in result.stderr
    assert "vigie check" in result.stderr
    assert len(backup.list_backups(tmp_path / "bk")) == 1  # the best copy there is, still made


# Logs --------------------------------------------------------------------------------------


def test_a_log_event_is_one_json_line_even_with_a_traceback() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        logs.configure(stream)
        try:
            raise ValueError("deux\nlignes")
        except ValueError:
            logging.getLogger("forum.test").exception("failed on %s", "/t/1")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert (event["level"], event["logger"], event["message"]) == ("error", "forum.test",
                                                                   "failed on /t/1")
    assert "ValueError: deux\nlignes" in event["error"]


def test_the_server_logs_json_lines(tmp_path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "forum", "--data-dir", str(tmp_path / "data"), "serve",
         "--port", str(port)], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()  # the first event: migrations applied
    finally:
        process.terminate()
        process.wait(timeout=30)
    event = json.loads(line)
    assert event["logger"] == "forum" and event["message"].startswith("applied migrations")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
