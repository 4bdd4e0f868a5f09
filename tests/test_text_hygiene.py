"""Text hygiene: what a user sends is cleaned at the door, e-mail addresses follow one rule,
and open data cannot turn into spreadsheet formulas, however the spreadsheet splits a line."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

SPLITTERS = re.compile(r"[;,\t\r\n]")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def pieces_a_spreadsheet_may_read(csv_text: str) -> list[str]:
    """Every piece of a CSV file as a spreadsheet splitting on ; , tab or a line break would
    read it, quotes ignored (a quote inside a piece is a plain character)."""
    return [piece.lstrip(' "') for piece in SPLITTERS.split(csv_text)]


@pytest.mark.parametrize("note", ["see;=1+1", 'a,=HYPERLINK("http://evil.example")',
                                  "x\t@SUM(1)", "deux lignes\n+33 1 23", 'x; "=1+1'])
async def test_no_csv_piece_starts_a_formula_whatever_the_separator(forum, client, note):
    metz, lea = await forum.board("Metz"), await forum.user("lea")
    await forum.finding(metz, lea, note=note, place="place;-1+1", longitude="-1.55",
                        latitude="49.1")
    response = await client.get("/b/metz/watch/findings.csv")
    text = (await response.read()).decode()
    assert "place;'-1+1" in text
    for piece in pieces_a_spreadsheet_may_read(text):
        if piece[:1] in ("=", "+", "-", "@"):
            assert NUMBER.fullmatch(piece), f"a formula piece: {piece!r}"


def test_csv_cells_get_a_quote_before_each_formula_piece():
    from forum.views.exports import csv_cell

    assert csv_cell("note", "see;=1+1") == "see;'=1+1"
    assert csv_cell("note", "a,=HYPERLINK(1)") == "a,'=HYPERLINK(1)"
    assert csv_cell("note", "x\t@SUM(1)") == "x\t'@SUM(1)"
    assert csv_cell("note", "rue - angle, 3") == "rue - angle, 3"  # nothing to protect
    assert csv_cell("longitude", -1.55) == "-1.55"


# Characters no text a user sends keeps --------------------------------------------------------

import feedparser  # noqa: E402

from tests.conftest import log_in, submit  # noqa: E402

pytestmark = pytest.mark.both_stores

V1 = "/api/v1"
# NUL, C0, DEL, C1 (NEL among them), a direction override, zero-width characters, a BOM.
DIRTY = "A\x00B\x01C\x1fD\x7fE\x85F\x9fG\u202eH\u200bI\u2066J\ufeffK"
CLEAN = "ABCDEFGHIJK"
# What must never reach a reader (written out again here, not imported from forum.text).
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e"
                    "\u2060-\u2069\ufeff]")
EVERY_CONTROL = "".join(map(chr, range(0x20))) + "".join(map(chr, range(0x80, 0xa0)))


def assert_clean(text: str) -> None:
    found = UNSAFE.findall(text)
    assert not found, f"unsafe characters reached the reader: {found!r}"


async def stored(forum, sql: str, *params) -> str:
    async with forum.db.read() as conn:
        return " ".join(str(value) for value in await conn.one(sql, params))


async def test_a_thread_started_from_the_form_keeps_no_control_or_invisible(forum, client):
    metz, _lea = await forum.board("Metz"), await forum.user("lea")
    await log_in(client, "lea")
    response = await submit(client, "/b/metz/new", {
        "title": "Titre " + DIRTY, "body": "Texte " + DIRTY + "\n\n" + EVERY_CONTROL + "fin",
        "action": "publish"}, form_page="/b/metz/new")
    assert response.status == 303, await response.text()
    thread_id = int(await stored(forum, "select max(id) from threads"))
    assert_clean(await stored(forum, "select title || body_source from threads join posts"
                              " on posts.thread_id = threads.id where threads.id = ?",
                              thread_id))
    page = await (await client.get(f"/t/{thread_id}")).text()
    assert "Titre " + CLEAN in page and "Texte " + CLEAN in page
    assert_clean(page)
    feed = await (await client.get(f"/t/{thread_id}/feed.atom")).text()
    parsed = feedparser.parse(feed)
    assert parsed.bozo == 0 and CLEAN in parsed.entries[0].content[0].value
    assert_clean(feed)
    del metz


async def test_a_feed_stays_valid_with_controls_stored_before_the_cleaning(forum, client, store):
    """Text written before input was cleaned (or by a script through the models): the
    renderer drops the controls, so feeds and pages stay valid XML. (PostgreSQL's text
    cannot hold a NUL at all: there the stored text has every other control.)"""
    metz, lea = await forum.board("Metz"), await forum.user("lea")
    body = "Corps " + EVERY_CONTROL + DIRTY
    if store == "postgresql":
        body = body.replace("\x00", "")
    thread_id, _post = await forum.thread(metz, lea, "Sujet", body)
    for path in (f"/t/{thread_id}/feed.atom", "/b/metz/feed.atom", "/feed.atom"):
        feed = await (await client.get(path)).text()
        parsed = feedparser.parse(feed)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert "Corps" in feed and CLEAN in feed
        assert_clean(feed)


async def test_replies_edits_and_reasons_from_forms_are_cleaned(forum, client):
    metz, lea = await forum.board("Metz"), await forum.user("lea")
    await forum.user("moderatrice", role="moderator")
    thread_id, post_id = await forum.thread(metz, lea)
    await log_in(client, "lea")
    await submit(client, f"/t/{thread_id}/reply", {"body": "Réponse " + DIRTY,
                                                   "action": "publish"})
    await submit(client, f"/p/{post_id}/edit", {"body": "Corrigé " + DIRTY})
    moderator = await forum.visitor()
    await log_in(moderator, "moderatrice")
    reply_id = int(await stored(forum, "select max(id) from posts"))
    flagged = await submit(moderator, f"/p/{reply_id}/flag", {"reason": "Signalé " + DIRTY})
    assert flagged.status == 303, await flagged.text()
    sanctioned = await submit(moderator, "/u/lea/sanction",
                              {"kind": "warn", "reason": "Averti " + DIRTY}, form_page="/u/lea")
    assert sanctioned.status == 303, await sanctioned.text()
    texts = await stored(
        forum, "select group_concat(body_source, '|') from posts where thread_id = ?", thread_id)
    assert "Réponse " + CLEAN in texts and "Corrigé " + CLEAN in texts
    assert_clean(texts)
    assert "Signalé " + CLEAN in await stored(forum, "select reason from flags")
    assert "Averti " + CLEAN in await stored(forum, "select reason from sanctions")
    assert_clean(await stored(forum, "select group_concat(reason) from flags"))
    assert_clean(await stored(forum, "select group_concat(reason) from sanctions"))
    assert_clean(await (await client.get(f"/t/{thread_id}")).text())


async def test_a_refusal_reason_from_the_form_is_cleaned(forum, client):
    metz, newcomer = await forum.board("Metz"), await forum.user("nouvelle", trusted=False)
    await forum.user("moderatrice", role="moderator")
    _thread, post_id = await forum.thread(metz, await forum.user("lea"))
    async with forum.db.transaction() as tx:
        await tx.execute("update posts set status = 'pending' where id = ?", (post_id,))
    await log_in(client, "moderatrice")
    refused = await submit(client, f"/moderation/posts/{post_id}/reject",
                           {"reason": "Refusé " + DIRTY}, form_page="/moderation")
    assert refused.status == 303, await refused.text()
    reason = await stored(forum, "select reject_reason from posts where id = ?", post_id)
    assert reason == "Refusé " + CLEAN
    del newcomer


async def test_a_board_from_the_admin_form_is_cleaned(forum, client):
    await forum.user("admin", role="admin")
    await log_in(client, "admin")
    made = await submit(client, "/admin/boards", {
        "name": "Ville " + DIRTY, "slug": "ville", "region": "Grand Est",
        "description": "Ligne un " + DIRTY + "\nLigne deux", "moderation_mode": "a-posteriori",
        "is_city": "1"})
    assert made.status == 303, await made.text()
    name, description = (await stored(forum, "select name from boards where slug = 'ville'"),
                         await stored(forum, "select description from boards where slug = 'ville'"))
    assert description == f"Ligne un {CLEAN}\nLigne deux"
    assert_clean(name)  # a "name" field is the model's to clean: controls become spaces
    assert_clean(await (await client.get("/")).text())


async def test_a_pseudonym_with_invisible_characters_is_refused_not_changed(forum, client):
    response = await submit(client, "/register", {
        "name": "lé\u200ba", "password": "un mot de passe long",
        "password_again": "un mot de passe long", "email": ""}, headers={"Accept-Language": "en"})
    assert response.status == 422
    assert "letters, digits" in await response.text()
    assert await stored(forum, "select count(*) from users") == "0"


async def test_api_texts_are_cleaned(forum, client):
    metz = await forum.board("Metz")
    lea, admin = await forum.user("lea"), await forum.user("admin", role="admin")
    await forum.user("moderatrice", role="moderator")
    await forum.user("nouvelle", trusted=False)
    token, admin_token = await forum.token(lea), await forum.token(admin)
    headers = {"Authorization": f"Bearer {token}"}
    made = await client.post(f"{V1}/boards/metz/threads", headers=headers,
                             json={"title": "Titre " + DIRTY, "body": "Corps " + DIRTY})
    assert made.status == 201, await made.text()
    thread = (await made.json())["thread"]
    assert thread["title"] == "Titre " + CLEAN
    reply = await client.post(f"{V1}/threads/{thread['id']}/posts", headers=headers,
                              json={"body": "Réponse " + DIRTY})
    assert (await reply.json())["body_source"] == "Réponse " + CLEAN
    board = await client.post(f"{V1}/boards", headers={"Authorization": f"Bearer {admin_token}"},
                              json={"name": "Nancy " + DIRTY, "description": DIRTY,
                                    "moderation_mode": "a-posteriori"})
    assert board.status == 201, await board.text()
    assert (await board.json())["description"] == CLEAN
    finding = await client.post(f"{V1}/findings", headers=headers, json={
        "city": "metz", "kind": "cameras", "quantity": "3", "unit": "count", "scope": "total",
        "observed": "2020", "status": "in-use", "place": "Place " + DIRTY,
        "note": "Note " + DIRTY, "sources": [{"url": "https://example.org/a",
                                              "label": "Lien " + DIRTY}]})
    assert finding.status == 201, await finding.text()
    shown = await finding.json()
    assert shown["place"] == "Place " + CLEAN and shown["note"] == "Note " + CLEAN
    flagged = await client.post(f"{V1}/posts/{(await reply.json())['id']}/flags",
                                headers={"Authorization": f"Bearer {admin_token}"},
                                json={"reason": "Signalé " + DIRTY})
    assert flagged.status in (200, 201), await flagged.text()
    assert await stored(forum, "select reason from flags") == "Signalé " + CLEAN
    del metz


async def test_a_file_name_keeps_no_control_or_invisible(forum, client):
    lea = await forum.user("lea")
    # Written by hand: aiohttp's client refuses such a name, an attacker's sends it encoded.
    name = quote("cr\u202e" + DIRTY + ".txt", safe="").encode()
    body = (b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''" + name
            + b"\r\nContent-Type: text/plain\r\n\r\nCompte rendu.\n\r\n--XX--\r\n")
    sent = await client.post(f"{V1}/uploads", data=body, headers={
        "Authorization": f"Bearer {await forum.token(lea)}",
        "Content-Type": "multipart/form-data; boundary=XX"})
    assert sent.status == 201, await sent.text()
    shown = (await sent.json())["filename"]
    assert_clean(shown)
    assert shown.startswith("cr") and shown.endswith(".txt")


# One rule for e-mail addresses ------------------------------------------------------------------

BAD_ADDRESSES = [
    "Léa <lea@example.org>", "lea@example.org, marc@example.org", "lea @example.org",
    "lea@example.org\r\nBcc: x@evil.example", '"lea"@example.org', "léa@example.org",
    "lea@example", "lea@@example.org", "x" * 65 + "@example.org", "(lea)lea@example.org",
]
GOOD_ADDRESS = "lea+vigie@example.org"
ENGLISH = {"Accept-Language": "en"}


@pytest.mark.parametrize("address", BAD_ADDRESSES)
async def test_registration_refuses_what_the_mailer_could_not_send_to(forum, client, address):
    response = await submit(client, "/register", {
        "name": "lea", "password": "un mot de passe long",
        "password_again": "un mot de passe long", "email": address}, headers=ENGLISH)
    assert response.status == 422
    page = await response.text()
    assert any(message in page for message in (
        "Give the address alone", "does not look right", "at most 254 characters")), page
    assert await stored(forum, "select count(*) from users") == "0"


@pytest.mark.parametrize("address", BAD_ADDRESSES)
async def test_settings_refuse_what_the_mailer_could_not_send_to(forum, client, address):
    await forum.user("lea", email="lea@example.org")
    await log_in(client, "lea")
    response = await submit(client, "/settings/email", {"email": address},
                            form_page="/settings", headers=ENGLISH)
    assert response.status == 422
    assert await stored(forum, "select email from users") == "lea@example.org"


async def test_a_display_name_is_refused_with_a_clear_message(forum, client):
    await forum.user("lea", email="lea@example.org")
    await log_in(client, "lea")
    response = await submit(client, "/settings/email", {"email": "Léa <lea@example.org>"},
                            form_page="/settings", headers=ENGLISH)
    assert "Give the address alone, like name@example.org" in await response.text()


async def test_a_plain_address_is_taken_everywhere(forum, client):
    await forum.user("lea")
    await log_in(client, "lea")
    response = await submit(client, "/settings/email", {"email": f"  {GOOD_ADDRESS} "},
                            form_page="/settings")
    assert response.status == 303
    assert await stored(forum, "select email from users") == GOOD_ADDRESS
    from forum.models import outbox

    assert outbox.valid_address(GOOD_ADDRESS)


async def test_the_mailer_refuses_by_the_same_rule(forum):
    from forum.models import outbox

    for address in BAD_ADDRESSES:
        assert not outbox.valid_address(address), address
        with pytest.raises(ValueError):
            async with forum.db.transaction() as tx:
                await outbox.enqueue(tx, address, "Sujet", "Texte", "")


async def test_the_command_line_refuses_by_the_same_rule(tmp_path):
    from tests.test_boards_admin import run_cli

    data = tmp_path / "data"
    assert (await run_cli(data, "init"))[0] == 0
    for address in BAD_ADDRESSES[:5]:
        code, _out, err = await run_cli(data, "user", "add", "lea", "--email", address,
                                        "--password-stdin", stdin="un mot de passe long\n")
        assert code == 1 and "error" in err, (address, err)
    code, out, _err = await run_cli(data, "user", "add", "lea", "--email", GOOD_ADDRESS,
                                    "--password-stdin", stdin="un mot de passe long\n")
    assert code == 0, out


async def test_a_delete_reason_sent_in_the_api_query_is_cleaned(forum, client):
    metz, lea = await forum.board("Metz"), await forum.user("lea")
    moderator = await forum.user("moderatrice", role="moderator")
    _thread, post_id = await forum.thread(metz, lea)
    response = await client.delete(
        f"{V1}/posts/{post_id}", params={"reason": "Supprimé " + DIRTY},
        headers={"Authorization": f"Bearer {await forum.token(moderator)}"})
    assert response.status == 204, await response.text()
    reason = await stored(forum, "select delete_reason from posts where id = ?", post_id)
    assert reason.startswith("Supprimé ") and CLEAN[1:] in reason
    assert_clean(reason)


async def test_a_board_description_from_the_command_line_is_cleaned(forum):
    board = await forum.board("Metz", description="Ville " + DIRTY.replace("\x00", ""))
    assert board.description == "Ville " + CLEAN


async def test_a_finding_from_the_web_form_is_cleaned(forum, client):
    from tests.test_finding_pages import finding_form, finding_id_from, send

    await forum.board("Lyon", slug="lyon")
    await forum.user("lea")
    await log_in(client, "lea")
    response = await send(client, "/b/lyon/watch/new", finding_form(
        place="Place " + DIRTY, note="Note " + DIRTY + "\nsuite",
        links=[("https://example.org/a", "Lien " + DIRTY)]), form_page="/b/lyon/watch/new")
    finding_id = finding_id_from(response)
    place, note = (await stored(forum, "select place from findings where id = ?", finding_id),
                   await stored(forum, "select note from findings where id = ?", finding_id))
    assert place == "Place " + CLEAN and note == f"Note {CLEAN} suite"  # one line
    assert_clean(await stored(forum, "select group_concat(label) from finding_sources"))
    assert_clean(await (await client.get(f"/f/{finding_id}")).text())
