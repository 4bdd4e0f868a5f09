"""Moderation: publication rules, the queue, decisions, flags, sanctions and the journal."""
from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from forum import clock
from forum.models import moderation, posts, threads
from tests.conftest import log_in, submit

pytestmark = pytest.mark.both_stores


async def board_with_moderators(forum, mode: str = "a-posteriori"):
    board = await forum.board("Metz", description="", region="Moselle", moderation_mode=mode)
    veteran = await forum.user("veteran")
    thread_id, _ = await forum.thread(board, veteran, "Metz - équipement et utilisation")
    return board, thread_id


async def reply_via_web(client, thread_id: int, body: str):
    return await submit(client, f"/t/{thread_id}/reply", {"body": body, "action": "publish"},
                        form_page=f"/t/{thread_id}")


async def status_of(forum, post_id: int) -> str:
    async with forum.db.read() as conn:
        return await conn.value("select status from posts where id = ?", (post_id,))


def post_id_from(response) -> int:
    return int(response.headers["Location"].rsplit("/", 1)[1])


async def test_scenario_a_priori_post_waits_then_appears_in_place(forum, client):
    """The issue's scenario, from the member's reply to the public journal."""
    board, thread_id = await board_with_moderators(forum, "a-priori")
    await forum.user("nouvelle", trusted=False)
    await forum.user("moderatrice", role="moderator")
    await log_in(client, "nouvelle")
    posted = await reply_via_web(client, thread_id, "J'ai vu **quatre** caméras neuves.")
    post_id = post_id_from(posted)
    assert await status_of(forum, post_id) == "pending"
    # The author sees it in place, marked as waiting.
    mine = await (await client.get(f"/t/{thread_id}")).text()
    assert f'id="p{post_id}"' in mine and "quatre" in mine
    # A reader, the API and the post's own URL know nothing of it.
    reader = await forum.visitor()
    assert "quatre" not in await (await reader.get(f"/t/{thread_id}")).text()
    assert (await reader.get(f"/p/{post_id}")).status == 404
    assert (await reader.get(f"/p/{post_id}/revisions")).status == 404
    api = await (await reader.get(f"/api/v1/threads/{thread_id}")).json()
    assert post_id not in [p["id"] for p in api["posts"]]
    assert (await reader.get(f"/api/v1/posts/{post_id}")).status == 404
    listing = await (await reader.get(f"/b/{board.slug}")).text()
    assert ">1</td>" in listing  # the count of messages leaves it out
    # The moderator approves it with one click from the queue.
    moderator = await forum.visitor()
    await log_in(moderator, "moderatrice")
    queue = await (await moderator.get("/moderation")).text()
    assert "quatre" in queue and "Metz - équipement et utilisation" in queue
    approved = await submit(moderator, f"/moderation/posts/{post_id}/approve",
                            {"next": "/moderation"}, form_page="/moderation")
    assert approved.status == 303 and approved.headers["Location"] == "/moderation"
    # It appears in place, with its original time, for everyone.
    page = await (await reader.get(f"/t/{thread_id}")).text()
    assert "<strong>quatre</strong>" in page
    async with forum.db.read() as conn:
        post = await posts.get(conn, post_id)
    assert post.status == "published" and f'datetime="{post.created_at}"' in page
    # The author is told; the journal shows the action.
    notes = await (await client.get("/notifications")).text()
    assert f'href="/p/{post_id}"' in notes
    journal = await (await reader.get("/moderation/journal")).text()
    assert "moderatrice" in journal
    feed = await reader.get("/moderation/journal.atom")
    assert feed.content_type == "application/atom+xml" and "moderatrice" in await feed.text()


async def test_new_members_wait_until_trusted(forum, client):
    _board, thread_id = await board_with_moderators(forum)
    await forum.user("nouvelle", trusted=False)
    moderator = await forum.user("moderatrice", role="moderator")
    await log_in(client, "nouvelle")
    ids = []
    for n in range(forum.config.trust_threshold):
        ids.append(post_id_from(await reply_via_web(client, thread_id, f"Relevé {n}")))
        async with forum.db.transaction() as tx:
            post = await posts.get(tx, ids[-1])
            assert post.status == "pending"
            await moderation.approve(tx, post, moderator)
    trusted = post_id_from(await reply_via_web(client, thread_id, "Désormais publié"))
    assert await status_of(forum, trusted) == "published"


async def test_links_from_untrusted_members_wait_and_trusted_publish_them(forum, client):
    _board, thread_id = await board_with_moderators(forum)
    await forum.user("lea")
    await forum.user("nouvelle", trusted=False)
    links = " ".join(f"https://example.org/{n}" for n in range(5))
    await log_in(client, "lea")
    assert await status_of(forum, post_id_from(await reply_via_web(client, thread_id, links))) \
        == "published"
    newcomer = await forum.visitor()
    await log_in(newcomer, "nouvelle")
    assert await status_of(forum, post_id_from(await reply_via_web(newcomer, thread_id, links))) \
        == "pending"


async def test_pending_thread_is_invisible_to_others(forum, client):
    board, _ = await board_with_moderators(forum, "a-priori")
    await forum.user("nouvelle", trusted=False)
    await log_in(client, "nouvelle")
    response = await submit(client, f"/b/{board.slug}/new", {
        "title": "Drones au-dessus des parcs", "body": "Vu ce matin.", "action": "publish"})
    thread_id = int(re.search(r"/t/(\d+)", (await client.get(
        response.headers["Location"], allow_redirects=False)).headers["Location"]).group(1))
    assert (await client.get(f"/t/{thread_id}")).status == 200
    reader = await forum.visitor()
    assert (await reader.get(f"/t/{thread_id}")).status == 404
    assert "Drones" not in await (await reader.get(f"/b/{board.slug}")).text()
    assert (await reader.get(f"/api/v1/threads/{thread_id}")).status == 404


async def waiting_reply(forum, client, body: str) -> tuple[int, int, Any]:
    """A newcomer's reply, sent from the page (`client` is theirs), waiting in an a-priori
    board; the thread, the reply, and a moderator's own client, logged in."""
    _board, thread_id = await board_with_moderators(forum, "a-priori")
    await forum.user("nouvelle", trusted=False)
    await forum.user("moderatrice", role="moderator")
    await log_in(client, "nouvelle")
    post_id = post_id_from(await reply_via_web(client, thread_id, body))
    moderator = await forum.visitor()
    await log_in(moderator, "moderatrice")
    return thread_id, post_id, moderator


async def test_reject_with_reason_then_author_edits_and_resubmits(forum, client):
    thread_id, post_id, moderator = await waiting_reply(forum, client, "Il habite au 3 rue X")
    rejected = await submit(moderator, f"/moderation/posts/{post_id}/reject", {
        "reason_choice": "Reveals someone's identity or private life", "reason": "",
        "next": "/moderation"}, form_page="/moderation")
    assert rejected.status == 303
    mine = await (await client.get(f"/t/{thread_id}")).text()
    assert f'id="p{post_id}"' in mine
    assert "identity" in mine or "identité" in mine
    reader = await forum.visitor()
    assert (await reader.get(f"/p/{post_id}")).status == 404
    journal = await (await reader.get("/moderation/journal")).text()
    assert "3 rue X" not in journal
    await submit(client, f"/p/{post_id}/edit", {"body": "Des caméras rue X, sans adresse."})
    assert await status_of(forum, post_id) == "pending"


async def test_reject_needs_a_reason_and_private_reasons_stay_private(forum, client):
    _thread_id, post_id, moderator = await waiting_reply(forum, client, "Texte")
    no_reason = await submit(moderator, f"/moderation/posts/{post_id}/reject", {"reason": ""},
                             form_page="/moderation")
    assert no_reason.status == 422 and await status_of(forum, post_id) == "pending"
    await submit(moderator, f"/moderation/posts/{post_id}/reject",
                 {"reason": "signalé par la famille", "private": "1"}, form_page="/moderation")
    journal = await (await client.get("/moderation/journal")).text()
    assert "signalé par la famille" not in journal


async def test_two_moderators_deciding_at_once_apply_it_once(forum):
    _board, thread_id = await board_with_moderators(forum, "a-priori")
    author = await forum.user("nouvelle", trusted=False)
    first = await forum.user("moderatrice", role="moderator")
    second = await forum.user("moderateur2", role="moderator")
    post_id = await forum.reply(thread_id, author, "Texte", status="pending")
    async with forum.db.read() as conn:
        stale = await posts.get(conn, post_id)  # both loaded it before deciding
    async with forum.db.transaction() as tx:
        await moderation.approve(tx, stale, first)
    with pytest.raises(moderation.Conflict):
        async with forum.db.transaction() as tx:
            await moderation.reject(tx, stale, second, "trop tard")
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from moderation_log") == 1
        assert await conn.value("select post_count from threads where id = ?", (thread_id,)) == 2


async def test_already_decided_gives_409_over_http(forum, client):
    _board, thread_id = await board_with_moderators(forum, "a-priori")
    author = await forum.user("nouvelle", trusted=False)
    await forum.user("moderatrice", role="moderator")
    post_id = await forum.reply(thread_id, author, "Texte", status="pending")
    await log_in(client, "moderatrice")
    first = await submit(client, f"/moderation/posts/{post_id}/approve", {},
                         form_page="/moderation")
    again = await submit(client, f"/moderation/posts/{post_id}/approve", {},
                         form_page="/moderation")
    assert first.status == 303 and again.status == 409
    assert (await submit(client, "/moderation/posts/99999/approve", {},
                         form_page="/moderation")).status == 404


async def test_flags_from_trusted_members_hide_a_post_until_review(forum, client):
    _board, thread_id = await board_with_moderators(forum)
    author = await forum.user("auteur")
    post_id = await forum.reply(thread_id, author, "Nom et adresse d'un agent")
    for n in range(forum.config.flags_to_hide):
        member = await forum.user(f"veilleur{n}")
        visitor = await forum.visitor()
        await log_in(visitor, member.name)
        flagged = await submit(visitor, f"/p/{post_id}/flag", {"reason": "données personnelles"})
        assert flagged.status == 303
        if n == 0:
            twice = await submit(visitor, f"/p/{post_id}/flag", {"reason": "encore"})
            assert twice.status == 409
    reader = await forum.visitor()
    assert "Nom et adresse" not in await (await reader.get(f"/t/{thread_id}")).text()
    assert (await reader.get(f"/p/{post_id}")).status == 404
    await forum.user("moderatrice", role="moderator")
    await log_in(client, "moderatrice")
    queue = await (await client.get("/moderation")).text()
    assert "Nom et adresse" in queue and "données personnelles" in queue
    await submit(client, f"/moderation/posts/{post_id}/dismiss", {}, form_page="/moderation")
    assert "Nom et adresse" in await (await reader.get(f"/t/{thread_id}")).text()


async def test_untrusted_flags_do_not_hide(forum, client):
    _board, thread_id = await board_with_moderators(forum)
    author = await forum.user("auteur")
    post_id = await forum.reply(thread_id, author, "Un message contesté")
    for n in range(forum.config.flags_to_hide):
        member = await forum.user(f"nouveau{n}", trusted=False)
        async with forum.db.transaction() as tx:
            post = await posts.get(tx, post_id)
            await moderation.flag(tx, post, member, "pas d'accord", forum.config.flags_to_hide,
                                  forum.config.trust_threshold)
    assert "contesté" in await (await client.get(f"/t/{thread_id}")).text()


async def test_moderator_deletes_with_reason_and_restores(forum, client):
    _board, thread_id = await board_with_moderators(forum)
    author = await forum.user("auteur")
    post_id = await forum.reply(thread_id, author, "Propos injurieux")
    await forum.user("moderatrice", role="moderator")
    await log_in(client, "moderatrice")
    no_reason = await submit(client, f"/p/{post_id}/delete", {"reason": ""})
    assert no_reason.status == 422
    deleted = await submit(client, f"/p/{post_id}/delete", {"reason": "injures"})
    assert deleted.status == 303
    reader = await forum.visitor()
    assert "Propos injurieux" not in await (await reader.get(f"/t/{thread_id}")).text()
    restored = await submit(client, f"/moderation/posts/{post_id}/restore", {},
                            form_page=f"/t/{thread_id}")
    assert restored.status == 303
    assert "Propos injurieux" in await (await reader.get(f"/t/{thread_id}")).text()
    journal = await (await reader.get("/moderation/journal")).text()
    assert "injures" in journal


async def test_lock_pin_and_move_a_thread(forum, client):
    board, thread_id = await board_with_moderators(forum)
    await forum.board("Grenoble")
    await forum.user("moderatrice", role="moderator")
    await log_in(client, "moderatrice")
    for action in ("lock", "pin"):
        response = await submit(client, f"/moderation/threads/{thread_id}/state",
                                {"action": action}, form_page=f"/t/{thread_id}")
        assert response.status == 303
    member = await forum.visitor()
    await forum.user("lea")
    await log_in(member, "lea")
    assert (await reply_via_web(member, thread_id, "Encore")).status == 403
    moved = await submit(client, f"/moderation/threads/{thread_id}/move",
                         {"board": "grenoble", "reason": "mauvaise ville"},
                         form_page=f"/t/{thread_id}")
    assert moved.status == 303
    listing = await (await member.get("/b/grenoble")).text()
    assert "Metz - équipement" in listing
    assert "Metz - équipement" not in await (await member.get(f"/b/{board.slug}")).text()
    async with forum.db.read() as conn:
        counts = await conn.all("select slug, thread_count, post_count from boards order by id")
    assert [tuple(row) for row in counts] == [("metz", 0, 0), ("grenoble", 1, 1)]


async def test_board_moderator_cannot_act_elsewhere(forum, client):
    metz, metz_thread = await board_with_moderators(forum, "a-priori")
    grenoble = await forum.board("Grenoble", moderation_mode="a-priori")
    author = await forum.user("nouvelle", trusted=False)
    local = await forum.user("local")
    await forum.appoint(metz, local)
    async with forum.db.transaction() as tx:
        in_metz = await posts.create(tx, metz_thread, metz.id, author, "À Metz",
                                     forum.config.body_max, status="pending")
    veteran = await forum.user("v2")
    g_thread, _ = await forum.thread(grenoble, veteran)
    in_grenoble = await forum.reply(g_thread, author, "À Grenoble", status="pending")
    await log_in(client, "local")
    queue = await (await client.get("/moderation")).text()
    assert "À Metz" in queue and "À Grenoble" not in queue
    elsewhere = await submit(client, f"/moderation/posts/{in_grenoble}/approve", {},
                             form_page="/moderation")
    assert elsewhere.status == 404 and await status_of(forum, in_grenoble) == "pending"
    here = await submit(client, f"/moderation/posts/{in_metz}/approve", {},
                        form_page="/moderation")
    assert here.status == 303
    await forum.reply(g_thread, veteran, "Public à Grenoble")
    lock = await submit(client, f"/moderation/threads/{g_thread}/state", {"action": "lock"},
                        form_page="/moderation")
    assert lock.status == 403
    assert "Public à Grenoble" in await (await client.get(f"/t/{g_thread}")).text()


async def test_suspended_member_reads_but_cannot_write(forum, client):
    _board, thread_id = await board_with_moderators(forum)
    await forum.user("lea")
    await forum.user("moderatrice", role="moderator")
    moderator = await forum.visitor()
    await log_in(moderator, "moderatrice")
    until = clock.later(days=7)[:10]
    response = await submit(moderator, "/u/lea/sanction",
                            {"kind": "suspend", "until": until, "reason": "insultes répétées"},
                            form_page="/u/lea")
    assert response.status == 303
    await log_in(client, "lea")
    page = await (await client.get(f"/t/{thread_id}")).text()
    assert "insultes répétées" in page and "<textarea" not in page
    refused = await reply_via_web(client, thread_id, "Je reviens")
    assert refused.status == 403 and "insultes répétées" in await refused.text()
    await submit(moderator, "/u/lea/sanction", {"kind": "lift", "reason": "levée"},
                 form_page="/u/lea")
    assert (await reply_via_web(client, thread_id, "Merci")).status == 303


async def test_suspension_needs_a_future_date_and_ban_is_forever(forum, client):
    await forum.user("lea")
    await forum.user("moderatrice", role="moderator")
    await log_in(client, "moderatrice")
    past = await submit(client, "/u/lea/sanction",
                        {"kind": "suspend", "until": "2001-01-01", "reason": "x"},
                        form_page="/u/lea")
    assert past.status == 422
    ban = await submit(client, "/u/lea/sanction", {"kind": "ban", "reason": "doxxing"},
                       form_page="/u/lea")
    assert ban.status == 303
    async with forum.db.read() as conn:
        until = await conn.value("select suspended_until from users where name = 'lea'")
    assert until.startswith("9999")


ROLES = ("visitor", "member", "author", "metz_moderator", "grenoble_moderator", "moderator",
         "admin")
# Who may approve a pending post of Metz: (role, expected status).
APPROVE = {"visitor": 401, "member": 404, "author": 403, "metz_moderator": 303,
           "grenoble_moderator": 404, "moderator": 303, "admin": 303}
# Who may lock a public thread of Metz.
LOCK = {"visitor": 401, "member": 403, "author": 403, "metz_moderator": 303,
        "grenoble_moderator": 403, "moderator": 303, "admin": 303}


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_against_each_moderation_action(forum, client, role):
    metz, thread_id = await board_with_moderators(forum, "a-priori")
    grenoble = await forum.board("Grenoble")
    author = await forum.user("author", trusted=False)
    pending = await forum.reply(thread_id, author, "En attente", status="pending")
    if role != "visitor":
        if role == "author":
            name = "author"
        else:
            db_role = role if role in ("moderator", "admin") else "member"
            name = role
            user = await forum.user(name, role=db_role)
            board = {"metz_moderator": metz, "grenoble_moderator": grenoble}.get(role)
            if board:
                await forum.appoint(board, user)
        await log_in(client, name)
    form_page = "/login" if role == "visitor" else "/"
    approve = await submit(client, f"/moderation/posts/{pending}/approve", {},
                           form_page=form_page)
    # 404 where the post is not visible to them; 403 where it is but they may not decide.
    assert approve.status == APPROVE[role], role
    lock = await submit(client, f"/moderation/threads/{thread_id}/state", {"action": "lock"},
                        form_page=form_page)
    assert lock.status == LOCK[role], role
    queue = await client.get("/moderation", allow_redirects=False)
    sees_queue = role in ("metz_moderator", "grenoble_moderator", "moderator", "admin")
    assert queue.status == (200 if sees_queue else 303 if role == "visitor" else 404), role


async def test_edit_then_approve_keeps_the_original_as_a_revision(forum, client):
    board, thread_id = await board_with_moderators(forum, "a-priori")
    author = await forum.user("nouvelle", trusted=False)
    await forum.user("moderatrice", role="moderator")
    async with forum.db.transaction() as tx:
        post_id = await posts.create(tx, thread_id, board.id, author,
                                     "Le maire M. Dupont, 12 rue des Lilas, a signé.",
                                     forum.config.body_max, status="pending")
    await log_in(client, "moderatrice")
    response = await submit(client, f"/moderation/posts/{post_id}/edit",
                            {"body": "Le maire a signé.", "action": "publish"})
    assert response.status == 303
    reader = await forum.visitor()
    page = await (await reader.get(f"/t/{thread_id}")).text()
    assert "Le maire a signé." in page and "rue des Lilas" not in page
    async with forum.db.read() as conn:
        history = await posts.revisions(conn, post_id, private=True)
        actions = [r[0] for r in await conn.all("select action from moderation_log order by id")]
    assert history[0].body_source.startswith("Le maire M. Dupont")
    assert [r.state for r in history] == ["corrected", "public"]
    assert len(history) == 2 and actions == ["edit", "approve"]


async def test_moderator_grants_and_withdraws_trust(forum, client):
    _board, thread_id = await board_with_moderators(forum)
    await forum.user("nouvelle", trusted=False)
    await forum.user("moderatrice", role="moderator")
    moderator = await forum.visitor()
    await log_in(moderator, "moderatrice")
    await submit(moderator, "/u/nouvelle/sanction", {"kind": "trust", "reason": ""},
                 form_page="/u/nouvelle")
    await log_in(client, "nouvelle")
    first = post_id_from(await reply_via_web(client, thread_id, "Publié directement"))
    assert await status_of(forum, first) == "published"
    await submit(moderator, "/u/nouvelle/sanction", {"kind": "distrust", "reason": "spam"},
                 form_page="/u/nouvelle")
    second = post_id_from(await reply_via_web(client, thread_id, "De nouveau en attente"))
    assert await status_of(forum, second) == "pending"


async def test_members_cannot_sanction_and_moderators_cannot_sanction_moderators(forum, client):
    await forum.user("lea")
    await forum.user("yann")
    await forum.user("moderatrice", role="moderator")
    await forum.user("autre_mod", role="moderator")
    await log_in(client, "lea")
    member = await submit(client, "/u/yann/sanction", {"kind": "ban", "reason": "x"},
                          form_page="/u/yann")
    assert member.status == 403
    moderator = await forum.visitor()
    await log_in(moderator, "moderatrice")
    peer = await submit(moderator, "/u/autre_mod/sanction", {"kind": "ban", "reason": "x"},
                        form_page="/u/autre_mod")
    assert peer.status == 403
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from sanctions") == 0


async def test_admin_names_a_board_moderator_from_the_web(forum, client):
    board, thread_id = await board_with_moderators(forum, "a-priori")
    author = await forum.user("nouvelle", trusted=False)
    await forum.user("local")
    await forum.user("admin", role="admin")
    async with forum.db.transaction() as tx:
        await posts.create(tx, thread_id, board.id, author, "À valider",
                           forum.config.body_max, status="pending")
    await log_in(client, "admin")
    added = await submit(client, f"/admin/boards/{board.slug}",
                         {"moderator": "local", "action": "add"})
    assert added.status == 303
    assert "local" in await (await client.get(f"/admin/boards/{board.slug}")).text()
    local = await forum.visitor()
    await log_in(local, "local")
    assert "À valider" in await (await local.get("/moderation")).text()
    unknown = await submit(client, f"/admin/boards/{board.slug}",
                           {"moderator": "personne", "action": "add"})
    assert unknown.status == 404


async def test_journal_feed_is_valid_atom_without_private_reasons(forum, client):
    _board, thread_id = await board_with_moderators(forum)
    moderator = await forum.user("moderatrice", role="moderator")
    author = await forum.user("auteur")
    post_id = await forum.reply(thread_id, author, "<b>x</b> & co")
    async with forum.db.transaction() as tx:
        post = await posts.get(tx, post_id)
        await moderation.delete_post(tx, post, moderator, "raison <privée> & cachée",
                                     private=True)
        thread = await threads.get(tx, thread_id)
        await moderation.set_thread_state(tx, thread, moderator, "lock", "fin & clôture")
    response = await client.get("/moderation/journal.atom")
    root = ET.fromstring(await response.read())
    atom = "{http://www.w3.org/2005/Atom}"
    entries = root.findall(f"{atom}entry")
    assert len(entries) == 2
    summaries = [entry.find(f"{atom}summary").text or "" for entry in entries]
    assert "fin & clôture" in summaries and not any("cachée" in s for s in summaries)
    assert all(entry.find(f"{atom}id").text for entry in entries)
    page = await (await client.get("/moderation/journal")).text()
    assert 'type="application/atom+xml"' in page


async def test_notifications_tell_the_author_and_can_be_marked_read(forum, client):
    _board, thread_id = await board_with_moderators(forum, "a-priori")
    author = await forum.user("nouvelle", trusted=False)
    moderator = await forum.user("moderatrice", role="moderator")
    post_id = await forum.reply(thread_id, author, "Texte", status="pending")
    async with forum.db.transaction() as tx:
        await moderation.reject(tx, await posts.get(tx, post_id), moderator, "hors sujet")
    await log_in(client, "nouvelle")
    home = await (await client.get("/")).text()
    assert 'class="count"' in home
    notes = await (await client.get("/notifications")).text()
    assert "hors sujet" in notes and 'class="unread"' in notes
    await submit(client, "/notifications/read", {}, form_page="/notifications")
    assert 'class="count"' not in await (await client.get("/")).text()


async def test_a_pending_post_deleted_by_its_author_leaves_the_queue(forum):
    _board, thread_id = await board_with_moderators(forum, "a-priori")
    author = await forum.user("nouvelle", trusted=False)
    moderator = await forum.user("moderatrice", role="moderator")
    post_id = await forum.reply(thread_id, author, "Oups", status="pending")
    async with forum.db.transaction() as tx:
        await moderation.delete_as(tx, post_id, author, "")
    async with forum.db.read() as conn:
        assert await moderation.queue(conn, moderator) == []
        stale = await posts.get(conn, post_id)
    with pytest.raises(moderation.Conflict):
        async with forum.db.transaction() as tx:
            await moderation.approve(tx, stale, moderator)
    async with forum.db.read() as conn:
        assert await conn.value("select approved_count from users where id = ?",
                                (author.id,)) == 0


async def test_locking_twice_logs_once(forum):
    _board, thread_id = await board_with_moderators(forum)
    moderator = await forum.user("moderatrice", role="moderator")
    for _ in range(2):
        async with forum.db.transaction() as tx:
            await moderation.set_thread_state(tx, await threads.get(tx, thread_id), moderator,
                                              "lock")
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from moderation_log") == 1


async def test_a_cancelled_write_leaves_the_writer_usable(forum):
    started = asyncio.Event()

    async def slow_write() -> None:
        async with forum.db.transaction() as tx:
            await tx.execute("update boards set description = 'x'")
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(slow_write())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    board = await forum.board("Grenoble")  # a later write works
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from boards where description = 'x'") == 0
    assert board.slug == "grenoble"
