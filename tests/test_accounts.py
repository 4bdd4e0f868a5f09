"""Accounts: registration, pseudonyms, argon2id, server-side sessions, login limits."""
from __future__ import annotations

import pytest

from forum import clock, keys
from forum.app import create_app
from forum.auth import SESSION_COOKIE
from forum.config import Config
from forum.models import users
from tests.conftest import PASSWORD, csrf_from, log_in, submit

pytestmark = pytest.mark.both_stores


def session_cookie(response) -> str:
    header = next(v for v in response.headers.getall("Set-Cookie", [])
                  if v.startswith(SESSION_COOKIE + "="))
    return header


async def count_users(forum) -> int:
    async with forum.db.read() as conn:
        return await conn.value("select count(*) from users")


async def register(client, name: str, password: str = PASSWORD, again: str | None = None,
                   email: str = ""):
    return await submit(client, "/register", {
        "name": name, "password": password, "password_again": again or password,
        "email": email})


async def test_registration_logs_the_new_member_in(forum, client):
    response = await register(client, "Camille.L")
    assert response.status == 303
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = await (await client.get("/")).text()
    assert 'href="/u/Camille.L"' in page


async def test_password_is_stored_with_argon2id(forum, client):
    await register(client, "léa-57")
    async with forum.db.read() as conn:
        stored = await conn.value("select password_hash from users where name = 'léa-57'")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_pseudonym_is_unique_whatever_the_case(forum, client):
    await forum.user("Lea")
    before = await count_users(forum)
    response = await register(client, "LEA")
    assert response.status == 409
    assert before == await count_users(forum)
    assert 'value="LEA"' in await response.text()  # the form is kept, filled in


@pytest.mark.parametrize("name", [
    "le a", 'le"a', "<lea>", "lea\u200b", "lea\u202eadmin", "a", "x" * 31, "___", "lea\tx",
])
async def test_unsafe_pseudonyms_are_refused(forum, client, name):
    response = await register(client, name)
    assert response.status == 422
    assert await count_users(forum) == 0


async def test_mismatched_passwords_and_short_password_are_refused(forum, client):
    assert (await register(client, "yann", again="another password")).status == 422
    assert (await register(client, "yann", password="short")).status == 422
    assert await count_users(forum) == 0


async def test_login_failure_does_not_tell_whether_the_pseudonym_exists(forum, client):
    await forum.user("lea")
    wrong_password = await submit(client, "/login", {"name": "lea", "password": "nope" * 3})
    unknown = await submit(client, "/login", {"name": "nobody", "password": "nope" * 3})
    assert wrong_password.status == unknown.status == 400
    strip = lambda html: html.replace('value="lea"', "").replace('value="nobody"', "")  # noqa: E731
    assert strip(await wrong_password.text()) == strip(await unknown.text())


async def test_login_is_rate_limited_without_locking_the_owner_out(forum, client):
    await forum.user("lea")
    limit = forum.config.login_attempts
    for _ in range(limit):
        await submit(client, "/login", {"name": "lea", "password": "wrong" * 3})
    blocked = await submit(client, "/login", {"name": "lea", "password": PASSWORD})
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) <= forum.config.login_window
    assert "<html" in await blocked.text()
    # The attacker's address is slowed down for this pseudonym; another member still logs in.
    await forum.user("yann")
    await log_in(client, "yann")


async def test_login_gives_a_new_session_id_each_time(forum, client):
    await forum.user("lea")
    first = await submit(client, "/login", {"name": "lea", "password": PASSWORD})
    second = await submit(client, "/login", {"name": "lea", "password": PASSWORD})
    assert session_cookie(first) != session_cookie(second)
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from sessions") == 1  # the old one ended


async def test_logout_ends_the_session_on_the_server(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    response = await submit(client, "/logout", {}, form_page="/")
    assert response.status == 303
    replay = await forum.visitor()
    page = await (await replay.get("/", cookies={SESSION_COOKIE: token})).text()
    assert 'href="/u/lea"' not in page
    assert 'href="/login' in page


async def test_session_token_is_not_stored_in_clear(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    assert len(token) >= 43  # 32 random bytes
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from sessions where id = ?", (token,)) == 0


async def test_expired_and_revoked_sessions_are_anonymous(forum, client):
    lea = await forum.user("lea")
    await log_in(client, "lea")
    async with forum.db.transaction() as tx:
        await tx.execute("update sessions set expires_at = ?", (clock.later(seconds=-1),))
    assert 'href="/u/lea"' not in await (await client.get("/")).text()
    await log_in(client, "lea")
    async with forum.db.transaction() as tx:
        assert await users.close_all_sessions(tx, lea.id) >= 1
    assert 'href="/u/lea"' not in await (await client.get("/")).text()


async def test_session_cookie_is_secure_under_https(aiohttp_client, tmp_path, database_url):
    config = Config.from_env(env={}, data_dir=tmp_path / "d", base_url="https://vigie.example",
                             database_url=database_url)
    app = create_app(config)
    client = await aiohttp_client(app)
    async with app[keys.DB].transaction() as tx:
        await users.create(tx, "lea", PASSWORD)
    form = await client.get("/login")
    csrf_cookie = form.cookies["vigie_csrf"]
    assert csrf_cookie["secure"]
    # The test client speaks plain http, so it would not send a Secure cookie back by itself.
    response = await client.post("/login", data={
        "name": "lea", "password": PASSWORD, "csrf_token": csrf_from(await form.text())},
        cookies={"vigie_csrf": csrf_cookie.value}, allow_redirects=False)
    assert "Secure" in session_cookie(response)


async def test_login_redirects_back_only_to_this_site(forum, client):
    await forum.user("lea")
    response = await submit(client, "/login", {
        "name": "lea", "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"
    response = await submit(client, "/login", {"name": "lea", "password": PASSWORD,
                                               "next": "/b/metz"})
    assert response.headers["Location"] == "/b/metz"


async def test_forms_without_the_right_csrf_token_change_nothing(forum, client):
    await forum.user("lea")
    response = await client.post("/login", data={"name": "lea", "password": PASSWORD},
                                  allow_redirects=False)
    assert response.status == 403
    assert SESSION_COOKIE not in response.cookies
    response = await client.post("/register", data={
        "name": "mallory", "password": PASSWORD, "password_again": PASSWORD,
        "csrf_token": "forged"}, allow_redirects=False)
    assert response.status == 403
    assert await count_users(forum) == 1


async def test_profile_shows_member_and_unknown_member_is_404(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    await forum.thread(board, lea, "Caméras du centre-ville", "Relevé de **mars**.")
    page = await client.get("/u/lea")
    html = await page.text()
    assert page.status == 200 and "Caméras du centre-ville" in html
    assert (await client.get("/u/personne")).status == 404
