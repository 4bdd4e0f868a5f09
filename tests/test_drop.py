"""The drop for sources (issue 18): sent without an account, read only by the city's moderators,
followed up with a code, and nothing kept or logged that could name the sender."""
from __future__ import annotations

import asyncio
import logging
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from forum import keys
from forum.app import create_app
from forum.config import Config, ConfigError
from forum.models import drops, moderation, users
from forum.views import drops as drop_views
from tests.conftest import Forum, column_names, csrf_token, database_text, log_in, submit
from tests.storages import STORAGES, in_bucket, storage_url, stored_copy, stored_keys
from tests.test_availability import full_disk_for_the_cleaned_copy
from tests.test_browser import new_context
from tests.test_uploads import EXIFTOOL, jpeg_with_gps

pytestmark = pytest.mark.both_stores
POSTGRESQL_STORAGES = ("bucket",)  # a PostgreSQL site's servers share files in a bucket

CODE = re.compile(r'id="drop-code">([A-Z2-7-]+)<')
DROP_TABLES = ("drops", "drop_messages", "drop_files")
SECRET = "Le marché des caméras piétons signé par Dupont"
AGENT = "SourceBrowser/9.9 (identifying)"
FORWARDED = "203.0.113.77"

@pytest.fixture(params=STORAGES)
def files_url(request: pytest.FixtureRequest) -> str:
    """Every test here runs with files in the data folder, then in a bucket."""
    return storage_url(request)


def drop_file(forum: Forum, sha256: str) -> Path:
    """A drop's stored file, as a local path (a copy when it is in a bucket)."""
    return stored_copy(forum.app, forum.app[keys.DROP_STORE].key(sha256))



async def send_drop(client: TestClient, slug: str | None = None, message: str = SECRET,
                    files: list[tuple[str, bytes, str]] = (), city: str | None = None,
                    answer: str | None = None, headers: dict[str, str] | None = None):
    """Send the drop form as a browser does: multipart, the token first."""
    page = f"/b/{slug}/deposer" if slug else "/deposer"
    token = await csrf_token(client, page)
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    if city is not None:
        form.add_field("city", city)
    form.add_field("message", message)
    if answer is not None:
        form.add_field("answer", answer)
    for name, data, content_type in files:
        form.add_field("files", data, filename=name, content_type=content_type)
    if not files:  # a browser sends the files part even when none is chosen
        form.add_field("files", b"", filename="", content_type="application/octet-stream")
    return await client.post(page, data=form, headers=headers or {})


async def code_of(response) -> str:
    html = await response.text()
    assert response.status == 200, html
    match = CODE.search(html)
    assert match, "no code on the page"
    return match.group(1)


async def follow(client: TestClient, code: str, **fields: str):
    return await submit(client, "/deposer/suivi", {"code": code, **fields})


async def rows_of(forum: Forum) -> dict[str, list[tuple]]:
    async with forum.db.read() as conn:
        return {table: [tuple(row) for row in await conn.all(f"select * from {table}")]
                for table in DROP_TABLES}


async def only_drop(forum: Forum) -> drops.Drop:
    async with forum.db.read() as conn:
        items = await drops.list_for_boards(conn, None)
    assert len(items) == 1
    return items[0]


async def moderator_of(forum: Forum, board, name: str) -> users.User:
    member = await forum.user(name)
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, board, member)
    return member


# What is kept --------------------------------------------------------------------------------

async def test_drop_rows_hold_no_address_agent_or_time(forum):
    board = await forum.board("Metz", slug="metz")
    response = await send_drop(forum.client, "metz", files=[("plan.jpg", jpeg_with_gps(),
                                                              "image/jpeg")],
                               headers={"User-Agent": AGENT, "X-Forwarded-For": FORWARDED})
    await code_of(response)
    rows = await rows_of(forum)
    assert all(rows[table] for table in DROP_TABLES), rows
    stored = repr(rows)
    for trace in ("127.0.0.1", "::1", AGENT, "SourceBrowser", FORWARDED):
        assert trace not in stored
    assert not re.search(r"\d\d:\d\d", stored), "a time of day is stored"
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    drop = await only_drop(forum)
    assert (drop.board_id, drop.day) == (board.id, today)
    async with forum.db.read() as conn:
        columns = {table: await column_names(conn, table) for table in DROP_TABLES}
    assert columns["drops"] == ["id", "board_id", "code_hash", "day"]
    assert "day" in columns["drop_messages"] and "created_at" not in columns["drop_messages"]
    # Nor anywhere else in the database: the visitor left no address in any table (on SQLite,
    # in any byte of its files; PostgreSQL's are the server's, read through its tables).
    if not forum.config.database_url:
        database = forum.config.db_path.read_bytes() + (
            forum.config.db_path.with_name("forum.sqlite3-wal").read_bytes())
    else:
        database = (await database_text(forum.db)).encode()
    assert b"127.0.0.1" not in database and FORWARDED.encode() not in database
    # The stored files' own times tell nothing either (in the data folder; a bucket keeps its
    # own, see the README).
    async with forum.db.read() as conn:
        stored = [drop_file(forum, sha) for f in await drops.files(conn, drop.id)
                  for sha in (f.sha256, f.thumbnail_sha256) if sha]
    assert len(stored) == 2 and all(path.is_file() for path in stored)
    assert in_bucket(forum.app) or all(path.stat().st_mtime == 0 for path in stored)


async def test_the_code_is_stored_only_as_its_hash(forum):
    await forum.board("Metz", slug="metz")
    code = await code_of(await send_drop(forum.client, "metz"))
    letters = code.replace("-", "")
    assert len(letters) == drops.CODE_LENGTH and len(set(letters)) > 8
    assert letters not in repr(await rows_of(forum)) and code not in repr(await rows_of(forum))


async def test_a_drop_writes_no_log_line_with_the_address(forum, caplog):
    await forum.board("Metz", slug="metz")
    caplog.set_level(logging.DEBUG)
    await forum.client.get("/")
    # The test server's access log is on: the check below is not blind.
    assert any("127.0.0.1" in record.getMessage() for record in caplog.records)
    caplog.clear()
    code = await code_of(await send_drop(forum.client, "metz",
                                         headers={"User-Agent": AGENT}))
    await forum.client.get("/deposer")
    await follow(forum.client, code)
    await follow(forum.client, code, action="reply", message="Merci.")
    await follow(forum.client, "WRONG-CODE")
    lines = [record.getMessage() for record in caplog.records]
    lines += [str(getattr(record, "first_request_line", "")) for record in caplog.records]
    assert not [line for line in lines if "127.0.0.1" in line or AGENT in line
                or "deposer" in line], lines


async def test_a_malformed_request_is_logged_without_the_address(forum, caplog):
    """aiohttp's server logs what it cannot parse, before any route is known, "from" the
    client: not its address."""
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection(forum.client.host, forum.client.port)
    writer.write(b"POST /deposer HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    await writer.drain()
    assert b" 400 " in await reader.read(1000)
    writer.close()
    logged = [record for record in caplog.records if record.name == "aiohttp.server"]
    assert logged, "aiohttp did not log the malformed request: the check below is blind"
    assert not [r for r in caplog.records if "127.0.0.1" in r.getMessage()]


# The sender's code ---------------------------------------------------------------------------

async def test_the_code_reads_only_its_own_drop_and_never_goes_in_a_url(forum):
    metz = await forum.board("Metz", slug="metz")
    lea = await moderator_of(forum, metz, "lea")
    first = await code_of(await send_drop(forum.client, "metz", message="Premier dépôt"))
    other = await forum.visitor()
    second = await code_of(await send_drop(other, "metz", message="Second dépôt"))
    assert first != second
    page = await (await follow(forum.client, first)).text()
    assert "Premier dépôt" in page and "Second dépôt" not in page
    # The follow-up page never shows a drop for a code in its address.
    response = await forum.client.get(f"/deposer/suivi?code={first}")
    assert "Premier dépôt" not in await response.text()

    moderator = await forum.visitor()
    await log_in(moderator, lea.name)
    drop_id = (await only_first(forum, "Premier dépôt")).id
    answer = await submit(moderator, f"/moderation/drops/{drop_id}/answer",
                          {"message": "Reçu, merci : pouvez-vous préciser la date ?"},
                          form_page=f"/moderation/drops/{drop_id}")
    assert answer.status == 303
    page = await (await follow(forum.client, first)).text()
    assert "pouvez-vous préciser la date" in page and lea.name not in page
    assert "pouvez-vous préciser" not in await (await follow(other, second)).text()
    reply = await follow(forum.client, first, action="reply", message="Le 3 mars.")
    assert reply.status == 200 and "Le 3 mars." in await reply.text()
    assert "Le 3 mars." in await (await moderator.get(f"/moderation/drops/{drop_id}")).text()
    listing = await (await moderator.get("/moderation/drops")).text()
    assert listing.count('class="badge">en attente de réponse') == 2  # both sources wrote last
    assert "2 en attente de réponse" in listing  # the tab's count


async def only_first(forum: Forum, text: str) -> drops.Drop:
    async with forum.db.read() as conn:
        for drop in await drops.list_for_boards(conn, None):
            if any(m.body == text for m in await drops.messages(conn, drop.id)):
                return drop
    raise AssertionError(text)


async def test_wrong_codes_are_rate_limited(forum):
    await forum.board("Metz", slug="metz")
    code = await code_of(await send_drop(forum.client, "metz"))
    for attempt in range(forum.config.drop_code_attempts):
        wrong = await follow(forum.client, f"AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-{attempt:04d}")
        assert wrong.status == 422
        assert SECRET not in await wrong.text()
    blocked = await follow(forum.client, code)
    assert blocked.status == 429 and SECRET not in await blocked.text()


# Who sees a drop -----------------------------------------------------------------------------

async def test_only_the_citys_moderators_see_a_drop(forum):
    metz = await forum.board("Metz", slug="metz")
    nancy = await forum.board("Nancy", slug="nancy")
    await moderator_of(forum, metz, "lea")
    await moderator_of(forum, nancy, "karim")
    await forum.user("membre", trusted=True)
    await forum.user("globale", role="moderator")
    await send_drop(forum.client, "metz", files=[("note.txt", b"Note interne Serpenoise\n",
                                                  "text/plain")])
    drop = await only_drop(forum)
    async with forum.db.read() as conn:
        file_id = (await drops.files(conn, drop.id))[0].id
    pages = (f"/moderation/drops/{drop.id}", f"/moderation/drops/{drop.id}/files/{file_id}")
    for name in ("karim", "membre", None):
        client = await forum.visitor()
        if name:
            await log_in(client, name)
        for path in pages:
            assert (await client.get(path, allow_redirects=False)).status == 404, (name, path)
        listing = await client.get("/moderation/drops", allow_redirects=False)
        assert listing.status == 404 or SECRET not in await listing.text()
        token = await csrf_token(client, "/") if name else await csrf_token(client, "/login")
        for action in ("answer", "delete"):
            response = await client.post(f"/moderation/drops/{drop.id}/{action}",
                                         data={"csrf_token": token, "message": "x"})
            assert response.status == 404, (name, action)
        # Never public: not in search, feeds or the board.
        for path in ("/search?q=Serpenoise", "/search?q=Dupont", "/feed.atom", "/b/metz",
                     "/b/metz/feed.atom"):
            text = await (await client.get(path)).text()
            assert "Note interne" not in text and SECRET not in text, path
    for name in ("lea", "globale"):
        client = await forum.visitor()
        await log_in(client, name)
        assert SECRET in await (await client.get(f"/moderation/drops/{drop.id}")).text()
        assert f"/moderation/drops/{drop.id}" in await (await client.get(
            "/moderation/drops")).text()
        served = await client.get(pages[1])
        assert served.status == 200 and b"Serpenoise" in await served.read()
        assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    async with forum.db.read() as conn:  # the moderators are told of a drop, by its city only
        told = await conn.all("select users.name, kind, text from notifications"
                              " join users on users.id = notifications.user_id order by 1")
    assert [tuple(row) for row in told] == [("globale", "drop", "Metz"), ("lea", "drop", "Metz")]


async def test_the_queue_has_a_drops_tab_for_moderators(forum):
    metz = await forum.board("Metz", slug="metz")
    lea = await moderator_of(forum, metz, "lea")
    await log_in(forum.client, lea.name)
    page = await (await forum.client.get("/moderation")).text()
    assert 'href="/moderation/drops"' in page and "en attente de réponse" not in page
    await send_drop(await forum.visitor(), "metz")
    page = await (await forum.client.get("/moderation")).text()
    assert "1 en attente de réponse" in page


# Publishing, deleting, expiring --------------------------------------------------------------

async def test_publishing_a_file_reattaches_it_and_keeps_the_message_private(forum):
    metz = await forum.board("Metz", slug="metz")
    lea = await moderator_of(forum, metz, "lea")
    thread_id, _ = await forum.thread(metz, lea, "Vidéoprotection : le marché de 2024")
    await send_drop(forum.client, "metz", files=[("plan.jpg", jpeg_with_gps(), "image/jpeg")])
    drop = await only_drop(forum)
    async with forum.db.read() as conn:
        dropped = (await drops.files(conn, drop.id))[0]
    stored = drop_file(forum, dropped.sha256)
    tags = subprocess.run([EXIFTOOL, "-a", "-G1", str(stored)], capture_output=True,
                          text=True, check=True).stdout
    assert "GPS" not in tags and "Canon" not in tags  # cleaned as attachments are
    moderator = await forum.visitor()
    await log_in(moderator, lea.name)
    response = await submit(moderator, f"/moderation/drops/{drop.id}/files/{dropped.id}/publish",
                            {"thread": str(thread_id), "body": "Un document reçu : le plan."},
                            form_page=f"/moderation/drops/{drop.id}")
    assert response.status == 303, await response.text()
    post_id = int(response.headers["Location"].rpartition("/")[2])
    reader = await forum.visitor()
    page = await (await reader.get(f"/t/{thread_id}")).text()
    assert "Un document reçu" in page and "plan.jpg" in page and SECRET not in page
    link = re.search(r'href="(/files/\d+/plan\.jpg)"', page)
    assert link, page
    served = await reader.get(link.group(1))
    assert served.status == 200 and await served.read() == stored.read_bytes()
    # Shown in its post as any photo, from its smaller copies (issue 16).
    upload_id = link.group(1).split("/")[2]
    assert f'href="/photos/{upload_id}"' in page
    assert (await reader.get(f"/files/{upload_id}/sizes/300")).status == 200
    async with forum.db.read() as conn:
        assert (await drops.files(conn, drop.id))[0].published_post_id == post_id
        author = await conn.value("select author_id from posts where id = ?", (post_id,))
    assert author == lea.id
    # The drop itself can go: the published copy stays with its post.
    await submit(moderator, f"/moderation/drops/{drop.id}/delete", {},
                 form_page=f"/moderation/drops/{drop.id}")
    assert (await reader.get(link.group(1))).status == 200


async def test_publishing_in_a_thread_of_another_city_is_refused(forum):
    metz = await forum.board("Metz", slug="metz")
    nancy = await forum.board("Nancy", slug="nancy")
    lea = await moderator_of(forum, metz, "lea")
    other_thread, _ = await forum.thread(nancy, await forum.user(), "Nancy")
    await send_drop(forum.client, "metz", files=[("n.txt", b"texte\n", "text/plain")])
    drop = await only_drop(forum)
    async with forum.db.read() as conn:
        dropped = (await drops.files(conn, drop.id))[0]
    await log_in(forum.client, lea.name)
    response = await submit(forum.client,
                            f"/moderation/drops/{drop.id}/files/{dropped.id}/publish",
                            {"thread": str(other_thread), "body": "x"},
                            form_page=f"/moderation/drops/{drop.id}")
    assert response.status == 422
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from post_attachments") == 0


async def test_deleting_a_drop_erases_rows_and_files(forum):
    metz = await forum.board("Metz", slug="metz")
    lea = await moderator_of(forum, metz, "lea")
    code = await code_of(await send_drop(forum.client, "metz",
                                         files=[("n.txt", b"Serpenoise\n", "text/plain")]))
    drop = await only_drop(forum)
    async with forum.db.read() as conn:
        sha = (await drops.files(conn, drop.id))[0].sha256
    assert drop_file(forum, sha).is_file()
    moderator = await forum.visitor()
    await log_in(moderator, lea.name)
    response = await submit(moderator, f"/moderation/drops/{drop.id}/delete", {},
                            form_page=f"/moderation/drops/{drop.id}")
    assert response.status == 303
    assert await rows_of(forum) == {table: [] for table in DROP_TABLES}
    assert not drop_file(forum, sha).exists()
    assert (await moderator.get(f"/moderation/drops/{drop.id}")).status == 404
    assert (await follow(forum.client, code)).status == 422


async def test_drops_are_erased_after_drop_days(forum):
    await forum.board("Metz", slug="metz")
    await send_drop(forum.client, "metz", message="ancien",
                    files=[("a.txt", b"ancien\n", "text/plain")])
    await send_drop(forum.client, "metz", message="limite")
    days = forum.config.drop_days
    old = (datetime.now(UTC) - timedelta(days=days + 1)).strftime("%Y-%m-%d")
    limit = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%d")
    ancient = await only_first(forum, "ancien")
    async with forum.db.read() as conn:
        sha = (await drops.files(conn, ancient.id))[0].sha256
    async with forum.db.transaction() as tx:
        await tx.execute("update drops set day = ? where id = ?", (old, ancient.id))
        await tx.execute("update drops set day = ? where id != ?", (limit, ancient.id))
    assert await drop_views.expire(forum.app) == 1
    async with forum.db.read() as conn:
        left = await drops.list_for_boards(conn, None)
        assert [d.day for d in left] == [limit]
        assert await conn.value("select count(*) from drop_messages where drop_id = ?",
                                (ancient.id,)) == 0
    assert not drop_file(forum, sha).exists()


# Abuse ---------------------------------------------------------------------------------------

async def test_drops_per_hour_are_limited_per_address(forum):
    await forum.board("Metz", slug="metz")
    for _ in range(forum.config.drops_per_hour):
        await code_of(await send_drop(forum.client, "metz"))
    response = await send_drop(forum.client, "metz")
    assert response.status == 429
    assert len((await rows_of(forum))["drops"]) == forum.config.drops_per_hour


@pytest.fixture
async def strict_client(aiohttp_client, tmp_path, database_url) -> TestClient:
    """A site whose admins ask a question, with a small size cap."""
    config = Config.from_env(env={}, data_dir=tmp_path / "strict", database_url=database_url,
                             drop_question="Quelle rivière traverse Metz ?",
                             drop_answer="Moselle|la Moselle", drop_max_bytes=4000)
    client = await aiohttp_client(create_app(config))
    helper = Forum(client.server.app, client)
    await helper.board("Metz", slug="metz")
    return client


async def count_drops(client: TestClient) -> int:
    async with client.server.app[keys.DB].read() as conn:
        return await conn.value("select count(*) from drops")


async def test_the_admins_question_must_be_answered(strict_client):
    page = await (await strict_client.get("/deposer")).text()
    assert "Quelle rivière traverse Metz ?" in page
    wrong = await send_drop(strict_client, city="metz", answer="la Seine")
    assert wrong.status == 422 and SECRET in await wrong.text()  # the message is kept
    assert await count_drops(strict_client) == 0
    await code_of(await send_drop(strict_client, city="metz", answer="  LA   MOSÉLLE "))
    assert await count_drops(strict_client) == 1


def test_a_question_without_an_answer_is_refused_at_start():
    with pytest.raises(ConfigError, match="FORUM_DROP_ANSWER"):
        Config.from_env(env={"FORUM_DROP_QUESTION": "Quelle rivière traverse Metz ?"})
    with pytest.raises(ConfigError, match="FORUM_DROP_DAYS"):
        Config.from_env(env={"FORUM_DROP_DAYS": "0"})


async def test_a_drop_over_the_size_cap_is_refused(strict_client):
    big = [("a.txt", b"a" * 3000 + b"\n", "text/plain"), ("b.txt", b"b" * 3000 + b"\n",
                                                          "text/plain")]
    response = await send_drop(strict_client, city="metz", answer="Moselle", files=big)
    assert response.status == 413
    assert await count_drops(strict_client) == 0
    store = strict_client.server.app[keys.DROP_STORE]
    assert [p for p in store.tmp.parent.rglob("*") if p.is_file()] == []


async def test_a_refused_file_refuses_the_drop(forum):
    await forum.board("Metz", slug="metz")
    response = await send_drop(forum.client, "metz",
                               files=[("page.html", b"<html><script>x</script>", "text/html")])
    assert response.status == 422
    assert "page.html" in await response.text()
    assert await rows_of(forum) == {table: [] for table in DROP_TABLES}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
async def test_a_drop_that_meets_a_full_disk_answers_503_and_keeps_nothing(forum, monkeypatch):
    await forum.board("Metz", slug="metz")
    full_disk_for_the_cleaned_copy(monkeypatch)
    response = await send_drop(forum.client, "metz", files=[("n.txt", b"Note.\n", "text/plain")])
    assert response.status == 503 and "Retry-After" in response.headers
    monkeypatch.undo()
    assert await rows_of(forum) == {table: [] for table in DROP_TABLES}
    store = forum.app[keys.DROP_STORE]
    assert [p for p in store.tmp.parent.rglob("*") if p.is_file() or p.is_symlink()] == []
    assert stored_keys(forum.app, "drops/") == []


async def test_an_unknown_city_or_an_empty_drop_is_refused(forum):
    await forum.board("Metz", slug="metz")
    assert (await forum.client.get("/b/nowhere/deposer")).status == 404
    assert (await send_drop(forum.client, city="nowhere")).status == 422
    assert (await send_drop(forum.client, "metz", message="  ")).status == 422
    assert await rows_of(forum) == {table: [] for table in DROP_TABLES}


# The pages -----------------------------------------------------------------------------------

async def test_drop_pages_need_no_script_and_fetch_nothing_elsewhere(forum):
    await forum.board("Metz", slug="metz")
    code = await code_of(await send_drop(forum.client, "metz"))
    pages = [await forum.client.get("/deposer"), await forum.client.get("/b/metz/deposer"),
             await follow(forum.client, code)]
    for response in pages:
        html = await response.text()
        assert "<script" not in html and "@font-face" not in html
        assert not re.search(r'(src|href|action)="(https?:)?//', html), html
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    text = await pages[0].text()
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)
    assert sheets
    for sheet in sheets:
        css = await (await forum.client.get(sheet)).text()
        assert "@font-face" not in css and "url(" not in css  # no web font, nothing fetched
    assert "Tor Browser" in text and ("adresse IP" in text or "IP address" in text)


async def test_city_pages_link_to_the_drop(forum):
    await forum.board("Metz", slug="metz")
    for path in ("/b/metz", "/b/metz/watch"):
        assert 'href="/b/metz/deposer"' in await (await forum.client.get(path)).text()


# In a browser without JavaScript -------------------------------------------------------------

@pytest.mark.browser
async def test_a_source_sends_a_drop_and_reads_the_answer_without_javascript(
        browser, site, forum, tmp_path):
    metz = await forum.board("Metz", slug="metz")
    lea = await moderator_of(forum, metz, "lea")
    document = tmp_path / "compte-rendu.txt"
    document.write_text("Réunion du CSU : 12 caméras de plus.\n", encoding="utf-8")
    context = await new_context(browser, site, javascript=False)
    page = await context.new_page()
    await page.goto("/b/metz")
    await page.get_by_role("link", name=re.compile("modérateurs|moderators")).click()
    await page.get_by_label(re.compile("^(Message)$")).fill("Voici le compte rendu.")
    await page.get_by_label(re.compile("^(Fichiers|Files)$")).set_input_files(str(document))
    await page.get_by_role("button", name=re.compile("Envoyer|Send")).click()
    code = await page.locator("#drop-code").inner_text()
    assert len(code.replace("-", "")) == drops.CODE_LENGTH
    assert code not in page.url

    moderator = await forum.visitor()
    await log_in(moderator, lea.name)
    drop = await only_drop(forum)
    await submit(moderator, f"/moderation/drops/{drop.id}/answer",
                 {"message": "Merci, bien reçu."}, form_page=f"/moderation/drops/{drop.id}")

    await page.goto("/deposer/suivi")
    await page.get_by_label(re.compile("code", re.I)).fill(code)
    await page.get_by_role("button", name=re.compile("Lire|Read")).click()
    await expect(page.get_by_role("main")).to_contain_text("Merci, bien reçu.")
    await expect(page.get_by_role("main")).to_contain_text("compte-rendu.txt")
    assert code not in page.url
    await page.get_by_label(re.compile("Répondre|Reply")).fill("Il y en aura d'autres.")
    await page.get_by_role("button", name=re.compile("Envoyer la réponse|Send the reply")).click()
    await expect(page.get_by_role("main")).to_contain_text("Il y en aura d'autres.")
    await context.close()
