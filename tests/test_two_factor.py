"""Logging in: two-factor codes (TOTP), recovery codes, the sessions list, log-in notices."""
from __future__ import annotations

import asyncio
import html
import io
import re
import time
from typing import Any

import pyotp
import pytest
from axe_playwright_python.base import AXE_SCRIPT

from forum import auth, cli, clock, keys
from forum.app import create_app
from forum.config import Config
from forum.models import sessions, two_factor, users
from forum.views.two_factor import PENDING_COOKIE
from tests.conftest import PASSWORD, Forum, csrf_from, in_store, log_in, submit
from tests.test_axe_browser import axe_report
from tests.test_browser import (
    LOG_IN,
    LOG_OUT,
    account_nav,
    expect,
    log_in_with_form,
    new_context,
)

pytestmark = pytest.mark.both_stores

KEY = re.compile(r'<code id="totp-key">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code></li>")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like"
                  " Gecko) Chrome/131.0.0.0 Safari/537.36")


async def turn_on(client) -> tuple[pyotp.TOTP, list[str]]:
    """Set up 2FA from the settings page as a member does: the key read from the page, a code
    computed from it. Returns the app's TOTP and the recovery codes shown."""
    assert (await submit(client, "/settings/two-factor/start", {},
                         form_page="/settings/two-factor")).status == 303
    page = await (await client.get("/settings/two-factor")).text()
    assert "<svg" in page and "<path" in page  # the QR code, drawn by the server
    totp = pyotp.TOTP(KEY.search(page).group(1).replace(" ", ""))
    response = await submit(client, "/settings/two-factor/enable", {"code": totp.now()},
                            form_page="/settings/two-factor")
    assert response.status == 200, await response.text()
    codes = RECOVERY.findall(await response.text())
    assert len(codes) == two_factor.RECOVERY_CODES
    return totp, codes


async def member_with_2fa(forum, name: str = "lea", **kwargs) -> tuple[users.User, pyotp.TOTP,
                                                                       list[str]]:
    user = await forum.user(name, **kwargs)
    client = await forum.visitor()
    await log_in(client, name)
    totp, codes = await turn_on(client)
    return user, totp, codes


def later_code(totp: pyotp.TOTP) -> str:
    """The code of the next time step: accepted (a step of clock drift) and not yet used."""
    return totp.at(time.time() + totp.interval)


async def password_step(client, name: str, headers: dict | None = None):
    return await submit(client, "/login", {"name": name, "password": PASSWORD}, headers=headers)


async def code_step(client, code: str):
    return await submit(client, "/login/code", {"code": code})


async def logged_in_as(client, name: str) -> bool:
    response = await client.get("/settings", allow_redirects=False)
    return response.status == 200 and f'href="/u/{name}"' in await response.text()


# Two-factor login -----------------------------------------------------------------------------

async def test_login_asks_for_the_code_after_the_password(forum):
    _lea, totp, _codes = await member_with_2fa(forum)
    client = await forum.visitor()
    response = await submit(client, "/login", {"name": "lea", "password": PASSWORD,
                                               "next": "/notifications"})
    assert response.status == 303 and response.headers["Location"] == "/login/code"
    assert not await logged_in_as(client, "lea")  # the password alone opens nothing
    response = await code_step(client, later_code(totp))
    assert response.status == 303 and response.headers["Location"] == "/notifications"
    assert await logged_in_as(client, "lea")


async def test_a_replayed_code_is_refused(forum):
    _lea, totp, _codes = await member_with_2fa(forum)
    code = later_code(totp)
    first = await forum.visitor()
    await password_step(first, "lea")
    assert (await code_step(first, code)).status == 303
    # Someone who saw the code typed tries it at once, with the password.
    second = await forum.visitor()
    await password_step(second, "lea")
    response = await code_step(second, code)
    assert response.status == 422
    assert "déjà servi" in await response.text()
    assert not await logged_in_as(second, "lea")


async def test_a_wrong_code_is_refused_then_rate_limited(forum):
    _lea, totp, _codes = await member_with_2fa(forum)
    client = await forum.visitor()
    await password_step(client, "lea")
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    for _ in range(forum.config.login_attempts):
        response = await code_step(client, wrong)
        assert response.status == 422
    assert not await logged_in_as(client, "lea")
    response = await code_step(client, later_code(totp))  # even the right code waits now
    assert response.status == 429 and "Retry-After" in response.headers
    assert not await logged_in_as(client, "lea")


async def test_recovery_codes_work_once(forum):
    _lea, _totp, codes = await member_with_2fa(forum)
    client = await forum.visitor()
    await password_step(client, "lea")
    assert (await code_step(client, codes[0].upper())).status == 303  # as typed from paper
    assert await logged_in_as(client, "lea")
    again = await forum.visitor()
    await password_step(again, "lea")
    assert (await code_step(again, codes[0])).status == 422
    assert (await code_step(again, codes[1])).status == 303
    async with forum.db.read() as conn:
        state = await two_factor.status(conn, _lea.id)
    assert state.recovery_left == two_factor.RECOVERY_CODES - 2
    async with forum.db.read() as conn:
        stored = [row[0] for row in await conn.all("select code_hash from recovery_codes")]
    assert not any(code.replace("-", "") in stored for code in codes)  # kept hashed


async def test_enabling_needs_a_right_code(forum, client):
    lea = await forum.user("lea")
    await log_in(client, "lea")
    await submit(client, "/settings/two-factor/start", {}, form_page="/settings/two-factor")
    response = await submit(client, "/settings/two-factor/enable", {"code": "000000"},
                            form_page="/settings/two-factor")
    assert response.status == 422
    async with forum.db.read() as conn:
        assert not await two_factor.is_enabled(conn, lea.id)
    visitor = await forum.visitor()
    assert (await password_step(visitor, "lea")).headers["Location"] == "/"


async def test_turning_off_needs_a_code(forum, client):
    lea = await forum.user("lea")
    await log_in(client, "lea")
    totp, _codes = await turn_on(client)
    page = "/settings/two-factor"
    for code in ("", "123", "x" * 10_000):
        response = await submit(client, "/settings/two-factor/disable", {"code": code},
                                form_page=page)
        assert response.status == 422
    async with forum.db.read() as conn:
        assert await two_factor.is_enabled(conn, lea.id)
    response = await submit(client, "/settings/two-factor/disable",
                            {"code": later_code(totp)}, form_page=page)
    assert response.status == 303
    visitor = await forum.visitor()
    assert (await password_step(visitor, "lea")).headers["Location"] == "/"


async def test_the_code_page_without_a_waiting_login_goes_back_to_the_password(forum, client):
    response = await client.get("/login/code", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login?")
    client.session.cookie_jar.update_cookies({PENDING_COOKIE: "forged"})
    response = await client.get("/login/code", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login?")


async def test_an_expired_waiting_login_is_refused(forum):
    _lea, _totp, _codes = await member_with_2fa(forum)
    client = await forum.visitor()
    await password_step(client, "lea")
    async with forum.db.transaction() as tx:
        await tx.execute("update pending_logins set expires_at = ?", (clock.now(),))
    response = await client.get("/login/code", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login?")
    assert not await logged_in_as(client, "lea")


async def test_a_new_password_ends_the_logins_waiting_for_a_code(forum):
    lea, totp, _codes = await member_with_2fa(forum)
    client = await forum.visitor()
    await password_step(client, "lea")
    async with forum.db.transaction() as tx:
        await users.set_password(tx, lea.id, "another long passphrase")
    response = await code_step(client, later_code(totp))
    assert response.status == 303 and response.headers["Location"].startswith("/login?")
    assert not await logged_in_as(client, "lea")


@pytest.fixture
async def strict_forum(tmp_path, aiohttp_client, database_url):
    """A site where moderators must use two-factor login."""
    config = Config.from_env(env={}, data_dir=tmp_path / "strict", require_2fa_for="moderators",
                             database_url=database_url)
    app = create_app(config)
    helper = Forum(app, await aiohttp_client(app))
    yield helper
    await helper.close()


async def test_a_moderator_without_2fa_can_only_set_it_up(strict_forum):
    forum, client = strict_forum, strict_forum.client
    board = await forum.board("Metz")
    moderator = await forum.user("mod", role="moderator")
    thread_id, _ = await forum.thread(board, await forum.user("lea"))
    token = await forum.token(moderator)
    await log_in(client, "mod")
    for path in ("/", f"/t/{thread_id}", "/moderation", "/settings"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"] == "/settings/two-factor"
    page = await (await client.get("/settings/two-factor")).text()
    stylesheet = re.search(r'href="(/static/css/[^"?]+)', page).group(1)
    assert (await client.get(stylesheet)).status == 200  # the setup page keeps its looks
    response = await client.post(f"/t/{thread_id}/reply",
                                 data={"csrf_token": csrf_from(page), "body": "Bonjour"},
                                 allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/api/v1/notifications")).status == 403
    # API tokens are not affected.
    api = await forum.visitor()
    response = await api.get("/api/v1/notifications",
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    # A member keeps going as before; once set up, the moderator too.
    other = await forum.visitor()
    await log_in(other, "lea")
    assert (await other.get("/", allow_redirects=False)).status == 200
    totp, _codes = await turn_on(client)
    assert (await client.get(f"/t/{thread_id}", allow_redirects=False)).status == 200
    # Required: it cannot be turned off.
    response = await submit(client, "/settings/two-factor/disable",
                            {"code": later_code(totp)}, form_page="/settings/two-factor")
    assert response.status == 422


def test_the_required_roles_setting_is_checked_at_start():
    with pytest.raises(ValueError, match="FORUM_REQUIRE_2FA_FOR"):
        Config.from_env(env={"FORUM_REQUIRE_2FA_FOR": "moderator"})
    assert Config.from_env(env={"FORUM_REQUIRE_2FA_FOR": "admins"}).require_2fa_for == "admins"


def test_which_roles_must_use_2fa():
    member = users.User(1, "lea", "member")
    board_moderator = users.User(2, "marc", "member", moderated_boards=frozenset({3}))
    moderator = users.User(3, "mod", "moderator")
    admin = users.User(4, "adm", "admin")
    everyone = (member, board_moderator, moderator, admin)
    for setting, forced in (("", ()), ("moderators", (board_moderator, moderator, admin)),
                            ("admins", (admin,))):
        config = Config.from_env(env={}, require_2fa_for=setting)
        assert [auth.requires_two_factor(config, user) for user in everyone] == [
            user in forced for user in everyone], setting


def test_an_admin_can_turn_off_a_members_2fa_from_the_command_line(tmp_path, monkeypatch,
                                                                    capsys, database_url):
    """For a member who lost both their phone and their recovery codes."""
    data = tmp_path / "data"
    monkeypatch.setenv("FORUM_DATABASE_URL", database_url)  # empty: the data folder's SQLite
    config = Config.from_env(env={}, data_dir=data, database_url=database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["--data-dir", str(data), "user", "add", "lea", "--password-stdin"]) == 0

    async def turn_on(tx) -> None:
        await tx.execute("insert into two_factor (user_id, secret, created_at, enabled_at)"
                         " select id, ?, 'x', 'x' from users", (pyotp.random_base32(),))
        await tx.execute("insert into recovery_codes (user_id, code_hash)"
                         " select id, 'h' from users")

    async def counts(tx) -> tuple[int, int]:
        return (await tx.value("select count(*) from two_factor"),
                await tx.value("select count(*) from recovery_codes"))

    asyncio.run(in_store(config, turn_on))
    assert cli.main(["--data-dir", str(data), "user", "2fa-off", "lea"]) == 0
    assert "turned off" in capsys.readouterr().out
    assert asyncio.run(in_store(config, counts)) == (0, 0)
    assert cli.main(["--data-dir", str(data), "user", "2fa-off", "nobody"]) == 1


# Sessions ---------------------------------------------------------------------------------------

def test_device_summary_keeps_the_family_not_the_agent():
    assert auth.device_summary(FIREFOX_LINUX) == ("Firefox", "Linux")
    assert auth.device_summary(CHROME_WINDOWS) == ("Chrome", "Windows")
    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
              " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
    assert auth.device_summary(iphone) == ("Safari", "iOS")
    edge = CHROME_WINDOWS + " Edg/131.0.0.0"
    assert auth.device_summary(edge) == ("Edge", "Windows")
    assert auth.device_summary("") == ("", "")
    assert auth.device_summary("x" * 100_000 + " Firefox/1") == ("", "")  # bounded work


async def test_sessions_are_listed_and_one_can_be_ended(forum):
    await forum.user("lea")
    laptop, phone = await forum.visitor(), await forum.visitor()
    await submit(laptop, "/login", {"name": "lea", "password": PASSWORD},
                 headers={"User-Agent": FIREFOX_LINUX})
    await submit(phone, "/login", {"name": "lea", "password": PASSWORD},
                 headers={"User-Agent": CHROME_WINDOWS + " secret-marker"})
    page = await (await laptop.get("/settings")).text()
    assert "Firefox, Linux" in page and "Chrome, Windows" in page
    assert clock.now()[:10] in page  # the day each was last used
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)
    this = [row for row in rows if "Firefox, Linux" in row]
    assert len(this) == 1 and "cet appareil" in this[0]
    other = next(row for row in rows if "Chrome, Windows" in row)
    assert "cet appareil" not in other
    async with forum.db.read() as conn:
        stored = [tuple(row) for row in await conn.all("select * from sessions")]
    assert "secret-marker" not in repr(stored) and "Gecko" not in repr(stored)

    end = html.unescape(re.search(r'action="([^"]+/end)"', other).group(1))
    response = await laptop.post(end, data={"csrf_token": csrf_from(page)},
                                 allow_redirects=False)
    assert response.status == 303
    assert not await logged_in_as(phone, "lea")  # its cookie is anonymous now
    assert await logged_in_as(laptop, "lea")
    page = await (await laptop.get("/settings")).text()
    assert "Chrome, Windows" not in page


async def test_another_members_session_cannot_be_ended(forum):
    await forum.user("lea")
    await forum.user("marc")
    lea, marc = await forum.visitor(), await forum.visitor()
    await log_in(lea, "lea")
    await log_in(marc, "marc")
    marc_page = await (await marc.get("/settings")).text()
    handle = re.search(r'/settings/sessions/([0-9a-f]+)/end', marc_page).group(1)
    page = await (await lea.get("/settings")).text()
    response = await lea.post(f"/settings/sessions/{handle}/end",
                              data={"csrf_token": csrf_from(page)}, allow_redirects=False)
    assert response.status == 404
    assert await logged_in_as(marc, "marc")


async def test_ending_this_session_logs_out_here(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    page = await (await client.get("/settings")).text()
    row = next(r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if "cet appareil" in r)
    end = re.search(r'action="([^"]+/end)"', row).group(1)
    response = await client.post(end, data={"csrf_token": csrf_from(page)},
                                 allow_redirects=False)
    assert response.status == 303
    assert not await logged_in_as(client, "lea")


async def test_last_used_day_is_written_at_most_once_a_day(forum, client, monkeypatch):
    await forum.user("lea")
    await log_in(client, "lea")
    writes: list[str] = []
    original = sessions.mark_session_used

    async def counted(tx, digest, day):
        writes.append(day)
        await original(tx, digest, day)

    monkeypatch.setattr(sessions, "mark_session_used", counted)
    for _ in range(3):
        assert (await client.get("/")).status == 200
    assert writes == []  # logged in today: no write on reads
    async with forum.db.transaction() as tx:
        await tx.execute("update sessions set last_used_on = '2020-01-01'")
    for _ in range(3):
        assert (await client.get("/")).status == 200
    assert writes == [clock.now()[:10]]


# Log-in notices ---------------------------------------------------------------------------------

async def test_a_login_notice_lands_in_the_outbox(forum, client):
    await forum.user("lea", email="lea@example.org")
    await log_in(client, "lea")
    await submit(client, "/settings/login-notices", {"login_notices": "1"},
                 form_page="/settings")
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from outbox") == 0  # that login came before
    other = await forum.visitor()
    await submit(other, "/login", {"name": "lea", "password": PASSWORD},
                 headers={"User-Agent": FIREFOX_LINUX})
    async with forum.db.read() as conn:
        rows = await conn.all("select to_address, subject, text_body, html_body from outbox")
    assert len(rows) == 1
    to, _subject, text, html_body = rows[0]
    assert to == "lea@example.org"
    for body in (text, html_body):
        assert "Firefox" in body and "Linux" in body and clock.now()[:10] in body
        # No address (the site's own links aside: the test server is on 127.0.0.1), no agent.
        assert "127.0.0.1" not in body.replace(forum.config.base_url, "")
        assert "Gecko" not in body


async def test_no_login_notice_unless_asked(forum, client):
    await forum.user("lea", email="lea@example.org")
    await log_in(client, "lea")
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from outbox") == 0


async def test_a_login_notice_reaches_the_smtp_server(tmp_path, aiohttp_client, database_url):
    from tests.test_mail import Mailbox, parts, wait_for_mail

    mailbox = Mailbox()
    mailbox.start()
    try:
        config = Config.from_env(env={}, data_dir=tmp_path / "data", database_url=database_url,
                                 smtp_host="127.0.0.1",
                                 smtp_port=mailbox.port, smtp_starttls=False,
                                 mail_interval_seconds=0.2)
        app = create_app(config)
        client = await aiohttp_client(app)
        async with app[keys.DB].transaction() as tx:
            lea = await users.create(tx, "lea", PASSWORD, email="lea@example.org")
            await users.set_login_notices(tx, lea.id, True)
        await submit(client, "/login", {"name": "lea", "password": PASSWORD},
                     headers={"User-Agent": CHROME_WINDOWS})
        message = await wait_for_mail(app, mailbox)
        text, _html = parts(message)
        assert message["To"] == "lea@example.org"
        assert "Chrome" in text and "Windows" in text
    finally:
        mailbox.stop()


# In a browser, without JavaScript -------------------------------------------------------------

SET_UP = re.compile("^(Set up two-factor login|Activer la double authentification)$")
TURN_ON = re.compile("^(Turn on two-factor login|Confirmer la double authentification)$")
APP_CODE = re.compile("^(Code from your app|Code de votre application)$")
LOGIN_CODE = re.compile("^(Code from your app, or a recovery code|"
                        "Code de votre application, ou code de secours)$")


async def turn_on_in_page(page: Any, check: Any = None) -> pyotp.TOTP:
    """From the set-up page: the key read from the page, the code computed from it, the
    recovery codes shown; `check(step, path)` is awaited on the two pages it goes through."""
    await page.get_by_role("button", name=SET_UP).click()
    await expect(page.locator("figure svg")).to_be_visible()  # the QR code, drawn inline
    if check:
        await check("two-factor, setting up", "/settings/two-factor")
    totp = pyotp.TOTP((await page.locator("#totp-key").inner_text()).replace(" ", ""))
    await page.get_by_label(APP_CODE).fill(totp.now())
    await page.get_by_role("button", name=TURN_ON).click()
    await expect(page.locator(".recovery-codes li")).to_have_count(two_factor.RECOVERY_CODES)
    if check:
        await check("recovery codes", "/settings/two-factor/enable")
    return totp


@pytest.mark.browser
async def test_browser_turns_on_2fa_then_logs_in_with_a_code(browser, site, forum):
    """Without JavaScript: the key read from the page, the code computed from it."""
    await forum.user("lea")
    context = await new_context(browser, site, javascript=False)
    page = await context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda message: csp_errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    await log_in_with_form(page, "lea")
    await page.goto("/settings")
    await page.get_by_role("link", name=SET_UP).click()
    totp = await turn_on_in_page(page)
    assert csp_errors == []
    await account_nav(page).get_by_role("button", name=LOG_OUT).click()
    await log_in_with_form(page, "lea", code_next=True)
    await expect(account_nav(page).get_by_role("link", name="lea", exact=True)).to_have_count(0)
    await page.get_by_label(LOGIN_CODE).fill(later_code(totp))
    await page.get_by_role("button", name=LOG_IN).click()
    await expect(account_nav(page).get_by_role("link", name="lea", exact=True)).to_be_visible()
    await context.close()



@pytest.mark.browser
async def test_two_factor_pages_pass_axe(browser, site, forum):
    """The setup page (QR code, key), the recovery codes and the code step: no serious or
    critical accessibility violation, as for every other page (tests/test_axe_browser.py)."""
    await forum.user("lea")
    context = await new_context(browser, site)
    await context.add_init_script(AXE_SCRIPT)
    page = await context.new_page()
    await log_in_with_form(page, "lea")
    await page.goto("/settings/two-factor")
    found = await axe_report(page, "two-factor, off", "/settings/two-factor")

    async def audit(step: str, path: str) -> None:
        found.extend(await axe_report(page, step, path))

    await turn_on_in_page(page, audit)
    await page.goto("/settings/two-factor")
    found += await axe_report(page, "two-factor, on", "/settings/two-factor")
    await account_nav(page).get_by_role("button", name=LOG_OUT).click()
    await log_in_with_form(page, "lea", code_next=True)
    found += await axe_report(page, "login code", "/login/code")
    await context.close()
    assert not found, "axe found serious or critical violations:\n" + "\n".join(found)
