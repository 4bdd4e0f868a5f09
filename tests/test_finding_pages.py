"""Finding pages over HTTP: proposing from a message, moderation, corrections, deletion.

French is the default locale and its catalog is regenerated later: these tests assert on
structure (ids, field names, figures, status codes), not on translated sentences.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from forum.models import uploads
from tests.conftest import csrf_token, log_in

pytestmark = pytest.mark.both_stores

PDF_SHA = "a" * 64


async def finding_rows(forum) -> int:
    async with forum.db.read() as conn:
        return int(await conn.value("select count(*) from findings"))


async def review_of(forum, finding_id: int) -> tuple[str, str | None]:
    async with forum.db.read() as conn:
        row = await conn.one("select review, deleted_at from findings where id = ?",
                             (finding_id,))
    return row[0], row[1]


async def send(client, path: str, pairs: list[tuple[str, str]], form_page: str | None = None):
    """POST a form with repeated fields (sources), with the token of the page that shows it."""
    token = await csrf_token(client, form_page or path)
    return await client.post(path, data=[("csrf_token", token), *pairs],
                             allow_redirects=False)


def finding_form(**fields: Any) -> list[tuple[str, str]]:
    """A filled finding form: 148 cameras in use in March 2020, sourced by a link."""
    values = {"kind": "cameras", "quantity": "148", "unit": "count", "scope": "total",
              "observed": "2020-03", "status": "in-use", "place": "", "latitude": "",
              "longitude": "", "note": "",
              **{k: v for k, v in fields.items() if k not in ("posts", "files", "links")}}
    pairs = list(values.items())
    pairs += [("posts", str(post_id)) for post_id in fields.get("posts", [])]
    pairs += [("files", str(upload_id)) for upload_id in fields.get("files", [])]
    links = fields.get("links", [("https://example.org/deliberation.pdf", "Délibération")])
    for url, label in [*links, ("", ""), ("", "")][:3]:
        pairs += [("source_url", url), ("source_label", label)]
    return pairs


def finding_id_from(response) -> int:
    assert response.status == 303, response.status
    match = re.fullmatch(r"/f/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


async def a_priori_city(forum):
    """A city whose new findings wait for its moderator; returns (board, moderator)."""
    board = await forum.board("Nice", slug="nice", moderation_mode="a-priori")
    moderator = await forum.user("garde", trusted=True)
    await forum.appoint(board, moderator)
    return board, moderator


async def attach_pdf(forum, post_id: int, owner_id: int) -> int:
    async with forum.db.transaction() as tx:
        upload = await uploads.insert(tx, owner_id, PDF_SHA, "budget-2020.pdf", "pdf",
                                      "application/pdf", 1234, None, None, None, [])
        await tx.execute("insert into post_attachments (post_id, upload_id, position)"
                         " values (?, ?, 0)", (post_id, upload.id))
    return upload.id


# Proposing -------------------------------------------------------------------------------------

async def test_form_from_a_public_post_shows_it_and_offers_it_and_its_files(forum, client):
    board = await forum.board("Lyon", slug="lyon")
    author = await forum.user("lea")
    _thread, post_id = await forum.thread(board, author, "Budget vidéo",
                                          "Le conseil a voté **148** caméras en 2020.")
    upload_id = await attach_pdf(forum, post_id, author.id)
    await log_in(client, "lea")
    response = await client.get(f"/b/lyon/watch/new?post={post_id}")
    page = await response.text()
    assert response.status == 200
    assert 'id="source-post"' in page and "<strong>148</strong>" in page
    assert f'name="posts" value="{post_id}" checked' in page
    assert f'name="files" value="{upload_id}"' in page and "budget-2020.pdf" in page
    assert f'action="/b/lyon/watch/new?post={post_id}"' in page
    for name in ("kind", "quantity", "unit", "scope", "observed", "status", "place", "latitude",
                 "longitude", "note", "source_url", "source_label"):
        assert f'name="{name}"' in page
    assert 'inputmode="decimal"' in page and 'value="teleportation"' not in page
    assert 'id="moderation-notice"' not in page  # a trusted member publishes at once


async def test_a_message_that_is_not_public_is_not_offered(forum, client):
    board = await forum.board("Lyon", slug="lyon")
    author = await forum.user("lea")
    newcomer = await forum.user("nouveau", trusted=False)
    thread_id, _ = await forum.thread(board, author)
    pending_id = await forum.reply(thread_id, newcomer, "Secret: 12 drones.", status="pending")
    await log_in(client, "lea")
    page = await (await client.get(f"/b/lyon/watch/new?post={pending_id}")).text()
    assert "12 drones" not in page and 'name="posts"' not in page
    assert 'id="source-post"' not in page


async def test_trusted_members_finding_is_public_at_once(forum, client):
    board = await forum.board("Lyon", slug="lyon")
    author = await forum.user("lea")
    _thread, post_id = await forum.thread(board, author, "Budget vidéo")
    await log_in(client, "lea")
    response = await send(client, "/b/lyon/watch/new", finding_form(posts=[post_id]),
                          form_page=f"/b/lyon/watch/new?post={post_id}")
    finding_id = finding_id_from(response)
    assert await review_of(forum, finding_id) == ("published", None)
    reader = await forum.visitor()
    shown = await reader.get(f"/f/{finding_id}")
    page = await shown.text()
    assert shown.status == 200
    assert "148" in page and 'href="/b/lyon/watch"' in page
    assert f'href="/p/{post_id}"' in page and "https://example.org/deliberation.pdf" in page
    assert 'id="proposed-by"' in page and "lea" in page
    assert 'id="version-1"' in page and 'id="review-pending"' not in page
    assert 'action="/moderation/findings' not in page  # no decision for a reader


async def test_coordinates_show_as_text_with_a_map_link(forum, client):
    await forum.board("Lyon", slug="lyon")
    await forum.user("lea")
    await log_in(client, "lea")
    response = await send(client, "/b/lyon/watch/new", finding_form(
        latitude="45.764", longitude="4,8357", place="Place Bellecour", note="Au mât nord."))
    page = await (await client.get(f"/f/{finding_id_from(response)}")).text()
    assert "45.764, 4.8357" in page and "mlat=45.764&amp;mlon=4.8357" in page
    assert "Place Bellecour" in page and "Au mât nord." in page


@pytest.mark.parametrize("fields, field", [
    ({"quantity": "beaucoup"}, "quantity"),
    ({"observed": f"{date.today().year + 1}-06", "status": "installed"}, "observed"),
    ({"links": []}, "sources"),
    ({"kind": "teleportation"}, "kind"),
    ({"links": [("javascript:alert(1)", "x")]}, "sources"),
    ({"latitude": "45.7"}, "longitude"),
])
async def test_bad_input_shows_the_form_again_and_stores_nothing(forum, client, fields, field):
    await forum.board("Lyon", slug="lyon")
    await forum.user("lea")
    await log_in(client, "lea")
    response = await send(client, "/b/lyon/watch/new", finding_form(note="gardé", **fields))
    page = await response.text()
    assert response.status == 422
    assert f'id="{field}-error"' in page and 'role="alert"' in page
    assert ">gardé</textarea>" in page  # what was typed is kept
    assert await finding_rows(forum) == 0


async def test_a_city_only_form_is_404_for_a_national_board(forum, client):
    async with forum.db.transaction() as tx:
        await tx.execute("insert into boards (slug, name, is_city, position, created_at)"
                         " values ('national', 'National', 0, 99, '2026-01-01T00:00:00.000Z')")
    await forum.user("lea")
    await log_in(client, "lea")
    assert (await client.get("/b/national/watch/new")).status == 404
    response = await send(client, "/b/national/watch/new", finding_form(), form_page="/")
    assert response.status == 404
    assert await finding_rows(forum) == 0


async def test_a_post_without_csrf_token_is_refused(forum, client):
    await forum.board("Lyon", slug="lyon")
    await forum.user("lea")
    await log_in(client, "lea")
    response = await client.post("/b/lyon/watch/new", data=finding_form(),
                                 allow_redirects=False)
    assert response.status == 403
    assert await finding_rows(forum) == 0


async def test_visitors_are_sent_to_log_in(forum, client):
    await forum.board("Lyon", slug="lyon")
    response = await client.get("/b/lyon/watch/new", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")


async def test_proposing_too_fast_is_refused_with_429(forum, client):
    await forum.board("Lyon", slug="lyon")
    await forum.user("lea")
    await log_in(client, "lea")
    for _ in range(forum.config.posts_per_minute):
        finding_id_from(await send(client, "/b/lyon/watch/new", finding_form()))
    response = await send(client, "/b/lyon/watch/new", finding_form())
    assert response.status == 429 and "Retry-After" in response.headers
    assert await finding_rows(forum) == forum.config.posts_per_minute


# Moderation ------------------------------------------------------------------------------------

async def test_untrusted_members_finding_waits_for_the_city_moderator(forum, client):
    await a_priori_city(forum)
    await forum.user("nouvelle", trusted=False)
    await forum.user("voisin")
    await log_in(client, "nouvelle")
    form_page = await (await client.get("/b/nice/watch/new")).text()
    assert 'id="moderation-notice"' in form_page
    finding_id = finding_id_from(await send(client, "/b/nice/watch/new", finding_form()))
    assert await review_of(forum, finding_id) == ("pending", None)
    # Nobody else knows of it.
    anonymous = await forum.visitor()
    assert (await anonymous.get(f"/f/{finding_id}")).status == 404
    member = await forum.visitor()
    await log_in(member, "voisin")
    assert (await member.get(f"/f/{finding_id}")).status == 404
    # Its author sees it, marked as waiting, with no decision to take.
    mine = await (await client.get(f"/f/{finding_id}")).text()
    assert 'id="review-pending"' in mine and 'class="badge"' in mine and "148" in mine
    assert f'action="/moderation/findings/{finding_id}/approve"' not in mine
    # The city's moderator approves it from its page.
    moderator = await forum.visitor()
    await log_in(moderator, "garde")
    page = await (await moderator.get(f"/f/{finding_id}")).text()
    assert f'action="/moderation/findings/{finding_id}/approve"' in page
    assert f'action="/moderation/findings/{finding_id}/reject"' in page
    approved = await send(moderator, f"/moderation/findings/{finding_id}/approve",
                          [("next", f"/f/{finding_id}")], form_page=f"/f/{finding_id}")
    assert approved.status == 303 and approved.headers["Location"] == f"/f/{finding_id}"
    assert await review_of(forum, finding_id) == ("published", None)
    public = await anonymous.get(f"/f/{finding_id}")
    text = await public.text()
    assert public.status == 200
    assert re.search(r'id="approved-by">[^<]*garde', text)
    assert 'id="review-pending"' not in text


async def test_a_refused_finding_shows_its_reason_to_its_author(forum, client):
    board, _moderator = await a_priori_city(forum)
    author = await forum.user("nouvelle", trusted=False)
    finding_id = await forum.finding(board, author, review="pending")
    moderator = await forum.visitor()
    await log_in(moderator, "garde")
    refused = await send(moderator, f"/moderation/findings/{finding_id}/reject",
                         [("reason_choice", ""), ("reason", "Source illisible")],
                         form_page=f"/f/{finding_id}")
    assert refused.status == 303 and refused.headers["Location"] == f"/f/{finding_id}"
    assert (await review_of(forum, finding_id))[0] == "rejected"
    await log_in(client, "nouvelle")
    page = await (await client.get(f"/f/{finding_id}")).text()
    assert 'id="review-rejected"' in page
    assert re.search(r'id="reject-reason">[^<]*Source illisible', page)
    assert (await (await forum.visitor()).get(f"/f/{finding_id}")).status == 404
    # Deciding twice is a conflict, and changes nothing.
    again = await send(moderator, f"/moderation/findings/{finding_id}/approve", [],
                       form_page=f"/f/{finding_id}")
    assert again.status == 409
    assert (await review_of(forum, finding_id))[0] == "rejected"


async def test_only_the_citys_moderators_may_decide(forum, client):
    board, _moderator = await a_priori_city(forum)
    author = await forum.user("nouvelle", trusted=False)
    await forum.user("voisin")
    finding_id = await forum.finding(board, author, review="pending")
    # Its author sees it but does not moderate: 403.
    await log_in(client, "nouvelle")
    response = await send(client, f"/moderation/findings/{finding_id}/approve", [],
                          form_page=f"/f/{finding_id}")
    assert response.status == 403
    # Another member does not even see it: 404.
    member = await forum.visitor()
    await log_in(member, "voisin")
    response = await send(member, f"/moderation/findings/{finding_id}/approve", [],
                          form_page="/")
    assert response.status == 404
    assert await review_of(forum, finding_id) == ("pending", None)


# Corrections and deletion ----------------------------------------------------------------------

async def test_a_correction_keeps_every_version_with_its_reason(forum, client):
    board = await forum.board("Lyon", slug="lyon")
    author = await forum.user("lea")
    finding_id = await forum.finding(board, author)  # 35 cameras in 2008, from a link
    await log_in(client, "lea")
    form = await (await client.get(f"/f/{finding_id}/edit")).text()
    assert 'name="quantity" value="35"' in form and 'value="2008"' in form
    assert 'value="https://example.org/source.pdf"' in form and 'name="reason"' in form
    # The reason is required: nothing changes without it.
    refused = await send(client, f"/f/{finding_id}/edit", finding_form(
        links=[("https://example.org/source.pdf", "Source")]))
    assert refused.status == 422 and 'id="reason-error"' in await refused.text()
    corrected = await send(client, f"/f/{finding_id}/edit", [
        *finding_form(links=[("https://example.org/source.pdf", "Source")]),
        ("reason", "Chiffre du rapport 2020")])
    assert corrected.status == 303 and corrected.headers["Location"] == f"/f/{finding_id}"
    page = await (await forum.visitor()).get(f"/f/{finding_id}")
    text = await page.text()
    assert 'id="version-1"' in text and 'id="version-2"' in text
    assert "Chiffre du rapport 2020" in text
    history = text[text.index('id="history"'):]
    assert "<td>35</td><td>148</td>" in history


async def test_another_member_cannot_correct_or_delete(forum, client):
    board = await forum.board("Lyon", slug="lyon")
    author = await forum.user("lea")
    await forum.user("voisin")
    finding_id = await forum.finding(board, author)
    await log_in(client, "voisin")
    assert (await client.get(f"/f/{finding_id}/edit")).status == 403
    response = await send(client, f"/f/{finding_id}/edit",
                          [*finding_form(), ("reason", "Je corrige")], form_page="/")
    assert response.status == 403
    assert (await client.get(f"/f/{finding_id}/delete")).status == 403
    page = await (await client.get(f"/f/{finding_id}")).text()
    assert f'href="/f/{finding_id}/edit"' not in page
    async with forum.db.read() as conn:
        assert await conn.value("select quantity from findings where id = ?",
                                (finding_id,)) == 35
        assert await conn.value("select count(*) from finding_revisions") == 1


async def test_a_deleted_finding_is_gone_until_a_moderator_restores_it(forum, client):
    board = await forum.board("Lyon", slug="lyon")
    author = await forum.user("lea")
    await forum.user("modo", role="moderator")
    finding_id = await forum.finding(board, author)
    reader = await forum.visitor()
    assert (await reader.get(f"/f/{finding_id}")).status == 200  # now in the page cache
    await log_in(client, "lea")
    page = await (await client.get(f"/f/{finding_id}")).text()
    assert f'href="/f/{finding_id}/delete"' in page
    confirm = await client.get(f"/f/{finding_id}/delete")
    assert confirm.status == 200 and 'name="reason"' in await confirm.text()
    deleted = await send(client, f"/f/{finding_id}/delete", [("reason", "")])
    assert deleted.status == 303 and deleted.headers["Location"] == "/b/lyon/watch"
    assert (await review_of(forum, finding_id))[1] is not None
    assert (await reader.get(f"/f/{finding_id}")).status == 404
    assert (await client.get(f"/f/{finding_id}")).status == 404  # its author too
    moderator = await forum.visitor()
    await log_in(moderator, "modo")
    seen = await (await moderator.get(f"/f/{finding_id}")).text()
    assert 'id="review-deleted"' in seen
    assert f'action="/moderation/findings/{finding_id}/restore"' in seen
    restored = await send(moderator, f"/moderation/findings/{finding_id}/restore",
                          [("reason", "Supprimé par erreur")], form_page=f"/f/{finding_id}")
    assert restored.status == 303
    assert (await reader.get(f"/f/{finding_id}")).status == 200


async def test_a_moderator_deleting_a_members_finding_gives_a_reason(forum, client):
    board = await forum.board("Lyon", slug="lyon")
    author = await forum.user("lea")
    await forum.user("modo", role="moderator")
    finding_id = await forum.finding(board, author)
    await log_in(client, "modo")
    refused = await send(client, f"/f/{finding_id}/delete", [("reason", " ")])
    assert refused.status == 422 and 'id="reason-error"' in await refused.text()
    assert (await review_of(forum, finding_id))[1] is None
    deleted = await send(client, f"/f/{finding_id}/delete", [("reason", "Doublon")])
    assert deleted.status == 303
    async with forum.db.read() as conn:
        assert await conn.value("select reason from moderation_log where target_kind ="
                                " 'finding' and action = 'delete'") == "Doublon"


async def test_a_missing_or_malformed_finding_is_404(forum, client):
    assert (await client.get("/f/999")).status == 404
    assert (await client.get("/f/abc")).status == 404
