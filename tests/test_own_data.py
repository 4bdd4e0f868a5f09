"""One's own data: the export ZIP, leaving (deleting one's account), the privacy page."""
from __future__ import annotations

import asyncio
import io
import json
import re
import zipfile
from datetime import date

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from forum import account_export, clock, keys
from forum.models import (
    drafts,
    follows,
    invitations,
    leaving,
    moderation,
    posts,
    request_drafts,
    threads,
    users,
)
from forum.models import requests as records
from tests.conftest import PASSWORD, database_text, log_in, submit
from tests.storages import STORAGES, storage_url, stored_keys
from tests.test_axe_browser import axe_report
from tests.test_browser import LOG_IN, account_nav, expect, log_in_with_form, new_context
from tests.test_two_factor import later_code, turn_on
from tests.test_uploads import uploaded

pytestmark = pytest.mark.both_stores
POSTGRESQL_STORAGES = ("bucket",)  # a PostgreSQL site's servers share files in a bucket

EN = {"Accept-Language": "en"}  # texts asserted in English: the French catalog comes at merge
EMAIL = "lea.secrete@example.org"
ANSWER = "RÉPONSE-PRIVÉE-METZ"

@pytest.fixture(params=STORAGES)
def files_url(request: pytest.FixtureRequest) -> str:
    """Every test here runs with files in the data folder, then in a bucket."""
    return storage_url(request)



async def writer_with_everything(forum, board, email: str = EMAIL) -> dict:
    """Léa, who wrote and sent one of each kind of content, each holding its own marker."""
    lea = await forum.user("lea", email=email)
    token = await forum.token(lea)
    async with forum.db.transaction() as tx:
        await invitations.keep_answer(tx, lea.id, ANSWER)
        await users.set_email_notifications(tx, lea.id, "digest")
    upload = await uploaded(forum.client, token, "note.txt", b"MARQUEUR-FICHIER dans le texte\n")
    response = await forum.client.post(
        f"/api/v1/boards/{board.slug}/threads", headers={"Authorization": f"Bearer {token}"},
        json={"title": "Sujet MARQUEUR-SUJET", "body": "Corps MARQUEUR-MESSAGE",
              "attachments": [upload["id"]]})
    assert response.status == 201, await response.text()
    created = await response.json()
    thread_id, post_id = created["thread"]["id"], created["post"]["id"]
    async with forum.db.transaction() as tx:
        post = await posts.get(tx, post_id)
        # A version waiting for the moderators: private, but hers.
        await posts.edit(tx, post, lea, "Version MARQUEUR-PRIVE", forum.config.body_max,
                         wait=True)
        await follows.set_state(tx, lea.id, "board", board.id, "follow")
    bob = await forum.user("bob")
    _other_thread, bob_post = await forum.thread(board, bob, "Sujet de Bob", "Message de Bob")
    async with forum.db.transaction() as tx:
        await moderation.flag(tx, await posts.get(tx, bob_post), lea, "MARQUEUR-SIGNALEMENT",
                              99, 3)
    finding_id = await forum.finding(board, lea, post_id=post_id, note="MARQUEUR-RELEVE")
    # A finding still waiting for the moderators: private too.
    await forum.finding(board, lea, post_id=post_id, review="pending",
                        note="MARQUEUR-ATTENTE", observed="2011")
    reply_id = await forum.reply(thread_id, bob, "Réponse de Bob à Léa")
    async with forum.db.transaction() as tx:
        await drafts.save(tx, lea.id, "", "Brouillon MARQUEUR-BROUILLON", thread_id=thread_id)
        await records.create(tx, board, lea, request_drafts.check_new(
            {"administration": "Mairie MARQUEUR-DEMANDE", "documents": "Plan des caméras",
             "channel": "email", "sent_on": "2026-01-05"}, date(2026, 2, 1)), "published")
    return {"user": lea, "token": token, "thread": thread_id, "post": post_id,
            "upload": upload, "finding": finding_id, "bob": bob, "bob_reply": reply_id}


async def wait_for_export(forum, user_id: int) -> int:
    """The background task prepares it; at most a few seconds."""
    for _ in range(100):
        async with forum.db.read() as conn:
            row = await conn.one("select id, status from account_exports where user_id = ?"
                                 " order by id desc", (user_id,))
        if row and row["status"] != "waiting":
            assert row["status"] == "ready"
            return row["id"]
        await asyncio.sleep(0.05)
    raise AssertionError("the export was not prepared")


# Export --------------------------------------------------------------------------------------

async def test_the_export_holds_a_marker_of_each_kind_of_content(forum, client):
    board = await forum.board()
    made = await writer_with_everything(forum, board)
    await log_in(client, "lea")
    response = await submit(client, "/settings/export", {}, form_page="/settings")
    assert response.status == 303
    export_id = await wait_for_export(forum, made["user"].id)
    notices = await (await client.get("/notifications", headers=EN)).text()
    assert "Your export is ready" in notices
    settings = await (await client.get("/settings")).text()
    assert f"/settings/export/{export_id}" in settings

    response = await client.get(f"/settings/export/{export_id}")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    data = json.loads(archive.read("data.json"))
    text = json.dumps(data, ensure_ascii=False)
    for marker in ("MARQUEUR-SUJET", "MARQUEUR-MESSAGE", "MARQUEUR-PRIVE", "MARQUEUR-RELEVE",
                   "MARQUEUR-SIGNALEMENT", "MARQUEUR-DEMANDE", "MARQUEUR-BROUILLON", EMAIL,
                   ANSWER):
        assert marker in text, marker
    assert data["settings"]["email_notifications"] == "digest"
    assert {"target_kind": "board", "target_id": board.id}.items() <= data["follows"][0].items()
    post = next(item for item in data["posts"] if item["id"] == made["post"])
    assert [version["state"] for version in post["revisions"]] == ["public", "pending"]
    # Bob's reply is his, not hers.
    assert "Réponse de Bob" not in text
    # The file: the cleaned bytes the forum serves.
    (listed,) = data["files"]
    served = await client.get(f"/files/{made['upload']['id']}/note.txt")
    assert archive.read(listed["path"]) == await served.read()
    assert b"MARQUEUR-FICHIER" in archive.read(listed["path"])
    # Nor when the same bytes were first sent (maybe by another member): no time of its own.
    assert archive.getinfo(listed["path"]).date_time == (1980, 1, 1, 0, 0, 0)


async def test_an_export_is_for_its_owner_only(forum, client):
    board = await forum.board()
    made = await writer_with_everything(forum, board)
    await log_in(client, "lea")
    await submit(client, "/settings/export", {}, form_page="/settings")
    export_id = await wait_for_export(forum, made["user"].id)
    other = await forum.visitor()
    await log_in(other, "bob")
    assert (await other.get(f"/settings/export/{export_id}")).status == 404
    visitor = await forum.visitor()
    response = await visitor.get(f"/settings/export/{export_id}", allow_redirects=False)
    assert response.status == 303 and "/login" in response.headers["Location"]


async def test_an_export_is_deleted_after_its_time(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    await submit(client, "/settings/export", {}, form_page="/settings")
    async with forum.db.read() as conn:
        user_id = await conn.value("select id from users where name = 'lea'")
    export_id = await wait_for_export(forum, user_id)
    assert len(stored_keys(forum.app, "exports/")) == 1
    async with forum.db.transaction() as tx:
        await tx.execute("update account_exports set expires_at = ?", (clock.later(seconds=-1),))
    assert (await client.get(f"/settings/export/{export_id}")).status == 404
    await account_export.run_once(forum.app)
    assert stored_keys(forum.app, "exports/") == []
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from account_exports") == 0


# Leaving -------------------------------------------------------------------------------------

async def leave(client, posts_choice: str = "erase", **extra):
    return await submit(client, "/settings/leave",
                        {"current": PASSWORD, "posts": posts_choice, **extra})


async def test_leaving_and_erasing_leaves_nothing_of_her_anywhere(forum, client):
    board = await forum.board()
    made = await writer_with_everything(forum, board)
    lea = made["user"]
    await log_in(client, "lea")
    await submit(client, "/settings/export", {}, form_page="/settings")
    await wait_for_export(forum, lea.id)
    response = await leave(client)
    assert response.status == 303, await response.text()

    # Her session and her API token are over.
    assert (await client.get("/settings", allow_redirects=False)).status == 303
    api = await forum.client.get("/api/v1/notifications",
                                 headers={"Authorization": f"Bearer {made['token']}"})
    assert api.status == 401
    assert (await (await forum.visitor()).get("/u/lea")).status == 404
    # Her posts are tombstones, Bob's reply still reads, in every channel.
    visitor = await forum.visitor()
    markers = ("MARQUEUR-SUJET", "MARQUEUR-MESSAGE", "MARQUEUR-PRIVE", "MARQUEUR-FICHIER",
               "MARQUEUR-RELEVE", "MARQUEUR-ATTENTE", "MARQUEUR-BROUILLON", EMAIL, ANSWER)
    pages = [f"/t/{made['thread']}", f"/p/{made['post']}", "/", f"/b/{board.slug}",
             "/feed.atom", f"/b/{board.slug}/feed.atom", f"/t/{made['thread']}/feed.atom",
             "/search?q=MARQUEUR", f"/api/v1/threads/{made['thread']}",
             f"/api/v1/posts/{made['post']}", f"/api/v1/posts/{made['post']}/revisions",
             "/api/v1/search?q=MARQUEUR", "/api/v1/members?q=le", f"/f/{made['finding']}",
             "/watch/findings.json", "/watch/findings.csv", f"/b/{board.slug}/watch",
             "/moderation/journal", "/moderation/journal.atom"]
    thread_page = await (await visitor.get(f"/t/{made['thread']}")).text()
    assert "Réponse de Bob à Léa" in thread_page
    for path in pages:
        response = await visitor.get(path)
        body = await response.text()
        for marker in markers:
            assert marker not in body, (path, marker)
        assert '"author": "lea"' not in body and "/u/lea" not in body, path
    assert (await visitor.get(f"/files/{made['upload']['id']}/note.txt")).status == 404
    # Moderators see that an account left, nothing more.
    await forum.user("modo", role="moderator")
    moderator = await forum.visitor()
    await log_in(moderator, "modo")
    journal = await (await moderator.get("/moderation/accounts", headers=EN)).text()
    assert "An account left." in journal
    assert EMAIL not in journal and ANSWER not in journal
    for path in (f"/t/{made['thread']}", f"/p/{made['post']}/revisions", "/moderation"):
        body = await (await moderator.get(path)).text()
        assert "MARQUEUR" not in body and EMAIL not in body, path

    # In the database: the rows of what she chose to erase hold nothing of it.
    async with forum.db.read() as conn:
        rows = await conn.all("select body_source, body_html, deleted_at from posts"
                              " where author_id = ?", (lea.id,))
        assert rows and all(row[0] == "" and row[1] == "" and row[2] for row in rows)
        assert await conn.value("select count(*) from post_revisions where post_id in"
                                " (select id from posts where author_id = ?)"
                                " and body_source <> ''", (lea.id,)) == 0
        assert await conn.value("select count(*) from uploads where owner_id = ?",
                                (lea.id,)) == 0
        for table in ("sessions", "api_tokens", "follows", "notifications", "two_factor",
                      "recovery_codes", "account_exports"):
            assert await conn.value(f"select count(*) from {table} where user_id = ?",
                                    (lea.id,)) == 0, table
        row = await conn.one("select name, email, registration_answer, left_at from users"
                             " where id = ?", (lea.id,))
    assert tuple(row)[:3] == (leaving.DEPARTED_NAME, None, None) and row[3]
    everything = await database_text(forum.db)
    for marker in markers:
        assert marker not in everything, marker
    assert stored_keys(forum.app, "exports/") == []
    store = forum.app[keys.UPLOADER].store
    assert not await store.storage.exists(store.key(made["upload"]["sha256"]))


async def test_leaving_and_keeping_posts_signs_them_membre_parti(forum, client):
    board = await forum.board()
    made = await writer_with_everything(forum, board)
    visitor = await forum.visitor()
    before = await (await visitor.get(f"/t/{made['thread']}")).text()  # now in the page cache
    assert "/u/lea" in before
    bob = await forum.visitor()
    await log_in(bob, "bob")
    assert "/u/lea" in await (await bob.get(f"/t/{made['thread']}")).text()  # fragments too
    await log_in(client, "lea")
    assert (await leave(client, "keep")).status == 303
    for reader in (visitor, bob):
        page = await (await reader.get(f"/t/{made['thread']}")).text()
        assert "MARQUEUR-MESSAGE" in page and leaving.DEPARTED_NAME in page
        assert "/u/lea" not in page
    assert "MARQUEUR-FICHIER" in await (await visitor.get(
        f"/files/{made['upload']['id']}/note.txt")).text()
    api = await (await visitor.get(f"/api/v1/posts/{made['post']}")).json()
    assert api["author"] == leaving.DEPARTED_NAME
    # What was never public goes all the same; the e-mail address too.
    everything = await database_text(forum.db)
    assert "MARQUEUR-PRIVE" not in everything and EMAIL not in everything
    assert ANSWER not in everything and "MARQUEUR-ATTENTE" not in everything
    assert "MARQUEUR-RELEVE" in everything  # a public fact she chose to leave


async def test_a_departed_pseudonym_cannot_be_taken_for_a_while(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    assert (await leave(client)).status == 303
    newcomer = await forum.visitor()
    for name in ("lea", "LEA"):
        response = await submit(newcomer, "/register", {
            "name": name, "password": PASSWORD, "password_again": PASSWORD})
        assert response.status == 409, name
    async with forum.db.transaction() as tx:
        await tx.execute("update retired_pseudonyms set until = ?", (clock.later(seconds=-1),))
    response = await submit(newcomer, "/register", {
        "name": "lea", "password": PASSWORD, "password_again": PASSWORD})
    assert response.status == 303
    # The old password does not open the new account, nor the old one.
    assert (await submit(await forum.visitor(), "/login",
                         {"name": "lea", "password": "wrong password!"})).status != 303


async def test_leaving_needs_the_password(forum, client):
    await forum.user("lea", email=EMAIL)
    await log_in(client, "lea")
    response = await submit(client, "/settings/leave",
                            {"current": "not my password", "posts": "erase"})
    assert response.status == 422
    async with forum.db.read() as conn:
        assert await conn.value("select email from users where name = 'lea'") == EMAIL


async def test_leaving_with_two_factor_needs_a_code(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    totp, _codes = await turn_on(client)
    assert (await leave(client)).status == 422
    async with forum.db.read() as conn:
        assert await conn.value("select left_at from users where name = 'lea'") is None
    assert (await leave(client, code=later_code(totp))).status == 303
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from users where left_at is not null") == 1


async def test_the_last_admin_cannot_leave(forum, client):
    await forum.user("chef", role="admin")
    await log_in(client, "chef")
    page = await (await client.get("/settings/leave", headers=EN)).text()
    assert "You are the last administrator" in page
    response = await leave(client)
    assert response.status == 409
    async with forum.db.read() as conn:
        assert await conn.value("select left_at from users where name = 'chef'") is None
    await forum.user("adjointe", role="admin")
    assert (await leave(client)).status == 303


async def test_the_privacy_page_is_written_from_the_configuration(tmp_path, aiohttp_client,
                                                                  database_url):
    from forum.app import create_app
    from forum.config import Config

    app = create_app(Config.from_env(env={"FORUM_DROP_DAYS": "17", "FORUM_EXPORT_HOURS": "5",
                                          "FORUM_PSEUDONYM_RETIRED_DAYS": "400"},
                                     data_dir=tmp_path / "data", database_url=database_url))
    client = await aiohttp_client(app)
    home = await (await client.get("/")).text()
    assert 'href="/confidentialite"' in home
    page = await (await client.get("/confidentialite", headers=EN)).text()
    assert "after 17 days" in page and "5 hours" in page and "400 days" in page
    assert "IP address" in page and "Sessions" in page and "Mails" in page
    french = await (await client.get("/confidentialite")).text()
    assert '<html lang="fr">' in french


# In a browser, without JavaScript -------------------------------------------------------------

DELETE_LINK = re.compile("^(Supprimer mon compte|Delete my account)$")
YOUR_PASSWORD = re.compile("^(Votre mot de passe|Your password)$")
ERASE_TOO = re.compile("Les effacer aussi|Erase them too")
DELETE_BUTTON = re.compile("^(Supprimer définitivement mon compte|Delete my account for good)$")


@pytest.mark.browser
async def test_browser_leaves_without_javascript(browser, site, forum):
    board = await forum.board()
    lea = await forum.user("lea", email=EMAIL)
    _thread_id, post_id = await forum.thread(board, lea, "Sujet", "MARQUEUR-NAVIGATEUR")
    context = await new_context(browser, site, javascript=False)
    page = await context.new_page()
    await log_in_with_form(page, "lea")
    await page.goto("/settings")
    await page.get_by_role("link", name=DELETE_LINK).click()
    await page.get_by_label(ERASE_TOO).check()
    await page.get_by_label(YOUR_PASSWORD).fill(PASSWORD)
    await page.get_by_role("button", name=DELETE_BUTTON).click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(account_nav(page).get_by_role("link", name=LOG_IN)).to_be_visible()
    await expect(account_nav(page).get_by_role("link", name="lea", exact=True)).to_have_count(0)
    async with forum.db.read() as conn:
        body = await conn.value("select body_source from posts where id = ?", (post_id,))
        email = await conn.value("select email from users where id = ?", (lea.id,))
    assert body == "" and email is None
    await context.close()


async def test_threads_model_is_untouched_by_a_kept_departure(forum):
    """A departure that keeps the posts changes no thread title."""
    board = await forum.board()
    lea = await forum.user("lea")
    thread_id, _post = await forum.thread(board, lea, "Titre gardé")
    async with forum.db.transaction() as tx:
        await leaving.leave(tx, lea, erase_posts=False, retire_days=1)
    async with forum.db.read() as conn:
        assert (await threads.get(conn, thread_id)).title == "Titre gardé"


@pytest.mark.browser
async def test_new_account_pages_pass_axe(browser, site, forum):
    """Sign-up with a question, invitations, the account journal, the admin's registration
    page, the export and leaving, the privacy page: no serious or critical violation."""
    async with forum.db.transaction() as tx:
        await invitations.set_registration(tx, "open", "Quelle ville surveillez-vous ?")
    await forum.user("chef", role="admin")
    context = await new_context(browser, site)
    await context.add_init_script(AXE_SCRIPT)
    page = await context.new_page()
    found: list[str] = []
    for path in ("/register", "/confidentialite"):
        await page.goto(path)
        found += await axe_report(page, path, path)
    await log_in_with_form(page, "chef")
    await page.goto("/invitations")
    await page.locator("main form button[type=submit]").first.click()
    await expect(page.locator("#invitation-link")).to_be_visible()
    found += await axe_report(page, "invitation made", "/invitations")
    for path in ("/moderation/accounts", "/admin/registration", "/settings", "/settings/leave"):
        await page.goto(path)
        found += await axe_report(page, path, path)
    await context.close()
    assert not found, "axe found serious or critical violations:\n" + "\n".join(found)
