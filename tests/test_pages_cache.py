"""The page cache for visitors: shared only when safe, dropped by every write that shows."""
from __future__ import annotations

import asyncio

import pytest

from forum import keys
from forum.app import flush_views
from forum.headers import CONTENT_SECURITY_POLICY
from tests.conftest import log_in, submit

pytestmark = pytest.mark.both_stores


async def test_visitor_pages_carry_an_etag_and_answer_304(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    first = await client.get(f"/t/{thread_id}")
    etag = first.headers["ETag"]
    again = await client.get(f"/t/{thread_id}", headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


async def test_a_reply_shows_at_once_to_visitors(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    reader = await forum.visitor()
    etag = (await reader.get(f"/t/{thread_id}")).headers["ETag"]
    await (await reader.get(f"/b/{board.slug}")).text()
    await (await reader.get("/")).text()
    await log_in(client, "lea")
    await submit(client, f"/t/{thread_id}/reply", {"body": "Nouveau relevé : 72 caméras"},
                 form_page=f"/t/{thread_id}")
    page = await reader.get(f"/t/{thread_id}", headers={"If-None-Match": etag})
    assert page.status == 200 and "Nouveau relevé" in await page.text()
    listing = await (await reader.get(f"/b/{board.slug}")).text()
    assert ">2</td>" in listing  # the message count moved
    home = await (await reader.get("/")).text()
    assert "2 messages" in home


async def test_edits_deletions_and_renames_reach_cached_pages(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    await forum.user("admin", role="admin")
    thread_id, post_id = await forum.thread(board, lea, body="Version une")
    reader = await forum.visitor()
    assert "Version une" in await (await reader.get(f"/t/{thread_id}")).text()
    await log_in(client, "lea")
    await submit(client, f"/p/{post_id}/edit", {"body": "Version deux"})
    assert "Version deux" in await (await reader.get(f"/t/{thread_id}")).text()
    admin = await forum.visitor()
    await log_in(admin, "admin")
    await submit(admin, "/admin/boards/metz", {"name": "Metz-Métropole", "slug": "metz"})
    assert "Metz-Métropole" in await (await reader.get(f"/t/{thread_id}")).text()


async def test_member_pages_are_private_and_never_shared(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    await log_in(client, "lea")
    mine = await client.get(f"/t/{thread_id}")
    html = await mine.text()
    assert mine.headers["Cache-Control"] == "private, no-store"  # its validator is hers alone
    assert 'name="csrf_token"' in html
    reader = await forum.visitor()
    visitors = await reader.get(f"/t/{thread_id}")
    shared = await visitors.text()
    assert visitors.headers["ETag"] != mine.headers["ETag"]
    assert "csrf_token" not in shared and 'href="/u/lea"' in shared  # author link only
    assert "<textarea" not in shared


async def test_views_are_counted_in_memory_then_written(forum, client, app):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    for _ in range(3):
        await client.get(f"/t/{thread_id}")
    async with forum.db.read() as conn:
        assert await conn.value("select views from threads where id = ?", (thread_id,)) == 0
    assert app[keys.VIEWS][thread_id] == 3
    await flush_views(app)
    async with forum.db.read() as conn:
        assert await conn.value("select views from threads where id = ?", (thread_id,)) == 3
    assert ">3</td>" in await (await client.get(f"/b/{board.slug}")).text()


async def test_security_headers_on_every_page(forum, client):
    for path in ("/", "/login", "/t/404", "/static/css/vigie.css"):
        response = await client.get(path)
        if path.startswith("/static"):
            continue
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_get_never_changes_state(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    response = await client.get("/logout", allow_redirects=False)
    assert response.status == 405
    assert 'href="/u/lea"' in await (await client.get("/")).text()


async def test_unexpected_errors_show_a_page_without_traceback(forum, client, app):
    async with forum.db.transaction() as tx:
        await tx.execute("drop index posts_by_author")
        await tx.execute("alter table posts rename to posts_gone")
    response = await client.get("/u/nobody")
    assert response.status == 404
    lea = await forum.user("lea")
    response = await client.get(f"/u/{lea.name}")
    text = await response.text()
    assert response.status == 500
    assert "Traceback" not in text and "sqlite" not in text.lower()
    assert "<html" in text


@pytest.mark.sqlite_only(reason="counts statements with SQLite's trace callback on its reader "
                         "pool; the shared render is the page cache's, the same on both")
async def test_readers_who_miss_the_same_page_at_once_share_one_render(forum, client, app):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    statements: list[str] = []
    for conn in forum.db._all_readers:  # what SQLite runs for the pages (in-process trace)
        await conn.set_trace_callback(statements.append)
    await (await client.get(f"/t/{thread_id}")).read()
    one_render = len(statements)
    assert one_render > 0
    app[keys.PAGE_CACHE].invalidate({("thread", thread_id)})  # as a write would
    statements.clear()
    readers = [await forum.visitor() for _ in range(8)]
    pages = await asyncio.gather(*(reader.get(f"/t/{thread_id}") for reader in readers))
    bodies = {await page.read() for page in pages}
    assert [page.status for page in pages] == [200] * 8 and len(bodies) == 1
    assert len(statements) == one_render  # not 8 renders
    assert app[keys.VIEWS][thread_id] == 9  # every reader's view still counts
