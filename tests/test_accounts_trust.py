"""Trust in accounts (issue 11): limits keyed on the real client, API tokens that end,
look-alike pseudonyms, banned staff, redirects, private reasons, private caching, file times."""
from __future__ import annotations

import io
import os
import re
import sqlite3
import uuid
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from forum import cli, keys, migrate
from forum.app import create_app
from forum.config import Config
from forum.confusables import pseudonym_skeleton
from forum.models import moderation, password_resets, posts, users
from forum.ratelimit import RateLimiter
from tests.conftest import PASSWORD, Forum, csrf_from, log_in, submit
from tests.test_uploads import stored_path, uploaded

pytestmark = pytest.mark.both_stores

V1 = "/api/v1"
FAILED = 400  # a wrong password: the form again, with the message
# A single server counts failures in memory, whatever the store: its long runs of failed
# logins (15 s each) are not run again on PostgreSQL.
IN_MEMORY = pytest.mark.sqlite_only(reason="a single server's limiter counts in memory, the "
                                    "same on both stores")


async def site(aiohttp_client, tmp_path: Path, **overrides) -> Forum:
    """A forum with some settings changed (its own data folder)."""
    config = Config.from_env(env={}, data_dir=tmp_path / uuid.uuid4().hex, **overrides)
    app = create_app(config)
    return Forum(app, await aiohttp_client(app))


async def fail_login(client: TestClient, name: str, address: str | None = None):
    headers = {"X-Forwarded-For": address} if address else {}
    return await submit(client, "/login", {"name": name, "password": "not the password"},
                        headers=headers)


# Rate limits: the real client, failures only, never site-wide ----------------------------------

def test_forwarded_for_counts_only_from_a_trusted_proxy():
    direct = RateLimiter("")
    assert direct.client("198.51.100.9", ["203.0.113.7"]) == "198.51.100.9"  # spoofed: ignored
    proxied = RateLimiter("127.0.0.1, 10.0.0.0/8")
    assert proxied.client("127.0.0.1", ["203.0.113.7"]) == "203.0.113.7"
    # The client may send its own X-Forwarded-For: the proxy appends the real address, the
    # right-most address that is not a trusted proxy counts.
    assert proxied.client("127.0.0.1", ["1.2.3.4, 203.0.113.7, 10.1.2.3"]) == "203.0.113.7"
    assert proxied.client("127.0.0.1", ["1.2.3.4", "203.0.113.7"]) == "203.0.113.7"
    assert proxied.client("198.51.100.9", ["203.0.113.7"]) == "198.51.100.9"  # not a proxy
    assert proxied.client("127.0.0.1", ["junk"]) == "127.0.0.1"
    # An IPv6 subscriber holds a /64: each of its addresses is the same client.
    assert direct.client("2001:db8::1", []) == direct.client("2001:db8::ffff", [])
    with pytest.raises(ValueError, match="FORUM_TRUSTED_PROXIES"):
        RateLimiter("localhost")


@IN_MEMORY
async def test_failed_logins_from_one_address_limit_that_address_only(aiohttp_client, tmp_path,
                                                                      database_url):
    forum = await site(aiohttp_client, tmp_path, trusted_proxies="127.0.0.1",
                       database_url=database_url)
    await forum.user("lea")
    attacker, other = "203.0.113.7", "198.51.100.20"
    for number in range(forum.config.login_attempts * 6):
        assert (await fail_login(forum.client, f"random{number}", attacker)).status == FAILED
    assert (await fail_login(forum.client, "random-next", attacker)).status == 429
    # Behind the proxy, every other visitor still logs in.
    response = await submit(forum.client, "/login", {"name": "lea", "password": PASSWORD},
                            headers={"X-Forwarded-For": other})
    assert response.status == 303


@IN_MEMORY
async def test_forged_forwarded_for_does_not_escape_the_limit(forum, client):
    for number in range(forum.config.login_attempts * 6):
        assert (await fail_login(client, f"random{number}", f"203.0.113.{number}")).status == FAILED
    assert (await fail_login(client, "random-next", "198.51.100.1")).status == 429


async def test_successful_logins_never_count(forum, client):
    await forum.user("lea")
    for _ in range(forum.config.login_attempts * 6 + 5):
        response = await submit(client, "/login", {"name": "lea", "password": PASSWORD})
        assert response.status == 303


async def test_failures_on_one_pseudonym_do_not_lock_its_owner_out_elsewhere(aiohttp_client,
                                                                              tmp_path,
                                                                              database_url):
    forum = await site(aiohttp_client, tmp_path, trusted_proxies="127.0.0.1",
                       database_url=database_url)
    await forum.user("lea")
    for _ in range(forum.config.login_attempts):
        await fail_login(forum.client, "lea", "203.0.113.7")
    assert (await fail_login(forum.client, "lea", "203.0.113.7")).status == 429
    response = await submit(forum.client, "/login", {"name": "lea", "password": PASSWORD},
                            headers={"X-Forwarded-For": "198.51.100.20"})
    assert response.status == 303


async def test_guesses_at_one_pseudonym_from_many_addresses_are_slowed(aiohttp_client, tmp_path,
                                                                       database_url):
    forum = await site(aiohttp_client, tmp_path, trusted_proxies="127.0.0.1",
                       database_url=database_url)
    await forum.user("lea")
    attempts = forum.config.login_attempts
    for number in range(attempts * 10):
        assert (await fail_login(forum.client, "lea", f"203.0.113.{number}")).status == FAILED
    assert (await fail_login(forum.client, "lea", "198.51.100.1")).status == 429
    assert (await fail_login(forum.client, "tom", "198.51.100.1")).status == FAILED


# API tokens --------------------------------------------------------------------------------------

async def api_status(client: TestClient, token: str) -> int:
    response = await client.get(f"{V1}/notifications",
                                headers={"Authorization": f"Bearer {token}"})
    return response.status


async def test_tokens_are_listed_and_revoked_in_settings(forum, client):
    lea = await forum.user("lea")
    async with forum.db.transaction() as tx:
        token = await users.create_token(tx, lea.id, "script de veille")
    assert await api_status(client, token) == 200
    await log_in(client, "lea")
    page = await (await client.get("/settings")).text()
    assert "script de veille" in page
    assert re.search(r"\d{4}-\d{2}-\d{2}</time></td>", page)  # the day it was last used
    assert token not in page  # only its hash is kept: nobody can show it again
    async with forum.db.read() as conn:
        stored = await conn.value("select token_hash from api_tokens")
    assert stored == users.token_hash(token) and token not in stored
    async with forum.db.read() as conn:
        token_id = (await users.list_tokens(conn, lea.id))[0].id
    response = await submit(client, f"/settings/tokens/{token_id}/revoke", {},
                            form_page="/settings")
    assert response.status == 303
    assert await api_status(client, token) == 401
    assert "script de veille" not in await (await client.get("/settings")).text()


async def test_a_token_cannot_be_revoked_by_someone_else_or_without_csrf(forum, client):
    lea, tom = await forum.user("lea"), await forum.user("tom")
    token = await forum.token(lea)
    async with forum.db.read() as conn:
        token_id = (await users.list_tokens(conn, lea.id))[0].id
    await log_in(client, tom.name)
    response = await submit(client, f"/settings/tokens/{token_id}/revoke", {},
                            form_page="/settings")
    assert response.status == 404
    response = await client.post(f"/settings/tokens/{token_id}/revoke", allow_redirects=False)
    assert response.status == 403
    assert await api_status(client, token) == 200


async def test_a_password_change_ends_every_token(forum, client):
    lea = await forum.user("lea")
    token = await forum.token(lea)
    await log_in(client, "lea")
    response = await submit(client, "/settings/password", {
        "current": PASSWORD, "password": "another long password",
        "password_again": "another long password"}, form_page="/settings")
    assert response.status == 303
    assert await api_status(client, token) == 401


async def test_a_password_reset_ends_every_token(forum, client):
    lea = await forum.user("lea", email="lea@example.org")
    token = await forum.token(lea)
    async with forum.db.transaction() as tx:
        link = await password_resets.create(tx, lea.id, 60)
    response = await submit(client, f"/password/reset/{link}", {
        "password": "another long password", "password_again": "another long password"})
    assert response.status == 303
    assert await api_status(client, token) == 401


def test_cli_lists_and_revokes_tokens(tmp_path, monkeypatch, capsys, database_url):
    data = str(tmp_path / "data")
    monkeypatch.setenv("FORUM_DATABASE_URL", database_url)  # empty: the data folder's SQLite
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["--data-dir", data, "user", "add", "lea", "--password-stdin"]) == 0
    assert cli.main(["--data-dir", data, "token", "create", "lea", "--label", "veille"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert cli.main(["--data-dir", data, "token", "list", "lea"]) == 0
    listed = capsys.readouterr().out.strip().splitlines()
    assert len(listed) == 1 and "\tveille\t" in listed[0] and listed[0].endswith("never")
    assert token not in listed[0]
    token_id = listed[0].split("\t")[0]
    assert cli.main(["--data-dir", data, "token", "revoke", "lea", token_id]) == 0
    assert cli.main(["--data-dir", data, "token", "list", "lea"]) == 0
    assert capsys.readouterr().out.strip().endswith("revoked.")
    assert cli.main(["--data-dir", data, "token", "revoke", "lea", token_id]) == 1


# Look-alike pseudonyms ---------------------------------------------------------------------------

@pytest.mark.parametrize(("existing", "look_alike"), [
    ("admin", "\u0430dmin"),  # Cyrillic а
    ("admin", "adm\u0131n"),  # dotless ı
    ("moderatrice", "m\u043ederatrice"),  # Cyrillic о
    ("admin", "ADM\u0406N"),  # Cyrillic І, capitals
    ("bob", "b0b"),
])
async def test_look_alike_pseudonyms_are_refused_at_registration(forum, client, existing,
                                                                 look_alike):
    await forum.user(existing)
    response = await submit(client, "/register", {
        "name": look_alike, "email": "", "password": PASSWORD, "password_again": PASSWORD})
    assert response.status == 409
    page = await response.text()
    assert ("looks too much like" in page or "ressemble" in page) and existing in page
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from users") == 1


async def test_different_pseudonyms_still_register(forum, client):
    await forum.user("admin")
    for name in ("adminée", "Léa", "Lea", "administration"):
        async with forum.db.transaction() as tx:
            await users.create(tx, name, PASSWORD)


def test_skeletons_follow_unicode_confusables():
    assert pseudonym_skeleton("\u0430dmin") == pseudonym_skeleton("admin")
    assert pseudonym_skeleton("adm\u0131n") == pseudonym_skeleton("Admin")
    assert pseudonym_skeleton("paul1") == pseudonym_skeleton("paull")  # "1" looks like "l"
    assert pseudonym_skeleton("léa") != pseudonym_skeleton("lea")


def test_migration_backfills_skeletons_of_existing_members(tmp_path, monkeypatch):
    """SQLite's steps before the baseline (a PostgreSQL database starts from the baseline)."""
    db_path = tmp_path / "forum.sqlite3"
    everything = migrate.available
    monkeypatch.setattr(migrate, "available", lambda: [m for m in everything() if m[0] < 10])
    migrate.migrate(db_path)
    with sqlite3.connect(db_path) as conn:
        for name in ("admin", "\u0430dmin", "tom"):  # a look-alike registered before the check
            conn.execute("insert into users (name, name_key, password_hash, created_at)"
                         " values (?, ?, 'x', '2026-01-01')", (name, name.casefold()))
    monkeypatch.setattr(migrate, "available", everything)
    migrate.migrate(db_path)
    with sqlite3.connect(db_path) as conn:
        rows = dict(conn.execute("select name, name_skeleton from users"))
        assert rows == {"admin": pseudonym_skeleton("admin"), "\u0430dmin": None,
                        "tom": pseudonym_skeleton("tom")}
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("insert into users (name, name_key, name_skeleton, password_hash,"
                         " created_at) values ('x', 'x', ?, 'x', 'x')", (rows["tom"],))


# A banned administrator ------------------------------------------------------------------------

async def test_a_banned_admin_keeps_no_power(forum, client):
    chief, other = await forum.user("chef", role="admin"), await forum.user("autre", role="admin")
    newcomer = await forum.user("nouveau", trusted=False)
    board = await forum.board("Metz")
    await forum.appoint(board, chief)
    thread_id, _ = await forum.thread(board, await forum.user("lea"))
    async with forum.db.transaction() as tx:
        pending_id = await posts.create(tx, thread_id, board.id, newcomer,
                                        "Message en attente PENDING-MARK",
                                        forum.config.body_max, status="pending")
    token = await forum.token(chief)
    await log_in(client, "chef")
    assert (await client.get("/moderation")).status == 200  # before the ban
    async with forum.db.transaction() as tx:
        await moderation.sanction(tx, chief, other, "ban", "Abus de pouvoir")
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/moderation", "/admin/boards", f"/admin/boards/{board.slug}", "/admin/kinds"):
        response = await client.get(path, allow_redirects=False)
        assert response.status in (403, 404), path
    page = await client.get(f"/p/{pending_id}")
    assert page.status == 404 or "PENDING-MARK" not in await page.text()
    assert "PENDING-MARK" not in await (await client.get(f"/t/{thread_id}")).text()
    assert (await client.get(f"{V1}/moderation/queue", headers=auth)).status == 403
    assert (await client.get(f"{V1}/posts/{pending_id}", headers=auth)).status == 404
    response = await client.post(f"{V1}/moderation/posts/{pending_id}/approve", headers=auth)
    assert response.status == 403
    response = await submit(client, f"/u/{newcomer.name}/sanction",
                            {"kind": "ban", "reason": "vengeance"}, form_page=f"/t/{thread_id}")
    assert response.status == 403
    async with forum.db.read() as conn:
        banned = await users.get(conn, chief.id)
        assert (await posts.get(conn, pending_id)).status == "pending"
    assert not banned.is_admin and not banned.moderates(board.id) and not banned.moderates_any


async def test_only_an_admin_lifts_the_ban_of_an_admin(forum):
    chief, other = await forum.user("chef", role="admin"), await forum.user("autre", role="admin")
    moderator = await forum.user("modo", role="moderator")
    async with forum.db.transaction() as tx:
        await moderation.sanction(tx, chief, other, "ban", "Abus")
        chief = await users.get(tx, chief.id)
    from forum.permissions import can

    assert not can(moderator, "sanction", chief)
    assert can(other, "sanction", chief)


# Redirects stay on the site ---------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/\t/evil.example", "/\n/evil.example", "/\\evil.example", "//evil.example",
    "/\\/evil.example", "https://evil.example/", "javascript:alert(1)", "\t//evil.example",
    "/\r\n/evil.example", "evil.example",
])
async def test_next_accepts_only_paths_of_this_site(forum, client, target):
    await forum.user("lea")
    response = await submit(client, "/login", {"name": "lea", "password": PASSWORD,
                                               "next": target})
    assert response.status == 303
    assert response.headers["Location"] == "/"


async def test_next_keeps_a_path_of_this_site(forum, client):
    await forum.user("lea")
    response = await submit(client, "/login", {"name": "lea", "password": PASSWORD,
                                               "next": "/b/metz?page=2"})
    assert response.headers["Location"] == "/b/metz?page=2"


# Pseudonym suggestions ---------------------------------------------------------------------------

async def test_visitors_cannot_list_pseudonyms(forum, client):
    await forum.user("lea")
    for prefix in ("", "l", "le"):
        assert (await client.get(f"{V1}/members?prefix={prefix}")).status == 401
    await log_in(client, "lea")
    response = await client.get(f"{V1}/members?prefix=le")
    assert (await response.json())["members"] == ["lea"]
    assert (await (await client.get(f"{V1}/members?prefix=")).json())["members"] == []


# Sanction reasons ------------------------------------------------------------------------------

async def test_a_private_sanction_reason_reaches_only_the_member_and_moderators(forum, client):
    await forum.user("modo", role="moderator")
    await forum.user("tom")
    await forum.user("curieux")
    await log_in(client, "modo")
    response = await submit(client, "/u/tom/sanction", {
        "kind": "warn", "reason": "REASON-MARK adresse d'un agent", "private": "1"},
        form_page="/u/tom")
    assert response.status == 303
    response = await submit(client, "/u/tom/sanction", {
        "kind": "distrust", "reason": "TRUST-MARK", "private": "1"}, form_page="/u/tom")
    assert response.status == 303
    assert "REASON-MARK" in await (await client.get("/u/tom")).text()  # moderators see it
    visitor = await forum.visitor()
    journal = await (await visitor.get("/moderation/journal")).text()
    assert "a averti un membre" in journal  # the action is public, its reason is not
    assert "REASON-MARK" not in journal and "TRUST-MARK" not in journal
    assert "REASON-MARK" not in await (await visitor.get("/moderation/journal.atom")).text()
    assert "REASON-MARK" not in await (await visitor.get("/u/tom")).text()
    await log_in(visitor, "curieux")
    assert "REASON-MARK" not in await (await visitor.get("/u/tom")).text()
    assert "REASON-MARK" not in await (await visitor.get("/moderation/journal")).text()
    await log_in(visitor, "tom")
    assert "REASON-MARK" in await (await visitor.get("/notifications")).text()


async def test_the_sanction_form_keeps_reasons_private_unless_unchecked(forum, client):
    await forum.user("modo", role="moderator")
    await forum.user("tom")
    await log_in(client, "modo")
    form = await (await client.get("/u/tom")).text()
    assert re.search(r'<input type="checkbox" name="private" value="1" checked>', form)
    await client.post("/u/tom/sanction", data={
        "csrf_token": csrf_from(form), "kind": "warn", "reason": "PUBLIC-MARK"})
    visitor = await forum.visitor()
    assert "PUBLIC-MARK" in await (await visitor.get("/moderation/journal")).text()


# Password resets -------------------------------------------------------------------------------

async def test_resets_are_limited_per_account_whatever_the_identifier(forum, client):
    await forum.user("lea", email="lea@example.org")
    limit = forum.config.resets_per_hour
    for _ in range(limit):
        for identifier in ("lea", "lea@example.org"):
            assert (await submit(client, "/password/forgot",
                                 {"identifier": identifier})).status == 303
    async with forum.db.read() as conn:
        queued = await conn.value("select count(*) from outbox where to_address = ?",
                                  ("lea@example.org",))
        links = await conn.value("select count(*) from password_resets")
    assert queued == limit and links == limit


# Private API answers ---------------------------------------------------------------------------

async def test_api_answers_for_a_caller_are_not_kept_by_shared_caches(forum, client):
    lea = await forum.user("lea")
    board = await forum.board("Metz")
    await forum.thread(board, lea)
    token = await forum.token(lea)
    auth = {"Authorization": f"Bearer {token}"}
    for path in (f"{V1}/notifications", f"{V1}/boards", f"{V1}/boards/{board.slug}/threads"):
        response = await client.get(path, headers=auth)
        assert response.status == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path
    await log_in(client, "lea")
    response = await client.get(f"{V1}/notifications")
    assert response.headers["Cache-Control"] == "private, no-store"
    anonymous = await (await forum.visitor()).get(f"{V1}/boards")
    assert {"Authorization", "Cookie"} <= {
        part.strip() for part in anonymous.headers["Vary"].split(",")}


async def test_api_errors_for_a_caller_are_not_kept_by_shared_caches(forum, client):
    """A refusal raised past the handler (404, 403, 422) is about its caller too."""
    lea = await forum.user("lea")
    auth = {"Authorization": f"Bearer {await forum.token(lea)}"}
    for method, path, body in (("GET", f"{V1}/posts/999999", None),
                               ("POST", f"{V1}/boards/nowhere/threads", {"title": ""}),
                               ("GET", f"{V1}/moderation/queue", None)):
        response = await client.request(method, path, json=body, headers=auth)
        assert response.status >= 400, path
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert {"Authorization", "Cookie"} <= {
            part.strip() for part in response.headers["Vary"].split(",")}, path
    anonymous = await (await forum.visitor()).get(f"{V1}/posts/999999")
    assert anonymous.status == 404 and "no-store" in anonymous.headers["Cache-Control"]


# Files -------------------------------------------------------------------------------------------

async def test_a_re_upload_does_not_tell_when_the_same_file_was_first_sent(forum, client):
    lea, tom = await forum.user("lea"), await forum.user("tom")
    first = await uploaded(client, await forum.token(lea), "notes.txt", b"identical words")
    # Stored at 1970 (when stored: serving it writes nothing).
    assert stored_path(forum, first["sha256"]).stat().st_mtime_ns == 0
    # As an older version left it: with the time it was first sent. The first purge pass of a
    # start (the lease holder's) blurs it.
    first_sent = 1_600_000_000  # September 2020: long before tom's upload
    os.utime(stored_path(forum, first["sha256"]), (first_sent, first_sent))
    store = forum.app[keys.UPLOADER].store
    in_flight = store.tmp / "an-upload-being-received"
    in_flight.write_bytes(b"half")  # its time says it is fresh: the sweep must leave it
    assert store.blur_times() == 1
    assert store.blur_times() == 0 and in_flight.stat().st_mtime_ns != 0
    tom_token = await forum.token(tom)
    second = await uploaded(client, tom_token, "mine.txt", b"identical words")
    assert second["sha256"] == first["sha256"]
    await log_in(client, "tom")  # files are served to the session (bearer tokens: /api/ only)
    auth: dict[str, str] = {}
    response = await client.get(second["url"], headers=auth)
    assert response.status == 200
    assert "2020" not in response.headers.get("Last-Modified", "")
    assert f"{first_sent * 10**9:x}" not in response.headers.get("ETag", "")
    # Nor by asking "modified since?" around the first upload's time.
    answers = {(await client.get(second["url"], headers={
        **auth, "If-Modified-Since": when})).status
        for when in ("Mon, 31 Aug 2020 00:00:00 GMT", "Thu, 01 Oct 2020 00:00:00 GMT")}
    assert len(answers) == 1
