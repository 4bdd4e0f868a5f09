"""City boards: created and renamed by admins from the web and the command line."""
from __future__ import annotations

import asyncio
import os
import sys

import pytest

from tests.conftest import PASSWORD, log_in, submit

pytestmark = pytest.mark.both_stores


async def test_admin_creates_and_renames_a_board(forum, client):
    await forum.user("admin", role="admin")
    await log_in(client, "admin")
    created = await submit(client, "/admin/boards", {
        "name": "Saint-Étienne", "slug": "", "region": "Loire (42)",
        "description": "Capteurs sonores et caméras."})
    assert created.status == 303 and created.headers["Location"] == "/b/saint-etienne"
    renamed = await submit(client, "/admin/boards/saint-etienne", {
        "name": "Saint-Étienne Métropole", "slug": "saint-etienne-metropole",
        "region": "Loire (42)", "description": ""})
    assert renamed.headers["Location"] == "/b/saint-etienne-metropole"
    old = await client.get("/b/saint-etienne", allow_redirects=False)
    assert old.status == 301 and old.headers["Location"] == "/b/saint-etienne-metropole"
    assert "Saint-Étienne Métropole" in await (await client.get("/")).text()


async def test_board_slug_conflicts_and_bad_names(forum, client):
    await forum.user("admin", role="admin")
    await forum.board("Metz")
    await log_in(client, "admin")
    taken = await submit(client, "/admin/boards", {"name": "Metz", "slug": "metz"})
    assert taken.status == 409
    empty = await submit(client, "/admin/boards", {"name": "  ", "slug": ""})
    assert empty.status == 422
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from boards") == 1


async def test_members_and_visitors_do_not_see_the_administration(forum, client):
    await forum.user("lea")
    assert (await client.get("/admin/boards", allow_redirects=False)).status == 303
    await log_in(client, "lea")
    assert (await client.get("/admin/boards")).status == 404
    response = await submit(client, "/admin/boards", {"name": "Lyon"}, form_page="/")
    assert response.status == 404


async def run_cli(data_dir, *args: str, stdin: str = "") -> tuple[int, str, str]:
    env = {**os.environ, "FORUM_DATA_DIR": str(data_dir)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "forum", *args, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_command_line_manages_members_boards_and_tokens(tmp_path):
    data = tmp_path / "data"
    code, out, _ = await run_cli(data, "init")
    assert code == 0 and (data / "forum.sqlite3").exists()
    code, out, _ = await run_cli(data, "user", "add", "admin", "--role", "admin",
                                 "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0 and "admin" in out
    code, _, err = await run_cli(data, "user", "add", "ADMIN", "--password-stdin",
                                 stdin=PASSWORD + "\n")
    assert code == 1 and "error" in err
    code, out, _ = await run_cli(data, "board", "add", "Montpellier", "--region", "Hérault")
    assert code == 0 and "/b/montpellier" in out
    code, out, _ = await run_cli(data, "board", "rename", "montpellier", "Montpellier (34)")
    assert code == 0
    code, out, _ = await run_cli(data, "board", "list")
    assert "Montpellier (34)" in out
    code, out, _ = await run_cli(data, "token", "create", "admin")
    assert code == 0 and out.strip().startswith("vigie_")
    code, out, _ = await run_cli(data, "user", "logout", "admin")
    assert code == 0
    code, out, _ = await run_cli(data, "rerender")
    assert code == 0
