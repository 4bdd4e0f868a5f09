"""A member's settings: password change ends other sessions, e-mail, log out elsewhere."""
from __future__ import annotations

import pytest

from forum.auth import SESSION_COOKIE
from tests.conftest import PASSWORD, log_in, submit

pytestmark = pytest.mark.both_stores

NEW_PASSWORD = "another long passphrase"


async def is_logged_in(client, name: str) -> bool:
    return f'href="/u/{name}"' in await (await client.get("/")).text()


async def test_password_change_ends_other_sessions_and_keeps_this_one(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    phone = await forum.visitor()
    await log_in(phone, "lea")
    old = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    response = await submit(client, "/settings/password", {
        "current": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        form_page="/settings")
    assert response.status == 303
    assert await is_logged_in(client, "lea")
    assert not await is_logged_in(phone, "lea")
    replay = await forum.visitor()
    assert 'href="/u/lea"' not in await (await replay.get(
        "/", cookies={SESSION_COOKIE: old})).text()
    other = await forum.visitor()
    await log_in(other, "lea", NEW_PASSWORD)


async def test_wrong_current_password_changes_nothing(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    response = await submit(client, "/settings/password", {
        "current": "not the password", "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD}, form_page="/settings")
    assert response.status == 422
    other = await forum.visitor()
    await log_in(other, "lea", PASSWORD)


async def test_log_out_everywhere_else(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    laptop = await forum.visitor()
    await log_in(laptop, "lea")
    assert (await submit(client, "/settings/sessions", {}, form_page="/settings")).status == 303
    assert await is_logged_in(client, "lea") and not await is_logged_in(laptop, "lea")


async def test_email_is_changed_and_checked(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    bad = await submit(client, "/settings/email", {"email": "pas-une-adresse"},
                       form_page="/settings")
    assert bad.status == 422
    good = await submit(client, "/settings/email", {"email": "lea@example.org"},
                        form_page="/settings")
    assert good.status == 303
    assert 'value="lea@example.org"' in await (await client.get("/settings")).text()
    assert (await client.get("/u/lea")).status == 200
    assert "lea@example.org" not in await (await client.get("/u/lea")).text()
