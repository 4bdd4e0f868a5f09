"""Threads and posts: pages, permalinks, previews, edits with revisions, tombstones."""
from __future__ import annotations

import re

import pytest

from forum.models import threads
from tests.conftest import log_in, submit

pytestmark = pytest.mark.both_stores

ARTICLE = re.compile(r'<article class="post[^"]*" id="p(\d+)"')


def post_ids(html: str) -> list[int]:
    return [int(i) for i in ARTICLE.findall(html)]


async def count(forum, table: str) -> int:
    async with forum.db.read() as conn:
        return await conn.value(f"select count(*) from {table}")


async def test_thread_is_paginated_with_stable_permalinks(forum, client):
    per_page = forum.config.posts_per_page
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, first = await forum.thread(board, lea, "Metz - équipement et utilisation")
    ids = [first] + [await forum.reply(thread_id, lea, f"Réponse {n}")
                     for n in range(per_page * 2)]
    pages = [await (await client.get(f"/t/{thread_id}?page={n}")).text() for n in (1, 2, 3)]
    assert [post_ids(page) for page in pages] == [
        ids[:per_page], ids[per_page:per_page * 2], ids[per_page * 2:]]
    assert (await client.get(f"/t/{thread_id}?page=4")).status == 404
    assert (await client.get(f"/t/{thread_id}?page=zero")).status == 404
    target = ids[per_page + 3]
    response = await client.get(f"/p/{target}", allow_redirects=False)
    assert response.headers["Location"] == f"/t/{thread_id}?page=2#p{target}"
    response = await client.get(f"/p/{first}", allow_redirects=False)
    assert response.headers["Location"] == f"/t/{thread_id}#p{first}"


async def test_board_lists_threads_newest_activity_first(forum, client):
    board = await forum.board("Grenoble")
    lea = await forum.user("lea")
    old, _ = await forum.thread(board, lea, "Étude universitaire 2017-2020")
    new, _ = await forum.thread(board, lea, "Nouvelles caméras place Victor-Hugo")
    html = await (await client.get(f"/b/{board.slug}")).text()
    assert html.index("Nouvelles caméras") < html.index("Étude universitaire")
    await forum.reply(old, lea, "Le rapport est en ligne.")
    html = await (await client.get(f"/b/{board.slug}")).text()
    assert html.index("Étude universitaire") < html.index("Nouvelles caméras")
    assert f'href="/t/{old}"' in html and f'href="/t/{new}"' in html  # both listed


async def test_board_pages_and_unknown_board(forum, client):
    per_page = forum.config.threads_per_page
    board = await forum.board("Montpellier")
    lea = await forum.user("lea")
    for n in range(per_page + 1):
        await forum.thread(board, lea, f"Sujet {n:02d}")
    assert (await client.get("/b/montpellier?page=2")).status == 200
    assert (await client.get("/b/montpellier?page=3")).status == 404
    assert (await client.get("/b/nulle-part")).status == 404


async def test_member_starts_a_thread_after_a_preview(forum, client):
    board = await forum.board("Saint-Étienne")
    await forum.user("lea")
    await log_in(client, "lea")
    preview = await submit(client, f"/b/{board.slug}/new", {
        "title": "Capteurs sonores", "body": "Une **cinquantaine** prévus.",
        "action": "preview"})
    html = await preview.text()
    assert preview.status == 200
    assert "<strong>cinquantaine</strong>" in html and 'value="Capteurs sonores"' in html
    assert await count(forum, "threads") == 0
    published = await submit(client, f"/b/{board.slug}/new", {
        "title": "Capteurs sonores", "body": "Une **cinquantaine** prévus.",
        "action": "publish"})
    assert published.status == 303
    page = await client.get(published.headers["Location"])
    assert "Capteurs sonores" in await page.text()
    listing = await (await client.get(f"/b/{board.slug}")).text()
    assert "Capteurs sonores" in listing


async def test_empty_or_oversized_input_is_refused_and_nothing_written(forum, client):
    board = await forum.board("Metz")
    await forum.user("lea")
    await log_in(client, "lea")
    path = f"/b/{board.slug}/new"
    empty_title = await submit(client, path, {"title": "  ", "body": "Texte"})
    assert empty_title.status == 422
    empty_body = await submit(client, path, {"title": "Titre", "body": "   "})
    assert empty_body.status == 422
    long_title = await submit(client, path, {"title": "x" * (forum.config.title_max + 1),
                                             "body": "Texte"})
    assert long_title.status == 422
    long_body = await submit(client, path, {"title": "Titre",
                                            "body": "x" * (forum.config.body_max + 1)})
    assert long_body.status == 413
    assert "x" * 100 in await long_body.text()  # the text typed is not lost
    assert await count(forum, "threads") == await count(forum, "posts") == 0


async def test_visitors_cannot_write(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    form = await client.get(f"/t/{thread_id}/reply", allow_redirects=False)
    assert form.status == 303 and form.headers["Location"].startswith("/login?next=")
    response = await submit(client, f"/t/{thread_id}/reply", {"body": "Spam"},
                            form_page="/login")
    assert response.status == 401
    assert await count(forum, "posts") == 1
    html = await (await client.get(f"/t/{thread_id}")).text()
    assert "<textarea" not in html and "/login?next=" in html


async def test_replies_to_unknown_thread_are_404(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    response = await submit(client, "/t/999/reply", {"body": "Bonjour"}, form_page="/")
    assert response.status == 404
    assert (await client.get("/t/abc")).status == 404


async def test_edit_keeps_every_revision_and_shows_it(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, post_id = await forum.thread(board, lea, body="148 caméras en 2019.")
    await log_in(client, "lea")
    response = await submit(client, f"/p/{post_id}/edit",
                            {"body": "148 caméras en 2020. [édit : année corrigée]"})
    assert response.status == 303
    html = await (await client.get(f"/t/{thread_id}")).text()
    assert "année corrigée" in html and f'href="/p/{post_id}/revisions"' in html
    history = await (await client.get(f"/p/{post_id}/revisions")).text()
    assert "148 caméras en 2019." in history and "année corrigée" in history
    assert await count(forum, "post_revisions") == 2


async def test_only_the_author_or_a_moderator_edits(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    await forum.user("yann")
    await forum.user("moderatrice", role="moderator")
    _, post_id = await forum.thread(board, lea, body="Texte de Léa")
    await log_in(client, "yann")
    assert (await client.get(f"/p/{post_id}/edit")).status == 403
    other = await forum.visitor()
    await log_in(other, "moderatrice")
    response = await submit(other, f"/p/{post_id}/edit", {"body": "Texte corrigé"})
    assert response.status == 303


async def test_delete_leaves_a_tombstone_and_keeps_the_text(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    await forum.user("moderatrice", role="moderator")
    thread_id, first = await forum.thread(board, lea, body="Premier")
    post_id = await forum.reply(thread_id, lea, "Adresse personnelle de quelqu'un")
    await log_in(client, "lea")
    response = await submit(client, f"/p/{post_id}/delete", {"reason": "erreur"})
    assert response.status == 303
    reader = await forum.visitor()
    html = await (await reader.get(f"/t/{thread_id}")).text()
    assert f'id="p{post_id}"' in html and "Adresse personnelle" not in html
    assert f'id="p{first}"' in html and "Premier" in html  # the rest of the thread stays
    assert 'class="tombstone"' in html
    assert (await reader.get(f"/p/{post_id}/revisions")).status == 404
    moderator = await forum.visitor()
    await log_in(moderator, "moderatrice")
    assert "Adresse personnelle" in await (await moderator.get(f"/t/{thread_id}")).text()
    again = await submit(client, f"/p/{post_id}/delete", {}, form_page=f"/t/{thread_id}")
    assert again.status == 403
    async with forum.db.read() as conn:
        assert await conn.value("select body_source from posts where id = ?", (post_id,)) \
            == "Adresse personnelle de quelqu'un"


async def test_locked_thread_refuses_replies(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    async with forum.db.transaction() as tx:
        await tx.execute("update threads set locked = 1 where id = ?", (thread_id,))
        tx.changed("thread", thread_id)
    await log_in(client, "lea")
    response = await submit(client, f"/t/{thread_id}/reply", {"body": "Encore"},
                            form_page=f"/t/{thread_id}")
    assert response.status == 403
    assert "<textarea" not in await (await client.get(f"/t/{thread_id}")).text()


async def test_posting_is_rate_limited(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    await log_in(client, "lea")
    statuses = []
    for n in range(forum.config.posts_per_minute + 1):
        response = await submit(client, f"/t/{thread_id}/reply", {"body": f"Message {n}"},
                                form_page=f"/t/{thread_id}")
        statuses.append(response.status)
    assert statuses[:-1] == [303] * forum.config.posts_per_minute
    assert statuses[-1] == 429


async def test_user_text_is_escaped_and_markdown_sanitized(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(
        board, lea, "<script>alert(1)</script> caméras",
        "[clic](javascript:alert(1)) <img src=x onerror=alert(1)> ![p](https://tiers.example/p.png)"
        " [source](https://example.org/dcm.pdf)")
    for path in (f"/t/{thread_id}", f"/b/{board.slug}", "/u/lea"):
        html = await (await client.get(path)).text()
        assert "<script>alert" not in html, path
        assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
        assert 'href="javascript:' not in html and "tiers.example" not in html
    html = await (await client.get(f"/t/{thread_id}")).text()
    assert '<a href="https://example.org/dcm.pdf" rel="nofollow ugc noopener">source</a>' in html


async def test_titles_lose_direction_overrides(forum):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea, "Caméras\u202e ertnec\u200b")
    async with forum.db.read() as conn:
        thread = await threads.get(conn, thread_id)
    assert thread.title == "Caméras ertnec"
