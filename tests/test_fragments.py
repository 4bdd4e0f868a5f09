"""Posts rendered once and shared between readers (forum/fragments.py): every change that alters a
post's HTML shows at once, and no reader ever gets a post rendered for another role."""
from __future__ import annotations

import asyncio
import gettext
import re
from datetime import date

import pytest

from forum import fragments, i18n, keys, permissions
from forum.models import (
    boards,
    finding_drafts,
    findings,
    follows,
    moderation,
    posts,
    threads,
    uploads,
    users,
)
from forum.views import threads as thread_views
from tests.conftest import PASSWORD, csrf_from, log_in

pytestmark = pytest.mark.both_stores


async def _page(client, thread_id: int) -> str:
    response = await client.get(f"/t/{thread_id}")
    assert response.status == 200
    return await response.text()


async def _member_client(forum, user):
    client = await forum.visitor()
    await log_in(client, user.name)
    return client


async def _post(forum, post_id: int) -> posts.Post:
    async with forum.db.read() as conn:
        return await posts.get(conn, post_id)


def _cached_html(forum) -> str:
    """Every fragment the cache holds, joined (to check what lingers in memory)."""
    return "".join(html for html, _tags in forum.app[keys.FRAGMENTS]._entries.values())


async def _scene(forum):
    """A board with a moderator, two members and a thread of one public post."""
    board = await forum.board()
    moderator = await forum.user()
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, board, moderator)
        moderator = await users.get(tx, moderator.id)  # now with their board
    author, other = await forum.user(), await forum.user()
    thread_id, post_id = await forum.thread(board, author, body="Texte d'origine.")
    return board, moderator, author, other, thread_id, post_id


# Invalidation: one test per change that alters a post. -------------------------------------

async def test_an_edit_shows_at_once_to_members(forum):
    _board, _mod, author, other, thread_id, post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    assert "Texte d'origine." in await _page(reader, thread_id)
    async with forum.db.transaction() as tx:
        await posts.edit(tx, await _post(forum, post_id), author, "Texte corrigé.", 10_000)
    page = await _page(reader, thread_id)
    assert "Texte corrigé." in page and "Texte d'origine." not in page


async def test_a_decision_shows_at_once_to_the_author(forum):
    board, moderator, _author, _other, thread_id, _post_id = await _scene(forum)
    newcomer = await forum.user(trusted=False)
    async with forum.db.transaction() as tx:
        thread = await threads.get(tx, thread_id)
        waiting = await posts.create(tx, thread.id, board.id, newcomer, "En attente.", 10_000,
                                     status="pending")
    writer = await _member_client(forum, newcomer)
    assert "attente de modération" in await _page(writer, thread_id)
    async with forum.db.transaction() as tx:
        await moderation.reject(tx, await _post(forum, waiting), moderator, "Hors sujet ici")
    page = await _page(writer, thread_id)
    assert "Hors sujet ici" in page
    assert "En attente." in page and "attente de modération" not in page


async def test_a_purge_leaves_nothing_in_pages_nor_memory(forum):
    _board, moderator, author, _other, thread_id, _post_id = await _scene(forum)
    async with forum.db.transaction() as tx:
        thread = await threads.get(tx, thread_id)
        doxx = await posts.create(tx, thread.id, thread.board_id, author,
                                  "Adresse : 12 rue Secrète.", 10_000)
    async with forum.db.transaction() as tx:
        await moderation.delete_post(tx, await _post(forum, doxx), moderator, "Adresse privée")
    mod_client = await _member_client(forum, moderator)
    assert "12 rue Secrète" in await _page(mod_client, thread_id)  # the deleted text, for them
    async with forum.db.read() as conn:
        revision = await conn.value("select id from post_revisions where post_id = ?", (doxx,))
    async with forum.db.transaction() as tx:
        await moderation.purge_post_version(tx, await _post(forum, doxx), moderator, revision)
    assert "12 rue Secrète" not in _cached_html(forum)
    assert "12 rue Secrète" not in await _page(mod_client, thread_id)


async def test_a_file_change_shows_at_once(forum):
    _board, _mod, author, other, thread_id, post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    assert "releve-cameras.pdf" not in await _page(reader, thread_id)
    async with forum.db.transaction() as tx:
        upload = await uploads.insert(tx, author.id, "ab" * 32, "releve-cameras.pdf", "pdf",
                                      "application/pdf", 1234, None, None, None, [])
        await uploads.attach(tx, post_id, author.id, [upload.id], 5, 10 * 1024 * 1024)
        posts.changed(tx, thread_id, _board.id)
    assert "releve-cameras.pdf" in await _page(reader, thread_id)
    async with forum.db.transaction() as tx:
        await uploads.attach(tx, post_id, author.id, [], 5, 10 * 1024 * 1024)
    assert "releve-cameras.pdf" not in await _page(reader, thread_id)


async def test_a_rename_of_the_author_shows_at_once(forum):
    _board, _mod, author, other, thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    assert f">{author.name}</a>" in await _page(reader, thread_id)
    async with forum.db.transaction() as tx:  # as an administrator would, in the database
        await tx.execute("update users set name = 'Nouveau-Nom' where id = ?", (author.id,))
        tx.changed("all", None)  # what a rename must emit (forum/cache.py): many pages name them
    page = await _page(reader, thread_id)
    assert ">Nouveau-Nom</a>" in page and f">{author.name}</a>" not in page


async def test_a_moderator_added_then_removed_gets_then_loses_the_controls(forum):
    board, _mod, _author, other, thread_id, post_id = await _scene(forum)
    async with forum.db.transaction() as tx:
        await moderation.delete_post(tx, await _post(forum, post_id), _mod, "Doublon")
    reader = await _member_client(forum, other)
    assert "/restore" not in await _page(reader, thread_id)
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, board, other)
    reader = await _member_client(forum, other)  # their sessions ended: a new login
    assert "/restore" in await _page(reader, thread_id)
    async with forum.db.transaction() as tx:
        await moderation.remove_board_moderator(tx, board, other)
    reader = await _member_client(forum, other)
    page = await _page(reader, thread_id)
    assert "/restore" not in page and "Texte d'origine." not in page


async def test_a_catalog_change_shows_at_once(forum, monkeypatch):
    _board, _mod, _author, other, thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    assert 'title="Lien vers ce message"' in await _page(reader, thread_id)

    class Reworded(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return "Lien permanent" if message == "Link to this message" else \
                i18n.CATALOGS_BEFORE["fr"].gettext(message)

    monkeypatch.setattr(i18n, "CATALOGS_BEFORE", dict(i18n.CATALOGS), raising=False)
    monkeypatch.setitem(i18n.CATALOGS, "fr", Reworded())
    assert 'title="Lien permanent"' in await _page(reader, thread_id)


# No reader gets a post rendered for another role. -----------------------------------------

async def _mixed_thread(forum):
    """A thread holding a pending post, a refused one and a deleted one, beside public ones."""
    board, moderator, author, other, thread_id, post_id = await _scene(forum)
    newcomer = await forum.user(trusted=False)
    async with forum.db.transaction() as tx:
        await posts.create(tx, thread_id, board.id, newcomer, "MARQUE-ATTENTE",
                                     10_000, status="pending")
        refused = await posts.create(tx, thread_id, board.id, newcomer, "MARQUE-REFUS",
                                     10_000, status="pending")
        deleted = await posts.create(tx, thread_id, board.id, author, "MARQUE-SUPPRIME",
                                     10_000)
    async with forum.db.transaction() as tx:
        await moderation.reject(tx, await _post(forum, refused), moderator, "RAISON-PRIVEE")
        await moderation.delete_post(tx, await _post(forum, deleted), moderator, "Doublon")
    return moderator, author, other, newcomer, thread_id, post_id


async def test_a_moderators_render_never_reaches_visitors_or_members(forum):
    moderator, _author, other, _newcomer, thread_id, _post_id = await _mixed_thread(forum)
    mod_page = await _page(await _member_client(forum, moderator), thread_id)
    for marker in ("MARQUE-ATTENTE", "MARQUE-REFUS", "MARQUE-SUPPRIME", "/restore",
                   "/moderation#q"):
        assert marker in mod_page
    visitor = await forum.visitor()
    for page in (await _page(visitor, thread_id),
                 await _page(await _member_client(forum, other), thread_id)):
        for marker in ("MARQUE-ATTENTE", "MARQUE-REFUS", "MARQUE-SUPPRIME", "RAISON-PRIVEE",
                       "/restore", "/moderation#q"):
            assert marker not in page


async def test_the_author_sees_their_refused_post_and_reason_others_do_not(forum):
    _moderator, _author, other, newcomer, thread_id, _ = await _mixed_thread(forum)
    own = await _page(await _member_client(forum, newcomer), thread_id)
    assert "MARQUE-REFUS" in own and "RAISON-PRIVEE" in own and "MARQUE-ATTENTE" in own
    page = await _page(await _member_client(forum, other), thread_id)
    assert "MARQUE-REFUS" not in page and "RAISON-PRIVEE" not in page


async def test_a_member_gets_edit_links_on_their_own_posts_only(forum):
    _board, _mod, author, other, thread_id, first = await _scene(forum)
    theirs = await forum.reply(thread_id, other, "Une réponse d'un autre.")
    for user, own, foreign in ((author, first, theirs), (other, theirs, first)):
        page = await _page(await _member_client(forum, user), thread_id)
        assert f'href="/p/{own}/edit"' in page
        assert f'href="/p/{foreign}/edit"' not in page


async def test_each_moderator_gets_their_own_csrf_token_in_a_shared_post(forum):
    board, moderator, _author, _other, thread_id, post_id = await _scene(forum)
    second = await forum.user()
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, board, second)
        await moderation.delete_post(tx, await _post(forum, post_id), moderator, "Doublon")
    for user in (moderator, second):
        page = await _page(await _member_client(forum, user), thread_id)
        form = re.search(r'action="[^"]*/restore"[^>]*>(.*?)</form>', page, re.S)
        assert form is not None
        assert csrf_from(form.group(1)) == csrf_from(page)  # the reader's token, not a mark


async def test_controls_by_post_state_match_controls_by_post(forum):
    """The page decides controls once per PostState: the same answer as for the post itself,
    for every role, on public, waiting, refused, deleted and locked posts."""
    moderator, author, other, newcomer, thread_id, _ = await _mixed_thread(forum)
    admin = await forum.user(role="admin")
    async with forum.db.read() as conn:
        thread_posts = await posts.list_for_thread(conn, thread_id, moderator, 1, 50)
    assert len({post.status for post in thread_posts}) == 3
    for viewer in (None, moderator, admin, author, other, newcomer):
        for post in thread_posts:
            assert permissions.post_controls(viewer, post) == permissions.post_controls(
                viewer, permissions.PostState.of(post, viewer))


async def test_the_fragment_cache_keeps_at_most_its_configured_size(forum):
    _board, _mod, author, other, thread_id, _post_id = await _scene(forum)
    for number in range(4):
        await forum.reply(thread_id, author, f"Réponse {number}.")
    cache = forum.app[keys.FRAGMENTS]
    cache.max_entries = 3
    page = await _page(await _member_client(forum, other), thread_id)
    assert page.count("<article") == 5 and len(cache) == 3  # all shown, the last three kept
    cache.max_entries = 0  # FORUM_FRAGMENT_CACHE_ENTRIES=0: every post rendered every time
    cache.invalidate({("all", None)})
    assert (await _page(await forum.visitor(), thread_id)).count("<article") == 5
    assert len(cache) == 0


# Member pages kept per capability class, sessions kept in memory (the same session throughout).

async def test_a_waiting_edit_shows_at_once_to_the_moderator_then_goes_when_refused(forum):
    _board, moderator, author, _other, thread_id, post_id = await _scene(forum)
    watcher = await _member_client(forum, moderator)
    badge = f'href="/p/{post_id}/revisions">'
    assert badge not in await _page(watcher, thread_id)
    assert badge not in await _page(watcher, thread_id)  # kept, and still right
    async with forum.db.transaction() as tx:
        assert not await posts.edit(tx, await _post(forum, post_id), author, "Texte revu.",
                                    10_000, wait=True)
    page = await _page(watcher, thread_id)
    assert badge in page and "Texte d'origine." in page
    async with forum.db.transaction() as tx:
        await posts.refuse_edit(tx, await _post(forum, post_id), "Non")
    assert badge not in await _page(watcher, thread_id)


async def test_a_logged_out_session_is_not_kept_in_memory(forum):
    _board, _mod, _author, other, thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    assert f">{other.name}</a>" in await _page(reader, thread_id)
    cookie = reader.session.cookie_jar.filter_cookies(reader.make_url("/"))["vigie_session"]
    page = await _page(reader, thread_id)
    response = await reader.post("/logout", data={"csrf_token": csrf_from(page)},
                                 allow_redirects=False)
    assert response.status == 303
    thief = await forum.visitor()  # the old cookie, kept by someone else
    response = await thief.get(f"/t/{thread_id}",
                               headers={"Cookie": f"vigie_session={cookie.value}"})
    page = await response.text()
    assert other.name not in page and "/logout" not in page and 'action="/reply' not in page


async def test_a_ban_shows_at_once_in_the_same_session(forum):
    _board, moderator, _author, other, thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    peer = await _member_client(forum, await forum.user())  # the same class, still allowed
    assert f'action="/t/{thread_id}/reply"' in await _page(reader, thread_id)
    assert f'action="/t/{thread_id}/reply"' in await _page(peer, thread_id)
    async with forum.db.transaction() as tx:
        await moderation.sanction(tx, other, await users.get(tx, moderator.id), "ban",
                                  "Harcèlement")
    page = await _page(reader, thread_id)
    assert "Harcèlement" in page and f'action="/t/{thread_id}/reply"' not in page
    page = await _page(peer, thread_id)
    assert "Harcèlement" not in page and f'action="/t/{thread_id}/reply"' in page


async def test_a_role_change_and_a_password_change_end_the_kept_session(forum):
    _board, _mod, _author, other, thread_id, _post_id = await _scene(forum)
    for change in ("role", "password"):
        reader = await _member_client(forum, other)
        assert f">{other.name}</a>" in await _page(reader, thread_id)
        async with forum.db.transaction() as tx:
            if change == "role":
                await users.set_role(tx, other.id, "moderator")
            else:
                await users.set_password(tx, other.id, "un autre mot de passe solide")
        page = await _page(reader, thread_id)
        assert f">{other.name}</a>" not in page and "Moderate this thread" not in page
        async with forum.db.transaction() as tx:
            await users.set_role(tx, other.id, "member")
            await users.set_password(tx, other.id, PASSWORD)


async def test_an_ended_session_is_not_kept_in_memory(forum):
    _board, _mod, _author, other, thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    assert f">{other.name}</a>" in await _page(reader, thread_id)
    async with forum.db.transaction() as tx:
        await users.close_all_sessions(tx, other.id)
    assert f">{other.name}</a>" not in await _page(reader, thread_id)


def _unread(page: str) -> int:
    """The header's count of unread notifications."""
    found = re.search(r'href="/notifications">[^<]*(?:<span class="count"[^>]*>(\d+)</span>)?',
                      page)
    assert found is not None
    return int(found.group(1) or 0)


async def test_counters_and_follow_state_follow_their_writes_in_the_same_session(forum):
    _board, moderator, _author, other, thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    page = await _page(reader, thread_id)
    before = _unread(page)
    assert "Suivre ce sujet" in page and "Suivre ce sujet" in await _page(reader, thread_id)
    async with forum.db.transaction() as tx:
        await moderation.sanction(tx, other, await users.get(tx, moderator.id), "warn",
                                  "Restez courtois")
    assert _unread(await _page(reader, thread_id)) == before + 1
    response = await reader.post(f"/follow/thread/{thread_id}",
                                 data={"csrf_token": csrf_from(page), "mode": "follow"},
                                 allow_redirects=False)
    assert response.status == 303
    assert "Vous suivez ce sujet." in await _page(reader, thread_id)


async def test_members_of_one_class_share_a_page_with_their_own_name_and_token(forum):
    _board, _mod, _author, other, thread_id, _post_id = await _scene(forum)
    second = await forum.user()
    first_client, second_client = (await _member_client(forum, other),
                                   await _member_client(forum, second))
    first, again = await _page(first_client, thread_id), await _page(second_client, thread_id)
    assert f">{other.name}</a>" in first and f">{other.name}</a>" not in again
    assert f">{second.name}</a>" in again
    assert csrf_from(first) != csrf_from(again)
    assert set(re.findall(r'name="csrf_token" value="([^"]+)"', again)) == {csrf_from(again)}
    reader_pages = [key for key in forum.app[keys.PAGE_CACHE]._entries if key[0] == "reader"]
    assert len(reader_pages) == 1  # one page for the class, assembled for each


async def test_members_of_one_class_missing_a_page_together_wait_for_one_render(forum,
                                                                                 monkeypatch):
    """After a write drops a busy page, one member of the class renders it; the others wait for
    that render and get the kept page assembled with their own name and token."""
    _board, _mod, _author, _other, thread_id, _post_id = await _scene(forum)
    members = [await forum.user() for _ in range(4)]
    clients = [await _member_client(forum, member) for member in members]
    renders = []
    render_show = thread_views._render_show

    async def counted(request, *args):
        renders.append(request[keys.USER].name)
        return await render_show(request, *args)

    monkeypatch.setattr(thread_views, "_render_show", counted)
    pages = await asyncio.gather(*(_page(client, thread_id) for client in clients))
    assert len(renders) == 1
    for member, page in zip(members, pages, strict=True):
        assert f">{member.name}</a>" in page
        assert set(re.findall(r'name="csrf_token" value="([^"]+)"', page)) == {csrf_from(page)}
    assert len({csrf_from(page) for page in pages}) == len(members)


async def test_the_reply_notice_of_a_shared_page_is_each_members_own(forum):
    """A trusted member and a newcomer share the kept page; only the newcomer is told that
    their reply will wait, and no longer once a moderator trusts them (their next request)."""
    _board, moderator, _author, other, thread_id, _post_id = await _scene(forum)
    newcomer = await forum.user(trusted=False)
    trusted_client, new_client = (await _member_client(forum, other),
                                  await _member_client(forum, newcomer))
    mod_client = await _member_client(forum, moderator)
    waits = "Your message will wait for a moderator"
    english = {"Accept-Language": "en"}
    pages = [await (await client.get(f"/t/{thread_id}", headers=english)).text()
             for client in (trusted_client, new_client, mod_client, trusted_client)]
    assert [waits in page for page in pages] == [False, True, False, False]
    reader_pages = [key for key in forum.app[keys.PAGE_CACHE]._entries if key[0] == "reader"]
    assert len(reader_pages) == 2  # members' class and the moderator's
    etags = {(await client.get(f"/t/{thread_id}")).headers["ETag"]
             for client in (trusted_client, new_client)}
    assert len(etags) == 2
    async with forum.db.transaction() as tx:
        await tx.execute("update users set trust_override = 1 where id = ?", (newcomer.id,))
    assert waits not in await (await new_client.get(f"/t/{thread_id}", headers=english)).text()


async def test_a_follow_form_is_rendered_once_and_carries_each_members_token(forum):
    _board, _mod, _author, other, thread_id, _post_id = await _scene(forum)
    clients = [await _member_client(forum, other), await _member_client(forum, await forum.user())]
    for client in clients:
        page = await _page(client, thread_id)
        form = re.search(r'<form method="post" action="/follow/thread/\d+"[^>]*>.*?</form>', page,
                         re.S)
        assert form and f'value="{csrf_from(page)}"' in form.group(0)
        assert fragments.CSRF_MARK not in page
    assert len(forum.app[keys.FRAGMENTS].forms) == 1
    async with forum.db.transaction() as tx:  # following: another form, rendered then
        await follows.set_state(tx, other.id, "thread", thread_id, "follow")
    follow_button = 'name="mode" value="follow"'
    assert follow_button not in await _page(clients[0], thread_id)
    assert follow_button in await _page(clients[1], thread_id)
    assert len(forum.app[keys.FRAGMENTS].forms) == 2


async def test_follow_states_outlive_other_writes_and_follow_their_own(forum):
    """Kept across writes that do not touch follows (a session's memo is not), dropped by a
    follow written anywhere (here through the model, as another process or the API would)."""
    board, _mod, author, other, thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    states = forum.app[keys.FRAGMENTS].follow_states
    follow_button = 'name="mode" value="follow"'
    assert follow_button in await _page(reader, thread_id)
    assert states.get((other.id, thread_id)) == (None,)
    await forum.thread(board, author, body="Un autre sujet.")  # a write, no follow of theirs
    assert states.get((other.id, thread_id)) == (None,)
    async with forum.db.transaction() as tx:
        await follows.set_state(tx, other.id, "thread", thread_id, "follow")
    assert states.get((other.id, thread_id)) is None
    assert follow_button not in await _page(reader, thread_id)
    async with forum.db.transaction() as tx:  # another member's follow leaves theirs kept
        await follows.set_state(tx, author.id, "thread", thread_id, "mute")
    assert states.get((other.id, thread_id)) == ("follow",)


async def test_a_member_page_has_a_validator_of_its_own(forum):
    _board, _mod, _author, other, thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    peer = await _member_client(forum, await forum.user())
    response = await reader.get(f"/t/{thread_id}")
    etag = response.headers["ETag"]
    assert response.headers["Cache-Control"] == "private, no-store"
    again = await reader.get(f"/t/{thread_id}", headers={"If-None-Match": etag})
    assert again.status == 304
    other_reader = await peer.get(f"/t/{thread_id}", headers={"If-None-Match": etag})
    assert other_reader.status == 200 and other_reader.headers["ETag"] != etag
    await forum.reply(thread_id, other, "Une réponse de plus.")
    changed = await reader.get(f"/t/{thread_id}", headers={"If-None-Match": etag})
    assert changed.status == 200 and "Une réponse de plus." in await changed.text()


async def test_a_members_board_page_follows_new_threads_and_their_follow(forum):
    board, _mod, author, other, _thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    page = await (await reader.get(f"/b/{board.slug}")).text()
    assert "Suivre cette ville" in page and f">{other.name}</a>" in page
    assert "Sujet-Neuf" not in await (await reader.get(f"/b/{board.slug}")).text()
    await forum.thread(board, author, title="Sujet-Neuf")
    assert "Sujet-Neuf" in await (await reader.get(f"/b/{board.slug}")).text()
    response = await reader.post(f"/follow/board/{board.slug}",
                                 data={"csrf_token": csrf_from(page), "mode": "follow"},
                                 allow_redirects=False)
    assert response.status == 303
    page = await (await reader.get(f"/b/{board.slug}")).text()
    assert "Suivre cette ville" not in page and "Ne plus suivre" in page
    peer = await _member_client(forum, await forum.user())  # the same kept page, not her state
    page = await (await peer.get(f"/b/{board.slug}")).text()
    assert "Suivre cette ville" in page and other.name not in page


async def test_a_members_home_page_follows_a_new_board(forum):
    _board, _mod, _author, other, _thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    assert "Ville-Neuve" not in await (await reader.get("/")).text()
    assert "Ville-Neuve" not in await (await reader.get("/")).text()
    await forum.board("Ville-Neuve")
    assert "Ville-Neuve" in await (await reader.get("/")).text()


async def test_notifications_page_follows_each_write_and_is_only_its_members(forum):
    _board, moderator, _author, other, _thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    peer = await _member_client(forum, await forum.user())
    assert "Avertissement-Un" not in await (await reader.get("/notifications")).text()
    async with forum.db.transaction() as tx:
        await moderation.sanction(tx, other, await users.get(tx, moderator.id), "warn",
                                  "Avertissement-Un")
    page = await (await reader.get("/notifications")).text()
    assert "Avertissement-Un" in page
    assert "Avertissement-Un" not in await (await peer.get("/notifications")).text()
    before = _unread(await (await reader.get("/notifications")).text())
    response = await reader.post("/notifications/read", data={"csrf_token": csrf_from(page)},
                                 allow_redirects=False)
    assert response.status == 303 and before == 1
    assert _unread(await (await reader.get("/notifications")).text()) == 0


async def test_a_members_head_request_is_answered_without_keeping_anything(forum):
    board, _mod, _author, other, thread_id, _post_id = await _scene(forum)
    reader = await _member_client(forum, other)
    for path in (f"/t/{thread_id}", f"/b/{board.slug}", "/", "/notifications"):
        response = await reader.head(path)
        assert response.status == 200, path
        assert response.headers["Cache-Control"] == "private, no-store"
        assert f">{other.name}</a>" in await _page(reader, thread_id)


async def test_a_new_pending_finding_shows_at_once_to_its_author_only(forum):
    board = await forum.board("Metz", "metz")
    author, other = await forum.user(), await forum.user()
    newcomer = await forum.user(trusted=False)
    thread_id, post_id = await forum.thread(board, author)
    proposer, peer = (await _member_client(forum, newcomer), await _member_client(forum, other))
    for client in (proposer, peer, proposer, peer):  # both kept: one page for their class
        assert "/f/" not in await _page(client, thread_id)
    finding_id = await forum.finding(board, newcomer, post_id, review="pending")
    assert f'href="/f/{finding_id}"' in await _page(proposer, thread_id)
    assert f"/f/{finding_id}" not in await _page(peer, thread_id)


def test_a_readers_bits_kept_encoded_are_found_by_their_values_only():
    """ReaderPage.assemble with the session's memo: what it keeps (the reader's bits encoded,
    their digest) is found again only for the same bits, and gives what no memo gives."""
    kept = fragments.ReaderPage.of(f"<p>{fragments.CSRF_MARK}</p>", frozenset(), 1)
    other = fragments.ReaderPage.of(f"<div>{fragments.CSRF_MARK}</div>", frozenset(), 2)
    memo: dict[object, object] = {}
    first, first_etag = kept.assemble({"csrf": "jeton-A"}, memo)
    second, second_etag = kept.assemble({"csrf": "jeton-B"}, memo)
    assert first == b"<p>jeton-A</p>" and second == b"<p>jeton-B</p>"
    assert first_etag != second_etag
    assert kept.assemble({"csrf": "jeton-A"}, memo) == (first, first_etag)
    assert kept.assemble({"csrf": "jeton-A"}) == (first, first_etag)  # as with no memo
    elsewhere, elsewhere_etag = other.assemble({"csrf": "jeton-A"}, memo)
    assert elsewhere == b"<div>jeton-A</div>" and elsewhere_etag != first_etag
    assert len(memo) == 2  # one entry per set of bits, whatever the page


# The moderation queue and the watch pages of members (kept per class, assembled per reader).


async def _text(client, path: str) -> tuple[int, str]:
    response = await client.get(path, headers={"Accept-Language": "en"})
    return response.status, await response.text()


async def _watch_scene(forum):
    """A city on a-priori moderation with its moderator, a member and a newcomer, one thread."""
    board = await forum.board("Metz", "metz", moderation_mode="a-priori")
    await forum.board("Nancy", "nancy")
    moderator, member = await forum.user(), await forum.user()
    newcomer = await forum.user(trusted=False)
    await forum.appoint(board, moderator)
    thread_id, _post_id = await forum.thread(board, member, body="Texte d'origine.")
    clients = {name: await _member_client(forum, user) for name, user in (
        ("moderator", moderator), ("member", member), ("newcomer", newcomer))}
    clients["visitor"] = await forum.visitor()
    async with forum.db.read() as conn:
        moderator = await users.get(conn, moderator.id)
    return board, moderator, member, newcomer, thread_id, clients


WATCH_PATHS = ("/b/metz/watch", "/watch", "/watch/compare?a=metz&b=nancy")


async def test_a_pending_finding_is_on_its_authors_and_moderators_watch_pages_only(forum):
    board, moderator, _member, newcomer, _thread, clients = await _watch_scene(forum)
    for _round in range(2):  # the second from the kept pages
        for client in clients.values():
            assert (await _text(client, "/b/metz/watch"))[0] == 200
    finding_id = await forum.finding(board, newcomer, review="pending", quantity="417")
    seen = {name: f"/f/{finding_id}" in (await _text(client, "/b/metz/watch"))[1]
            for name, client in clients.items()}
    assert seen == {"moderator": True, "newcomer": True, "member": False, "visitor": False}
    assert f"/f/{finding_id}" not in (await _text(clients["member"], "/b/metz/watch"))[1]
    async with forum.db.transaction() as tx:  # a decision: on every page of everyone
        await findings.approve(tx, await findings.get(tx, finding_id), moderator, True)
    for client in clients.values():
        for path in WATCH_PATHS:
            status, page = await _text(client, path)
            # (the national table sums the cities' figures: 417 is its cameras' total)
            assert status == 200 and "417" in page, path


async def test_a_finding_edit_and_purge_show_at_once_on_members_watch_pages(forum):
    board, moderator, _member, _newcomer, _thread, clients = await _watch_scene(forum)
    finding_id = await forum.finding(board, moderator, quantity="321")
    reader = clients["member"]
    for path in WATCH_PATHS[::2]:
        assert "321" in (await _text(reader, path))[1]
    draft_fields = {"quantity": "654"}
    async with forum.db.transaction() as tx:
        finding = await findings.get(tx, finding_id)
        raw = finding_drafts.RawFinding(**{
            "kind": "cameras", "unit": "count", "scope": "total", "observed": "2008",
            "status": "in-use", "posts": [], "links": [("https://example.org/s.pdf", "S")],
            **draft_fields})
        draft = await finding_drafts.check(tx, board, raw, date.today())
        await findings.edit(tx, finding, moderator, draft, "Recompté")
    for path in WATCH_PATHS[::2]:
        page = (await _text(reader, path))[1]
        assert "654" in page and "321" not in page, path
    async with forum.db.read() as conn:
        revision = await conn.value("select min(id) from finding_revisions"
                                    " where finding_id = ?", (finding_id,))
    async with forum.db.transaction() as tx:
        await findings.purge_version(tx, await findings.get(tx, finding_id), moderator,
                                     revision)
    for path in WATCH_PATHS[::2]:
        assert "321" not in (await _text(reader, path))[1]


async def test_a_city_rename_shows_at_once_on_members_watch_pages(forum):
    board, _moderator, _member, _newcomer, _thread, clients = await _watch_scene(forum)
    await forum.finding(board, _moderator)
    for path in WATCH_PATHS:
        assert "Metz" in (await _text(clients["member"], path))[1]
    async with forum.db.transaction() as tx:
        await boards.update(tx, board, "Metz-Métropole", "metz")
    for path in WATCH_PATHS:
        assert "Metz-Métropole" in (await _text(clients["member"], path))[1], path


async def test_the_queue_follows_each_write_that_changes_it(forum):
    """Kept by value: a new waiting post, a flag (which no page tag names), an edit of the
    waiting text and a decision all show at the moderator's next request."""
    _board, moderator, _member, newcomer, thread_id, clients = await _watch_scene(forum)
    queue = clients["moderator"]
    assert "Nothing is waiting" in (await _text(queue, "/moderation"))[1]
    waiting = await forum.reply(thread_id, newcomer, "Message en attente.", status="pending")
    assert "Message en attente." in (await _text(queue, "/moderation"))[1]
    async with forum.db.transaction() as tx:
        await moderation.flag(tx, await _post(forum, await _first_post(forum, thread_id)),
                              newcomer, "Propos douteux", 3, 10_000)
    assert "Propos douteux" in (await _text(queue, "/moderation"))[1]
    async with forum.db.transaction() as tx:
        await posts.edit(tx, await _post(forum, waiting), newcomer, "Message corrigé.", 10_000)
    page = (await _text(queue, "/moderation"))[1]
    assert "Message corrigé." in page and "Message en attente." not in page
    async with forum.db.transaction() as tx:
        await moderation.approve(tx, await _post(forum, waiting), moderator)
    assert "Message corrigé." not in (await _text(queue, "/moderation"))[1]
    assert len(forum.app[keys.FRAGMENTS].pages) == 1  # each version replaced the one before


async def _first_post(forum, thread_id: int) -> int:
    async with forum.db.read() as conn:
        return int(await conn.value("select min(id) from posts where thread_id = ?",
                                    (thread_id,)))


async def test_a_purge_leaves_nothing_of_the_queue_in_memory(forum):
    _board, moderator, _member, newcomer, thread_id, clients = await _watch_scene(forum)
    waiting = await forum.reply(thread_id, newcomer, "Texte sûr.", status="pending")
    async with forum.db.transaction() as tx:
        await moderation.approve(tx, await _post(forum, waiting), moderator)
    async with forum.db.transaction() as tx:  # an edit waits beside the published version
        await posts.edit(tx, await _post(forum, waiting), newcomer,
                         "Adresse : 12 rue Secrète.", 10_000, wait=True)
    assert "12 rue Secrète" in (await _text(clients["moderator"], "/moderation"))[1]
    assert "12 rue Secrète" in _kept_pages(forum)
    async with forum.db.read() as conn:
        revision = await conn.value("select max(id) from post_revisions where post_id = ?",
                                    (waiting,))
    async with forum.db.transaction() as tx:
        await moderation.purge_post_version(tx, await _post(forum, waiting), moderator,
                                            revision)
    assert "12 rue Secrète" not in _kept_pages(forum)
    assert "12 rue Secrète" not in (await _text(clients["moderator"], "/moderation"))[1]


def _kept_pages(forum) -> str:
    """The text of every page kept by value in the fragment cache (templating.page_by_value)."""
    return "".join(b"".join(part for part in page.parts if isinstance(part, bytes)).decode()
                   for (_shown, page), _tags in forum.app[keys.FRAGMENTS].pages._entries.values())


async def test_a_moderator_added_then_removed_gets_then_loses_the_queue(forum):
    board, _moderator, member, newcomer, thread_id, clients = await _watch_scene(forum)
    await forum.reply(thread_id, newcomer, "Message en attente.", status="pending")
    assert (await _text(clients["member"], "/moderation"))[0] == 404
    await forum.appoint(board, member)
    reader = await _member_client(forum, member)  # their sessions ended: a new login
    assert "Message en attente." in (await _text(reader, "/moderation"))[1]
    async with forum.db.transaction() as tx:
        await moderation.remove_board_moderator(tx, board, member)
    reader = await _member_client(forum, member)
    assert (await _text(reader, "/moderation"))[0] == 404


async def test_a_moderators_queue_is_kept_once_and_carries_each_ones_token(forum):
    board, _moderator, _member, newcomer, thread_id, clients = await _watch_scene(forum)
    await forum.reply(thread_id, newcomer, "Message en attente.", status="pending")
    other = await forum.user()
    await forum.appoint(board, other)
    second = await _member_client(forum, other)
    pages = [(await _text(client, "/moderation"))[1]
             for client in (clients["moderator"], second, clients["moderator"])]
    assert pages[0] == pages[2]
    tokens = [csrf_from(page) for page in pages[:2]]
    assert tokens[0] != tokens[1] and all(token in page for token, page in zip(
        tokens, pages, strict=False))
    assert fragments.CSRF_MARK not in "".join(pages)
    assert len(forum.app[keys.FRAGMENTS].pages) == 1  # one for both: the same boards


async def test_members_watch_pages_are_kept_for_their_class(forum):
    board, _moderator, _member, newcomer, _thread, clients = await _watch_scene(forum)
    await forum.finding(board, newcomer, review="pending")
    for _round in range(2):
        for name in ("member", "newcomer", "moderator"):
            await _text(clients[name], "/b/metz/watch")
    kept = [key for key in forum.app[keys.PAGE_CACHE]._entries if key[0] == "reader"]
    # members' class, the moderator's, and the newcomer's own (their pending finding)
    assert len(kept) == 3
    assert sum(1 for key in kept if key[-1] == 0) == 2


# The notice of the inline reply form: the same as on the reply page, each member's own. -----


async def test_the_wait_notice_follows_the_boards_rule_and_the_readers_trust(forum):
    """On an a-priori board every member's reply waits, not a moderator's; on an a-posteriori
    board only a newcomer's. The thread page (kept, assembled) says what the reply page
    (rendered for them alone) says."""
    waits = "Your message will wait for a moderator"
    _strict, _moderator, member, _newcomer, strict_thread, clients = await _watch_scene(forum)
    open_board = await forum.board()
    open_thread, _post_id = await forum.thread(open_board, member)
    expected = {(strict_thread, "member"): True, (strict_thread, "newcomer"): True,
                (strict_thread, "moderator"): False, (open_thread, "member"): False,
                (open_thread, "newcomer"): True, (open_thread, "moderator"): False}
    for _round in range(2):  # the second from the kept pages
        for (thread_id, name), wait in expected.items():
            page = (await _text(clients[name], f"/t/{thread_id}"))[1]
            reply = (await _text(clients[name], f"/t/{thread_id}/reply"))[1]
            assert (waits in page, waits in reply) == (wait, wait), (thread_id, name)
