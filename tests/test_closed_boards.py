"""Closed boards (issue 17): only their members, their moderators, global moderators and admins
read them; for everyone else they do not exist (404). Their moderators manage the group; a
thread leaves a closed board for a public one only after a page listing what becomes visible.
(Every channel for every role: tests/test_leak_matrix.py.)"""
from __future__ import annotations

import re
from typing import Any

import pytest

from forum.check import check
from forum.mail.notify import mail_notifications
from forum.models import boards, follows, moderation, posts
from tests.conftest import PASSWORD, log_in, submit
from tests.test_boards_admin import run_cli
from tests.test_browser import LOG_IN, PASSWORD_LABEL, PSEUDONYM, expect, new_context
from tests.test_uploads import jpeg_with_gps, uploaded

pytestmark = pytest.mark.both_stores

EN = {"Accept-Language": "en"}


async def closed_site(forum) -> dict[str, Any]:
    """Metz — préparation (closed, moderated by "modo", "lea" in its group, "zoe" not) with a
    thread holding a photo; Metz, public."""
    people = {name: await forum.user(name, email=f"{name}@example.org")
              for name in ("lea", "zoe", "modo", "autre")}
    people["global"] = await forum.user("globale", role="moderator")
    public = await forum.board("Metz", slug="metz")
    closed = await forum.board("Metz — préparation", slug="metz-preparation")
    async with forum.db.transaction() as tx:
        await boards.set_closed(tx, closed, True)
        await moderation.add_board_moderator(tx, closed, people["modo"])
        await moderation.add_board_moderator(tx, public, people["modo"])
        await moderation.add_board_moderator(tx, public, people["autre"])
        await boards.add_member(tx, closed, "lea", people["modo"])
        await follows.set_state(tx, people["zoe"].id, "board", closed.id, "follow")
    token = await forum.token(people["lea"])
    photo = await uploaded(forum.client, token, "brouillon-demande.jpg", jpeg_with_gps(),
                           "image/jpeg")
    response = await forum.client.post(
        "/api/v1/boards/metz-preparation/threads", headers={"Authorization": f"Bearer {token}"},
        json={"title": "Brouillon de demande CADA", "body": "Texte secret @zoe",
              "attachments": [photo["id"]]})
    assert response.status == 201, await response.text()
    made = await response.json()
    return {**people, "public": public, "closed": closed, "thread": made["thread"]["id"],
            "post": made["post"]["id"], "file": photo["url"], "token": token}


async def as_member(forum, name: str):
    client = await forum.visitor()
    await log_in(client, name)
    return client


def paths(made: dict[str, Any]) -> list[str]:
    return ["/b/metz-preparation", f"/t/{made['thread']}", f"/p/{made['post']}", made["file"],
            "/b/metz-preparation/watch", "/b/metz-preparation/feed.atom",
            "/b/metz-preparation/members", "/b/metz-preparation/new",
            f"/api/v1/threads/{made['thread']}", f"/api/v1/posts/{made['post']}",
            "/api/v1/boards/metz-preparation/threads", "/api/v1/boards/metz-preparation/members"]


async def test_a_closed_board_is_404_for_visitors_and_non_members(forum):
    made = await closed_site(forum)
    visitor, zoe = await forum.visitor(), await as_member(forum, "zoe")
    for path in paths(made):
        if path.endswith(("/members", "/new")):  # log in first (for any address)
            assert (await visitor.get(path, allow_redirects=False)).status in (303, 401)
        else:
            assert (await visitor.get(path)).status == 404, path
        assert (await zoe.get(path)).status == 404, path
    for client in (visitor, zoe):
        home = await (await client.get("/")).text()
        assert "préparation" not in home and "Brouillon" not in home
        listed = await (await client.get("/api/v1/boards")).json()
        assert [board["slug"] for board in listed["boards"]] == ["metz"]
        found = await (await client.get("/api/v1/search?q=secret")).json()
        assert found["total"] == 0
        assert (await client.get("/api/v1/search?q=secret&board=metz-preparation")).status == 404


async def test_members_and_moderators_read_everything_of_a_closed_board(forum):
    made = await closed_site(forum)
    for name in ("lea", "modo", "globale"):
        client = await as_member(forum, name)
        for path in paths(made):
            response = await client.get(path, allow_redirects=False)
            # Feeds carry public posts only: a closed board has none, for anyone.
            expected = {"/p/": 302, "/b/metz-preparation/feed.atom": 404}
            assert response.status == next(
                (status for start, status in expected.items() if path.startswith(start)),
                200), (name, path, response.status)
        home = await (await client.get("/")).text()
        assert "Metz — préparation" in home
        found = await (await client.get("/api/v1/search?q=secret")).json()
        assert found["total"] == 1 and found["results"][0]["post_id"] == made["post"]
        page = await (await client.get("/b/metz-preparation", headers=EN)).text()
        assert "Brouillon de demande CADA" in page and ">closed</span>" in page
    # A moderator of another board is no reader.
    autre = await as_member(forum, "autre")
    assert (await autre.get(f"/t/{made['thread']}")).status == 404


async def test_a_follower_who_is_not_a_member_is_told_nothing(forum):
    made = await closed_site(forum)
    await forum.user("membre", email="membre@example.org")
    async with forum.db.transaction() as tx:
        await boards.add_member(tx, made["closed"], "membre", made["modo"])
    await forum.reply(made["thread"], made["modo"], "Relisez, @membre et @zoe : secret")
    await mail_notifications(forum.app)
    async with forum.db.read() as conn:
        member_told = await conn.value(
            "select count(*) from notifications join users on users.id = user_id"
            " where users.name = 'membre' and kind = 'mention'")
        member_mailed = await conn.value(
            "select count(*) from outbox where to_address = 'membre@example.org'")
    assert member_told == 1 and member_mailed == 1  # the group is told
    async with forum.db.read() as conn:
        told = await conn.value("select count(*) from notifications where user_id = ?",
                                (made["zoe"].id,))
        mailed = await conn.value("select count(*) from outbox where to_address = ?",
                                  ("zoe@example.org",))
    assert told == 0 and mailed == 0
    zoe = await as_member(forum, "zoe")
    assert "Brouillon" not in await (await zoe.get("/notifications")).text()
    assert "Brouillon" not in await (await zoe.get("/u/lea")).text()


async def test_moderators_add_and_remove_members_on_the_web(forum):
    made = await closed_site(forum)
    modo, zoe = await as_member(forum, "modo"), await as_member(forum, "zoe")
    assert (await zoe.get("/b/metz-preparation")).status == 404
    added = await submit(modo, "/b/metz-preparation/members", {"name": "ZOE", "action": "add"})
    assert added.status == 303
    assert (await zoe.get(f"/t/{made['thread']}")).status == 200
    page = await (await modo.get("/b/metz-preparation/members", headers=EN)).text()
    assert "zoe" in page and "lea" in page
    again = await submit(modo, "/b/metz-preparation/members", {"name": "zoe", "action": "add"},
                         headers=EN)
    assert again.status == 409 and "already a member" in await again.text()
    unknown = await submit(modo, "/b/metz-preparation/members",
                           {"name": "personne", "action": "add"}, headers=EN)
    assert unknown.status == 404 and "No member has this pseudonym" in await unknown.text()
    # A member reads the list but may not change it.
    refused = await submit(zoe, "/b/metz-preparation/members", {"name": "lea",
                                                                 "action": "remove"})
    assert refused.status == 403
    removed = await submit(modo, "/b/metz-preparation/members",
                           {"name": "zoe", "action": "remove"})
    assert removed.status == 303
    assert (await zoe.get(f"/t/{made['thread']}")).status == 404
    assert (await zoe.get(made["file"])).status == 404


async def test_moderators_manage_members_through_the_api(forum):
    made = await closed_site(forum)
    modo = {"Authorization": f"Bearer {await forum.token(made['modo'])}"}
    zoe = {"Authorization": f"Bearer {await forum.token(made['zoe'])}"}
    lea = {"Authorization": f"Bearer {made['token']}"}
    client = forum.client
    assert (await client.get("/api/v1/boards/metz-preparation/members", headers=zoe)).status \
        == 404
    response = await client.post("/api/v1/boards/metz-preparation/members", headers=lea,
                                 json={"name": "zoe"})
    assert response.status == 403
    response = await client.post("/api/v1/boards/metz-preparation/members", headers=modo,
                                 json={"name": "zoe"})
    assert response.status == 201 and (await response.json()) == {"name": "zoe"}
    listed = await (await client.get("/api/v1/boards/metz-preparation/members",
                                      headers=zoe)).json()
    assert [member["name"] for member in listed["members"]] == ["lea", "zoe"]
    assert (await client.get(f"/api/v1/threads/{made['thread']}", headers=zoe)).status == 200
    response = await client.delete("/api/v1/boards/metz-preparation/members/zoe", headers=modo)
    assert response.status == 204
    assert (await client.get(f"/api/v1/threads/{made['thread']}", headers=zoe)).status == 404
    response = await client.delete("/api/v1/boards/metz-preparation/members/zoe", headers=modo)
    assert response.status == 404


async def test_admins_close_and_open_boards_from_the_form_and_the_api(forum, client):
    admin = await forum.user("admin", role="admin")
    await log_in(client, "admin")
    created = await submit(client, "/admin/boards", {
        "name": "Nancy — préparation", "slug": "", "region": "", "description": "",
        "is_city": "1", "closed": "1"})
    assert created.status == 303
    visitor = await forum.visitor()
    assert (await visitor.get("/b/nancy-preparation")).status == 404
    form = await (await client.get("/admin/boards/nancy-preparation")).text()
    assert re.search(r'name="closed" value="1" checked', form)
    opened = await submit(client, "/admin/boards/nancy-preparation", {
        "name": "Nancy — préparation", "slug": "nancy-preparation", "is_city": "1"})
    assert opened.status == 303
    assert (await visitor.get("/b/nancy-preparation")).status == 200
    token = {"Authorization": f"Bearer {await forum.token(admin)}"}
    made = await client.post("/api/v1/boards", headers=token,
                             json={"name": "Lyon — préparation", "closed": True})
    assert made.status == 201 and (await made.json())["closed"] is True
    assert (await visitor.get("/b/lyon-preparation")).status == 404
    changed = await client.patch("/api/v1/boards/lyon-preparation", headers=token,
                                 json={"closed": False})
    assert changed.status == 200 and (await changed.json())["closed"] is False
    assert (await visitor.get("/b/lyon-preparation")).status == 200
    bad = await client.patch("/api/v1/boards/lyon-preparation", headers=token,
                             json={"closed": "oui"})
    assert bad.status == 422
    member = {"Authorization": f"Bearer {await forum.token(await forum.user('lea'))}"}
    refused = await client.patch("/api/v1/boards/lyon-preparation", headers=member,
                                 json={"closed": True})
    assert refused.status == 403


async def test_a_cached_public_page_is_dropped_when_its_board_closes(forum):
    board = await forum.board("Toul")
    lea = await forum.user("lea")
    thread_id, _post = await forum.thread(board, lea, "Sujet de Toul", "Texte de Toul")
    visitor = await forum.visitor()
    for path in (f"/t/{thread_id}", "/b/toul", "/feed.atom", "/"):
        assert "Toul" in await (await visitor.get(path)).text()  # cached now
    async with forum.db.transaction() as tx:
        await boards.set_closed(tx, board, True)
    assert (await visitor.get(f"/t/{thread_id}")).status == 404
    assert (await visitor.get("/b/toul")).status == 404
    assert "Toul" not in await (await visitor.get("/feed.atom")).text()
    assert "Toul" not in await (await visitor.get("/")).text()


async def test_moving_out_of_a_closed_board_lists_what_becomes_visible_first(forum):
    made = await closed_site(forum)
    await forum.reply(made["thread"], made["lea"], "Deuxième brouillon")
    visitor = await forum.visitor()
    assert "Metz" in await (await visitor.get("/b/metz")).text()  # cached for visitors
    modo = await as_member(forum, "modo")
    path = f"/moderation/threads/{made['thread']}/move"
    asked = await submit(modo, path, {"board": "metz", "reason": "Prêt à publier"},
                         form_page=f"/t/{made['thread']}", headers=EN)
    assert asked.status == 200
    page = " ".join((await asked.text()).split())
    assert "2 messages" in page and "1 file" in page and "brouillon-demande.jpg" in page
    assert "Brouillon de demande CADA" in page
    assert (await visitor.get(f"/t/{made['thread']}")).status == 404  # nothing moved yet
    moved = await submit(modo, path, {"board": "metz", "reason": "Prêt à publier",
                                      "confirmed": "1"}, form_page=f"/t/{made['thread']}")
    assert moved.status == 303
    assert "Deuxième brouillon" in await (await visitor.get(f"/t/{made['thread']}")).text()
    assert "Brouillon de demande CADA" in await (await visitor.get("/b/metz")).text()
    assert (await visitor.get(made["file"])).status == 200
    journal = await (await visitor.get("/moderation/journal")).text()
    assert "Prêt à publier" in journal
    if not forum.config.database_url:  # `vigie check` reads SQLite's file only
        assert check(forum.config.data_dir).problems == []  # counters moved with it


async def test_moving_through_the_api_needs_confirm(forum):
    made = await closed_site(forum)
    modo = {"Authorization": f"Bearer {await forum.token(made['modo'])}"}
    lea = {"Authorization": f"Bearer {made['token']}"}
    path = f"/api/v1/threads/{made['thread']}/move"
    refused = await forum.client.post(path, headers=lea, json={"board": "metz"})
    assert refused.status == 403
    asked = await forum.client.post(path, headers=modo, json={"board": "metz"})
    assert asked.status == 409
    answer = await asked.json()
    assert answer["exposure"] == {"posts": 1, "files": ["brouillon-demande.jpg"],
                                  "findings_elsewhere": 0, "findings_kept": 0}
    assert (await (await forum.visitor()).get(f"/t/{made['thread']}")).status == 404
    unknown = await forum.client.post(path, headers=modo, json={"board": "nulle-part",
                                                                "confirm": True})
    assert unknown.status == 404  # as under /moderation: one move (api/boards.moved_thread)
    moved = await forum.client.post(path, headers=modo, json={"board": "metz", "confirm": True})
    assert moved.status == 200 and (await moved.json())["thread"]["board"] == "metz"
    assert (await (await forum.visitor()).get(f"/t/{made['thread']}")).status == 200


async def test_closed_board_counts_are_kept_and_checked(forum):
    made = await closed_site(forum)
    await forum.reply(made["thread"], made["lea"], "Encore")
    async with forum.db.read() as conn:
        board = await boards.get(conn, made["closed"].id)
    assert (board.thread_count, board.post_count) == (1, 2)
    if not forum.config.database_url:  # `vigie check` reads SQLite's file only
        assert check(forum.config.data_dir).problems == []
    # A member's count (on their profile, for anyone) leaves closed boards out.
    await forum.thread(made["public"], made["lea"], "Public", "Un message public")
    visitor = await forum.visitor()
    profile = " ".join((await (await visitor.get("/u/lea")).text()).split())
    assert "1 message" in profile and "3 messages" not in profile
    async with forum.db.transaction() as tx:
        await boards.set_closed(tx, made["closed"], False)
    profile = " ".join((await (await visitor.get("/u/lea")).text()).split())
    assert "3 messages" in profile
    if not forum.config.database_url:  # `vigie check` reads SQLite's file only
        assert check(forum.config.data_dir).problems == []


@pytest.mark.slow
async def test_command_line_closes_and_opens_a_board(tmp_path):
    data = tmp_path / "data"
    assert (await run_cli(data, "init"))[0] == 0
    code, out, _ = await run_cli(data, "board", "add", "Metz — préparation", "--closed")
    assert code == 0 and "(closed)" in out
    code, out, _ = await run_cli(data, "board", "list")
    assert out.strip().endswith("closed")
    code, out, _ = await run_cli(data, "board", "open", "metz-preparation")
    assert code == 0 and "open" in out
    code, out, _ = await run_cli(data, "board", "list")
    assert "closed" not in out
    code, out, _ = await run_cli(data, "board", "close", "metz-preparation")
    assert code == 0 and "closed" in out


@pytest.mark.browser
async def test_browser_moves_a_thread_out_after_the_warning_without_js(
        browser, site, forum):
    made = await closed_site(forum)  # (`site` is the server's address here)
    context = await new_context(browser, site, javascript=False)
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label(PSEUDONYM).fill("modo")
    await page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    await page.get_by_role("button", name=LOG_IN).click()
    await page.goto(f"/t/{made['thread']}")
    await page.get_by_text("Modérer ce sujet").click()
    await page.get_by_label("Déplacer vers la ville").fill("metz")
    await page.get_by_role("button", name="Déplacer", exact=True).click()
    # (The heading is matched in English or French, as the page negotiates its language.)
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Make this thread public\\?|Rendre ce sujet public ?"))
    await expect(page.locator(".exposure")).to_contain_text("brouillon-demande.jpg")
    await page.get_by_role("button", name=re.compile(
        "Move and make it public|Déplacer et rendre public")).click()
    await expect(page).to_have_url(re.compile(rf"/t/{made['thread']}$"))
    visitor = await forum.visitor()
    assert (await visitor.get(f"/t/{made['thread']}")).status == 200
    await context.close()


async def test_the_public_journal_leaves_out_closed_boards(forum):
    made = await closed_site(forum)
    reply = await forum.reply(made["thread"], made["lea"], "À retirer")
    async with forum.db.transaction() as tx:
        post = await posts.get(tx, reply)
        await moderation.delete_post(tx, post, made["modo"], "Motif zqjournalfermemark")
    visitor = await forum.visitor()
    for path in ("/moderation/journal", "/moderation/journal.atom"):
        body = await (await visitor.get(path)).text()
        assert "zqjournalfermemark" not in body and "préparation" not in body, path
