"""Mentions, quotes, following and the notifications they make, each told once and only public."""
from __future__ import annotations

import re

import pytest

from forum.models import moderation, notifications, posts
from tests.conftest import log_in, submit

pytestmark = pytest.mark.both_stores


async def told(forum, name: str, kind: str | None = None) -> list:
    async with forum.db.read() as conn:
        rows = await conn.all(
            "select kind, post_id from notifications join users on users.id = user_id"
            " where users.name = ? order by notifications.id", (name,))
    return [tuple(row) for row in rows if kind is None or row[0] == kind]


async def metz(forum):
    board = await forum.board("Metz")
    starter = await forum.user("bastien")
    thread_id, first = await forum.thread(board, starter, "Metz - équipement et utilisation")
    return board, starter, thread_id, first


async def lea_chooses(forum, client, mode: str, action: str, form_page: str):
    """Lea logs in and presses the button of `form_page` that posts `mode` ("follow", "mute")
    to `action` (a thread's or a city's /follow/...); returns her account."""
    lea = await forum.user("lea")
    await log_in(client, "lea")
    await submit(client, action, {"mode": mode}, form_page=form_page)
    return lea


async def test_mention_links_the_profile_and_tells_the_member_once(forum, client):
    _board, starter, thread_id, _ = await metz(forum)
    await forum.user("lea")
    post_id = await forum.reply(thread_id, starter, "Merci @lea ! Et @LEA encore, @personne.")
    html = await (await client.get(f"/t/{thread_id}")).text()
    assert '<a href="/u/lea" class="mention"' in html and "@personne" in html
    assert 'href="/u/personne"' not in html
    assert await told(forum, "lea", "mention") == [("mention", post_id)]


async def test_mentions_in_code_links_and_quotes_do_not_count(forum):
    _board, starter, thread_id, _ = await metz(forum)
    await forum.user("lea")
    await forum.reply(thread_id, starter,
                      "`@lea` et [@lea](https://example.org)\n\n> @lea a dit\n\n    @lea")
    assert await told(forum, "lea") == []


async def test_pending_mention_tells_nobody_until_approval_and_never_if_rejected(forum):
    _board, _starter, thread_id, _ = await metz(forum)
    await forum.user("lea")
    newcomer = await forum.user("nouvelle", trusted=False)
    moderator = await forum.user("moderatrice", role="moderator")
    waiting = await forum.reply(thread_id, newcomer, "Bonjour @lea", status="pending")
    refused = await forum.reply(thread_id, newcomer, "Salut @lea", status="pending")
    assert await told(forum, "lea") == [] and await told(forum, "bastien") == []
    async with forum.db.transaction() as tx:
        await moderation.reject(tx, await posts.get(tx, refused), moderator, "hors sujet")
    assert await told(forum, "lea") == []
    async with forum.db.transaction() as tx:
        await moderation.approve(tx, await posts.get(tx, waiting), moderator)
    assert await told(forum, "lea", "mention") == [("mention", waiting)]
    assert await told(forum, "bastien", "reply") == [("reply", waiting)]


async def test_an_edit_tells_only_newly_mentioned_members(forum):
    _board, starter, thread_id, _ = await metz(forum)
    await forum.user("lea")
    await forum.user("yann")
    post_id = await forum.reply(thread_id, starter, "Pour @lea")
    async with forum.db.transaction() as tx:
        await posts.edit(tx, await posts.get(tx, post_id), starter, "Pour @lea et @yann",
                         forum.config.body_max)
    async with forum.db.transaction() as tx:
        await posts.edit(tx, await posts.get(tx, post_id), starter, "Pour @lea, @yann !",
                         forum.config.body_max)
    assert len(await told(forum, "lea")) == 1 and len(await told(forum, "yann")) == 1


async def test_too_many_mentions_are_refused(forum, client):
    _board, _starter, thread_id, _ = await metz(forum)
    names = [f"veilleur{n}" for n in range(forum.config.mentions_max + 1)]
    for name in names:
        await forum.user(name)
    await log_in(client, "bastien")
    response = await submit(client, f"/t/{thread_id}/reply",
                            {"body": " ".join("@" + n for n in names)},
                            form_page=f"/t/{thread_id}")
    assert response.status == 422
    assert await told(forum, "veilleur0") == []


async def test_quote_starts_a_reply_and_tells_the_quoted_author(forum, client):
    _board, _starter, thread_id, first = await metz(forum)
    await forum.user("lea")
    await log_in(client, "lea")
    page = await (await client.get(f"/t/{thread_id}/reply?quote={first}")).text()
    body = re.search(r'<textarea id="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "@bastien" in body and f"(/p/{first})" in body and "&gt; Premier message." in body
    response = await submit(client, f"/t/{thread_id}/reply", {
        "body": f"@bastien a dit dans [Metz](/p/{first}) :\n> Premier message.\n\nD'accord."},
        form_page=f"/t/{thread_id}")
    assert response.status == 303
    assert [k for k, _ in await told(forum, "bastien")] == ["quote"]  # not also mention/reply


async def test_hidden_posts_cannot_be_quoted(forum, client):
    _board, _starter, thread_id, _ = await metz(forum)
    newcomer = await forum.user("nouvelle", trusted=False)
    waiting = await forum.reply(thread_id, newcomer, "Secret en attente", status="pending")
    await forum.user("lea")
    await log_in(client, "lea")
    page = await (await client.get(f"/t/{thread_id}/reply?quote={waiting}")).text()
    assert "Secret en attente" not in page


async def test_a_follower_gets_exactly_one_notification_per_public_post(forum, client):
    _board, starter, thread_id, _ = await metz(forum)
    lea = await lea_chooses(forum, client, "follow", f"/follow/thread/{thread_id}",
                            f"/t/{thread_id}")
    ids = [await forum.reply(thread_id, starter, f"Relevé {n}") for n in range(3)]
    await forum.reply(thread_id, lea, "Ma propre réponse")
    assert await told(forum, "lea") == [("reply", i) for i in ids]
    assert len(await told(forum, "bastien")) == 1  # lea's reply, bastien follows his thread


async def test_muting_a_thread_stops_replies(forum, client):
    _board, starter, thread_id, _ = await metz(forum)
    await lea_chooses(forum, client, "mute", f"/follow/thread/{thread_id}", f"/t/{thread_id}")
    await forum.reply(thread_id, starter, "Personne ne le saura")
    assert await told(forum, "lea") == []
    page = await (await client.get(f"/t/{thread_id}")).text()
    assert 'name="mode" value=""' in page  # offers to unmute


async def test_following_a_city_tells_about_new_threads(forum, client):
    board, starter, _, _ = await metz(forum)
    await lea_chooses(forum, client, "follow", f"/follow/board/{board.slug}", f"/b/{board.slug}")
    thread_id, first = await forum.thread(board, starter, "Drones au parc de la Seille")
    await forum.reply(thread_id, starter, "Suite")
    assert await told(forum, "lea") == [("new_thread", first)]


async def test_replying_follows_the_thread_unless_the_member_said_no(forum, client):
    _board, starter, thread_id, _ = await metz(forum)
    lea = await forum.user("lea")
    await forum.reply(thread_id, lea, "Je participe")
    later = await forum.reply(thread_id, starter, "Merci")
    assert await told(forum, "lea") == [("reply", later)]
    yann = await forum.user("yann")
    await log_in(client, "yann")
    await submit(client, "/settings/following", {}, form_page="/settings")
    await forum.reply(thread_id, yann, "Moi aussi")
    await forum.reply(thread_id, starter, "Encore merci")
    assert await told(forum, "yann") == []


async def test_notifications_are_grouped_by_thread_and_marked_read(forum, client):
    _board, starter, thread_id, _ = await metz(forum)
    lea = await forum.user("lea")
    await forum.reply(thread_id, lea, "Je suis")
    first = await forum.reply(thread_id, starter, "Un")
    for n in range(2):
        await forum.reply(thread_id, starter, f"Deux {n}")
    await log_in(client, "lea")
    html = await (await client.get("/notifications")).text()
    assert html.count('class="unread"') == 1 and "3" in html
    assert f'href="/p/{first}"' in html  # the group starts where to read
    item = re.search(r'action="/notifications/(\d+)/read"', html).group(1)
    await submit(client, f"/notifications/{item}/read", {}, form_page="/notifications")
    async with forum.db.read() as conn:
        assert await notifications.count_unread(conn, lea.id) == 0


async def test_notifications_about_deleted_posts_disappear(forum, client):
    _board, starter, thread_id, _ = await metz(forum)
    await forum.user("lea")
    post_id = await forum.reply(thread_id, starter, "Salut @lea, voici une adresse privée")
    async with forum.db.transaction() as tx:
        await posts.delete(tx, await posts.get(tx, post_id), starter, "erreur")
    await log_in(client, "lea")
    html = await (await client.get("/notifications")).text()
    assert f"/p/{post_id}" not in html


async def test_notifications_through_the_api(forum, client):
    _board, starter, thread_id, _ = await metz(forum)
    lea = await forum.user("lea")
    token = await forum.token(lea)
    headers = {"Authorization": f"Bearer {token}"}
    await forum.reply(thread_id, lea, "Je suis")
    for n in range(2):
        await forum.reply(thread_id, starter, f"Réponse {n}")
    await forum.reply(thread_id, starter, "Dis @lea")
    listing = await (await client.get("/api/v1/notifications", headers=headers)).json()
    kinds = [(item["kind"], item["count"]) for item in listing["notifications"]]
    assert kinds == [("mention", 1), ("reply", 2)] and listing["unread"] == 3
    first = listing["notifications"][1]["id"]
    done = await client.post("/api/v1/notifications/read", json={"ids": [first]},
                             headers=headers)
    assert done.status == 204
    assert (await (await client.get("/api/v1/notifications", headers=headers)).json()
            )["unread"] == 1
    assert (await client.post("/api/v1/notifications/read", json={"ids": [99999]},
                              headers=headers)).status == 404
    assert (await client.post("/api/v1/notifications/read", headers=headers)).status == 204
    assert (await client.get("/api/v1/notifications")).status == 401


async def test_member_suggestions_for_the_editor(forum, client):
    await forum.user("Léa.57")
    await forum.user("lea")
    await forum.user("yann")
    assert (await client.get("/api/v1/members?prefix=le")).status == 401  # members only
    await log_in(client, "yann")
    found = await (await client.get("/api/v1/members?prefix=@LE")).json()
    assert sorted(found["members"]) == ["lea", "Léa.57"] or found["members"] == ["lea"]
    assert (await (await client.get("/api/v1/members?prefix=")).json())["members"] == []
    assert (await client.get("/api/v1/members?prefix=" + "x" * 40)).status == 422
