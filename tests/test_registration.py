"""Registration modes (open, by invitation, closed), invitation links, the admins' question."""
from __future__ import annotations

import asyncio
import re

import pytest

from forum import cli, clock
from forum.config import Config
from forum.models import invitations
from tests.conftest import PASSWORD, in_store, log_in, submit

pytestmark = pytest.mark.both_stores

LINK = re.compile(r'<code id="invitation-link">[^<]*\?invitation=([A-Za-z0-9_-]+)</code>')
QUESTION = "Quelle ville surveillez-vous ?"
EN = {"Accept-Language": "en"}  # texts asserted in English: the French catalog comes at merge


async def set_mode(forum, mode: str, question: str = "") -> None:
    async with forum.db.transaction() as tx:
        await invitations.set_registration(tx, mode, question)


async def sign_up(client, name: str, invitation: str = "", **extra) -> object:
    """POST the sign-up form (with a token from the login page: a closed site shows no form,
    and a crafted request must be refused all the same)."""
    data = {"name": name, "password": PASSWORD, "password_again": PASSWORD,
            "invitation": invitation, **extra}
    return await submit(client, "/register", data, form_page="/login")


async def invitation_link(client) -> str:
    response = await submit(client, "/invitations", {})
    assert response.status == 200, await response.text()
    match = LINK.search(await response.text())
    assert match, "no invitation link shown"
    return match.group(1)


async def inviter(forum, name: str = "ines", approved: int | None = None):
    """A member with enough approved posts to invite, logged in on a new client."""
    member = await forum.user(name)
    async with forum.db.transaction() as tx:
        await tx.execute("update users set approved_count = ? where id = ?",
                         (forum.config.invitation_min_posts if approved is None else approved,
                          member.id))
    client = await forum.visitor()
    await log_in(client, name)
    return member, client


async def account_exists(forum, name: str) -> bool:
    async with forum.db.read() as conn:
        return bool(await conn.value("select 1 from users where name = ?", (name,)))


# Open (the default) ---------------------------------------------------------------------------

async def test_open_registration_works_without_a_link(forum, client):
    response = await sign_up(client, "nouvelle")
    assert response.status == 303
    assert await account_exists(forum, "nouvelle")


# By invitation --------------------------------------------------------------------------------

async def test_invitation_mode_refuses_a_sign_up_without_a_link(forum, client):
    await set_mode(forum, "invitation")
    page = await (await client.get("/register", headers=EN)).text()
    assert "Registration is by invitation only" in page
    assert 'name="password"' not in page  # no form to fill in for nothing
    response = await sign_up(client, "intrus")
    assert response.status == 403
    assert not await account_exists(forum, "intrus")


async def test_an_invitation_link_works_once(forum, client):
    await set_mode(forum, "invitation")
    member, member_client = await inviter(forum)
    token = await invitation_link(member_client)
    page = await (await client.get(f"/register?invitation={token}")).text()
    assert 'name="password"' in page
    assert (await sign_up(client, "invitee", token)).status == 303
    assert await account_exists(forum, "invitee")

    other = await forum.visitor()
    response = await sign_up(other, "second", token)
    assert response.status == 422
    assert not await account_exists(forum, "second")
    async with forum.db.read() as conn:
        row = await conn.one("select invited_by from users where name = 'invitee'")
    assert row[0] == member.id


async def test_an_expired_invitation_is_refused(forum, client):
    await set_mode(forum, "invitation")
    _member, member_client = await inviter(forum)
    token = await invitation_link(member_client)
    async with forum.db.transaction() as tx:
        await tx.execute("update invitations set expires_at = ?", (clock.later(seconds=-1),))
    response = await sign_up(client, "tardive", token)
    assert response.status == 422
    assert not await account_exists(forum, "tardive")


async def test_a_forged_token_is_refused(forum, client):
    await set_mode(forum, "invitation")
    response = await sign_up(client, "faussaire", "x" * 32)
    assert response.status == 422
    assert not await account_exists(forum, "faussaire")


async def test_a_member_without_enough_approved_posts_cannot_invite(forum):
    _member, member_client = await inviter(forum, "novice",
                                           approved=forum.config.invitation_min_posts - 1)
    page = await (await member_client.get("/invitations", headers=EN)).text()
    assert "Create an invitation link" not in page and "You may invite once" in page
    response = await submit(member_client, "/invitations", {})
    assert response.status == 403
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from invitations") == 0


async def test_a_moderator_may_invite_without_approved_posts(forum):
    await forum.user("modo", role="moderator")
    client = await forum.visitor()
    await log_in(client, "modo")
    assert await invitation_link(client)


async def test_a_visitor_cannot_invite(forum, client):
    response = await client.get("/invitations", allow_redirects=False)
    assert response.status == 303 and "/login" in response.headers["Location"]


async def test_invitations_per_member_are_limited(forum):
    _member, member_client = await inviter(forum)
    for _ in range(forum.config.invitations_per_member):
        await invitation_link(member_client)
    response = await submit(member_client, "/invitations", {})
    assert response.status == 403
    async with forum.db.read() as conn:
        count = await conn.value("select count(*) from invitations")
    assert count == forum.config.invitations_per_member


async def test_a_withdrawn_link_no_longer_works(forum, client):
    await set_mode(forum, "invitation")
    _member, member_client = await inviter(forum)
    token = await invitation_link(member_client)
    async with forum.db.read() as conn:
        invitation_id = await conn.value("select id from invitations")
    response = await submit(member_client, f"/invitations/{invitation_id}/withdraw", {},
                            form_page="/invitations")
    assert response.status == 303
    assert (await sign_up(client, "retiree", token)).status == 422


async def test_only_moderators_see_who_invited_whom(forum, client):
    await set_mode(forum, "invitation")
    _member, member_client = await inviter(forum, "ines")
    token = await invitation_link(member_client)
    assert (await sign_up(client, "invitee", token)).status == 303

    await forum.user("modo", role="moderator")
    moderator = await forum.visitor()
    await log_in(moderator, "modo")
    page = await (await moderator.get("/moderation/accounts")).text()
    assert "invitee" in page and "ines" in page
    # Neither the member who invited, nor the public journal, nor a visitor.
    assert (await member_client.get("/moderation/accounts")).status == 404
    assert (await (await forum.visitor()).get("/moderation/accounts",
                                               allow_redirects=False)).status in (303, 404)
    journal = await (await member_client.get("/moderation/journal")).text()
    assert "invitee" not in journal


# Closed ---------------------------------------------------------------------------------------

async def test_closed_mode_says_so_and_creates_nothing(forum, client):
    await set_mode(forum, "closed")
    page = await (await client.get("/register", headers=EN)).text()
    assert "Registration is closed" in page
    assert 'name="password"' not in page
    response = await sign_up(client, "fermee")
    assert response.status == 403
    assert not await account_exists(forum, "fermee")
    # An invitation does not open a closed site either.
    _member, member_client = await inviter(forum)
    token = await invitation_link(member_client)
    assert (await sign_up(client, "fermee", token)).status == 403
    assert not await account_exists(forum, "fermee")


async def test_the_config_default_holds_until_an_admin_changes_it(tmp_path, aiohttp_client,
                                                                  database_url):
    from forum.app import create_app
    from forum.config import Config

    app = create_app(Config.from_env(env={"FORUM_REGISTRATION_MODE": "closed"},
                                     data_dir=tmp_path / "data", database_url=database_url))
    client = await aiohttp_client(app)
    assert "Registration is closed" in await (await client.get("/register", headers=EN)).text()


# The admins' question -------------------------------------------------------------------------

async def test_the_question_is_asked_and_shown_to_moderators(forum, client):
    await set_mode(forum, "open", QUESTION)
    page = await (await client.get("/register")).text()
    assert QUESTION in page
    response = await sign_up(client, "metzienne")  # no answer
    assert response.status == 422
    assert not await account_exists(forum, "metzienne")
    assert (await sign_up(client, "metzienne", answer="Metz, depuis 2019")).status == 303

    await forum.user("modo", role="moderator")
    moderator = await forum.visitor()
    await log_in(moderator, "modo")
    assert "Metz, depuis 2019" in await (await moderator.get("/moderation/accounts")).text()
    assert "Metz, depuis 2019" in await (await moderator.get("/u/metzienne")).text()
    # Nobody else: not a visitor, not another member.
    visitor = await forum.visitor()
    assert "Metz, depuis 2019" not in await (await visitor.get("/u/metzienne")).text()
    await forum.user("autre")
    member = await forum.visitor()
    await log_in(member, "autre")
    assert "Metz, depuis 2019" not in await (await member.get("/u/metzienne")).text()


# Admin page and command line ------------------------------------------------------------------

async def test_an_admin_sets_the_mode_and_question_on_the_admin_page(forum, client):
    await forum.user("admin", role="admin")
    await log_in(client, "admin")
    response = await submit(client, "/admin/registration",
                            {"mode": "invitation", "question": QUESTION})
    assert response.status == 303
    async with forum.db.read() as conn:
        rules = await invitations.registration(conn, forum.config)
    assert rules == invitations.Registration("invitation", QUESTION)
    response = await submit(client, "/admin/registration", {"mode": "wide-open", "question": ""})
    assert response.status == 422
    async with forum.db.read() as conn:
        assert (await invitations.registration(conn, forum.config)).mode == "invitation"


async def test_the_admin_page_is_for_admins_only(forum, client):
    await forum.user("modo", role="moderator")
    await log_in(client, "modo")
    assert (await client.get("/admin/registration")).status == 404


def test_the_command_line_sets_the_mode(tmp_path, capsys, monkeypatch, database_url):
    data = tmp_path / "data"
    monkeypatch.setenv("FORUM_DATABASE_URL", database_url)  # empty: the data folder's SQLite
    assert cli.main(["--data-dir", str(data), "registration", "closed",
                     "--question", QUESTION]) == 0
    assert cli.main(["--data-dir", str(data), "registration"]) == 0
    out = capsys.readouterr().out
    assert "Registration: closed. Question: " + QUESTION in out

    async def settings(tx) -> dict[str, str]:
        return dict(tuple(row) for row in await tx.all("select name, value from site_settings"))

    config = Config.from_env(env={}, data_dir=data, database_url=database_url)
    rows = asyncio.run(in_store(config, settings))
    assert rows == {"registration_mode": "closed", "registration_question": QUESTION}
