"""Mail through a real SMTP server on loopback: reset links, languages, unsubscribe, outbox."""
from __future__ import annotations

import asyncio
import re
import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from forum import clock, keys, mail
from forum.app import create_app
from forum.config import Config
from forum.models import notifications, outbox, users
from tests.conftest import PASSWORD, log_in, submit

BASE_URL = "http://vigie.example"  # not the test server's address: links must use it anyway
NEW_PASSWORD = "a brand new passphrase"
RESET_LINK = re.compile(re.escape(BASE_URL) + r"/password/reset/[A-Za-z0-9_-]+")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """A real aiosmtpd server on 127.0.0.1 that keeps what it receives; it can stall or stop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.accepting = True  # False: DATA waits, like a slow server
        self.refusing: dict[str, str] = {}  # address -> the answer to its RCPT
        self.controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refusing:
            return self.refusing[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        while not self.accepting:
            await asyncio.sleep(0.01)
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.accepting = True
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mailbox():
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def config(tmp_path, mailbox) -> Config:
    return Config.from_env(
        env={}, data_dir=tmp_path / "data", base_url=BASE_URL, smtp_host="127.0.0.1",
        smtp_port=mailbox.port, smtp_starttls=False, mail_interval_seconds=0.2,
        mail_retry_seconds=0.05)


async def wait_for_mail(app, mailbox: Mailbox, count: int = 1,
                        timeout: float = 5.0) -> EmailMessage:
    """Poke the sender until `count` mails arrived; the last one."""
    deadline = time.monotonic() + timeout
    while len(mailbox.messages) < count:
        assert time.monotonic() < deadline, f"{len(mailbox.messages)} mail(s), not {count}"
        mail.wake(app)
        await asyncio.sleep(0.02)
    return mailbox.messages[-1]


async def wait_until_sent(app, count: int = 1, timeout: float = 5.0) -> None:
    """The server has the mail; give the sender the moment it needs to record it."""
    deadline = time.monotonic() + timeout
    while True:
        async with app[keys.DB].read() as conn:
            sent = await conn.value("select count(*) from outbox where sent_at is not null")
        if sent >= count:
            return
        assert time.monotonic() < deadline, "the mail was not marked sent"
        await asyncio.sleep(0.02)


async def settle(app) -> None:
    """Let the sender run a round, so that a test can say no mail was sent."""
    await mail.run_once(app)
    await asyncio.sleep(0.05)


def parts(message: EmailMessage) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


async def ask_reset(client, identifier: str, **kwargs):
    return await submit(client, "/password/forgot", {"identifier": identifier}, **kwargs)


async def lea_reset_path(forum, client, mailbox) -> str:
    """Lea, with an address, asks for a reset: the path of the link her mail holds."""
    await forum.user("lea", email="lea@example.org")
    assert (await ask_reset(client, "lea")).status == 303
    text, _html = parts(await wait_for_mail(forum.app, mailbox))
    return RESET_LINK.search(text).group(0).removeprefix(BASE_URL)


async def is_logged_in(client, name: str) -> bool:
    return f'href="/u/{name}"' in await (await client.get("/")).text()


# Password reset -------------------------------------------------------------------------------

async def test_reset_link_uses_the_configured_address_whatever_the_host(forum, client,
                                                                        mailbox):
    await forum.user("lea", email="lea@example.org")
    response = await ask_reset(client, "lea", headers={"Host": "attacker.example"})
    assert response.status == 303
    message = await wait_for_mail(forum.app, mailbox)
    assert mailbox.recipients == [["lea@example.org"]]
    text, html = parts(message)
    assert RESET_LINK.search(text) and RESET_LINK.search(html)
    assert "attacker.example" not in message.as_string()
    assert message["From"] == "Vigie <noreply@vigie.example>"
    assert message["List-Unsubscribe"] is None  # a reset is not a notification


async def test_reset_link_works_once_and_ends_every_other_session(forum, client, mailbox):
    path = await lea_reset_path(forum, client, mailbox)
    phone = await forum.visitor()
    await log_in(phone, "lea")
    page = await client.get(path)
    assert page.status == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    response = await submit(client, path, {"password": NEW_PASSWORD,
                                           "password_again": NEW_PASSWORD})
    assert response.status == 303
    assert response.headers["Location"] == "/settings?saved=password"
    assert await is_logged_in(client, "lea")  # a fresh session here
    assert not await is_logged_in(phone, "lea")  # and none anywhere else
    assert (await client.get(path)).status == 404
    again = await forum.visitor()
    second = await submit(again, path, {"password": "yet another passphrase",
                                        "password_again": "yet another passphrase"},
                          form_page="/password/forgot")
    assert second.status == 404
    await log_in(await forum.visitor(), "lea", NEW_PASSWORD)


async def test_expired_reset_link_is_refused(forum, client, mailbox):
    path = await lea_reset_path(forum, client, mailbox)
    async with forum.db.transaction() as tx:
        await tx.execute("update password_resets set expires_at = ?",
                         (clock.later(minutes=-1),))
    assert (await client.get(path)).status == 404
    response = await submit(client, path, {"password": NEW_PASSWORD,
                                           "password_again": NEW_PASSWORD},
                            form_page="/password/forgot")
    assert response.status == 404
    await log_in(await forum.visitor(), "lea", PASSWORD)


async def test_reset_checks_the_new_password(forum, client, mailbox):
    path = await lea_reset_path(forum, client, mailbox)
    differ = await submit(client, path, {"password": NEW_PASSWORD, "password_again": "other"})
    assert differ.status == 422
    short = await submit(client, path, {"password": "short", "password_again": "short"})
    assert short.status == 422
    assert (await client.get(path)).status == 200  # not spent by a refused form


async def test_forgot_answers_the_same_whether_or_not_an_account_matches(forum, client,
                                                                         mailbox):
    await forum.user("lea", email="lea@example.org")
    await forum.user("sans-adresse")
    answers = set()
    for identifier in ("lea", "personne", "LEA@example.org", "nobody@example.org",
                       "sans-adresse"):
        response = await ask_reset(client, identifier)
        page = await client.get(response.headers["Location"])
        answers.add((response.status, response.headers["Location"], page.status,
                     await page.text()))
    assert len(answers) == 1
    await wait_for_mail(forum.app, mailbox, count=2)  # by pseudonym and by address (any case)
    await settle(forum.app)
    assert mailbox.recipients == [["lea@example.org"]] * 2


async def test_reset_requests_are_rate_limited_alike(forum, client, config):
    await forum.user("lea", email="lea@example.org")
    for identifier in ("lea", "personne"):
        statuses = [(await ask_reset(client, identifier)).status
                    for _ in range(config.resets_per_hour + 1)]
        assert statuses == [303] * config.resets_per_hour + [429]


async def test_login_page_links_to_the_reset(client):
    assert 'href="/password/forgot"' in await (await client.get("/login")).text()


# Languages, parts, headers ------------------------------------------------------------------

async def approved_notice(forum, member: users.User) -> int:
    board = await forum.board()
    _thread, post_id = await forum.thread(board, member, title="Caméras place du marché")
    async with forum.db.transaction() as tx:
        await notifications.add(tx, member.id, "approved", post_id=post_id)
    return post_id


@pytest.mark.parametrize(("locale", "sentence"), [
    ("fr", "Votre message dans «\u00a0Caméras place du marché\u00a0» a été approuvé."),
    ("en", "Your message in “Caméras place du marché” was approved."),
])
async def test_notification_mail_in_the_member_language(forum, mailbox, locale, sentence):
    member = await forum.user("lea", email="lea@example.org")
    async with forum.db.transaction() as tx:
        await users.set_locale(tx, member.id, locale)
    post_id = await approved_notice(forum, member)
    message = await wait_for_mail(forum.app, mailbox)
    text, html = parts(message)
    assert sentence in text and sentence in html
    assert f"{BASE_URL}/p/{post_id}" in text and f'href="{BASE_URL}/p/{post_id}"' in html
    assert f'<html lang="{locale}">' in html
    assert message["Content-Language"] == locale
    assert sentence.replace("\u00a0", " ") in message["Subject"]


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_reset_mail_in_the_member_language(forum, client, mailbox, locale):
    member = await forum.user("lea", email="lea@example.org")
    async with forum.db.transaction() as tx:
        await users.set_locale(tx, member.id, locale)
    await ask_reset(client, "lea")
    message = await wait_for_mail(forum.app, mailbox)
    assert message["Content-Language"] == locale
    assert f'<html lang="{locale}">' in parts(message)[1]


async def test_notification_mail_has_one_click_unsubscribe_headers(forum, mailbox):
    member = await forum.user("lea", email="lea@example.org")
    await approved_notice(forum, member)
    message = await wait_for_mail(forum.app, mailbox)
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith(f"{BASE_URL}/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(message)
    assert url in text and f'href="{url}"' in html


async def test_names_and_titles_carry_no_link_nor_header_into_a_mail(forum, mailbox):
    member = await forum.user("lea", email="lea@example.org")
    async with forum.db.transaction() as tx:
        await mail.notify_by_mail(tx, forum.app, member.id, "mention", {
            "actor": "www.evil.example", "title": "Go https://phish.example/login\r\nBcc: x@y.z",
            "text": "<b>bold</b>"})
    message = await wait_for_mail(forum.app, mailbox)
    text, html = parts(message)
    for body in (text, html, message["Subject"]):
        assert "evil.example" not in body and "phish.example" not in body
    assert "www[.]evil[.]example" in text and "https[:]//phish[.]example/login" in text
    assert message["Bcc"] is None and mailbox.recipients == [["lea@example.org"]]
    assert "<b>" not in html


# Unsubscribe ---------------------------------------------------------------------------------

async def choice_of(forum, user_id: int) -> str:
    async with forum.db.read() as conn:
        return await users.email_notifications(conn, user_id)


async def test_one_click_unsubscribe_needs_no_cookie_and_get_changes_nothing(forum, mailbox):
    member = await forum.user("lea", email="lea@example.org")
    await approved_notice(forum, member)
    url = (await wait_for_mail(forum.app, mailbox))["List-Unsubscribe"].strip("<>")
    path = url.removeprefix(BASE_URL)
    stranger = await forum.visitor()
    page = await stranger.get(path)
    assert page.status == 200 and f'action="{path}"' in await page.text()
    assert await choice_of(forum, member.id) == "immediate"
    response = await stranger.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status == 200
    assert not stranger.session.cookie_jar.filter_cookies(stranger.make_url("/"))
    assert await choice_of(forum, member.id) == "never"


async def test_forged_unsubscribe_link_is_404(forum, client):
    lea = await forum.user("lea", email="lea@example.org")
    other = await forum.user("marc", email="marc@example.org")
    secret = forum.app[keys.MAIL].secret
    genuine = mail.unsubscribe_url(forum.config, secret, other.id).rsplit("/", 1)[1]
    forged = [f"{lea.id}.{genuine.split('.')[1]}", f"{lea.id}.AAAA", "x.y", f"{lea.id}",
              mail.unsubscribe_url(forum.config, "not the secret", lea.id).rsplit("/", 1)[1]]
    for token in forged:
        assert (await client.get(f"/unsubscribe/{token}")).status == 404
        assert (await client.post(f"/unsubscribe/{token}")).status == 404
    assert await choice_of(forum, lea.id) == "immediate"


async def test_only_unsubscribe_is_spared_the_csrf_token(forum, client):
    await forum.user("lea", email="lea@example.org")
    assert (await client.post("/password/forgot", data={"identifier": "lea"})).status == 403


async def test_settings_choose_how_notifications_are_mailed(forum, client):
    member = await forum.user("lea", email="lea@example.org")
    await log_in(client, "lea")
    response = await submit(client, "/settings/notifications",
                            {"email_notifications": "digest"}, form_page="/settings")
    assert response.status == 303
    assert await choice_of(forum, member.id) == "digest"
    assert 'value="digest" required checked' in await (await client.get("/settings")).text()
    wrong = await submit(client, "/settings/notifications",
                         {"email_notifications": "hourly"}, form_page="/settings")
    assert wrong.status == 422
    assert await choice_of(forum, member.id) == "digest"


# The outbox: never blocking, never lost -----------------------------------------------------

async def outbox_rows(app) -> list:
    async with app[keys.DB].read() as conn:
        return await conn.all("select * from outbox order by id")


async def test_sending_never_blocks_the_request(forum, client, mailbox):
    await forum.user("lea", email="lea@example.org")
    mailbox.accepting = False  # the SMTP server takes the mail but does not answer yet
    started = time.monotonic()
    response = await ask_reset(client, "lea")
    assert response.status == 303 and time.monotonic() - started < 2
    await asyncio.sleep(0.3)
    assert mailbox.messages == []
    mailbox.accepting = True
    await wait_for_mail(forum.app, mailbox)
    await wait_until_sent(forum.app)


async def test_mail_waits_while_smtp_is_down_and_survives_a_restart(
        forum, client, mailbox, aiohttp_client, config):
    await forum.user("lea", email="lea@example.org")
    mailbox.stop()
    assert (await ask_reset(client, "lea")).status == 303
    deadline = time.monotonic() + 5
    while not (rows := await outbox_rows(forum.app)) or rows[0]["attempts"] < 2:
        assert time.monotonic() < deadline, "the sender did not retry"
        await asyncio.sleep(0.02)
    row = rows[0]
    assert row["sent_at"] is None and row["given_up_at"] is None and row["last_error"]
    assert row["next_attempt_at"] > row["created_at"]  # backing off
    await client.close()  # the server stops with the mail still queued
    mailbox.start()
    restarted = create_app(config)
    await aiohttp_client(restarted)
    await wait_for_mail(restarted, mailbox)
    await wait_until_sent(restarted)
    assert len(await outbox_rows(restarted)) == 1 and len(mailbox.messages) == 1
    assert RESET_LINK.search(parts(mailbox.messages[0])[0])


async def test_without_smtp_host_mail_stays_queued(tmp_path, aiohttp_client):
    app = create_app(Config.from_env(env={}, data_dir=tmp_path / "off", base_url=BASE_URL))
    client = await aiohttp_client(app)
    async with app[keys.DB].transaction() as tx:
        await users.create(tx, "lea", PASSWORD, email="lea@example.org")
    assert (await ask_reset(client, "lea")).status == 303
    assert await mail.send_due(app) == 0
    await settle(app)
    rows = await outbox_rows(app)
    assert len(rows) == 1 and rows[0]["sent_at"] is None and rows[0]["attempts"] == 0


async def test_a_mail_that_keeps_failing_is_given_up_but_kept(forum):
    async with forum.db.transaction() as tx:
        mail_id = await outbox.enqueue(tx, "lea@example.org", "Objet", "texte", "")
        for _ in range(outbox.MAX_ATTEMPTS):
            await outbox.mark_failed(tx, mail_id, "421 try later", base_seconds=0)
    row = (await outbox_rows(forum.app))[0]
    assert row["attempts"] == outbox.MAX_ATTEMPTS and row["given_up_at"] is not None
    async with forum.db.read() as conn:
        assert await outbox.due(conn, clock.later(days=365)) == []


async def test_unknown_address_is_given_up_at_once_and_greylisting_retried(forum, mailbox):
    mailbox.refusing = {"nobody@example.org": "550 5.1.1 No such user",
                        "later@example.org": "450 4.2.0 Greylisted, try again later"}
    async with forum.db.transaction() as tx:
        for address in ("nobody@example.org", "later@example.org", "lea@example.org"):
            await outbox.enqueue(tx, address, "Objet", "texte", "")
    await wait_for_mail(forum.app, mailbox)
    deadline = time.monotonic() + 5
    while (rows := await outbox_rows(forum.app))[1]["attempts"] < 2:
        assert time.monotonic() < deadline, "greylisted mail not retried"
        await asyncio.sleep(0.02)
    nobody, later, _lea = rows
    assert nobody["attempts"] == 1 and nobody["given_up_at"]
    assert "No such user" in nobody["last_error"]
    assert later["given_up_at"] is None and later["sent_at"] is None
    mailbox.refusing = {}
    await wait_for_mail(forum.app, mailbox, count=2)
    assert mailbox.recipients == [["lea@example.org"], ["later@example.org"]]


def test_backoff_doubles_up_to_a_cap():
    waits = [outbox.backoff_seconds(n, 60) for n in range(1, 12)]
    assert waits[:3] == [60, 120, 240] and max(waits) == outbox.RETRY_CAP_SECONDS


def test_enqueue_refuses_anything_but_one_address():
    for address in ("a@b.example, c@d.example", "Léa <a@b.example>", "a@b.example\nBcc: c@d",
                    "pas-une-adresse"):
        assert not outbox.valid_address(address)


# Notifications: at once, or in a daily digest --------------------------------------------------

async def world(forum):
    """Léa (who gets the mail), Marc (who writes), a thread and three replies by Marc."""
    lea = await forum.user("lea", email="lea@example.org")
    marc = await forum.user("marc")
    board = await forum.board()
    thread_id, _first = await forum.thread(board, marc, title="Nouvelles caméras")
    replies = [await forum.reply(thread_id, marc, f"Réponse {n}") for n in range(3)]
    return lea, marc, thread_id, replies


async def tell(forum, lea, marc, thread_id: int, post_id: int, kind: str = "mention") -> None:
    async with forum.db.transaction() as tx:
        await notifications.add(tx, lea.id, kind, post_id=post_id, thread_id=thread_id,
                                actor_id=marc.id)


async def test_notification_about_a_post_no_longer_public_is_not_mailed(forum, mailbox):
    lea, marc, thread_id, (shown, hidden, deleted) = await world(forum)
    async with forum.db.transaction() as tx:
        await tx.execute("update posts set hidden = 1 where id = ?", (hidden,))
        await tx.execute("update posts set deleted_at = ? where id = ?", (clock.now(), deleted))
    for post_id in (hidden, deleted, shown):
        await tell(forum, lea, marc, thread_id, post_id)
    message = await wait_for_mail(forum.app, mailbox)
    await settle(forum.app)
    assert len(mailbox.messages) == 1 and f"/p/{shown}" in parts(message)[0]
    assert "marc" in message["Subject"] and "Nouvelles caméras" in message["Subject"]
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from notifications where mailed_at is null") == 0


async def test_never_and_digest_members_get_no_mail_at_once(forum, mailbox):
    lea, marc, thread_id, replies = await world(forum)
    for choice in ("never", "digest"):
        async with forum.db.transaction() as tx:
            await users.set_email_notifications(tx, lea.id, choice)
        await tell(forum, lea, marc, thread_id, replies[0])
        await settle(forum.app)
    assert mailbox.messages == []


async def test_digest_holds_each_visible_item_once(forum, mailbox):
    lea, marc, thread_id, (first, second, hidden) = await world(forum)
    # The sender's first round looks for digests too; the next one is minutes away.
    while forum.app[keys.MAIL].rounds < 1:
        await asyncio.sleep(0.01)
    async with forum.db.transaction() as tx:
        await users.set_email_notifications(tx, lea.id, "digest")
        await tx.execute("update users set digest_sent_at = ? where id = ?",
                         (clock.later(days=-2), lea.id))
    await tell(forum, lea, marc, thread_id, first)
    await tell(forum, lea, marc, thread_id, second, kind="reply")
    await tell(forum, lea, marc, thread_id, hidden)
    async with forum.db.transaction() as tx:
        await tx.execute("update posts set hidden = 1 where id = ?", (hidden,))
        # A digest's window ends (excluded) at its own millisecond: what was told in that very
        # millisecond goes in the next digest. Told a moment before, they go in this one.
        await tx.execute("update notifications set created_at = ?", (clock.later(seconds=-1),))
    assert await mail.build_digests(forum.app) == 1
    assert await mail.build_digests(forum.app) == 0  # not due again before a day
    text, html = parts(await wait_for_mail(forum.app, mailbox))
    assert re.findall(r"/p/(\d+)\s", text) == [str(first), str(second)]
    assert f"/p/{hidden}" not in html
    message = mailbox.messages[0]
    assert message["List-Unsubscribe"] and message["List-Unsubscribe-Post"]
    # The next day: only what came since.
    async with forum.db.transaction() as tx:
        await tx.execute("update users set digest_sent_at = ? where id = ?",
                         (clock.later(days=-1, seconds=-1), lea.id))
        await tx.execute("update notifications set created_at = ?",
                         (clock.later(days=-1, seconds=-2),))
    newest = await forum.reply(thread_id, marc, "Encore une")
    await tell(forum, lea, marc, thread_id, newest)
    async with forum.db.transaction() as tx:
        await tx.execute("update notifications set created_at = ? where post_id = ?",
                         (clock.later(seconds=-1), newest))
    assert await mail.build_digests(forum.app) == 1
    text, _html = parts(await wait_for_mail(forum.app, mailbox, count=2))
    assert re.findall(r"/p/(\d+)\s", text) == [str(newest)]
