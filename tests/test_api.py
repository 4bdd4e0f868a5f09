"""The JSON API under /api/v1: the same rules as the pages, JSON errors, tokens or cookie + CSRF."""
from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from forum.csrf import HEADER as CSRF_HEADER
from forum.models.boards import NAME_MAX
from tests.conftest import csrf_token, log_in

pytestmark = pytest.mark.both_stores

V1 = "/api/v1"


async def call(client: TestClient, method: str, path: str, token: str | None = None,
               expect: int = 200, **kwargs: Any) -> Any:
    """Send a request, check its status, give the decoded JSON (None for a 204)."""
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.request(method, V1 + path, headers=headers, **kwargs)
    text = await response.text()
    assert response.status == expect, text
    if response.status == 204:
        assert text == ""
        return None
    assert response.content_type == "application/json", text
    return await response.json()


def error_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The error object, after checking the shape every error has."""
    error = payload["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert error["message"], "an error always says something"
    return error


@pytest.fixture
async def world(forum):
    """A board with a thread by a member, a second member, a moderator, and their tokens."""
    board = await forum.board("Metz", region="Moselle (57)")
    lea, tom = await forum.user("lea"), await forum.user("tom")
    mod = await forum.user("modo", role="moderator")
    thread_id, post_id = await forum.thread(board, lea, "Caméras place Saint-Louis")
    return {
        "board": board, "lea": lea, "tom": tom, "mod": mod, "thread": thread_id,
        "post": post_id, "lea_token": await forum.token(lea),
        "tom_token": await forum.token(tom), "mod_token": await forum.token(mod),
    }


async def set_post_status(forum, post_id: int, status: str) -> None:
    async with forum.db.transaction() as tx:
        await tx.execute("update posts set status = ? where id = ?", (status, post_id))


# Boards ---------------------------------------------------------------------------------------

async def test_boards_are_listed_for_anonymous_readers(forum, client, world):
    payload = await call(client, "GET", "/boards")
    (board,) = payload["boards"]
    assert board["slug"] == "metz" and board["region"] == "Moselle (57)"
    assert board["thread_count"] == 1


async def test_admin_creates_a_board_and_fields_it_may_not_set_are_refused(forum, client):
    admin = await forum.user("chef", role="admin")
    token = await forum.token(admin)
    refused = await call(client, "POST", "/boards", token, expect=422,
                         json={"name": "Saint-Étienne", "region": "Loire (42)",
                               "thread_count": 99, "position": -1, "id": 7})
    assert error_of(refused)["field"] in ("thread_count", "position", "id")
    assert "thread_count" in error_of(refused)["message"]  # every unknown field is named
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from boards") == 0  # nothing half-made
    response = await client.post(f"{V1}/boards", headers={"Authorization": f"Bearer {token}"},
                                 json={"name": "Saint-Étienne", "region": "Loire (42)"})
    assert response.status == 201
    board = await response.json()
    assert board["slug"] == "saint-etienne" and board["thread_count"] == 0
    assert response.headers["Location"] == f"{V1}/boards/saint-etienne/threads"


async def test_member_may_not_create_a_board(forum, client, world):
    payload = await call(client, "POST", "/boards", world["lea_token"], expect=403,
                         json={"name": "Nancy"})
    assert error_of(payload)["code"] == "forbidden"


async def test_a_national_board_is_created_without_a_watch_page(forum, client):
    token = await forum.token(await forum.user("chef", role="admin"))
    board = await call(client, "POST", "/boards", token, expect=201,
                       json={"name": "Général", "is_city": False})
    assert board["is_city"] is False
    assert (await client.get(f"/b/{board['slug']}/watch")).status == 404


async def test_board_address_taken_is_409(forum, client):
    token = await forum.token(await forum.user("chef", role="admin"))
    await call(client, "POST", "/boards", token, expect=201, json={"name": "Lyon"})
    payload = await call(client, "POST", "/boards", token, expect=409,
                         json={"name": "Autre", "slug": "lyon"})
    assert error_of(payload) | {"message": ""} == {
        "code": "conflict", "message": "", "field": "slug"}


async def test_board_fields_of_the_wrong_type_or_length_are_422(forum, client):
    token = await forum.token(await forum.user("chef", role="admin"))
    for body, field in [({"name": 12}, "name"), ({"name": "A", "slug": None}, "slug"),
                        ({}, "name"), ({"name": "x" * (NAME_MAX + 1)}, "name"),
                        ({"name": "A", "moderation_mode": ""}, "moderation_mode"),
                        ({"name": "A", "is_city": "oui"}, "is_city")]:
        payload = await call(client, "POST", "/boards", token, expect=422, json=body)
        assert error_of(payload)["field"] == field


async def test_a_boards_threads_come_page_by_page(forum, client, world):
    per_page = forum.config.threads_per_page
    for _ in range(per_page):
        await forum.thread(world["board"], world["tom"])
    first = await call(client, "GET", "/boards/metz/threads")
    assert (len(first["threads"]), first["page"], first["pages"]) == (per_page, 1, 2)
    second = await call(client, "GET", "/boards/metz/threads?page=2")
    assert len(second["threads"]) == 1
    await call(client, "GET", "/boards/metz/threads?page=3", expect=404)
    for bad in ("0", "x", "-1", "1.5", "²", ""):
        payload = await call(client, "GET", "/boards/metz/threads", expect=400,
                             params={"page": bad})
        assert error_of(payload)["field"] == "page"


async def test_unknown_board_is_404(forum, client, world):
    for slug in ("nowhere", "UPPER", "x" * (NAME_MAX + 1)):
        await call(client, "GET", f"/boards/{slug}/threads", expect=404)
    payload = await call(client, "POST", "/boards/nowhere/threads", world["lea_token"],
                         expect=404, json={"title": "T", "body": "B"})
    assert error_of(payload)["code"] == "not_found"


# Threads --------------------------------------------------------------------------------------

async def test_member_starts_a_thread_with_its_first_post(forum, client, world):
    response = await client.post(f"{V1}/boards/metz/threads",
                                 headers={"Authorization": f"Bearer {world['tom_token']}"},
                                 json={"title": "Drones au marché", "body": "Vu **deux**."})
    assert response.status == 201
    payload = await response.json()
    thread, post = payload["thread"], payload["post"]
    assert (thread["title"], thread["author"], thread["board"]) == (
        "Drones au marché", "tom", "metz")
    assert post["thread_id"] == thread["id"] and "<strong>deux</strong>" in post["body_html"]
    assert response.headers["Location"] == f"{V1}/threads/{thread['id']}"
    page = await call(client, "GET", f"/threads/{thread['id']}")
    assert [p["id"] for p in page["posts"]] == [post["id"]]


async def test_thread_page_lists_posts_with_their_fields(forum, client, world):
    per_page = forum.config.posts_per_page
    for _ in range(per_page):
        await forum.reply(world["thread"], world["tom"])
    first = await call(client, "GET", f"/threads/{world['thread']}")
    assert (first["page"], first["pages"], len(first["posts"])) == (1, 2, per_page)
    post = first["posts"][0]
    assert set(post) >= {"id", "author", "body_html", "status", "created_at", "edited_at"}
    assert post["author"] == "lea" and post["status"] == "published"
    assert post["deleted"] is False and post["edited_at"] is None
    second = await call(client, "GET", f"/threads/{world['thread']}?page=2")
    assert len(second["posts"]) == 1
    await call(client, "GET", f"/threads/{world['thread']}?page=3", expect=404)


async def test_unknown_or_malformed_ids_are_404(forum, client, world):
    for path in ("/threads/999", "/threads/abc", "/threads/0", "/threads/١", "/posts/999",
                 "/posts/-1", "/posts/999/revisions", "/posts/" + "9" * 30):
        payload = await call(client, "GET", path, expect=404)
        assert error_of(payload)["code"] == "not_found"
    await call(client, "PATCH", "/posts/999", world["lea_token"], expect=404,
               json={"body": "x"})
    await call(client, "DELETE", "/posts/999", world["lea_token"], expect=404)
    await call(client, "POST", "/threads/999/posts", world["lea_token"], expect=404,
               json={"body": "x"})


async def test_reply_is_201_and_fields_a_member_may_not_set_are_refused(forum, client, world):
    path = f"/threads/{world['thread']}/posts"
    refused = await call(client, "POST", path, world["tom_token"], expect=422,
                         json={"body": "Confirmé.", "author": "lea", "status": "pending",
                               "deleted": True, "created_at": "2000-01-01T00:00:00Z"})
    assert error_of(refused)["field"] in ("author", "status", "deleted", "created_at")
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from posts where body_source = 'Confirmé.'") == 0
    response = await client.post(
        f"{V1}{path}", headers={"Authorization": f"Bearer {world['tom_token']}"},
        json={"body": "Confirmé."})
    assert response.status == 201
    post = await response.json()
    assert (post["author"], post["status"], post["deleted"]) == ("tom", "published", False)
    assert response.headers["Location"] == f"{V1}/posts/{post['id']}"
    assert post == await call(client, "GET", f"/posts/{post['id']}")


async def test_reply_to_a_locked_thread_is_403_but_moderators_may(forum, client, world):
    async with forum.db.transaction() as tx:
        await tx.execute("update threads set locked = 1 where id = ?", (world["thread"],))
    path = f"/threads/{world['thread']}/posts"
    payload = await call(client, "POST", path, world["tom_token"], expect=403,
                         json={"body": "Encore ?"})
    assert error_of(payload)["code"] == "forbidden"
    await call(client, "POST", path, world["mod_token"], expect=201, json={"body": "Clos."})


async def test_posting_has_the_pages_rate_limit(forum, client, world):
    path = f"/threads/{world['thread']}/posts"
    for _ in range(forum.config.posts_per_minute):
        await call(client, "POST", path, world["tom_token"], expect=201, json={"body": "Vu."})
    response = await client.post(V1 + path, json={"body": "Encore."},
                                 headers={"Authorization": f"Bearer {world['tom_token']}"})
    assert response.status == 429 and int(response.headers["Retry-After"]) > 0
    assert error_of(await response.json())["code"] == "rate_limited"


# Bodies, fields and errors ---------------------------------------------------------------------

async def test_empty_or_missing_body_is_422_with_its_field(forum, client, world):
    path = f"/threads/{world['thread']}/posts"
    for body in ({"body": ""}, {"body": "  \n "}, {}):
        payload = await call(client, "POST", path, world["tom_token"], expect=422, json=body)
        assert error_of(payload) | {"message": ""} == {
            "code": "invalid", "message": "", "field": "body"}
    payload = await call(client, "POST", "/boards/metz/threads", world["tom_token"],
                         expect=422, json={"title": " ", "body": "Texte"})
    assert error_of(payload)["field"] == "title"


async def test_fields_of_the_wrong_type_are_422(forum, client, world):
    for body in ({"body": 12}, {"body": None}, {"body": ["a"]}, {"body": {"x": 1}},
                 {"body": "\ud800"}):
        payload = await call(client, "POST", f"/threads/{world['thread']}/posts",
                             world["tom_token"], expect=422, json=body)
        assert error_of(payload)["field"] == "body"
    payload = await call(client, "POST", "/boards/metz/threads", world["tom_token"],
                         expect=422, json={"title": True, "body": "Texte"})
    assert error_of(payload)["field"] == "title"


async def test_a_body_or_title_past_its_schema_length_is_422(forum, client, world):
    config = forum.config
    payload = await call(client, "POST", f"/threads/{world['thread']}/posts",
                         world["tom_token"], expect=422, json={"body": "x" * (config.body_max + 1)})
    assert error_of(payload) | {"message": ""} == {
        "code": "invalid", "message": "", "field": "body"}
    await call(client, "PATCH", f"/posts/{world['post']}", world["lea_token"], expect=422,
               json={"body": "x" * (config.body_max + 1)})
    payload = await call(client, "POST", "/boards/metz/threads", world["tom_token"],
                         expect=422, json={"title": "t" * (config.title_max + 1), "body": "B"})
    assert error_of(payload)["field"] == "title"
    # Past the whole request limit, aiohttp refuses before any JSON is read.
    await call(client, "POST", f"/threads/{world['thread']}/posts", world["tom_token"],
               expect=413, data=b"x" * (client.app._client_max_size + 1))


async def test_malformed_json_is_400(forum, client, world):
    path = f"/threads/{world['thread']}/posts"
    for raw in (b"{body: 1}", b"", b"[" * 100_000, b'"just a string"', b"[1, 2]", b"\xff"):
        payload = await call(client, "POST", path, world["tom_token"], expect=400, data=raw,
                             headers={"Content-Type": "application/json"})
        assert error_of(payload)["code"] == "bad_request"


async def test_unknown_paths_and_methods_answer_json(forum, client, world):
    payload = await call(client, "GET", "/nothing/here", expect=404)
    assert error_of(payload)["code"] == "not_found"
    response = await client.put(f"{V1}/boards",
                                headers={"Authorization": f"Bearer {world['lea_token']}"})
    assert response.status == 405 and response.content_type == "application/json"
    assert set(response.headers["Allow"].split(",")) == {"GET", "POST"}
    assert error_of(await response.json())["code"] == "method_not_allowed"


# Authentication -------------------------------------------------------------------------------

async def test_a_token_that_is_not_valid_is_401(forum, client, world):
    for method, path, body in [("GET", "/boards", None), ("POST", "/boards/metz/threads",
                                                          {"title": "T", "body": "B"})]:
        payload = await call(client, method, path, "vigie_not-a-token", expect=401, json=body)
        assert error_of(payload)["code"] == "unauthorized"


async def test_writing_without_credentials_is_401_and_changes_nothing(forum, client, world):
    payload = await call(client, "POST", f"/threads/{world['thread']}/posts", expect=401,
                         json={"body": "Anonyme"})
    assert error_of(payload)["code"] == "unauthorized"
    page = await call(client, "GET", f"/threads/{world['thread']}")
    assert len(page["posts"]) == 1


async def test_session_cookie_needs_the_csrf_header(forum, client, world):
    await log_in(client, "tom")
    path = f"/threads/{world['thread']}/posts"
    payload = await call(client, "POST", path, expect=403, json={"body": "Sans jeton"})
    assert error_of(payload)["code"] == "forbidden"
    token = await csrf_token(client, "/b/metz/new")
    post = await call(client, "POST", path, expect=201, json={"body": "Avec jeton"},
                      headers={CSRF_HEADER: token})
    assert post["author"] == "tom"
    await call(client, "PATCH", f"/posts/{post['id']}", expect=403, json={"body": "x"},
               headers={CSRF_HEADER: "wrong"})


# Editing, history, deleting, visibility -----------------------------------------------------

async def test_editing_someone_elses_post_is_403(forum, client, world):
    payload = await call(client, "PATCH", f"/posts/{world['post']}", world["tom_token"],
                         expect=403, json={"body": "Réécrit"})
    assert error_of(payload)["code"] == "forbidden"
    await call(client, "DELETE", f"/posts/{world['post']}", world["tom_token"], expect=403)
    post = await call(client, "GET", f"/posts/{world['post']}")
    assert post["body_source"] == "Premier message."


async def test_each_edit_adds_a_revision(forum, client, world):
    path = f"/posts/{world['post']}"
    history = await call(client, "GET", path + "/revisions")
    assert [r["body_source"] for r in history["revisions"]] == ["Premier message."]
    await call(client, "PATCH", path, world["lea_token"], expect=422,
               json={"body": "Corrigé.", "status": "rejected", "author": "tom"})
    post = await call(client, "PATCH", path, world["lea_token"],
                      json={"body": "Corrigé : *trois* caméras."})
    assert "<em>trois</em>" in post["body_html"] and post["edited_at"]
    assert (post["author"], post["status"]) == ("lea", "published")
    await call(client, "PATCH", path, world["mod_token"], json={"body": "Modéré."})
    history = await call(client, "GET", path + "/revisions")
    assert [(r["editor"], r["body_source"]) for r in history["revisions"]] == [
        ("lea", "Premier message."), ("lea", "Corrigé : *trois* caméras."),
        ("modo", "Modéré.")]


async def test_delete_leaves_a_tombstone(forum, client, world):
    reply_id = await forum.reply(world["thread"], world["tom"], "Message regretté.")
    await call(client, "DELETE", f"/posts/{reply_id}", world["tom_token"], expect=204)
    page = await call(client, "GET", f"/threads/{world['thread']}")
    tombstone = page["posts"][-1]
    assert (tombstone["id"], tombstone["deleted"]) == (reply_id, True)
    assert tombstone["body_html"] == tombstone["body_source"] == ""
    as_author = await call(client, "GET", f"/posts/{reply_id}", world["tom_token"])
    assert as_author["body_html"] == ""
    as_moderator = await call(client, "GET", f"/posts/{reply_id}", world["mod_token"])
    assert "Message regretté." in as_moderator["body_html"]
    await call(client, "GET", f"/posts/{reply_id}/revisions", expect=404)
    await call(client, "GET", f"/posts/{reply_id}/revisions", world["mod_token"])
    html = await (await client.get(f"/t/{world['thread']}")).text()
    assert f'class="post deleted" id="p{reply_id}"' in html
    assert "Message regretté." not in html


async def test_a_deleted_post_cannot_change_again(forum, client, world):
    path = f"/posts/{world['post']}"
    await call(client, "DELETE", path, world["mod_token"], expect=204, params={"reason": "Doxx"})
    for token in (world["lea_token"], world["mod_token"]):
        payload = await call(client, "PATCH", path, token, expect=409, json={"body": "Retour"})
        assert error_of(payload)["code"] == "conflict"
        await call(client, "DELETE", path, token, expect=409)


async def test_moderators_deleting_others_posts_give_a_reason_kept_in_the_journal(
        forum, client, world):
    path = f"/posts/{world['post']}"
    payload = await call(client, "DELETE", path, world["mod_token"], expect=403)
    assert error_of(payload)["field"] == "reason"
    await call(client, "DELETE", path, world["mod_token"], expect=400,
               params={"reason": "Doxx", "private": "maybe"})
    await call(client, "PATCH", path, world["mod_token"], json={"body": "Nom retiré."})
    await call(client, "DELETE", path, world["mod_token"], expect=204,
               params={"reason": "Nomme une personne", "private": "true"})
    async with forum.db.read() as conn:
        rows = await conn.all("select action, reason, reason_private from moderation_log"
                              " order by id")
    assert [tuple(row) for row in rows] == [("edit", "", 0), ("delete", "Nomme une personne", 1)]


async def test_untrusted_members_and_a_priori_boards_post_pending(forum, client, world):
    newcomer = await forum.user("nouveau", trusted=False)
    token = await forum.token(newcomer)
    post = await call(client, "POST", f"/threads/{world['thread']}/posts", token, expect=201,
                      json={"body": "Premier pas."})
    assert post["status"] == "pending"
    await call(client, "GET", f"/posts/{post['id']}", expect=404)
    assert (await call(client, "GET", f"/posts/{post['id']}", token))["status"] == "pending"
    admin_token = await forum.token(await forum.user("chef", role="admin"))
    board = await call(client, "POST", "/boards", admin_token, expect=201,
                       json={"name": "Nancy", "moderation_mode": "a-priori"})
    assert board["moderation_mode"] == "a-priori"
    await call(client, "POST", "/boards", admin_token, expect=422,
                json={"name": "Toul", "moderation_mode": "never"})
    created = await call(client, "POST", "/boards/nancy/threads", world["tom_token"],
                         expect=201, json={"title": "Vidéoprotection", "body": "Texte."})
    assert created["thread"]["status"] == created["post"]["status"] == "pending"
    await call(client, "GET", f"/threads/{created['thread']['id']}", expect=404)
    await call(client, "POST", f"/threads/{created['thread']['id']}/posts", world["lea_token"],
               expect=404, json={"body": "Réponse."})


async def test_suspended_members_may_read_but_not_write(forum, client, world):
    async with forum.db.transaction() as tx:
        await tx.execute("update users set suspended_until = ?, suspension_reason = ?"
                         " where id = ?", ("9999-12-31T00:00:00.000Z", "Spam", world["tom"].id))
    await call(client, "GET", f"/threads/{world['thread']}", world["tom_token"])
    payload = await call(client, "POST", f"/threads/{world['thread']}/posts",
                         world["tom_token"], expect=403, json={"body": "Encore moi."})
    assert error_of(payload)["code"] == "forbidden"


async def test_pending_post_of_someone_else_is_404(forum, client, world):
    reply_id = await forum.reply(world["thread"], world["tom"], "En attente.")
    await set_post_status(forum, reply_id, "pending")
    for token in (None, world["lea_token"]):
        await call(client, "GET", f"/posts/{reply_id}", token, expect=404)
        await call(client, "GET", f"/posts/{reply_id}/revisions", token, expect=404)
        page = await call(client, "GET", f"/threads/{world['thread']}", token)
        assert reply_id not in [post["id"] for post in page["posts"]]
    await call(client, "PATCH", f"/posts/{reply_id}", world["lea_token"], expect=404,
               json={"body": "x"})
    await call(client, "DELETE", f"/posts/{reply_id}", world["lea_token"], expect=404)
    for token in (world["tom_token"], world["mod_token"]):
        post = await call(client, "GET", f"/posts/{reply_id}", token)
        assert post["status"] == "pending"
