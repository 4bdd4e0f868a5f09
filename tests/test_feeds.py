"""Atom feeds of the site, boards and threads: valid, stable, public only, always fresh."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import feedparser
import pytest

from forum import permissions
from forum.models import boards, moderation, posts, threads, users
from forum.models.feeds import FEED_SIZE
from tests.conftest import log_in, submit

pytestmark = pytest.mark.both_stores

ATOM = "{http://www.w3.org/2005/Atom}"
ENGLISH = {"Accept-Language": "en"}
FEED_LINK = re.compile(r'<link rel="alternate" type="application/atom\+xml" title="[^"<]+"'
                       r' href="([^"]+)">')


async def fetch(client, path: str, headers: dict | None = None):
    """A feed as a reader would parse it: checked against its HTTP headers, never bozo."""
    response = await client.get(path, headers=headers or {})
    assert response.status == 200, path
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    body = await response.read()
    feed = feedparser.parse(body, response_headers={
        "content-type": response.headers["Content-Type"],
        "content-location": f"{client.make_url(path)}"})
    assert feed.bozo == 0, (path, feed.get("bozo_exception"))
    return feed, body, response


def ids(feed) -> list[str]:
    return [entry.id for entry in feed.entries]


async def setup_board(forum):
    board = await forum.board("Metz", region="Moselle")
    lea = await forum.user("lea")
    thread_id, first_id = await forum.thread(board, lea, "Caméras du centre-ville",
                                             "Premier relevé : **12** caméras.")
    reply_id = await forum.reply(thread_id, await forum.user("sam"), "Et deux de plus.")
    return board, thread_id, first_id, reply_id


async def newcomer_reply(forum, thread_id: int, body: str) -> tuple[object, int]:
    """A newcomer replies through the web: the post waits for a moderator."""
    newcomer = await forum.visitor()
    await log_in(newcomer, (await forum.user(trusted=False)).name)
    posted = await submit(newcomer, f"/t/{thread_id}/reply", {"body": body},
                          form_page=f"/t/{thread_id}")
    post_id = int(posted.headers["Location"].rsplit("/", 1)[1])
    async with forum.db.read() as conn:
        assert (await posts.get(conn, post_id)).status == "pending"
    return newcomer, post_id


def feed_paths(board, thread_id: int) -> list[str]:
    return ["/feed.atom", f"/b/{board.slug}/feed.atom", f"/t/{thread_id}/feed.atom"]


async def test_three_feeds_are_valid_atom_newest_first(forum, client):
    board, thread_id, first_id, reply_id = await setup_board(forum)
    base = forum.config.base_url
    for path in feed_paths(board, thread_id):
        feed, _body, response = await fetch(client, path)
        assert ids(feed) == [f"{base}/p/{reply_id}", f"{base}/p/{first_id}"]
        assert "ETag" in response.headers  # shared through the page cache
        assert feed.feed.links[0].rel == "self" and feed.feed.links[0].href == base + path
        assert feed.feed.id.startswith("tag:") and feed.feed.subtitle
        assert feed.feed.updated == feed.entries[0].updated
        newest = feed.entries[0]
        assert newest.link == f"{base}/p/{reply_id}" and newest.author == "sam"
        assert newest.published == newest.updated
        assert "Et deux de plus." in newest.content[0].value
        assert feed.entries[1].tags[0].term == "metz"
    assert (await fetch(client, f"/t/{thread_id}/feed.atom"))[0].feed.title.startswith(
        "Caméras du centre-ville")


async def test_board_entries_are_titled_with_their_thread_and_new_threads_marked(forum, client):
    board, _thread_id, _first_id, _reply_id = await setup_board(forum)
    feed, _body, _response = await fetch(client, f"/b/{board.slug}/feed.atom", ENGLISH)
    assert [entry.title for entry in feed.entries] == [
        "Re: Caméras du centre-ville", "New thread: Caméras du centre-ville"]
    assert feed.feed.language == "en" and feed.feed.title == "Metz · Vigie"


async def test_entry_ids_stay_the_same_and_an_edit_moves_updated(forum, client):
    board, thread_id, first_id, _reply_id = await setup_board(forum)
    before = {path: (await fetch(client, path))[0] for path in feed_paths(board, thread_id)}
    for path, feed in before.items():
        again = (await fetch(client, path))[0]
        assert ids(again) == ids(feed) and again.feed.id == feed.feed.id
    async with forum.db.transaction() as tx:
        author = await users.get(tx, (await posts.get(tx, first_id)).author_id)
        await moderation.edit_as(tx, first_id, author, "Relevé corrigé : 13 caméras.",
                                 forum.config.body_max)
    for path, feed in before.items():
        after = (await fetch(client, path))[0]
        assert ids(after) == ids(feed) and after.feed.id == feed.feed.id
        edited = after.entries[1]
        assert "13 caméras" in edited.content[0].value
        assert edited.updated > feed.entries[1].updated == edited.published
        assert after.feed.updated == edited.updated  # the feed changed with it


async def test_pending_post_appears_only_once_approved(forum, client):
    board, thread_id, _first_id, _reply_id = await setup_board(forum)
    newcomer, post_id = await newcomer_reply(forum, thread_id, "Une caméra rue Serpenoise.")
    moderator = await forum.user("moderatrice", role="moderator")
    moderator_client = await forum.visitor()
    await log_in(moderator_client, "moderatrice")
    entry_id = f"{forum.config.base_url}/p/{post_id}"
    for path in feed_paths(board, thread_id):
        # Not for visitors, nor for its author or a moderator: feeds are anonymous.
        for reader in (client, newcomer, moderator_client):
            feed, body, _response = await fetch(reader, path)
            assert entry_id not in ids(feed) and b"Serpenoise" not in body
    async with forum.db.transaction() as tx:
        await moderation.approve(tx, await posts.get(tx, post_id), moderator)
    for path in feed_paths(board, thread_id):
        feed, _body, _response = await fetch(client, path)
        assert ids(feed)[0] == entry_id


async def test_deleted_and_hidden_posts_are_left_out(forum, client):
    board, thread_id, first_id, reply_id = await setup_board(forum)
    moderator = await forum.user("moderatrice", role="moderator")
    for path in feed_paths(board, thread_id):
        await fetch(client, path)  # cached, to be dropped by the decisions below
    async with forum.db.transaction() as tx:
        await moderation.delete_post(tx, await posts.get(tx, reply_id), moderator, "doublon")
        await moderation.flag(tx, await posts.get(tx, first_id), moderator, "nom d'un voisin",
                              trusted_flags_to_hide=1, trust_threshold=0)
    for path in feed_paths(board, thread_id):
        feed, body, _response = await fetch(client, path)
        assert feed.entries == [] and b"deux de plus" not in body and b"Premier" not in body
    board_feed = (await fetch(client, f"/b/{board.slug}/feed.atom"))[0]
    async with forum.db.read() as conn:
        opened = await conn.value("select created_at from boards where id = ?", (board.id,))
    thread_feed = (await fetch(client, f"/t/{thread_id}/feed.atom"))[0]
    assert board_feed.feed.updated == opened and thread_feed.feed.updated


async def test_pending_thread_feed_is_404_for_everyone(forum, client):
    board, _thread_id, _first_id, _reply_id = await setup_board(forum)
    newcomer = await forum.user("nouvelle", trusted=False)
    status = permissions.publication_status(newcomer, board.id, board.moderation_mode,
                                            forum.config.trust_threshold)
    async with forum.db.transaction() as tx:
        thread_id, _post_id = await threads.create(
            tx, board, newcomer, "Drones au marché", "Vus samedi.", forum.config.title_max,
            forum.config.body_max, status=status)
    assert status == "pending"
    # A moderator's reply is published at once, yet stays inside a thread nobody may read.
    await forum.reply(thread_id, await forum.user("moderatrice", role="moderator"),
                      "Vus aussi dimanche.")
    author = await forum.visitor()
    await log_in(author, "nouvelle")
    moderator = await forum.visitor()
    await log_in(moderator, "moderatrice")
    for reader in (client, author, moderator):
        assert (await reader.get(f"/t/{thread_id}/feed.atom")).status == 404
        for path in ("/feed.atom", f"/b/{board.slug}/feed.atom"):
            body = (await fetch(reader, path))[1]
            assert b"Drones" not in body and b"dimanche" not in body
    # Its author sees the page, without a link to a feed that does not exist.
    page = await (await author.get(f"/t/{thread_id}")).text()
    assert "Drones au marché" in page and "feed.atom" not in page


async def test_unknown_feeds_are_404_and_old_board_addresses_redirect(forum, client):
    board, thread_id, _first_id, _reply_id = await setup_board(forum)
    for path in ("/b/nulle-part/feed.atom", "/t/999/feed.atom", "/t/abc/feed.atom",
                 f"/t/{thread_id}0/feed.atom"):
        assert (await client.get(path)).status == 404, path
    feed_id = (await fetch(client, f"/b/{board.slug}/feed.atom"))[0].feed.id
    await fetch(client, f"/t/{thread_id}/feed.atom")  # cached under the board's old name
    async with forum.db.transaction() as tx:
        await boards.update(tx, board, "Metz-Métropole", "metz-metropole")
    moved = await client.get("/b/metz/feed.atom", allow_redirects=False)
    assert moved.status == 301 and moved.headers["Location"] == "/b/metz-metropole/feed.atom"
    renamed = (await fetch(client, "/b/metz-metropole/feed.atom"))[0]
    assert renamed.feed.id == feed_id and renamed.feed.title == "Metz-Métropole · Vigie"
    thread_feed = (await fetch(client, f"/t/{thread_id}/feed.atom"))[0]
    assert thread_feed.entries[0].tags[0].label == "Metz-Métropole"


async def test_feeds_are_discoverable_from_the_pages(forum, client):
    board, thread_id, _first_id, _reply_id = await setup_board(forum)
    pages = {"/": "/feed.atom", f"/b/{board.slug}": f"/b/{board.slug}/feed.atom",
             f"/t/{thread_id}": f"/t/{thread_id}/feed.atom"}
    for page, feed in pages.items():
        html = await (await client.get(page)).text()
        assert FEED_LINK.findall(html) == [feed], page
        await fetch(client, feed)


async def test_titles_names_and_bodies_stay_text(forum, client):
    board = await forum.board('Ville <b>"&"</b>')
    lea = await forum.user("lea")
    title = '<script>alert("x")</script> & "guillemets"'
    thread_id, post_id = await forum.thread(
        board, lea, title, 'Texte <script>alert(1)</script> & <img src=x onerror="y">')
    async with forum.db.read() as conn:
        cooked = (await posts.get(conn, post_id)).body_html
    for path in feed_paths(board, thread_id):
        feed, body, _response = await fetch(client, path, ENGLISH)
        assert b"<script" not in body and b"<b>" not in body
        assert feed.entries[0].title == f"New thread: {title}"
        assert feed.entries[0].tags[0].label == 'Ville <b>"&"</b>'
        # type="html": the cooked HTML, escaped exactly once.
        content = ET.fromstring(body).find(f"{ATOM}entry/{ATOM}content")
        assert content is not None and content.text == cooked
    assert (await fetch(client, f"/t/{thread_id}/feed.atom"))[0].feed.title == f"{title} · Vigie"


async def test_characters_xml_refuses_do_not_break_a_feed(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _post_id = await forum.thread(board, lea, "Titre \ufffe", "Corps \uffff fin")
    for path in feed_paths(board, thread_id):
        feed, _body, _response = await fetch(client, path)
        assert "fin" in feed.entries[0].content[0].value


async def test_writes_reach_cached_feeds(forum, client):
    board, thread_id, _first_id, _reply_id = await setup_board(forum)
    other = await forum.board("Nancy")
    moderator = await forum.user("moderatrice", role="moderator")
    paths = [*feed_paths(board, thread_id), f"/b/{other.slug}/feed.atom"]
    etags = {path: (await fetch(client, path))[2].headers["ETag"] for path in paths}
    for path, etag in etags.items():
        assert (await client.get(path, headers={"If-None-Match": etag})).status == 304
    reply_id = await forum.reply(thread_id, await forum.user("zoe"), "Nouvelle caméra.")
    entry_id = f"{forum.config.base_url}/p/{reply_id}"
    for path in feed_paths(board, thread_id):
        assert ids((await fetch(client, path))[0])[0] == entry_id, path
    # A move takes the thread's posts from one board's feed to the other's.
    async with forum.db.transaction() as tx:
        await moderation.move_thread(tx, await threads.get(tx, thread_id), other, moderator)
    assert (await fetch(client, f"/b/{board.slug}/feed.atom"))[0].entries == []
    moved = (await fetch(client, f"/b/{other.slug}/feed.atom"))[0]
    assert ids(moved)[0] == entry_id and moved.entries[0].tags[0].term == "nancy"
    assert (await fetch(client, f"/t/{thread_id}/feed.atom"))[0].entries[0].tags[0].term == \
        "nancy"


async def test_feeds_hold_the_latest_entries_only(forum, client):
    board, thread_id, _first_id, _reply_id = await setup_board(forum)
    author = await forum.user("zoe")
    latest = [await forum.reply(thread_id, author, f"Relevé {n}") for n in range(FEED_SIZE)]
    base = forum.config.base_url
    expected = [f"{base}/p/{post_id}" for post_id in reversed(latest)]
    for path in feed_paths(board, thread_id):
        assert ids((await fetch(client, path))[0]) == expected, path


async def test_empty_feeds_are_valid(forum, client):
    board = await forum.board("Metz")
    site = (await fetch(client, "/feed.atom"))[0]
    empty = (await fetch(client, f"/b/{board.slug}/feed.atom"))[0]
    assert site.entries == [] and empty.entries == [] and empty.feed.updated_parsed
