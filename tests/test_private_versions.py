"""Versions that were never public stay private; private reasons never leave the author and the
moderators; edits wait for the moderators where a new post would (issue 11, items 1–3).

Each scenario is read as four people: a logged-out reader, another member, the author and a
moderator of the board (not a global one), in the pages and in the JSON API. A unique marker
stands for what must not leak (an agent's name, an address, a refusal's reason).
"""
from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from forum import migrate
from forum.models import findings, moderation, notifications, posts
from tests.conftest import SQLITE_FILE, log_in, submit
from tests.test_finding_pages import finding_form, send

pytestmark = pytest.mark.both_stores

V1 = "/api/v1"
OUTSIDERS = ("visitor", "member")
INSIDERS = ("author", "moderator")
ROLES = OUTSIDERS + INSIDERS


@pytest.fixture
async def world(forum):
    """Metz, its thread, a newcomer (her posts wait), a member, a moderator of Metz only."""
    board = await forum.board("Metz", slug="metz")
    author = await forum.user("autrice", trusted=False)
    member = await forum.user("membre")
    moderator = await forum.user("modo")
    await forum.user("bob")
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, board, moderator)
    veteran = await forum.user("veteran")
    thread_id, _ = await forum.thread(board, veteran, "Vidéoprotection à Metz")
    clients, tokens = {"visitor": await forum.visitor()}, {"visitor": None}
    for role, user in (("member", member), ("author", author), ("moderator", moderator)):
        clients[role] = await forum.visitor()
        await log_in(clients[role], user.name)
        tokens[role] = await forum.token(user)
    return SimpleNamespace(board=board, thread_id=thread_id, author=author, member=member,
                           moderator=moderator, clients=clients, tokens=tokens, forum=forum)


async def html(world, role: str, path: str) -> str:
    response = await world.clients[role].get(path)
    assert response.status == 200, (role, path, response.status)
    return await response.text()


async def api(world, role: str, path: str, method: str = "GET", **kwargs) -> str:
    token = world.tokens[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await world.forum.client.request(method, f"{V1}{path}", headers=headers, **kwargs)
    assert response.status < 300, (role, path, response.status, await response.text())
    return await response.text()


async def pending_reply(world, body: str) -> int:
    async with world.forum.db.transaction() as tx:
        return await posts.create(tx, world.thread_id, world.board.id, world.author, body,
                                  world.forum.config.body_max, status="pending")


async def assert_seen_only_by_insiders(world, paths: list[str], api_paths: list[str],
                                       *markers: str) -> None:
    """Each marker is in every page and API answer for the author and the moderator, and in
    none for a logged-out reader or another member."""
    for role in ROLES:
        texts = [await html(world, role, path) for path in paths]
        texts += [await api(world, role, path) for path in api_paths]
        for marker in markers:
            for where, text in zip(paths + api_paths, texts, strict=True):
                sought = marker
                if where in api_paths and marker.startswith("version-"):  # a class in HTML
                    sought = f'"state": "{marker.removeprefix("version-")}"'
                if role in INSIDERS:
                    assert sought in text, (role, where, sought)
                else:
                    assert sought not in text, (role, where, sought)


# 1. Histories ----------------------------------------------------------------------------------

async def correct_and_publish(world, post_id: int, body: str, note: str, secret: str) -> None:
    """The moderator corrects the waiting text, with a note, and publishes it: what was
    corrected (`secret`) and the note stay in the history for insiders only."""
    response = await submit(world.clients["moderator"], f"/moderation/posts/{post_id}/edit",
                            {"body": body, "note": note, "action": "publish"})
    assert response.status == 303
    await assert_seen_only_by_insiders(
        world, [f"/p/{post_id}/revisions"], [f"/posts/{post_id}/revisions"],
        secret, note, "version-corrected")


async def test_correct_then_approve_keeps_the_named_agent_private(world):
    post_id = await pending_reply(world, "Le brigadier Agent-Dupont-7Q a verbalisé.")
    await correct_and_publish(world, post_id, "Un agent a verbalisé.", "Nom-retire-K2",
                              "Agent-Dupont-7Q")
    for role in ROLES:  # the published text is the corrected one, for everyone
        thread = await html(world, role, f"/t/{world.thread_id}")
        assert "Un agent a verbalisé." in thread and "Agent-Dupont-7Q" not in thread
        revisions = await api(world, role, f"/posts/{post_id}/revisions")
        assert "Un agent a verbalis" in revisions


async def test_correct_then_approve_through_the_api(world):
    post_id = await pending_reply(world, "Le brigadier Agent-Martin-3Z a verbalisé.")
    await api(world, "moderator", f"/moderation/posts/{post_id}/edit-and-approve", "POST",
              json={"body": "Un agent a verbalisé.", "note": "Nom-retire-J4"})
    await assert_seen_only_by_insiders(
        world, [f"/p/{post_id}/revisions"], [f"/posts/{post_id}/revisions"],
        "Agent-Martin-3Z", "Nom-retire-J4", "version-corrected")


async def test_refuse_edit_approve_keeps_the_refused_text_and_reason_private(world):
    post_id = await pending_reply(world, "Il habite au 12 rue Secrete-Adresse-5.")
    await api(world, "moderator", f"/moderation/posts/{post_id}/reject", "POST",
              json={"reason": "Motif-Prive-8W", "private": True})
    response = await submit(world.clients["author"], f"/p/{post_id}/edit",
                            {"body": "Il habite en ville.", "action": "publish"})
    assert response.status == 303
    await api(world, "moderator", f"/moderation/posts/{post_id}/approve", "POST")
    await assert_seen_only_by_insiders(
        world, [f"/p/{post_id}/revisions"],
        [f"/posts/{post_id}/revisions", f"/posts/{post_id}"],
        "Motif-Prive-8W")
    await assert_seen_only_by_insiders(
        world, [f"/p/{post_id}/revisions"], [f"/posts/{post_id}/revisions"],
        "Secrete-Adresse-5", "version-refused")
    for role in ROLES:
        assert "Motif-Prive-8W" not in await html(world, role, "/moderation/journal")


async def test_a_refusal_reason_stays_private_once_approved(world):
    """reject_reason in GET /api/v1/posts/N: only for the author and moderators."""
    post_id = await pending_reply(world, "Premier jet.")
    await api(world, "moderator", f"/moderation/posts/{post_id}/reject", "POST",
              json={"reason": "Motif-Public-2R"})
    await submit(world.clients["author"], f"/p/{post_id}/edit",
                 {"body": "Second jet.", "action": "publish"})
    await api(world, "moderator", f"/moderation/posts/{post_id}/approve", "POST")
    await assert_seen_only_by_insiders(world, [], [f"/posts/{post_id}"], "Motif-Public-2R")


async def pending_finding(world, **fields) -> int:
    return await world.forum.finding(world.board, world.author, review="pending", **fields)


async def approve_finding(world, finding_id: int) -> None:
    """The moderator approves the finding, or the correction waiting on it, from its form."""
    response = await send(world.clients["moderator"],
                          f"/moderation/findings/{finding_id}/approve", [], form_page="/")
    assert response.status == 303


async def correct_finding(world, role: str, finding_id: int, place: str, reason: str) -> None:
    """`role` corrects the finding's place with its form, giving `reason`."""
    response = await send(world.clients[role], f"/f/{finding_id}/edit", [
        *finding_form(place=place), ("reason", reason)])
    assert response.status == 303


SECRET_FINDING = {"place": "Devant-Chez-Lui-6T", "latitude": "48.1234567",
                  "longitude": "6.7654321", "note": "Note-Secrete-4P"}


async def test_refused_finding_fields_stay_private_after_correction_and_approval(world):
    finding_id = await pending_finding(world, **SECRET_FINDING)
    response = await send(world.clients["moderator"],
                          f"/moderation/findings/{finding_id}/reject",
                          [("reason", "Motif-Constat-3M"), ("private", "1")], form_page="/")
    assert response.status == 303
    await correct_finding(world, "author", finding_id, "Centre-ville", "Adresse retirée")
    await approve_finding(world, finding_id)
    await assert_seen_only_by_insiders(
        world, [f"/f/{finding_id}"], [], "Devant-Chez-Lui-6T", "48.1234567", "6.7654321",
        "Note-Secrete-4P", "Motif-Constat-3M", "version-refused")
    await assert_seen_only_by_insiders(world, [], [f"/findings/{finding_id}"],
                                       "Motif-Constat-3M")
    for role in ROLES:
        page = await html(world, role, f"/f/{finding_id}")
        assert "Centre-ville" in page
        answer = await api(world, role, f"/findings/{finding_id}")
        assert "Devant-Chez-Lui-6T" not in answer and "Note-Secrete-4P" not in answer


async def test_a_finding_corrected_by_a_moderator_before_approval_stays_private(world):
    finding_id = await pending_finding(world, **SECRET_FINDING)
    await correct_finding(world, "moderator", finding_id, "Centre-ville", "Adresse-Retiree-9C")
    await approve_finding(world, finding_id)
    await assert_seen_only_by_insiders(
        world, [f"/f/{finding_id}"], [], "Devant-Chez-Lui-6T", "Note-Secrete-4P",
        "Adresse-Retiree-9C", "version-corrected")
    for role in ROLES:
        assert "Adresse-Retiree-9C" not in await html(world, role, "/moderation/journal")
    visitor = await html(world, "visitor", f"/f/{finding_id}")
    assert "Centre-ville" in visitor and 'id="version-1"' in visitor
    assert 'id="version-2"' not in visitor  # one public version: the corrected one


# 3. Edits wait ---------------------------------------------------------------------------------

async def approved_reply(world, body: str) -> int:
    post_id = await pending_reply(world, body)
    await api(world, "moderator", f"/moderation/posts/{post_id}/approve", "POST")
    return post_id


async def test_an_untrusted_members_edit_waits_and_the_public_text_stays(world):
    post_id = await approved_reply(world, "Texte approuvé d'origine.")
    response = await submit(world.clients["author"], f"/p/{post_id}/edit",
                            {"body": "Texte-Modifie-Attente-1", "action": "publish"})
    assert response.status == 303
    for role in OUTSIDERS:
        thread = await html(world, role, f"/t/{world.thread_id}")
        assert "Texte approuvé d'origine." in thread
        assert "Texte-Modifie-Attente-1" not in thread
        assert "Texte-Modifie-Attente-1" not in await html(
            world, role, f"/t/{world.thread_id}/feed.atom")
        assert "Texte-Modifie-Attente-1" not in await html(world, role, "/feed.atom")
        assert "Attente-1" not in await html(world, role, "/search?q=Modifie")
        answer = await api(world, role, f"/posts/{post_id}")
        assert "Texte-Modifie-Attente-1" not in answer and '"edit_pending": false' in answer
    await assert_seen_only_by_insiders(
        world, [f"/p/{post_id}/revisions"], [f"/posts/{post_id}/revisions"],
        "Texte-Modifie-Attente-1", "version-pending")
    for role in ROLES:  # the author and moderators are told on the thread page
        thread = await html(world, role, f"/t/{world.thread_id}")
        assert ("edit-pending" in thread) == (role in INSIDERS), role
    form = await html(world, "author", f"/p/{post_id}/edit")
    assert "Texte-Modifie-Attente-1" in form and 'id="edit-pending"' in form
    assert '"edit_pending": true' in await api(world, "author", f"/posts/{post_id}")
    # The moderators find it in the queue, page and API, and approve it like a post.
    assert "Texte-Modifie-Attente-1" in await html(world, "moderator", "/moderation")
    queue = await api(world, "moderator", "/moderation/queue")
    assert "Texte-Modifie-Attente-1" in queue and '"pending_edit": {' in queue
    response = await submit(world.clients["moderator"], f"/moderation/posts/{post_id}/approve",
                            {}, form_page="/moderation")
    assert response.status == 303
    for role in ROLES:
        assert "Texte-Modifie-Attente-1" in await html(world, role, f"/t/{world.thread_id}")
        assert "Texte-Modifie-Attente-1" in await api(world, role, f"/posts/{post_id}/revisions")
    assert "Attente-1" in await html(world, "visitor", "/search?q=Modifie")
    assert "Texte-Modifie-Attente-1" not in await html(world, "moderator", "/moderation")


async def test_a_moderator_corrects_a_waiting_edit_then_it_is_public(world):
    post_id = await approved_reply(world, "Texte approuvé d'origine.")
    await api(world, "author", f"/posts/{post_id}", "PATCH",
              json={"body": "Le brigadier Agent-Edit-2H est passé."})
    form = await html(world, "moderator", f"/moderation/posts/{post_id}/edit")
    assert "Agent-Edit-2H" in form
    await correct_and_publish(world, post_id, "Un agent est passé.", "Nom-Retire-Edit",
                              "Agent-Edit-2H")
    for role in ROLES:
        assert "Un agent est passé." in await html(world, role, f"/t/{world.thread_id}")


async def test_new_files_cannot_slip_in_with_a_waiting_edit(world):
    from tests.test_uploads import png_with_text, uploaded
    post_id = await approved_reply(world, "Texte approuvé d'origine.")
    image = await uploaded(world.forum.client, world.tokens["author"], "vue.png",
                           png_with_text(), "image/png")
    response = await submit(world.clients["author"], f"/p/{post_id}/edit",
                            {"body": "Avec une image.", "action": "publish",
                             "attachment": str(image["id"]), "attachments_shown": "1"})
    assert response.status == 422
    async with world.forum.db.read() as conn:
        assert await conn.value("select count(*) from post_attachments where upload_id = ?",
                                (image["id"],)) == 0
        assert await posts.pending_edit(conn, post_id) is None  # nothing half-done


async def test_a_refused_edit_is_never_public(world):
    post_id = await approved_reply(world, "Texte approuvé d'origine.")
    await api(world, "author", f"/posts/{post_id}", "PATCH",
              json={"body": "Edition-Refusee-4K"})
    await api(world, "moderator", f"/moderation/posts/{post_id}/reject", "POST",
              json={"reason": "Motif-Edition-5L", "private": True})
    await assert_seen_only_by_insiders(
        world, [f"/p/{post_id}/revisions"], [f"/posts/{post_id}/revisions"],
        "Edition-Refusee-4K", "Motif-Edition-5L")
    for role in ROLES:
        thread = await html(world, role, f"/t/{world.thread_id}")
        assert "Texte approuvé d'origine." in thread and "Edition-Refusee-4K" not in thread
        assert "Motif-Edition-5L" not in await html(world, role, "/moderation/journal")


async def test_edits_wait_in_an_a_priori_board_even_from_trusted_members(world):
    async with world.forum.db.transaction() as tx:
        await tx.execute("update boards set moderation_mode = 'a-priori' where id = ?",
                         (world.board.id,))
    thread_id, post_id = await world.forum.thread(world.board, world.member, "Sujet")
    await api(world, "member", f"/posts/{post_id}", "PATCH", json={"body": "Attente-A-Priori"})
    assert "Attente-A-Priori" not in await html(world, "visitor", f"/t/{thread_id}")
    # A moderator of the board is not held up.
    await api(world, "moderator", f"/posts/{post_id}", "PATCH", json={"body": "Par-La-Modo"})
    assert "Par-La-Modo" in await html(world, "visitor", f"/t/{thread_id}")


async def test_a_trusted_member_in_an_a_posteriori_board_edits_at_once(world):
    thread_id, post_id = await world.forum.thread(world.board, world.member, "Sujet")
    await api(world, "member", f"/posts/{post_id}", "PATCH", json={"body": "Tout-De-Suite"})
    assert "Tout-De-Suite" in await html(world, "visitor", f"/t/{thread_id}")


async def mentions_of(world, name: str) -> list:
    async with world.forum.db.read() as conn:
        user_id = await conn.value("select id from users where name = ?", (name,))
        found = await notifications.list_for_user(conn, user_id)
    return [n for n in found if n.kind == "mention"]


async def test_a_mention_dropped_before_approval_is_never_sent(world):
    post_id = await pending_reply(world, "Bonjour @bob, regarde ça.")
    await submit(world.clients["author"], f"/p/{post_id}/edit",
                 {"body": "Bonjour, regarde ça.", "action": "publish"})
    await api(world, "moderator", f"/moderation/posts/{post_id}/approve", "POST")
    assert await mentions_of(world, "bob") == []


async def test_a_mention_in_a_waiting_edit_is_sent_only_once_approved(world):
    post_id = await approved_reply(world, "Bonjour.")
    await api(world, "author", f"/posts/{post_id}", "PATCH", json={"body": "Bonjour @bob."})
    assert await mentions_of(world, "bob") == []
    await api(world, "moderator", f"/moderation/posts/{post_id}/reject", "POST",
              json={"reason": "Non"})
    assert await mentions_of(world, "bob") == []
    await api(world, "author", f"/posts/{post_id}", "PATCH", json={"body": "Salut @bob."})
    await api(world, "moderator", f"/moderation/posts/{post_id}/approve", "POST")
    assert len(await mentions_of(world, "bob")) == 1


async def test_a_correction_of_a_public_finding_waits(world):
    finding_id = await pending_finding(world)
    await approve_finding(world, finding_id)
    await correct_finding(world, "author", finding_id, "Place-En-Attente-2B", "Nouvelle source")
    for role in OUTSIDERS:
        assert "Place-En-Attente-2B" not in await html(world, role, f"/f/{finding_id}")
        answer = await api(world, role, f"/findings/{finding_id}")
        assert "Place-En-Attente-2B" not in answer and '"edit_pending": false' in answer
        assert "Place-En-Attente-2B" not in await html(world, role, "/b/metz/watch")
    await assert_seen_only_by_insiders(world, [f"/f/{finding_id}"], [], "Place-En-Attente-2B",
                                       'id="edit-pending"')
    assert "Place-En-Attente-2B" in await html(world, "moderator", "/moderation")
    await approve_finding(world, finding_id)
    for role in ROLES:
        assert "Place-En-Attente-2B" in await api(world, role, f"/findings/{finding_id}")


async def test_a_refused_correction_of_a_public_finding_is_never_public(world):
    finding_id = await pending_finding(world)
    async with world.forum.db.transaction() as tx:
        await findings.approve(tx, await findings.get(tx, finding_id), world.moderator)
    await correct_finding(world, "author", finding_id, "Place-Refusee-7D", "Nouvelle source")
    await send(world.clients["moderator"], f"/moderation/findings/{finding_id}/reject",
               [("reason", "Motif-Correction-6F")], form_page="/")
    await assert_seen_only_by_insiders(world, [f"/f/{finding_id}"], [], "Place-Refusee-7D",
                                       "Motif-Correction-6F")
    async with world.forum.db.read() as conn:
        assert (await findings.get(conn, finding_id)).place == ""


# Existing data ---------------------------------------------------------------------------------

def test_the_migration_marks_versions_never_public(tmp_path):
    """Revisions written before 0009: those of waiting or refused posts, and those before an
    approval, become private; after an approval, or without one, they stay public."""
    db = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    for version, path in migrate.available():
        if version >= 9:
            break
        for statement in migrate.split_statements(path.read_text(encoding="utf-8")):
            db.execute(statement)
    at = "2026-11-0{}T00:00:00.000Z".format
    db.executescript(f"""
        insert into users (id, name, name_key, password_hash, role, created_at) values
            (1, 'a', 'a', 'x', 'member', '{at(1)}'), (2, 'm', 'm', 'x', 'moderator', '{at(1)}');
        insert into boards (id, slug, name, created_at) values (1, 'metz', 'Metz', '{at(1)}');
        insert into threads (id, board_id, author_id, title, created_at, last_post_at)
            values (1, 1, 1, 't', '{at(1)}', '{at(1)}');
        insert into posts (id, thread_id, author_id, body_source, body_html, status,
            created_at, decided_by, decided_at, reject_reason) values
            (1, 1, 1, '', '', 'pending', '{at(1)}', null, null, null),
            (2, 1, 1, '', '', 'rejected', '{at(1)}', 2, '{at(2)}', 'raison'),
            (3, 1, 1, '', '', 'published', '{at(1)}', 2, '{at(3)}', null),
            (4, 1, 1, '', '', 'published', '{at(1)}', null, null, null);
        insert into post_revisions (id, post_id, editor_id, body_source, body_html, created_at)
            values (1, 1, 1, 'p1', '', '{at(1)}'), (2, 1, 1, 'p1b', '', '{at(2)}'),
            (3, 2, 1, 'r', '', '{at(1)}'),
            (4, 3, 1, 'nom', '', '{at(1)}'), (5, 3, 2, 'corrige', '', '{at(3)}'),
            (6, 3, 1, 'apres', '', '{at(4)}'),
            (7, 4, 1, 'direct', '', '{at(1)}'), (8, 4, 1, 'direct2', '', '{at(2)}');
    """)
    for statement in migrate.split_statements(
            (migrate.MIGRATIONS / "0009_private_versions.sql").read_text(encoding="utf-8")):
        db.execute(statement)
    states = dict(db.execute("select id, state || ':' || note from post_revisions"))
    assert states == {1: "superseded:", 2: "pending:", 3: "refused:raison", 4: "corrected:",
                      5: "public:", 6: "public:", 7: "public:", 8: "public:"}


# 4. Purge --------------------------------------------------------------------------------------

async def revision_ids(world, post_id: int) -> list[int]:
    async with world.forum.db.read() as conn:
        return [row[0] for row in await conn.all(
            "select id from post_revisions where post_id = ? order by id", (post_id,))]


async def database_bytes(world) -> bytes:
    """Every byte SQLite keeps: the database file once the WAL is checkpointed into it."""
    async with world.forum.db.transaction() as tx:
        await tx.execute("select 1")
    path = world.forum.config.db_path
    conn = sqlite3.connect(path)
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    return b"".join(file.read_bytes() for file in path.parent.iterdir()
                    if file.name.startswith(path.name))


@SQLITE_FILE
async def test_a_purged_version_is_erased_from_the_database(world):
    # Public at once (a trusted member), then found to give someone's address: indexed too.
    # Long enough to spill onto overflow pages: freed, they keep their bytes unless zeroed.
    long_text = " ".join(["Le conseil a voté le budget."] * 300)
    _thread, post_id = await world.forum.thread(
        world.board, world.member, "Sujet",
        f"{long_text}\n\nIl habite à Zorglubville, au 3 rue Purgee-Rue-8.")
    await api(world, "moderator", f"/posts/{post_id}", "PATCH", json={"body": "Il habite ici."})
    first = (await revision_ids(world, post_id))[0]
    assert b"Purgee-Rue-8" in await database_bytes(world)  # the check below can see it
    # Not the moderator of the board: 404, and nothing changes.
    for role in ("member", "author"):
        response = await submit(world.clients[role],
                                f"/moderation/posts/{post_id}/revisions/{first}/purge", {},
                                form_page="/")
        assert response.status == 404
    assert "Purgee-Rue-8" in await html(world, "moderator", f"/p/{post_id}/revisions")
    page = await html(world, "moderator", f"/p/{post_id}/revisions")
    assert f"/revisions/{first}/purge" in page
    response = await submit(world.clients["moderator"],
                            f"/moderation/posts/{post_id}/revisions/{first}/purge", {},
                            form_page=f"/p/{post_id}/revisions")
    assert response.status == 303
    for role in ROLES:
        assert "Purgee-Rue-8" not in await html(world, role, f"/p/{post_id}/revisions")
    assert "version-purged" in await html(world, "moderator", f"/p/{post_id}/revisions")
    journal = await html(world, "visitor", "/moderation/journal")
    assert "a purgé une version" in journal and "Purgee-Rue-8" not in journal
    stored = await database_bytes(world)
    assert b"Purgee-Rue-8" not in stored and b"zorglubville" not in stored.lower()


async def test_the_current_text_cannot_be_purged_and_others_get_404(world):
    _thread, post_id = await world.forum.thread(world.board, world.member, "Sujet", "Texte.")
    first = (await revision_ids(world, post_id))[0]
    path = f"/moderation/posts/{post_id}/revisions/{first}/purge"
    response = await world.forum.client.post(f"{V1}{path}", headers={
        "Authorization": f"Bearer {world.tokens['moderator']}"})
    assert response.status == 409
    for role in ("member", "author"):
        response = await world.forum.client.post(f"{V1}{path}", headers={
            "Authorization": f"Bearer {world.tokens[role]}"})
        assert response.status == 404
        response = await submit(world.clients[role], path, {}, form_page="/")
        assert response.status == 404


async def test_a_purged_finding_version_is_erased(world):
    finding_id = await pending_finding(world, **SECRET_FINDING)
    await correct_finding(world, "moderator", finding_id, "Centre-ville", "Adresse retirée")
    await approve_finding(world, finding_id)
    async with world.forum.db.read() as conn:
        first = await conn.value("select min(id) from finding_revisions where finding_id = ?",
                                 (finding_id,))
    await api(world, "moderator", f"/moderation/findings/{finding_id}/revisions/{first}/purge",
              "POST")
    for role in ROLES:
        page = await html(world, role, f"/f/{finding_id}")
        assert "Devant-Chez-Lui-6T" not in page and "Note-Secrete-4P" not in page
    stored = await database_bytes(world)
    assert b"Devant-Chez-Lui-6T" not in stored and b"Note-Secrete-4P" not in stored
