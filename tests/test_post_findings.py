"""Findings seen from the forum: a post shows what was drawn from it; the demo's record."""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from forum import demo
from forum.config import Config
from forum.models import boards
from tests.conftest import log_in

pytestmark = pytest.mark.both_stores


async def test_a_post_shows_the_findings_drawn_from_it(forum, client):
    board = await forum.board("Metz", "metz")
    author = await forum.user("bastien")
    thread_id, post_id = await forum.thread(board, author, body="148 caméras en 2020.")
    visitor = await forum.visitor()
    before = await (await visitor.get(f"/t/{thread_id}")).text()
    assert "post-findings" not in before
    finding_id = await forum.finding(board, author, post_id, quantity="148", observed="2020")
    page = await (await visitor.get(f"/t/{thread_id}")).text()  # the cached page was dropped
    assert f'href="/f/{finding_id}"' in page and "148" in page


async def test_a_pending_finding_is_not_shown_under_its_post_to_others(forum):
    board = await forum.board("Metz", "metz")
    author, newcomer = await forum.user(), await forum.user("nouveau", trusted=False)
    thread_id, post_id = await forum.thread(board, author)
    finding_id = await forum.finding(board, newcomer, post_id, review="pending")
    visitor = await forum.visitor()
    assert f"/f/{finding_id}" not in await (await visitor.get(f"/t/{thread_id}")).text()
    await log_in(visitor, "nouveau")
    assert f"/f/{finding_id}" in await (await visitor.get(f"/t/{thread_id}")).text()


async def test_members_add_a_public_post_of_a_city_to_the_record(forum, client):
    city = await forum.board("Metz", "metz")
    async with forum.db.transaction() as tx:
        national = await boards.create(tx, "Général", "general", is_city=False)
    author = await forum.user("lea")
    city_thread, city_post = await forum.thread(city, author)
    national_thread, _post = await forum.thread(national, author)
    link = f'href="/b/metz/watch/new?post={city_post}"'
    assert link not in await (await client.get(f"/t/{city_thread}")).text()  # visitors
    await log_in(client, "lea")
    assert link in await (await client.get(f"/t/{city_thread}")).text()
    assert "/watch/new" not in await (await client.get(f"/t/{national_thread}")).text()


def test_the_demo_record_holds_metz_cameras_timeline_with_sources(tmp_path):
    config = Config(data_dir=tmp_path / "demo")
    demo.build(config)
    conn = sqlite3.connect(config.db_path)
    cameras = conn.execute(
        "select quantity, observed from findings join boards on boards.id = board_id"
        " join finding_kinds on finding_kinds.id = kind_id where boards.slug = 'metz'"
        " and finding_kinds.slug = 'cameras' and unit = 'count' and status <> 'planned'"
        " and review = 'published' order by observed").fetchall()
    assert [quantity for quantity, _observed in cameras] == [35, 72, 128, 148]
    cities = {row[0] for row in conn.execute(
        "select boards.slug from findings join boards on boards.id = board_id")}
    assert {"metz", "saint-etienne", "montpellier"} <= cities
    unsourced = conn.execute(
        "select count(*) from findings where id not in (select finding_id from finding_sources"
        " where kind in ('post', 'file'))").fetchone()[0]
    pending = conn.execute("select count(*) from findings where review = 'pending'").fetchone()
    # The newcomer's, sourced by a link only, and the populations (INSEE's site).
    assert unsourced == 1 + len(demo.POPULATIONS) and pending[0] == 1
    assert conn.execute("select is_city from boards where slug = 'general'").fetchone() == (0,)
    journal = conn.execute("select count(*) from moderation_log where target_kind = 'finding'"
                           " and action = 'approve'").fetchone()[0]
    assert journal > 0
    published = conn.execute("select count(*) from findings where review = 'published'")
    # Every demo figure passed the rules.
    assert published.fetchone()[0] == len(demo.FINDINGS) + len(demo.POPULATIONS)



async def test_a_profile_lists_the_member_findings_others_may_see(forum, client):
    board = await forum.board("Metz", "metz")
    newcomer = await forum.user("nouveau", trusted=False)
    public_id = await forum.finding(board, newcomer, quantity="72", observed="2014-11")
    pending_id = await forum.finding(board, newcomer, review="pending", quantity="4")
    page = await (await client.get("/u/nouveau")).text()
    assert f'href="/f/{public_id}"' in page and f"/f/{pending_id}" not in page
    await log_in(client, "nouveau")
    page = await (await client.get("/u/nouveau")).text()
    assert f'href="/f/{public_id}"' in page and f'href="/f/{pending_id}"' in page



def test_the_demo_is_built_and_served_from_its_folder_whatever_the_shell_names(tmp_path):
    """A FORUM_DATABASE_URL or FORUM_FILES_URL left in the shell (a PostgreSQL site's) is not
    the demo's: `vigie demo` builds SQLite in its own folder and serves that."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")} | {
        "FORUM_DATABASE_URL": "postgresql://site@/production?host=/nowhere",
        "FORUM_FILES_URL": "s3://production-files/site?endpoint=http://127.0.0.1:9"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "forum", "--data-dir", str(tmp_path / "demo"), "demo",
         "--port", str(port)], cwd=Path(__file__).resolve().parent.parent, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline, page = time.monotonic() + 120, ""
        while time.monotonic() < deadline and server.poll() is None and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    page = answer.read().decode()
            except OSError:
                time.sleep(0.5)
        assert "Metz" in page, server.stderr.read1().decode() if server.poll() else "no page"
    finally:
        server.terminate()
        server.wait(timeout=30)
    conn = sqlite3.connect(tmp_path / "demo" / "forum.sqlite3")
    assert conn.execute("select count(*) from posts").fetchone()[0] > 20
