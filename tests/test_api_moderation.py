"""Moderation through the JSON API: the queue, decisions, flags and thread tools, with the
pages' rules (404 for what a moderator may not see, 403 for a board they do not moderate)."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from forum import clock
from forum.csrf import HEADER as CSRF_HEADER
from forum.models import posts
from forum.models.moderation import REJECT_REASONS
from tests.conftest import csrf_token, log_in
from tests.test_api import V1, call, error_of

pytestmark = pytest.mark.both_stores

MOD = "/moderation"


async def pending_post(forum, thread_id: int, board_id: int, author, body: str,
                       at: str | None = None) -> int:
    """A post waiting for the moderators, as an untrusted member's reply would be."""
    async with forum.db.transaction() as tx:
        return await posts.create(tx, thread_id, board_id, author, body,
                                  forum.config.body_max, at=at, status="pending")


@pytest.fixture
async def world(forum) -> dict[str, Any]:
    """Metz and Grenoble, a thread in each, a newcomer whose posts wait, and moderators:
    `modo` for every board, `local` for Metz only."""
    metz, grenoble = await forum.board("Metz"), await forum.board("Grenoble")
    lea, tom = await forum.user("lea"), await forum.user("tom")
    newcomer = await forum.user("nouvelle", trusted=False)
    modo = await forum.user("modo", role="moderator")
    local = await forum.user("local")
    await forum.appoint(metz, local)
    metz_thread, metz_first = await forum.thread(metz, lea, "Caméras place Saint-Louis")
    grenoble_thread, grenoble_first = await forum.thread(grenoble, tom, "Drones à Grenoble")
    return {
        "metz": metz, "grenoble": grenoble, "lea": lea, "tom": tom, "newcomer": newcomer,
        "metz_thread": metz_thread, "metz_first": metz_first,
        "grenoble_thread": grenoble_thread, "grenoble_first": grenoble_first,
        "lea_token": await forum.token(lea), "tom_token": await forum.token(tom),
        "newcomer_token": await forum.token(newcomer), "modo_token": await forum.token(modo),
        "local_token": await forum.token(local), "modo": modo,
    }


async def in_metz(forum, world, body: str = "J'ai vu quatre caméras neuves.", **kw) -> int:
    return await pending_post(forum, world["metz_thread"], world["metz"].id,
                              world["newcomer"], body, **kw)


async def in_grenoble(forum, world, body: str = "Un drone au-dessus du parc.") -> int:
    return await pending_post(forum, world["grenoble_thread"], world["grenoble"].id,
                              world["newcomer"], body)


async def rows(forum, sql: str, params: tuple = ()) -> list[tuple]:
    async with forum.db.read() as conn:
        return [tuple(row) for row in await conn.all(sql, params)]


async def status_of(forum, post_id: int) -> str:
    async with forum.db.read() as conn:
        return await conn.value("select status from posts where id = ?", (post_id,))


async def journal(forum) -> list[tuple]:
    return await rows(forum, "select action, target_kind, target_id, reason, reason_private"
                             " from moderation_log order by id")


async def notifications_of(forum, user) -> list[tuple]:
    return await rows(forum, "select kind, post_id, text from notifications where user_id = ?"
                             " order by id", (user.id,))


# The queue -------------------------------------------------------------------------------------

async def test_queue_is_401_anonymous_and_404_for_members_who_moderate_nothing(
        forum, client, world):
    await in_metz(forum, world)
    for path in (f"{MOD}/queue", f"{MOD}/reasons"):
        assert error_of(await call(client, "GET", path, expect=401))["code"] == "unauthorized"
        for token in (world["tom_token"], world["newcomer_token"]):
            payload = await call(client, "GET", path, token, expect=404)
            assert error_of(payload)["code"] == "not_found"


async def test_queue_lists_waiting_posts_oldest_first_with_their_context(forum, client, world):
    first = await in_metz(forum, world)
    second = await in_grenoble(forum, world)
    queue = await call(client, "GET", f"{MOD}/queue", world["modo_token"])
    assert [item["post"]["id"] for item in queue["items"]] == [first, second]
    item = queue["items"][0]
    assert item["post"]["status"] == "pending" and "quatre caméras" in item["post"]["body_html"]
    assert item["thread"] == {"id": world["metz_thread"], "title": "Caméras place Saint-Louis"}
    assert item["board"] == {"slug": "metz", "name": "Metz"}
    assert item["previous"]["id"] == world["metz_first"]
    assert item["previous"]["author"] == "lea"
    assert item["author"] == {"name": "nouvelle", "approved": 0, "rejected": 0,
                              "since": world["newcomer"].created_at}
    assert item["flags"] == []
    # The author's history follows the decisions.
    await call(client, "POST", f"{MOD}/posts/{first}/approve", world["modo_token"])
    (item,) = (await call(client, "GET", f"{MOD}/queue", world["modo_token"]))["items"]
    assert item["author"] | {"since": ""} == {"name": "nouvelle", "approved": 1,
                                              "rejected": 0, "since": ""}
    assert item["board"]["slug"] == "grenoble"


async def test_queue_filters_by_board_and_unknown_boards_are_404(forum, client, world):
    await in_metz(forum, world)
    in_g = await in_grenoble(forum, world)
    queue = await call(client, "GET", f"{MOD}/queue", world["modo_token"],
                       params={"board": "grenoble"})
    assert [item["post"]["id"] for item in queue["items"]] == [in_g]
    for slug in ("nowhere", "UPPER", "", "x" * 200):
        payload = await call(client, "GET", f"{MOD}/queue", world["modo_token"], expect=404,
                             params={"board": slug})
        assert error_of(payload)["code"] == "not_found"


async def test_flagged_posts_wait_in_the_queue_with_their_flags(forum, client, world):
    reply = await forum.reply(world["metz_thread"], world["lea"], "Nom et adresse d'un agent")
    flagged = await call(client, "POST", f"/posts/{reply}/flags", world["tom_token"],
                         expect=201, json={"reason": "Données personnelles"})
    assert flagged == {"post_id": reply, "hidden": False}  # not enough flags to hide it
    (item,) = (await call(client, "GET", f"{MOD}/queue", world["local_token"]))["items"]
    assert item["post"]["id"] == reply and item["post"]["status"] == "published"
    (flag,) = item["flags"]
    assert (flag["by"], flag["reason"]) == ("tom", "Données personnelles")
    assert clock.parse(flag["created_at"])


# Approving -------------------------------------------------------------------------------------

async def test_pending_post_is_invisible_until_approved_then_in_place(forum, client, world):
    written_at = clock.later(hours=-5)
    post_id = await in_metz(forum, world, at=written_at)
    for token in (None, world["tom_token"]):
        await call(client, "GET", f"/posts/{post_id}", token, expect=404)
        page = await call(client, "GET", f"/threads/{world['metz_thread']}", token)
        assert post_id not in [post["id"] for post in page["posts"]]
    mine = await call(client, "GET", f"/posts/{post_id}", world["newcomer_token"])
    assert mine["status"] == "pending"
    approved = await call(client, "POST", f"{MOD}/posts/{post_id}/approve",
                          world["modo_token"])
    assert approved["status"] == "published" and approved["created_at"] == written_at
    public = await call(client, "GET", f"/posts/{post_id}")
    assert public == approved
    page = await call(client, "GET", f"/threads/{world['metz_thread']}")
    assert [post["id"] for post in page["posts"]] == [world["metz_first"], post_id]
    assert page["thread"]["post_count"] == 2
    assert await notifications_of(forum, world["newcomer"]) == [("approved", post_id, "")]
    assert await journal(forum) == [("approve", "post", post_id, "", 0)]
    assert (await call(client, "GET", f"{MOD}/queue", world["modo_token"]))["items"] == []


async def test_board_moderator_decides_in_their_board_only(forum, client, world):
    here, there = await in_metz(forum, world), await in_grenoble(forum, world)
    queue = await call(client, "GET", f"{MOD}/queue", world["local_token"])
    assert [item["post"]["id"] for item in queue["items"]] == [here]
    elsewhere = await call(client, "GET", f"{MOD}/queue", world["local_token"],
                           params={"board": "grenoble"})
    assert elsewhere["items"] == []  # as the page: the filter never widens one's scope
    # A Grenoble post waiting is not visible to them: 404, as if it did not exist.
    await call(client, "POST", f"{MOD}/posts/{there}/approve", world["local_token"],
               expect=404)
    await call(client, "POST", f"{MOD}/posts/{there}/reject", world["local_token"],
               expect=404, json={"reason": "Hors sujet"})
    await call(client, "POST", f"{MOD}/posts/{there}/edit-and-approve", world["local_token"],
               expect=404, json={"body": "Corrigé"})
    # A public Grenoble post is visible, but not theirs to decide on: 403.
    payload = await call(client, "POST", f"{MOD}/posts/{world['grenoble_first']}/approve",
                         world["local_token"], expect=403)
    assert error_of(payload)["code"] == "forbidden"
    await call(client, "POST", f"{MOD}/threads/{world['grenoble_thread']}/lock",
               world["local_token"], expect=403)
    assert await journal(forum) == []
    approved = await call(client, "POST", f"{MOD}/posts/{here}/approve", world["local_token"])
    assert approved["status"] == "published"


async def test_decisions_need_a_moderator_of_the_post(forum, client, world):
    post_id = await in_metz(forum, world)
    for action, body in (("approve", None), ("reject", {"reason": "Hors sujet"}),
                         ("edit-and-approve", {"body": "Corrigé"})):
        path = f"{MOD}/posts/{post_id}/{action}"
        await call(client, "POST", path, expect=401, json=body)
        await call(client, "POST", path, world["tom_token"], expect=404, json=body)
        # Its author sees it, but does not moderate the board.
        payload = await call(client, "POST", path, world["newcomer_token"], expect=403,
                             json=body)
        assert error_of(payload)["code"] == "forbidden"
        for other in ("999999", "abc", "0"):
            await call(client, "POST", f"{MOD}/posts/{other}/{action}", world["modo_token"],
                       expect=404, json=body)
    assert await status_of(forum, post_id) == "pending" and await journal(forum) == []


async def test_suspended_moderator_may_not_decide(forum, client, world):
    post_id = await in_metz(forum, world)
    async with forum.db.transaction() as tx:
        await tx.execute("update users set suspended_until = ?, suspension_reason = ?"
                         " where id = ?", (clock.later(days=3), "Abus", world["modo"].id))
    await call(client, "GET", f"{MOD}/queue", world["modo_token"], expect=403)
    await call(client, "POST", f"{MOD}/posts/{post_id}/approve", world["modo_token"],
               expect=403)
    assert await status_of(forum, post_id) == "pending"


async def test_session_cookie_needs_the_csrf_header(forum, client, world):
    post_id = await in_metz(forum, world)
    await log_in(client, "modo")
    path = f"{MOD}/posts/{post_id}/approve"
    await call(client, "POST", path, expect=403)
    assert await status_of(forum, post_id) == "pending"
    token = await csrf_token(client, "/moderation")
    approved = await call(client, "POST", path, headers={CSRF_HEADER: token})
    assert approved["status"] == "published"


# Conflicts ------------------------------------------------------------------------------------

async def test_a_decided_post_is_409_and_nothing_is_applied_twice(forum, client, world):
    post_id = await in_metz(forum, world)
    await call(client, "POST", f"{MOD}/posts/{post_id}/approve", world["modo_token"])
    for action, body in (("approve", None), ("reject", {"reason": "Trop tard"}),
                         ("edit-and-approve", {"body": "Réécrit après coup"})):
        payload = await call(client, "POST", f"{MOD}/posts/{post_id}/{action}",
                             world["local_token"], expect=409, json=body)
        assert error_of(payload)["code"] == "conflict"
    post = await call(client, "GET", f"/posts/{post_id}")
    assert post["status"] == "published" and post["edited_at"] is None
    history = await call(client, "GET", f"/posts/{post_id}/revisions")
    assert len(history["revisions"]) == 1  # the refused edit was rolled back too
    assert await journal(forum) == [("approve", "post", post_id, "", 0)]
    assert await notifications_of(forum, world["newcomer"]) == [("approved", post_id, "")]
    page = await call(client, "GET", f"/threads/{world['metz_thread']}")
    assert page["thread"]["post_count"] == 2


async def test_two_moderators_at_once_one_wins_the_other_is_told(forum, client, world):
    post_id = await in_metz(forum, world)
    approve = client.post(f"{V1}{MOD}/posts/{post_id}/approve",
                          headers={"Authorization": f"Bearer {world['modo_token']}"})
    reject = client.post(f"{V1}{MOD}/posts/{post_id}/reject",
                         headers={"Authorization": f"Bearer {world['local_token']}"},
                         json={"reason": "Hors sujet"})
    responses = await asyncio.gather(approve, reject)
    assert sorted(response.status for response in responses) == [200, 409]
    winner = "approve" if responses[0].status == 200 else "reject"
    assert [row[0] for row in await journal(forum)] == [winner]
    assert [row[0] for row in await notifications_of(forum, world["newcomer"])] == [
        {"approve": "approved", "reject": "rejected"}[winner]]


# Rejecting -------------------------------------------------------------------------------------

async def test_reasons_are_listed_in_the_readers_language(forum, client, world):
    french = await call(client, "GET", f"{MOD}/reasons", world["local_token"])
    english = await call(client, "GET", f"{MOD}/reasons", world["local_token"],
                         headers={"Accept-Language": "en"})
    assert english["reasons"] == list(REJECT_REASONS)
    assert len(french["reasons"]) == len(REJECT_REASONS)
    assert "Publicité ou spam" in french["reasons"]  # N_("Advertising or spam")


async def test_reject_with_a_listed_reason_tells_the_author_and_journals_once(
        forum, client, world):
    post_id = await in_metz(forum, world, "Il habite au 3 rue X")
    reason = (await call(client, "GET", f"{MOD}/reasons", world["modo_token"]))["reasons"][0]
    rejected = await call(client, "POST", f"{MOD}/posts/{post_id}/reject", world["modo_token"],
                          json={"reason": reason, "private": True})
    assert (rejected["status"], rejected["reject_reason"]) == ("rejected", reason)
    await call(client, "GET", f"/posts/{post_id}", world["tom_token"], expect=404)
    mine = await call(client, "GET", f"/posts/{post_id}", world["newcomer_token"])
    assert mine["reject_reason"] == reason
    assert await notifications_of(forum, world["newcomer"]) == [("rejected", post_id, reason)]
    assert await journal(forum) == [("reject", "post", post_id, reason, 1)]
    assert (await call(client, "GET", f"{MOD}/queue", world["modo_token"]))["items"] == []


async def test_reject_with_a_written_reason_is_public_by_default(forum, client, world):
    post_id = await in_metz(forum, world)
    await call(client, "POST", f"{MOD}/posts/{post_id}/reject", world["local_token"],
               json={"reason": "  Déjà   signalé  hier  "})
    assert await journal(forum) == [("reject", "post", post_id, "Déjà signalé hier", 0)]


async def test_reject_without_a_valid_reason_is_422_and_changes_nothing(forum, client, world):
    post_id = await in_metz(forum, world)
    path = f"{MOD}/posts/{post_id}/reject"
    for body, field in (({}, "reason"), ({"reason": ""}, "reason"), ({"reason": " \n "}, "reason"),
                        ({"reason": 12}, "reason"), ({"reason": "Spam", "private": "yes"},
                                                     "private"),
                        ({"reason": "Spam", "private": None}, "private")):
        payload = await call(client, "POST", path, world["modo_token"], expect=422, json=body)
        assert error_of(payload)["field"] == field
    for raw in (b"", b"[1]", b"{reason"):
        await call(client, "POST", path, world["modo_token"], expect=400, data=raw,
                   headers={"Content-Type": "application/json"})
    assert await status_of(forum, post_id) == "pending"
    assert await journal(forum) == [] and await notifications_of(forum, world["newcomer"]) == []


# Editing then approving ------------------------------------------------------------------------

async def test_edit_and_approve_keeps_the_original_as_a_revision(forum, client, world):
    post_id = await in_metz(forum, world, "Il s'appelle Jean Dupont et filme la place.")
    post = await call(client, "POST", f"{MOD}/posts/{post_id}/edit-and-approve",
                      world["local_token"], json={"body": "Quelqu'un filme la *place*."})
    assert post["status"] == "published" and "<em>place</em>" in post["body_html"]
    assert "Dupont" not in (await call(client, "GET", f"/posts/{post_id}"))["body_source"]
    history = await call(client, "GET", f"/posts/{post_id}/revisions", world["local_token"])
    assert [(r["editor"], r["body_source"]) for r in history["revisions"]] == [
        ("nouvelle", "Il s'appelle Jean Dupont et filme la place."),
        ("local", "Quelqu'un filme la *place*.")]
    # The correction and the approval are both in the journal, as from the page.
    assert [row[0] for row in await journal(forum)] == ["edit", "approve"]
    # Corrected before approval: the author is told (a space, no note given; issue 16).
    assert await notifications_of(forum, world["newcomer"]) == [("approved", post_id, " ")]


async def test_edit_and_approve_with_a_bad_body_changes_nothing(forum, client, world):
    post_id = await in_metz(forum, world)
    path = f"{MOD}/posts/{post_id}/edit-and-approve"
    for body in ({}, {"body": "  "}, {"body": 3}):
        payload = await call(client, "POST", path, world["modo_token"], expect=422, json=body)
        assert error_of(payload)["field"] == "body"
    await call(client, "POST", path, world["modo_token"], expect=422,
               json={"body": "x" * (forum.config.body_max + 1)})
    assert await status_of(forum, post_id) == "pending" and await journal(forum) == []


async def test_edit_and_approve_of_a_post_its_author_deleted_is_409(forum, client, world):
    post_id = await in_metz(forum, world)
    await call(client, "DELETE", f"/posts/{post_id}", world["newcomer_token"], expect=204)
    payload = await call(client, "POST", f"{MOD}/posts/{post_id}/edit-and-approve",
                         world["modo_token"], expect=409, json={"body": "Corrigé"})
    assert error_of(payload)["code"] == "conflict"
    assert await status_of(forum, post_id) == "pending" and await journal(forum) == []


# Flags -----------------------------------------------------------------------------------------

async def test_a_member_flags_a_post_once(forum, client, world):
    path = f"/posts/{world['metz_first']}/flags"
    await call(client, "POST", path, world["tom_token"], expect=201,
               json={"reason": "Accuse un agent sans source"})
    payload = await call(client, "POST", path, world["tom_token"], expect=409,
                         json={"reason": "Encore"})
    assert error_of(payload)["code"] == "conflict"
    assert await rows(forum, "select user_id, reason from flags") == [
        (world["tom"].id, "Accuse un agent sans source")]


async def test_flagging_is_refused_for_ones_own_hidden_or_invalid_cases(forum, client, world):
    own = await call(client, "POST", f"/posts/{world['metz_first']}/flags", world["lea_token"],
                     expect=403, json={"reason": "Moi-même"})
    assert error_of(own)["code"] == "forbidden"
    waiting = await in_metz(forum, world)
    await call(client, "POST", f"/posts/{waiting}/flags", world["tom_token"], expect=404,
               json={"reason": "Invisible"})
    await call(client, "POST", f"/posts/{waiting}/flags", world["modo_token"], expect=403,
               json={"reason": "En attente"})  # a pending post is decided, not flagged
    await call(client, "POST", "/posts/999999/flags", world["tom_token"], expect=404,
               json={"reason": "Rien"})
    await call(client, "POST", f"/posts/{world['metz_first']}/flags", expect=401,
               json={"reason": "Anonyme"})
    for body in ({}, {"reason": " "}, {"reason": ["x"]}):
        payload = await call(client, "POST", f"/posts/{world['metz_first']}/flags",
                             world["tom_token"], expect=422, json=body)
        assert error_of(payload)["field"] == "reason"
    assert await rows(forum, "select id from flags") == []


async def test_enough_trusted_flags_hide_the_post(forum, client, world):
    post_id = await forum.reply(world["metz_thread"], world["lea"], "Nom et adresse")
    hidden = []
    for n in range(forum.config.flags_to_hide):
        member = await forum.user(f"veilleur{n}")
        result = await call(client, "POST", f"/posts/{post_id}/flags",
                            await forum.token(member), expect=201, json={"reason": "Doxx"})
        hidden.append(result["hidden"])
    assert hidden == [False] * (forum.config.flags_to_hide - 1) + [True]
    await call(client, "GET", f"/posts/{post_id}", world["tom_token"], expect=404)
    (item,) = (await call(client, "GET", f"{MOD}/queue", world["modo_token"]))["items"]
    assert item["post"]["hidden"] and len(item["flags"]) == forum.config.flags_to_hide


# Thread tools ----------------------------------------------------------------------------------

async def test_lock_pin_unlock_unpin_a_thread(forum, client, world):
    thread_id = world["metz_thread"]
    base = f"{MOD}/threads/{thread_id}"
    locked = await call(client, "POST", f"{base}/lock", world["local_token"],
                        json={"reason": "Le débat tourne en rond"})
    assert locked["locked"] is True and locked["id"] == thread_id
    await call(client, "POST", f"/threads/{thread_id}/posts", world["tom_token"], expect=403,
               json={"body": "Encore"})
    await forum.thread(world["metz"], world["tom"], "Un sujet plus récent")
    pinned = await call(client, "POST", f"{base}/pin", world["local_token"])  # no body at all
    assert pinned["pinned"] is True
    listing = await call(client, "GET", "/boards/metz/threads")
    assert listing["threads"][0]["id"] == thread_id
    assert (await call(client, "POST", f"{base}/unlock", world["modo_token"],
                       json={}))["locked"] is False
    assert (await call(client, "POST", f"{base}/unpin", world["modo_token"]))["pinned"] is False
    assert [(row[0], row[3]) for row in await journal(forum)] == [
        ("lock", "Le débat tourne en rond"), ("pin", ""), ("unlock", ""), ("unpin", "")]


async def test_thread_tools_check_who_asks_and_what_they_send(forum, client, world):
    base = f"{MOD}/threads/{world['metz_thread']}"
    await call(client, "POST", f"{base}/lock", expect=401)
    await call(client, "POST", f"{base}/lock", world["tom_token"], expect=403)
    await call(client, "POST", f"{MOD}/threads/999999/lock", world["modo_token"], expect=404)
    payload = await call(client, "POST", f"{base}/pin", world["modo_token"], expect=422,
                         json={"reason": 5})
    assert error_of(payload)["field"] == "reason"
    await call(client, "POST", f"{base}/pin", world["modo_token"], expect=400, data=b"[1]",
               headers={"Content-Type": "application/json"})
    # A thread still waiting for the moderators does not exist for other members.
    async with forum.db.transaction() as tx:
        await tx.execute("update threads set status = 'pending' where id = ?",
                         (world["grenoble_thread"],))
    await call(client, "POST", f"{MOD}/threads/{world['grenoble_thread']}/lock",
               world["lea_token"], expect=404)
    assert await journal(forum) == []

