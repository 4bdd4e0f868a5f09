"""The leak matrix: every state a post, thread or finding can be in that is not public, seen by
every role, through every channel that shows posts, threads, findings or their files.

One forum is built once for the module, with one item in each state, each carrying a unique
marker word (in its text, its title, its file name, its finding's place and note). Each test is
one state × role × channel: it fetches what that role gets from that channel (fetched once per
role and address, then shared) and checks whether the marker is there.

What a role may see comes from the small tables below, written from the promise (SECURITY.md,
"Who sees what"), never from forum/permissions.py: the test would otherwise agree with any bug.
Three kinds of channel:
- "item": the item's own address (permalink, API, revisions, file): seen exactly when allowed;
- "list": a page or answer that lists many things: never seen when not allowed (a role that may
  see an item does not require every list to show it);
- "public": feeds, search, exports, notifications, mails: what any visitor may read, only.
A published control item, in every channel, checks that the channel really shows markers.
The unread counts and marker (issue 16) show no text: their channel tells whether a post counts
as new to a role (the board's count changes when the role's read mark passes it) or has the
"new messages" marker placed before it (_unread below).

Versions (VERSION_STATES): items that are public, with a marker only in a version that was
never public (an edit waiting, a refused or corrected version) or that was purged. Only the
marker tells there; each state names the channels where its author and moderators must find it.
"""
from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from forum import keys
from forum.app import create_app
from forum.cache import ALL
from forum.config import Config
from forum.mail.notify import mail_notifications
from forum.models import (
    boards,
    finding_drafts,
    findings,
    follows,
    moderation,
    posts,
    threads,
    users,
)
from forum.models import search as search_models
from forum.models import uploads as upload_models
from forum.permissions import (
    can,
    finding_filter,
    indexed_post,
    post_filter,
    public_post,
    thread_filter,
)
from tests.conftest import PASSWORD, Forum, log_in
from tests.test_finding_pages import finding_form, send
from tests.test_uploads import jpeg_with_gps, uploaded

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.both_stores]

ROLES = ("visitor", "untrusted", "trusted", "author", "mod_other_board", "mod_this_board",
         "global_mod", "admin", "banned_admin", "group_member", "non_member")
MODERATORS = {"mod_this_board", "global_mod", "admin"}
# Closed boards (issue 17): the group's members (the author is one), the board's moderators,
# global moderators and admins; "non_member" follows the board and is named in every post.
CLOSED_READERS = {"author", "group_member", *MODERATORS}
# Who may see an item in each state (the banned admin lost their powers with the ban).
SEES: dict[str, set[str]] = {
    "published": set(ROLES),  # the control: everyone, everywhere
    "post_pending": {"author", *MODERATORS},
    "post_refused": {"author", *MODERATORS},
    "post_hidden_by_flags": {"author", *MODERATORS},
    "post_deleted": MODERATORS,  # a tombstone: its text for the board's moderators only
    "thread_pending": {"author", *MODERATORS},
    "finding_pending": {"author", *MODERATORS},
    "finding_refused": {"author", *MODERATORS},
    "finding_deleted": MODERATORS,
    # Public by their own state, in a closed board: created there once it was closed...
    "post_closed_board": CLOSED_READERS,
    "thread_closed_board": CLOSED_READERS,
    "finding_closed_board": CLOSED_READERS,
    # ... or while it was open (told, mailed, cached for visitors), then the board was closed.
    "post_board_closed_later": CLOSED_READERS,
    "thread_board_closed_later": CLOSED_READERS,
}
CLOSED_STATES = {state for state, seen in SEES.items() if seen is CLOSED_READERS}
# Public channels a closed board's readers may find its items in (search, what they are told);
# every other public channel (feeds, exports, the journal) never shows them.
MEMBER_CHANNELS = {"search page", "api search", "notifications page", "api notifications",
                   "outbox"}
# Versions of items that are themselves public (issue 11): the marker is in a version that was
# never public, or that a moderator purged; the item's public text carries no marker. Each
# entry: state -> (the item's kind, who may see the marker, the channels where they must see
# it). Built by VERSION_BUILDERS below; everywhere else, nobody else may see the marker.
QUEUE = {"moderation queue", "api moderation queue"}
VERSION_STATES: dict[str, tuple[str, set[str], set[str]]] = {
    # An approved post edited by its author in an a-priori board: the new text waits.
    "post_edit_waiting": ("post", {"author", *MODERATORS},
                          {"edit form", "revisions page", "api revisions", *QUEUE}),
    # The same for a public finding's correction (its place and note).
    "finding_correction_waiting": ("finding", {"author", *MODERATORS},
                                   {"finding page", "moderation queue"}),
    # A pending post refused (with a private reason), edited by its author, then approved.
    "post_version_refused": ("post", {"author", *MODERATORS},
                             {"revisions page", "api revisions", "api post"}),
    # A pending post corrected by a moderator (with a note), then approved.
    "post_corrected_before_approval": ("post", {"author", *MODERATORS},
                                       {"revisions page", "api revisions"}),
    # The same for findings: refused privately then corrected by its author; corrected by a
    # moderator before approval. Their history is on the finding's page.
    "finding_version_refused": ("finding", {"author", *MODERATORS},
                                {"finding page", "api finding"}),
    "finding_corrected_before_approval": ("finding", {"author", *MODERATORS},
                                          {"finding page"}),
    # A public version a moderator purged (doxxing): nobody, not even moderators, anywhere.
    "post_purged": ("post", set(), set()),
    "finding_purged": ("finding", set(), set()),
}

# A member's own notifications about their items (refused, deleted) link to them: allowed.
PERSONAL = {("post_refused", "author"), ("post_deleted", "author"),
            ("finding_refused", "author"), ("finding_deleted", "author")}


@dataclass
class Item:
    kind: str  # post, thread or finding
    marker: str
    post_id: int | None = None
    thread_id: int | None = None
    finding_id: int | None = None
    file_url: str | None = None
    thumbnail_url: str | None = None
    version: bool = False  # the marker is in a version of a public item, not in the item
    board: str | None = None  # its board's slug when not the matrix's board
    size_url: str | None = None  # its photo's smallest copy (a srcset's, 0026_photos)
    photo_url: str | None = None  # its photo's viewer page, with previous and next



@dataclass
class Site:
    forum: Forum
    people: dict[str, users.User]
    clients: dict[str, TestClient]
    board: boards.Board
    other_board: boards.Board
    closed_board: boards.Board  # open while its "closed later" items are made
    control_thread: int
    control_post: int
    items: dict[str, Item] = field(default_factory=dict)
    fetched: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    outbox: dict[str, str] = field(default_factory=dict)  # role -> every mail's text


def marker(state: str) -> str:
    """A word found nowhere else, that FTS5 indexes as one token."""
    return "zq" + state.replace("_", "") + "mark"


async def _new_site(tmp: Path, database_url: str) -> tuple[Forum, TestServer, TestClient]:
    config = Config.from_env(env={}, data_dir=tmp / "data", database_url=database_url)
    app = create_app(config)
    server = TestServer(app)
    client = TestClient(server)
    await client.start_server()
    return Forum(app, client), server, client


async def _people(forum: Forum) -> dict[str, users.User]:
    names = {role: role.replace("_", "") for role in ROLES if role != "visitor"}
    people = {}
    for role, name in names.items():
        user_role = {"global_mod": "moderator", "admin": "admin",
                     "banned_admin": "admin"}.get(role, "member")
        people[role] = await forum.user(name, role=user_role, email=f"{name}@example.org",
                                        trusted=role != "untrusted")
    return people


async def _upload(site: Site, state: str) -> upload_models.Upload:
    """A photo in the author's name, called after the state's marker (it has a thumbnail)."""
    token = await site.forum.token(site.people["author"])
    made = await uploaded(site.forum.client, token, f"{marker(state)}.jpg", jpeg_with_gps(),
                          "image/jpeg")
    async with site.forum.db.read() as conn:
        return await upload_models.get(conn, made["id"])


async def _post(site: Site, state: str, status: str = "published") -> Item:
    """A reply in the control thread naming everyone, with a file, in a given status."""
    forum, author = site.forum, site.people["author"]
    mentions = " ".join(f"@{user.name}" for user in site.people.values() if user is not author)
    body = f"Texte {marker(state)} pour {mentions}"
    upload = await _upload(site, state)
    async with forum.db.transaction() as tx:
        post_id = await posts.create(tx, site.control_thread, site.board.id, author, body,
                                     forum.config.body_max, status=status)
        await upload_models.attach(tx, post_id, author.id, [upload.id], 10, 10**9)
    return Item("post", marker(state), post_id, site.control_thread, None, upload.url,
                upload.thumbnail_url, **_photo_urls(upload))


def _photo_urls(upload: upload_models.Upload) -> dict[str, str]:
    """Where a post's photo shows besides its file: its smallest copy and its viewer page."""
    assert upload.sizes, "the matrix's photos have their copies"
    return {"size_url": upload.sizes[0].url, "photo_url": f"/photos/{upload.id}"}


async def _upload_id(site: Site, item: Item) -> int:
    async with site.forum.db.read() as conn:
        return int(await conn.value("select upload_id from post_attachments where post_id = ?",
                                    (item.post_id,)))


async def _finding(site: Site, state: str, review: str = "published",
                   board: boards.Board | None = None, **sources: list[int]) -> Item:
    forum = site.forum
    raw = finding_drafts.RawFinding(
        kind="cameras", quantity="7", unit="count", scope="total", observed="2019",
        status="in-use",
        place=f"Place {marker(state)}", note=f"Note {marker(state)}", latitude="48.85",
        longitude="2.35", **(sources or {"posts": [site.control_post]}))
    board = board or site.board
    async with forum.db.transaction() as tx:
        draft = await finding_drafts.check(tx, board, raw, date.today())
        finding_id = await findings.create(tx, board, site.people["author"], draft, review)
    return Item("finding", marker(state), site.control_post, site.control_thread, finding_id,
                board=None if board is site.board else board.slug)


async def _decide(site: Site, item: Item, action: str) -> None:
    """The board's moderator refuses ("reject") or deletes the post or finding of `item`."""
    moderator = site.people["mod_this_board"]
    async with site.forum.db.transaction() as tx:
        if item.kind == "finding":
            target: Any = await findings.get(tx, item.finding_id)
            reject, delete = findings.reject, findings.delete
        else:
            target = await posts.get(tx, item.post_id)
            reject, delete = moderation.reject, moderation.delete_post
        if action == "reject":
            await reject(tx, target, moderator, "Refusé pour la matrice", True)
        else:
            await delete(tx, target, moderator, "Supprimé pour la matrice")


async def _hide_by_flags(site: Site, item: Item) -> None:
    """Three members flag the post until it is hidden."""
    async with site.forum.db.transaction() as tx:
        for role in ("trusted", "global_mod", "mod_other_board"):
            post = await posts.get(tx, item.post_id)
            await moderation.flag(tx, post, site.people[role], "Signalé",
                                  site.forum.config.flags_to_hide,
                                  site.forum.config.trust_threshold)
        assert (await posts.get(tx, item.post_id)).hidden


# Versions (VERSION_STATES) --------------------------------------------------------------------

async def _api(site: Site, role: str, method: str, path: str, **kwargs: Any) -> Any:
    token = await site.forum.token(site.people[role])
    response = await site.forum.client.request(
        method, f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)
    assert response.status < 300, (path, response.status, await response.text())
    return await response.json()


async def _member(site: Site, role: str) -> users.User:
    """As the site knows them now (the boards they moderate)."""
    async with site.forum.db.read() as conn:
        return await users.get(conn, site.people[role].id)


async def _public_post(site: Site, body: str) -> int:
    async with site.forum.db.transaction() as tx:
        return await posts.create(tx, site.control_thread, site.board.id, site.people["author"],
                                  body, site.forum.config.body_max)


def _mentions(site: Site) -> str:
    return " ".join(f"@{user.name}" for role, user in site.people.items() if role != "author")


async def _draft(site: Site, tx: Any, place: str, note: str) -> Any:
    raw = finding_drafts.RawFinding(
        kind="cameras", quantity="7", unit="count", scope="total", observed="2019",
        status="in-use",
        place=place, note=note, latitude="48.85", longitude="2.35", posts=[site.control_post])
    return await finding_drafts.check(tx, site.board, raw, date.today())


async def _set_mode(site: Site, mode: str) -> None:
    async with site.forum.db.transaction() as tx:
        await tx.execute("update boards set moderation_mode = ? where id = ?",
                         (mode, site.board.id))


async def _post_edit_waiting(site: Site, state: str) -> Item:
    post_id = await _public_post(site, "Version publique, approuvée.")
    await _set_mode(site, "a-priori")  # the author is trusted: the board makes her edit wait
    try:
        answer = await _api(site, "author", "PATCH", f"/posts/{post_id}",
                            json={"body": f"Nouveau {marker(state)} pour {_mentions(site)}"})
    finally:
        await _set_mode(site, "a-posteriori")
    assert answer["edit_pending"] is True, answer
    return Item("post", marker(state), post_id, site.control_thread, version=True)


async def _finding_correction_waiting(site: Site, state: str) -> Item:
    item = await _finding(site, f"{state} base")
    await _set_mode(site, "a-priori")
    try:
        response = await send(site.clients["author"], f"/f/{item.finding_id}/edit", [
            *finding_form(place=f"Place {marker(state)}", note=f"Note {marker(state)}",
                          posts=[site.control_post]), ("reason", "Nouvelle source")])
    finally:
        await _set_mode(site, "a-posteriori")
    assert response.status == 303, response.status
    async with site.forum.db.read() as conn:
        assert await findings.pending_edit(conn, item.finding_id) is not None
    return Item("finding", marker(state), None, site.control_thread, item.finding_id,
                version=True)


async def _post_version_refused(site: Site, state: str) -> Item:
    forum, author = site.forum, await _member(site, "author")
    moderator, other = await _member(site, "mod_this_board"), await _member(site, "global_mod")
    async with forum.db.transaction() as tx:
        post_id = await posts.create(tx, site.control_thread, site.board.id, author,
                                     f"Premier {marker(state)} pour {_mentions(site)}",
                                     forum.config.body_max, status="pending")
        await moderation.reject(tx, await posts.get(tx, post_id), moderator,
                                f"Motif {marker(state)}", True)
        await moderation.edit_as(tx, post_id, author, "Texte revu par son autrice.",
                                 forum.config.body_max)
        await moderation.approve(tx, await posts.get(tx, post_id), other)
    return Item("post", marker(state), post_id, site.control_thread, version=True)


async def _post_corrected_before_approval(site: Site, state: str) -> Item:
    forum, moderator = site.forum, await _member(site, "mod_this_board")
    async with forum.db.transaction() as tx:
        post_id = await posts.create(tx, site.control_thread, site.board.id,
                                     site.people["author"],
                                     f"Premier {marker(state)} pour {_mentions(site)}",
                                     forum.config.body_max, status="pending")
        await moderation.correct_and_approve(
            tx, post_id, moderator, "Texte corrigé par la modération.",
            forum.config.body_max, note=f"Retiré {marker(state)}")
    return Item("post", marker(state), post_id, site.control_thread, version=True)


async def _finding_version_refused(site: Site, state: str) -> Item:
    item = await _finding(site, state, "pending")
    author, moderator = await _member(site, "author"), await _member(site, "mod_this_board")
    async with site.forum.db.transaction() as tx:
        await findings.reject(tx, await findings.get(tx, item.finding_id), moderator,
                              f"Motif {marker(state)}", True)
        draft = await _draft(site, tx, "Centre-ville", "Note revue")
        await findings.edit(tx, await findings.get(tx, item.finding_id), author, draft,
                            "Adresse retirée")
        await findings.approve(tx, await findings.get(tx, item.finding_id), moderator)
    return Item("finding", marker(state), None, site.control_thread, item.finding_id,
                version=True)


async def _finding_corrected_before_approval(site: Site, state: str) -> Item:
    item = await _finding(site, state, "pending")
    moderator = await _member(site, "mod_this_board")
    async with site.forum.db.transaction() as tx:
        draft = await _draft(site, tx, "Centre-ville", "Note corrigée")
        await findings.edit(tx, await findings.get(tx, item.finding_id), moderator, draft,
                            f"Retiré {marker(state)}")
        await findings.approve(tx, await findings.get(tx, item.finding_id), moderator)
    return Item("finding", marker(state), None, site.control_thread, item.finding_id,
                version=True)


async def _spread(site: Site, item: Item) -> None:
    """A version goes everywhere before its purge: mails sent, visitors' pages cached, searched;
    the purge must then erase real copies: check they are there."""
    await mail_notifications(site.forum.app)
    await _warm_visitor_pages(site)
    own = ([f"/p/{item.post_id}/revisions", f"/api/v1/posts/{item.post_id}/revisions"]
           if item.kind == "post" else [f"/f/{item.finding_id}",
                                        f"/api/v1/findings/{item.finding_id}"])
    for path in (f"/search?q={item.marker}", f"/api/v1/search?q={item.marker}",
                 "/moderation/journal", "/moderation/journal.atom", *own):
        await site.clients["visitor"].get(path)
    async with site.forum.db.read() as conn:
        mailed = await conn.value("select count(*) from outbox where instr(text_body, ?) > 0",
                                  (item.marker,))
        told = await conn.value("select count(*) from notifications where instr(text, ?) > 0",
                                (item.marker,))
    assert mailed > 0 and told > 0, item


async def _refused_edit(site: Site, item: Item, path: str, pairs: Any) -> None:
    """The author's edit waits (an a-priori board), repeats the address; a moderator refuses it
    with a public reason that quotes it (told to the author, mailed, in the journal)."""
    await _set_mode(site, "a-priori")
    try:
        if item.kind == "post":
            await _api(site, "author", "PATCH", path, json=pairs)
        else:
            response = await send(site.clients["author"], path, pairs)
            assert response.status == 303, response.status
    finally:
        await _set_mode(site, "a-posteriori")
    moderator = await _member(site, "mod_this_board")
    reason = f"Adresse donnée : {item.marker}"
    async with site.forum.db.transaction() as tx:
        if item.kind == "post":
            await moderation.reject(tx, await posts.get(tx, item.post_id), moderator, reason)
        else:
            await findings.reject(tx, await findings.get(tx, item.finding_id), moderator, reason)


async def _post_purged(site: Site, state: str) -> Item:
    """Public at once with someone's address, corrected by a moderator; the author puts it
    back, refused; both versions purged."""
    # Long enough to spill onto overflow pages: freed, they keep their bytes unless zeroed.
    filler = " ".join(["Le conseil a voté le budget."] * 300)
    post_id = await _public_post(site, f"{filler}\n\nIl habite au 3 rue {marker(state)}, "
                                       f"{_mentions(site)}")
    item = Item("post", marker(state), post_id, site.control_thread, version=True)
    moderator = await _member(site, "mod_this_board")
    await _warm_visitor_pages(site)
    async with site.forum.db.transaction() as tx:
        await moderation.edit_as(tx, post_id, moderator, "Adresse retirée.",
                                 site.forum.config.body_max)
    await _refused_edit(site, item, f"/posts/{post_id}",
                        {"body": f"Il habite bien au 3 rue {marker(state)}."})
    await _spread(site, item)
    async with site.forum.db.transaction() as tx:
        for revision in await tx.all("select id from post_revisions where post_id = ?"
                                     " and state <> 'public' or id = (select min(id) from"
                                     " post_revisions where post_id = ?)", (post_id, post_id)):
            await moderation.purge_post_version(tx, await posts.get(tx, post_id), moderator,
                                                revision[0])
    return item


async def _finding_purged(site: Site, state: str) -> Item:
    item = await _finding(site, state)
    item = Item("finding", item.marker, None, site.control_thread, item.finding_id,
                version=True)
    moderator = await _member(site, "mod_this_board")
    async with site.forum.db.transaction() as tx:
        draft = await _draft(site, tx, "Centre-ville", "Note corrigée")
        await findings.edit(tx, await findings.get(tx, item.finding_id), moderator, draft,
                            "Adresse retirée")
    await _refused_edit(site, item, f"/f/{item.finding_id}/edit", [
        *finding_form(place=f"Place {marker(state)}", posts=[site.control_post]),
        ("reason", "Je remets l'adresse")])
    await _spread(site, item)
    async with site.forum.db.transaction() as tx:
        for revision in await tx.all(
                "select id from finding_revisions where finding_id = ? and state <> 'public'"
                " or id = (select min(id) from finding_revisions where finding_id = ?)",
                (item.finding_id, item.finding_id)):
            await findings.purge_version(tx, await findings.get(tx, item.finding_id),
                                         moderator, revision[0])
    return item


# Closed boards ---------------------------------------------------------------------------------

async def _in_closed_board(site: Site, thread_state: str, post_state: str) -> None:
    """A thread (its title and first post) and a reply with a photo, both naming everyone, in
    the closed board."""
    forum, author, board = site.forum, site.people["author"], site.closed_board
    async with forum.db.transaction() as tx:
        thread_id, first_id = await threads.create(
            tx, board, author, f"Sujet {marker(thread_state)}",
            f"Premier {marker(thread_state)} pour {_mentions(site)}", forum.config.title_max,
            forum.config.body_max)
    site.items[thread_state] = Item("thread", marker(thread_state), first_id, thread_id,
                                    board=board.slug)
    upload = await _upload(site, post_state)
    async with forum.db.transaction() as tx:
        post_id = await posts.create(tx, thread_id, board.id, author,
                                     f"Texte {marker(post_state)} pour {_mentions(site)}",
                                     forum.config.body_max)
        await upload_models.attach(tx, post_id, author.id, [upload.id], 10, 10**9)
    site.items[post_state] = Item("post", marker(post_state), post_id, thread_id, None,
                                  upload.url, upload.thumbnail_url, board=board.slug,
                                  **_photo_urls(upload))


async def _build_closed_board(site: Site) -> None:
    """Items made while the board was open (followers and mentioned members told, visitors'
    pages cached), then the board closed; then items made in the closed board."""
    await _in_closed_board(site, "thread_board_closed_later", "post_board_closed_later")
    visitor, slug = site.clients["visitor"], site.closed_board.slug
    for path in (f"/b/{slug}", f"/b/{slug}/feed.atom", f"/b/{slug}/watch",
                 *_list_paths(site), *(f"{path}".replace("matrice", slug, 1)
                                       for path in _list_paths(site) if "matrice" in path)):
        await visitor.get(path)
    for state in ("thread_board_closed_later", "post_board_closed_later"):
        item = site.items[state]
        for path in (f"/t/{item.thread_id}", f"/t/{item.thread_id}/feed.atom",
                     f"/p/{item.post_id}/revisions", f"/search?q={item.marker}"):
            assert (await visitor.get(path)).status == 200, path
    async with site.forum.db.transaction() as tx:
        await boards.set_closed(tx, site.closed_board, True)
    await _in_closed_board(site, "thread_closed_board", "post_closed_board")
    site.items["finding_closed_board"] = await _finding(site, "finding_closed_board",
                                                        board=site.closed_board)


VERSION_BUILDERS: dict[str, Callable[[Site, str], Awaitable[Item]]] = {
    "post_edit_waiting": _post_edit_waiting,
    "finding_correction_waiting": _finding_correction_waiting,
    "post_version_refused": _post_version_refused,
    "post_corrected_before_approval": _post_corrected_before_approval,
    "finding_version_refused": _finding_version_refused,
    "finding_corrected_before_approval": _finding_corrected_before_approval,
    "post_purged": _post_purged,
    "finding_purged": _finding_purged,
}


async def _warm_visitor_pages(site: Site) -> None:
    """The visitor reads every public page once while the items are still public: the page
    cache must not serve these copies after they change."""
    visitor = site.clients["visitor"]
    own_pages = [f"/f/{item.finding_id}" if item.kind == "finding" else
                 f"/p/{item.post_id}/revisions" for item in site.items.values()]
    for path in [*_list_paths(site), *own_pages]:
        await visitor.get(path)


async def _build(site: Site) -> None:
    items = site.items
    items["published"] = await _post(site, "published")
    async with site.forum.db.transaction() as tx:
        thread_id, post_id = await threads.create(
            tx, site.board, site.people["author"], f"Sujet {marker('published_thread')}",
            f"Premier {marker('published_thread')}", site.forum.config.title_max,
            site.forum.config.body_max)
    items["published_thread"] = Item("thread", marker("published_thread"), post_id, thread_id)
    # Published first (told to followers and mentioned members, cached for visitors), then
    # changed: hidden by flags, deleted.
    items["post_hidden_by_flags"] = await _post(site, "post_hidden_by_flags")
    items["post_deleted"] = await _post(site, "post_deleted")
    # A public finding drawn from their files: the watch pages and exports name its sources.
    for state in ("post_hidden_by_flags", "post_deleted"):
        await _finding(site, f"sourcing {state}", files=[await _upload_id(site, items[state])])
    items["post_pending"] = await _post(site, "post_pending", status="pending")
    items["post_refused"] = await _post(site, "post_refused", status="pending")
    async with site.forum.db.transaction() as tx:
        thread_id, post_id = await threads.create(
            tx, site.board, site.people["author"], f"Sujet {marker('thread_pending')}",
            f"Premier {marker('thread_pending')}", site.forum.config.title_max,
            site.forum.config.body_max, status="pending")
    items["thread_pending"] = Item("thread", marker("thread_pending"), post_id, thread_id)
    published_finding = await _finding(site, "published_finding")
    items["published_finding"] = published_finding
    items["finding_pending"] = await _finding(site, "finding_pending", "pending")
    items["finding_refused"] = await _finding(site, "finding_refused", "pending")
    items["finding_deleted"] = await _finding(site, "finding_deleted")
    await _warm_visitor_pages(site)
    # Findings first: a change of a finding drops the watch pages from the cache, a change of
    # a post they cite must too.
    await _decide(site, items["finding_refused"], "reject")
    await _decide(site, items["finding_deleted"], "delete")
    await _warm_visitor_pages(site)
    await _hide_by_flags(site, items["post_hidden_by_flags"])
    await _decide(site, items["post_deleted"], "delete")
    await _decide(site, items["post_refused"], "reject")
    await _build_closed_board(site)
    for state, build in VERSION_BUILDERS.items():
        items[state] = await build(site, state)
    await _read_mail(site)


async def _read_mail(site: Site) -> None:
    """Send what is due, then keep each role's mail in `site.outbox`."""
    await mail_notifications(site.forum.app)
    async with site.forum.db.read() as conn:
        rows = await conn.all("select to_address, subject, text_body, html_body from outbox")
    for role, user in site.people.items():
        site.outbox[role] = "\n".join(" ".join(row[1:]) for row in rows
                                      if row[0] == user.email)


@contextlib.asynccontextmanager
async def _matrix_site(tmp: Path, database_url: str, board: tuple[str, str],
                       other: tuple[str, str]) -> AsyncIterator[Site]:
    """A site for a block of the matrix: one account per role (a fast password hasher);
    `board` (name, slug) moderated by mod_this_board and followed by everyone, `other`
    moderated by mod_other_board and standing in for the closed board. No control thread yet
    (0), nobody logged in yet (_log_in_everyone). Closed at the end."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64,
                                                       parallelism=1))
        forum, _server, client = await _new_site(tmp, database_url)
        people = await _people(forum)
        main = await forum.board(board[0], slug=board[1])
        neighbour = await forum.board(other[0], slug=other[1])
        async with forum.db.transaction() as tx:
            await moderation.add_board_moderator(tx, main, people["mod_this_board"])
            await moderation.add_board_moderator(tx, neighbour, people["mod_other_board"])
            for user in people.values():
                await follows.set_state(tx, user.id, "board", main.id, "follow")
        try:
            yield Site(forum, people, {}, main, neighbour, closed_board=neighbour,
                       control_thread=0, control_post=0)
        finally:
            await forum.close()
            await client.close()


async def _log_in_everyone(site: Site) -> None:
    """A client per role, logged in (after every change of role or board: they end sessions),
    then the banned administrator banned."""
    site.clients["visitor"] = await site.forum.visitor()
    for role in ROLES[1:]:
        site.clients[role] = await site.forum.visitor()
        await log_in(site.clients[role], site.people[role].name, PASSWORD)
    async with site.forum.db.transaction() as tx:
        await moderation.sanction(tx, site.people["banned_admin"], site.people["admin"], "ban",
                                  "Banni pour la matrice")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory, module_databases) -> AsyncIterator[Site]:
    # Who finds what, not how fast: a search cut short on a loaded machine (TooSlow, a 503
    # that tells nothing) would pass for a leak or hide one. The budget: test_availability.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_models, "TIME_BUDGET", 60.0)
        async for site in _site(tmp_path_factory, module_databases):
            yield site


async def _site(tmp_path_factory, module_databases) -> AsyncIterator[Site]:
    async with _matrix_site(tmp_path_factory.mktemp("leaks"), await module_databases(),
                            ("Ville Matrice", "matrice"),
                            ("Ville Voisine", "voisine")) as site:
        forum, people = site.forum, site.people
        closed = await forum.board("Ville Fermée", slug="fermee")  # closed once items are in
        async with forum.db.transaction() as tx:
            await moderation.add_board_moderator(tx, closed, people["mod_this_board"])
            for role in ("author", "group_member"):
                await boards.add_member(tx, closed, people[role].name, people["mod_this_board"])
            for user in people.values():
                await follows.set_state(tx, user.id, "board", closed.id, "follow")
        site.closed_board = closed
        site.control_thread, site.control_post = await site.forum.thread(
            site.board, site.people["author"], "Sujet public", "Premier message public.")
        await _log_in_everyone(site)
        await _build(site)
        yield site


# Channels ------------------------------------------------------------------------------------

def _b(site: Site, item: Item) -> str:
    """The slug of the item's board."""
    return item.board or site.board.slug


def _list_paths(site: Site) -> list[str]:
    """Every listing a visitor may load (warmed in the page cache before the changes)."""
    board = f"/b/{site.board.slug}"
    return [f"/t/{site.control_thread}", board, "/", f"/u/{site.people['author'].name}",
            "/feed.atom", f"{board}/feed.atom", f"/t/{site.control_thread}/feed.atom",
            "/watch", f"{board}/watch", "/watch/compare?a=matrice&b=voisine", "/watch/feed.atom",
            f"{board}/watch/feed.atom"]


Path_ = Callable[[Site, Item], str | None]
POSTS, THREADS, FINDINGS = {"post", "thread"}, {"thread"}, {"finding"}


@dataclass(frozen=True)
class Channel:
    kind: str  # "item", "list" or "public" (see the module's docstring)
    path: Path_  # where a role reads it, for this item (None: nothing to read)
    shows: set[str] = field(default_factory=lambda: {"post", "thread", "finding"})  # kinds


CHANNELS: dict[str, Channel] = {
    "thread page": Channel("list", lambda s, i: f"/t/{i.thread_id}"),
    "post permalink": Channel("item", lambda s, i: f"/p/{i.post_id}", POSTS),
    "board page": Channel("list", lambda s, i: f"/b/{_b(s, i)}", THREADS),
    "home page": Channel("list", lambda s, i: "/", THREADS),
    "profile": Channel("list", lambda s, i: f"/u/{s.people['author'].name}"),
    "api post": Channel("item", lambda s, i: f"/api/v1/posts/{i.post_id}", POSTS),
    "api thread": Channel("list", lambda s, i: f"/api/v1/threads/{i.thread_id}", POSTS),
    "api board threads": Channel(
        "list", lambda s, i: f"/api/v1/boards/{_b(s, i)}/threads", THREADS),
    "api findings": Channel("list", lambda s, i: "/api/v1/findings"),
    "api finding": Channel("item", lambda s, i: f"/api/v1/findings/{i.finding_id}", FINDINGS),
    "finding page": Channel("item", lambda s, i: f"/f/{i.finding_id}", FINDINGS),
    "city watch page": Channel("list", lambda s, i: f"/b/{_b(s, i)}/watch"),
    "national watch page": Channel("list", lambda s, i: "/watch"),
    "compare page": Channel("list", lambda s, i: f"/watch/compare?a={_b(s, i)}&b=voisine"),
    "search page": Channel("public", lambda s, i: f"/search?q={i.marker}"),
    "api search": Channel("public", lambda s, i: f"/api/v1/search?q={i.marker}"),
    "feed site": Channel("public", lambda s, i: "/feed.atom"),
    "feed board": Channel("public", lambda s, i: f"/b/{_b(s, i)}/feed.atom"),
    "feed thread": Channel("public", lambda s, i: f"/t/{i.thread_id}/feed.atom", POSTS),
    "feed findings": Channel("public", lambda s, i: "/watch/feed.atom"),
    "feed city findings": Channel("public", lambda s, i: f"/b/{_b(s, i)}/watch/feed.atom"),
    "export csv": Channel("public", lambda s, i: "/watch/findings.csv"),
    "export json": Channel("public", lambda s, i: "/watch/findings.json"),
    "export geojson": Channel("public", lambda s, i: "/watch/findings.geojson"),
    "city export csv": Channel("public", lambda s, i: f"/b/{_b(s, i)}/watch/findings.csv"),
    "notifications page": Channel("public", lambda s, i: "/notifications"),
    "api notifications": Channel("public", lambda s, i: "/api/v1/notifications"),
    "outbox": Channel("public", lambda s, i: "outbox"),
    "quote": Channel("list", lambda s, i: f"/t/{s.control_thread}/reply?quote={i.post_id}", POSTS),
    "api suggestions": Channel("public", lambda s, i: f"/api/v1/members?prefix={i.marker[:4]}"),
    "edit form": Channel("list", lambda s, i: f"/p/{i.post_id}/edit", POSTS),
    "finding edit form": Channel("list", lambda s, i: f"/f/{i.finding_id}/edit", FINDINGS),
    "revisions page": Channel("item", lambda s, i: f"/p/{i.post_id}/revisions", POSTS),
    "api revisions": Channel("item", lambda s, i: f"/api/v1/posts/{i.post_id}/revisions", POSTS),
    "file": Channel("item", lambda s, i: i.file_url, {"post"}),
    "thumbnail": Channel("item", lambda s, i: i.thumbnail_url, {"post"}),
    # Photos (issue 16): the copies of the srcset, and the viewer page (its title is the file's
    # name, the marker); its previous and next are checked by test_viewer_neighbours below.
    "photo size": Channel("item", lambda s, i: i.size_url, {"post"}),
    "photo viewer": Channel("item", lambda s, i: i.photo_url, {"post"}),
    # The same for everyone: reasons, never a private one nor what was refused or purged.
    "moderation journal": Channel("public", lambda s, i: "/moderation/journal"),
    "moderation journal feed": Channel("public", lambda s, i: "/moderation/journal.atom"),
    # What waits for a decision, for the board's moderators.
    "moderation queue": Channel("list", lambda s, i: "/moderation"),
    "api moderation queue": Channel("list", lambda s, i: "/api/v1/moderation/queue", POSTS),
    # Unread tracking: counted among the new posts of its thread, or marked as the first one.
    "unread counts": Channel(
        "list", lambda s, i: f"unread:{_b(s, i)}:{i.thread_id}:{i.post_id}", POSTS),
}
# Those that show findings (and, through their sources, posts' files).
FINDING_CHANNELS = {
    "api findings", "api finding", "finding page", "city watch page", "national watch page",
    "feed findings", "feed city findings", "export csv", "export json", "export geojson",
    "city export csv", "compare page", "finding edit form"}
EDIT_FORMS = {"edit form", "finding edit form"}
# Those that show threads by their titles only.
TITLE_CHANNELS = {"board page", "home page", "api board threads"}


def _control(channel: str) -> str:
    """The published item that shows in this channel."""
    if channel in FINDING_CHANNELS:
        return "published_finding"
    return "published_thread" if channel in TITLE_CHANNELS else "published"


# Channels where an item shows by its address rather than its text (a notification, a mail),
# or where its marker is echoed back (the search form holds the query).
BY_LINK = {"notifications page", "api notifications", "outbox", "search page"}
# Channels that show no marker of a public item: the home page lists boards with their counts
# (test_counts_… below), the national table sums cities, suggestions list pseudonyms.
NO_CONTROL = {"home page", "national watch page", "api suggestions", "compare page",
              "moderation journal", "moderation journal feed", *QUEUE}


async def _fetch(site: Site, role: str, path: str) -> tuple[int, str]:
    key = (role, path)
    if key not in site.fetched:
        if path.startswith("unread:"):
            site.fetched[key] = await _unread(site, role, path)
        elif path == "outbox":
            site.fetched[key] = (200, site.outbox.get(role, ""))
        else:
            response = await site.clients[role].get(path, allow_redirects=False)
            text = await response.text(errors="replace")
            if response.status in (301, 302, 303, 307) and path.startswith("/p/"):
                text = response.headers.get("Location", "")  # a permalink: where it leads
            site.fetched[key] = (response.status, text)
    return site.fetched[key]


async def _read_up_to(site: Site, role: str, thread_id: int, post_id: int) -> None:
    """The role's read mark in the thread, exactly (none in memory, where pages put theirs)."""
    log = site.forum.app[keys.READS]
    log.forget(log.batch())
    if role == "visitor":
        return
    async with site.forum.db.transaction() as tx:
        await tx.execute("delete from thread_reads where user_id = ? and thread_id = ?",
                         (site.people[role].id, thread_id))
        await tx.execute("insert into thread_reads (user_id, thread_id, last_read_post_id)"
                         " values (?, ?, ?)", (site.people[role].id, thread_id, post_id))
        tx.changed("reads", site.people[role].id)  # as models/reads.py: the floors kept drop


async def _unread_count(site: Site, role: str, slug: str, thread_id: int) -> tuple[int, int]:
    response = await site.clients[role].get(f"/b/{slug}", allow_redirects=False)
    found = re.search(rf'href="/t/{thread_id}/unread">(\d+)', await response.text())
    return response.status, int(found.group(1)) if found else 0


async def _unread(site: Site, role: str, path: str) -> tuple[int, str]:
    """Whether the post counts as new to the role ("seen"): read just before it, the board's
    count for its thread is one more than read up to it; or the jump to the first new post
    lands on the marker placed right before it."""
    _, slug, thread, post = path.split(":")
    thread_id, post_id = int(thread), int(post)
    await _read_up_to(site, role, thread_id, post_id - 1)
    status, before = await _unread_count(site, role, slug, thread_id)
    client = site.clients[role]
    jump = await client.get(f"/t/{thread_id}/unread", allow_redirects=False)
    page = ""
    if jump.status == 302:
        page = await (await client.get(jump.headers["Location"].split("#")[0])).text()
    marked = re.search(rf'id="unread">.*?</p>\s*<article[^>]* id="p{post_id}"', page, re.S)
    await _read_up_to(site, role, thread_id, post_id)
    _, after = await _unread_count(site, role, slug, thread_id)
    return status, "seen" if before > after or marked else ""


def _shows(item: Item, channel: str, path: str, status: int, text: str) -> bool:
    if path.startswith("unread:"):
        return text == "seen"
    if item.version and channel != "search page":
        # The item is public: only its marker (in one of its versions) tells.
        return status < 300 and item.marker in text
    if path.startswith("/files/"):
        return status == 200
    if status >= 400 or (status in (301, 302, 303) and not path.startswith("/p/")):
        return False
    if path.startswith("/p/") and path.count("/") == 2:
        return status in (301, 302, 303) and f"#p{item.post_id}" in text
    if item.marker in text and channel not in BY_LINK:
        return True
    if channel == "api notifications":
        told = json.loads(text)["notifications"]
        return any((item.kind != "finding" and notification["post_id"] == item.post_id)
                   or (item.finding_id and notification["finding_id"] == item.finding_id)
                   for notification in told)
    if channel in BY_LINK:
        links = [f"/p/{item.post_id}"] if item.kind in ("post", "thread") else []
        links += [f"/f/{item.finding_id}"] if item.finding_id else []
        if item.kind == "thread":
            links.append(f"/t/{item.thread_id}")
        return any(re.search(re.escape(link) + r"(?![0-9])", text) for link in links)
    return False


def _cases() -> list[Any]:
    cases = []
    for state in [*SEES, *VERSION_STATES]:
        kind = (state.split("_")[0] if state in SEES and state != "published"
                else VERSION_STATES[state][0] if state in VERSION_STATES else None)
        for role in ROLES:
            for channel in CHANNELS:
                if kind is not None and kind not in CHANNELS[channel].shows:
                    continue
                if state in VERSION_STATES and channel in ("post permalink", "file",
                                                           "thumbnail", "photo size",
                                                           "photo viewer", "unread counts"):
                    continue  # the public item's own: they hold no version's text
                cases.append(pytest.param(state, role, channel,
                                          id=f"{state}×{role}×{channel}"))
    return cases


def _allowed(state: str, role: str) -> set[str]:
    return SEES[state] if state in SEES else VERSION_STATES[state][1]


@pytest.mark.parametrize(("state", "role", "channel"), _cases())
async def test_leak_matrix(site: Site, state: str, role: str, channel: str) -> None:
    item = site.items[_control(channel) if state == "published" else state]
    kind, path = CHANNELS[channel].kind, CHANNELS[channel].path(site, item)
    # (Post items stay in the findings' channels: those name their sources' files.)
    if path is None or (channel in TITLE_CHANNELS and item.kind != "thread"):
        pytest.skip("this channel does not show this kind of item")
    status, text = await _fetch(site, role, path)
    seen = _shows(item, channel, path, status, text)
    allowed = role in _allowed(state, role)
    if state == "published":
        if channel in NO_CONTROL or (channel in BY_LINK - {"search page"} and role == "author"):
            return  # the author is not told about her own post
        if role in ("visitor", "banned_admin") and channel in (
                "quote", "notifications page", "api notifications", "outbox"):
            return  # members' pages (a banned member may not reply)
        if channel in EDIT_FORMS and role not in {"author", *MODERATORS}:
            return  # only its author and its moderators may edit it
        if channel == "unread counts" and role in ("visitor", "author"):
            return  # visitors see nothing of it, and one's own posts are never new
        assert seen, f"the control does not show in {channel} ({path}) for {role}: {status}"
        return
    if state in VERSION_STATES:
        # Where its author and moderators must find it; elsewhere, nobody else sees it. (The
        # queue is the moderators' own: its author is told on her pages, not there — the
        # matrix first expected her to find it in the queue too.)
        required = VERSION_STATES[state][2] - (set() if role in MODERATORS else QUEUE)
        expected: bool | None = allowed if channel in required else (
            False if not allowed else None)
    elif (state, channel) == ("post_deleted", "post permalink"):
        expected = None  # leads to its tombstone: the text is checked there
    elif state in CLOSED_STATES and channel in MEMBER_CHANNELS:
        expected = False if not allowed else None
    elif kind == "public":
        expected = False if (state, role) not in PERSONAL else None
    elif kind == "list":
        expected = False if not allowed else None
    else:
        expected = allowed
    if expected is None or seen == expected:
        return
    what = "sees" if seen else "does not see"
    pytest.fail(f"{role} {what} a {state} item in {channel} ({path}, HTTP {status})")


# Beside the matrix ---------------------------------------------------------------------------

async def test_search_index_holds_exactly_the_readable_posts(site: Site) -> None:
    """The index's triggers spell the rule in SQL (0003_search.sql): they agree with Python."""
    async with site.forum.db.read() as conn:
        indexed = {row[0] for row in await conn.all("select id from search_docs")}
        readable = {row[0] for row in await conn.all(
            "select posts.id from posts join threads on threads.id = posts.thread_id"
            f" where {indexed_post()}")}
    assert indexed == readable
    assert site.items["post_pending"].post_id not in indexed
    # Closed boards' posts are indexed (their readers search them); searches leave them out
    # for everyone else (the matrix's search channels).
    assert site.items["post_closed_board"].post_id in indexed


async def test_viewer_neighbours_are_the_photos_each_role_may_see(site: Site) -> None:
    """The viewer page's previous and next lead, for each role, through exactly the photos of
    the control thread's posts that this role may see (never to a pending, refused, hidden or
    deleted post's photo for anyone else)."""
    photos = {int(item.photo_url.rsplit("/", 1)[1]): state for state, item in site.items.items()
              if item.photo_url and item.thread_id == site.control_thread and state in SEES
              and item.kind == "post"}
    assert {"published", "post_pending", "post_deleted"} <= set(photos.values())
    start = site.items["published"].photo_url
    for role in ROLES:
        reached = set()
        for rel in ("prev", "next"):
            path = start
            for _step in range(50):
                status, text = await _fetch(site, role, path)
                assert status == 200, (role, path)
                reached.add(int(path.rsplit("/", 1)[1]))
                found = re.search(rf'href="(/photos/\d+)" rel="{rel}"', text)
                if found is None:
                    break
                path = found.group(1)
        expected = {pid for pid, state in photos.items() if role in SEES[state]}
        assert reached & set(photos) == expected, role


async def test_counts_on_board_and_home_pages_hold_public_posts_only(site: Site) -> None:
    async with site.forum.db.read() as conn:
        public = await conn.value(
            "select count(*) from posts join threads on threads.id = posts.thread_id"
            f" where threads.board_id = ? and {public_post()}", (site.board.id,))
        stored = await conn.one("select post_count, thread_count from boards where id = ?",
                                (site.board.id,))
    # The public threads' first posts, the published reply and the deleted one's tombstone
    # (the thread page shows where it stood); neither pending, refused nor hidden posts. And
    # the four public posts of VERSION_STATES (an edit waiting, refused then approved,
    # corrected then approved, purged): their private versions add nothing.
    assert stored[0] == public == 8
    assert stored[1] == 2  # the pending thread is not counted
    body = await (await site.clients["visitor"].get("/")).text()
    assert "2 sujets · 8 messages" in " ".join(body.split())


async def test_queue_badge_counts_what_the_queue_lists(site: Site) -> None:
    """Pending posts and findings, flagged posts, waiting edits and finding corrections, for
    board moderators too."""
    for role in ("mod_this_board", "global_mod"):
        async with site.forum.db.read() as conn:
            user = await users.get(conn, site.people[role].id)
            # (The queue page lists the waiting corrections of findings too: the badge counts
            # them, and this sum first left them out.)
            listed = (len(await moderation.queue(conn, user))
                      + len(await findings.pending(conn, user))
                      + len(await findings.pending_edits(conn, user)))
        # The pending post and thread, the flagged post, the edit waiting, the pending finding
        # and the finding's correction waiting.
        assert listed >= 6
        body = await (await site.clients[role].get("/moderation")).text()
        badge = re.search(r'href="/moderation">[^<]*<span class="count"[^>]*>(\d+)</span>',
                          body)
        assert badge and int(badge.group(1)) == listed, (role, listed, badge)
    body = await (await site.clients["mod_other_board"].get("/")).text()
    assert 'href="/moderation">Modération</a>' in body  # nothing waits in their board


async def test_sql_filters_agree_with_can_for_every_item_and_role(site: Site) -> None:
    """permissions.py spells each rule twice, for one object (can) and for a query (filters)."""
    async with site.forum.db.read() as conn:
        for role in ROLES:
            user = None if role == "visitor" else await users.get(conn, site.people[role].id)
            # The action, the query of every item, its filter, how to load one.
            rules = (
                ("see_post", "select p.id from posts as p join threads as t on t.id = p.thread_id",
                 post_filter(user, "p", "t", tombstones=True), posts.get),
                ("see_thread", "select t.id from threads as t", thread_filter(user, "t"),
                 threads.get),
                ("see_finding", "select f.id from findings as f", finding_filter(user, "f"),
                 findings.get))
            for action, every, (where, params), load in rules:
                listed = {row[0] for row in await conn.all(f"{every} where {where}", params)}
                for (item_id,) in await conn.all(every):
                    item = await load(conn, item_id)
                    assert (item_id in listed) == can(user, action, item), (role, action, item_id)


async def test_search_never_shows_an_unreadable_post_even_if_the_index_held_it(
        site: Site) -> None:
    """Should the index ever drift from the rule, the rows shown are checked again."""
    item = site.items["post_pending"]
    async with site.forum.db.transaction() as tx:
        await tx.execute(
            "insert into search_docs (id, board_id, author_id, created_at, title, body)"
            " select posts.id, threads.board_id, posts.author_id, posts.created_at, '',"
            " posts.body_source from posts join threads on threads.id = posts.thread_id"
            " where posts.id = ?", (item.post_id,))
    try:
        response = await site.clients["visitor"].get(f"/api/v1/search?q={item.marker}")
        assert response.status == 200
        assert item.marker not in await response.text()
    finally:
        async with site.forum.db.transaction() as tx:
            await tx.execute("delete from search_docs where id = ?", (item.post_id,))


async def test_purged_versions_leave_no_byte_in_the_database_file(site: Site) -> None:
    """A purge erases the text from the rows, the search index, notifications and the outbox,
    and secure_delete zeroes the pages freed: after a checkpoint, the file holds no byte of
    it (the matrix above searched for it too: no query is kept either)."""
    if site.forum.config.database_url:
        pytest.skip("reads SQLite's file (PostgreSQL's own files: not checked yet)")
    async with site.forum.db.transaction() as tx:
        await tx.execute("select 1")
    path = site.forum.config.db_path
    conn = sqlite3.connect(path)
    try:
        conn.execute("pragma wal_checkpoint(truncate)")
    finally:
        conn.close()
    stored = b"".join(file.read_bytes() for file in path.parent.iterdir()
                      if file.name.startswith(path.name)).lower()
    assert marker("published").encode() in stored  # the check can see a marker
    for state in ("post_purged", "finding_purged"):
        found = marker(state).encode()
        where = [stored[max(0, at - 80):at + 40] for at in _offsets(stored, found)]
        assert not where, (state, await _tables_holding(site, marker(state)), where[:5])


def _offsets(data: bytes, sought: bytes) -> list[int]:
    found, at = [], data.find(sought)
    while at >= 0:
        found.append(at)
        at = data.find(sought, at + 1)
    return found


async def _tables_holding(site: Site, text: str) -> list[str]:
    """Which tables still hold a text (for the failure's message)."""
    holding = []
    async with site.forum.db.read() as conn:
        for (table,) in await conn.all("select name from sqlite_master where type = 'table'"):
            columns = [row[1] for row in await conn.all(f"pragma table_info('{table}')")]
            if columns and await conn.value(
                    f"select count(*) from \"{table}\" where instr(lower("
                    + " || ' ' || ".join(f"coalesce(\"{c}\", '')" for c in columns)
                    + "), ?) > 0", (text,)):
                holding.append(table)
    return holding


async def test_suggestions_are_for_members_only(site: Site) -> None:
    """@-suggestions list pseudonyms by prefix: a visitor could page through every member of a
    surveillance watch; only members, who have an editor, get them."""
    response = await site.clients["visitor"].get("/api/v1/members?prefix=au")
    assert response.status in (401, 403)
    assert "members" not in await response.json()
    response = await site.clients["trusted"].get("/api/v1/members?prefix=au")
    assert response.status == 200
    assert "author" in (await response.json())["members"]


async def test_mentions_come_only_from_published_versions(site: Site) -> None:
    """The never-public versions of VERSION_STATES name every member (the matrix looks for
    their marker; a mention tells by a link instead): none of them was told. Their public
    versions name nobody."""
    post_ids = [site.items[state].post_id for state in (
        "post_edit_waiting", "post_version_refused", "post_corrected_before_approval")]
    async with site.forum.db.read() as conn:
        told = await conn.all(
            "select post_id, kind, user_id from notifications where kind in ('mention', 'quote')"
            f" and post_id in ({', '.join('?' * len(post_ids))})", tuple(post_ids))
        # The control: the purged post was public with its mentions, they were told.
        mentioned = await conn.value(
            "select count(*) from notifications where kind = 'mention' and post_id = ?",
            (site.items["post_purged"].post_id,))
    assert [tuple(row) for row in told] == []
    assert mentioned == len(ROLES) - 2  # all but the visitor and the author


async def test_kept_member_pages_are_what_each_role_would_get_rendered_afresh(site: Site) -> None:
    """Members' pages are kept per capability class (forum/fragments.py: ReaderPage): served
    from memory in any order, each role's page (threads, board, home, notifications) is byte
    for byte the one rendered for it alone (no moderator's tools, another author's pending post
    or refused reason, another member's notifications). Reading a thread moves its reader's
    unread marker (issue 16): here nobody's reads move, so that each page stays the same."""
    cache = site.forum.app[keys.PAGE_CACHE]
    paths = sorted({f"/t/{item.thread_id}" for item in site.items.values() if item.thread_id})
    assert len(paths) > 1
    paths += ["/", f"/b/{site.board.slug}", f"/b/{site.other_board.slug}", "/notifications",
              # The queue (kept by value per moderators' class) and the watch pages (per class,
              # its pending findings' authors apart): issue 15.
              "/moderation", "/watch", f"/b/{site.board.slug}/watch",
              "/watch/compare?a=matrice&b=voisine"]
    log = site.forum.app[keys.READS]
    log.forget(log.batch())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(log, "seen", lambda *_: None)
        await _compare_kept_and_fresh(site, cache, paths)


async def _compare_kept_and_fresh(site: Site, cache: Any, paths: list[str]) -> None:
    """Each role's page and its validator, kept or not (a member's bits are kept encoded with
    their session between writes: ReaderPage.assemble), as rendered for that role alone."""
    kept_by_value = site.forum.app[keys.FRAGMENTS]  # the queue's (templating.page_by_value)
    for path in paths:
        fresh = {}
        for role in ROLES:
            cache.invalidate({ALL})  # nothing kept: rendered for this role alone
            kept_by_value.invalidate({ALL})
            response = await site.clients[role].get(path, allow_redirects=False)
            fresh[role] = (response.status, await response.text(), response.headers.get("ETag"))
        cache.invalidate({ALL})
        kept_by_value.invalidate({ALL})
        for role in (*ROLES, *reversed(ROLES), *ROLES[1::2], *ROLES[::2]):
            response = await site.clients[role].get(path, allow_redirects=False)
            found = (response.status, await response.text(), response.headers.get("ETag"))
            assert found == fresh[role], (role, path)
        pages = {(text, etag) for _status, text, etag in fresh.values() if etag}
        assert len({etag for _text, etag in pages}) == len(pages), path  # one per page


# Records requests (models/requests.py): a block of its own, on a site of its own -------------
# A pending and a refused request, each with its marker in its administration, documents and
# letter's file name, beside a published control; every role, through every channel that shows
# requests. Written from the promise (a request is moderated like a post), not from
# permissions.request_filter.

REQUEST_SEES: dict[str, set[str]] = {
    "request_published": set(ROLES),
    "request_pending": {"author", *MODERATORS},
    "request_refused": {"author", *MODERATORS},
}
# channel -> (kind, path from the request's id, its letter's file address and its city's slug)
REQUEST_CHANNELS: dict[str, tuple[str, Callable[[int, str, str], str]]] = {
    "request page": ("item", lambda r, f, s: f"/r/{r}"),
    "api request": ("item", lambda r, f, s: f"/api/v1/requests/{r}"),
    "letter file": ("item", lambda r, f, s: f),
    "city requests page": ("list", lambda r, f, s: f"/b/{s}/requests"),
    "national requests page": ("list", lambda r, f, s: "/requests"),
    "api requests": ("list", lambda r, f, s: "/api/v1/requests"),
    "api city requests": ("list", lambda r, f, s: f"/api/v1/requests?city={s}"),
    "notifications page": ("list", lambda r, f, s: "/notifications"),
    "outbox": ("list", lambda r, f, s: "outbox"),
    "city requests CSV": ("public", lambda r, f, s: f"/b/{s}/requests.csv"),
    "city requests JSON": ("public", lambda r, f, s: f"/b/{s}/requests.json"),
    "national requests CSV": ("public", lambda r, f, s: "/requests.csv"),
    "national requests JSON": ("public", lambda r, f, s: "/requests.json"),
    # What waits for a decision, for the city's moderators (never a published request).
    "moderation requests page": ("list", lambda r, f, s: "/moderation/requests"),
    "api moderation requests": ("list", lambda r, f, s: "/api/v1/moderation/requests"),
}
REQUEST_QUEUES = {"moderation requests page", "api moderation requests"}


@dataclass
class RequestSite:
    site: Site
    ids: dict[str, int]
    files: dict[str, str]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def request_site(tmp_path_factory, module_databases) -> AsyncIterator[RequestSite]:
    # Imported here, not at the top: the block stays apart from the shared import list (merge).
    from forum.models import request_drafts
    from forum.models import requests as records
    from forum.views.requests import tell_deadlines

    # No closed board in this block (its own site): the other board stands in.
    async with _matrix_site(tmp_path_factory.mktemp("request-leaks"), await module_databases(),
                            ("Ville Demandes", "demandes"), ("Ville Autre", "autre")) as site:
        await _log_in_everyone(site)
        forum, people, clients, board = site.forum, site.people, site.clients, site.board
        for path in ("/b/demandes/requests", "/requests", "/requests.csv",
                     "/b/demandes/requests.json"):  # cached before the changes
            assert (await clients["visitor"].get(path)).status == 200
        ids, files = {}, {}
        token = await forum.token(people["author"])
        sent_on = date.fromordinal(date.today().toordinal() - 45).isoformat()
        for state, review in (("request_published", "published"),
                              ("request_pending", "pending"), ("request_refused", "pending")):
            made = await uploaded(forum.client, token, f"{marker(state)}.jpg", jpeg_with_gps(),
                                  "image/jpeg")
            async with forum.db.transaction() as tx:
                checked = request_drafts.check_new({
                    "administration": f"Mairie {marker(state)}", "channel": "mail",
                    "documents": f"Plan {marker(state)}", "sent_on": sent_on}, date.today())
                ids[state] = await records.create(tx, board, people["author"], checked, review,
                                                  [made["id"]])
            files[state] = f"/files/{made['id']}/{made['filename']}"
        async with forum.db.transaction() as tx:
            await records.reject(tx, await records.get(tx, ids["request_refused"]),
                                 people["mod_this_board"], "Refusée pour la matrice",
                                 private=True)
        assert await tell_deadlines(forum.app) > 0  # a month of silence: everyone is told
        await _read_mail(site)
        yield RequestSite(site, ids, files)


def _request_cases() -> list[Any]:
    return [pytest.param(state, role, channel, id=f"{state}×{role}×{channel}")
            for state in REQUEST_SEES for role in ROLES for channel in REQUEST_CHANNELS]


@pytest.mark.parametrize(("state", "role", "channel"), _request_cases())
async def test_request_leak_matrix(request_site: RequestSite, state: str, role: str,
                                   channel: str) -> None:
    site, request_id = request_site.site, request_site.ids[state]
    kind, make_path = REQUEST_CHANNELS[channel]
    path = make_path(request_id, request_site.files[state], site.board.slug)
    status, text = await _fetch(site, role, path)
    if path.startswith("/files/"):
        shown = status == 200
    else:
        shown = status < 300 and (marker(state) in text or re.search(
            rf"/r/{request_id}(?![0-9])", text) is not None)
    allowed = role in REQUEST_SEES[state]
    if kind == "public":
        allowed = state == "request_published"
    if kind == "item" or (state == "request_published" and kind != "list"):
        assert shown == allowed, (path, status)
    elif not allowed:
        assert not shown, (path, status)
    if state == "request_published" and channel not in ("notifications page", "outbox",
                                                        *REQUEST_QUEUES):
        assert shown, (path, status)  # the control: the channel does show requests
    if state == "request_pending" and channel in REQUEST_QUEUES:
        # The queue's control: those who decide on it find it there.
        assert shown == (role in {"mod_this_board", "global_mod", "admin"}), (path, status)


# Document text (issue 18) ---------------------------------------------------------------------
# A separate block: the words inside attached files are searched with the reader's own
# visibility (models/documents.py). Each post state gets a text file by its author, whose text
# holds a marker of its own, attached to that state's post; every role searches it through the
# search page (default and type=documents) and the API, the documents found counted too (closed
# boards: their tags say nothing of it). As the "list" channels above: a role
# that may not see the post never finds its file; the published control is found by everyone.

DOCUMENT_STATES = ("published", "post_pending", "post_refused", "post_hidden_by_flags",
                   "post_deleted", "thread_pending", "post_closed_board",
                   "post_board_closed_later")
DOCUMENT_CHANNELS: dict[str, Callable[[str], str]] = {
    "document search page": lambda word: f"/search?q={word}&type=documents",
    "search page with documents": lambda word: f"/search?q={word}",
    "api document search": lambda word: f"/api/v1/search?q={word}&type=documents",
    "api search with documents": lambda word: f"/api/v1/search?q={word}",
}


def document_marker(state: str) -> str:
    return "zqdoc" + state.replace("_", "") + "mark"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def document_files(site: Site) -> dict[str, int]:
    """state -> the id of a text file attached (beside its photo) to that state's post."""
    token = await site.forum.token(site.people["author"])
    made = {}
    for state in DOCUMENT_STATES:
        item = site.items[state]
        upload = await uploaded(site.forum.client, token, f"texte-{state}.txt",
                                f"Compte rendu {document_marker(state)} du conseil".encode(),
                                "text/plain")
        async with site.forum.db.transaction() as tx:
            ids = [row[0] for row in await tx.all(
                "select upload_id from post_attachments where post_id = ? order by position",
                (item.post_id,))]
            await upload_models.attach(tx, item.post_id, site.people["author"].id,
                                       [*ids, upload["id"]], 10, 10**9)
        made[state] = upload["id"]
    return made


@pytest.mark.parametrize(("state", "role", "channel"), [
    pytest.param(state, role, channel, id=f"{state}×{role}×{channel}")
    for state in DOCUMENT_STATES for role in ROLES for channel in DOCUMENT_CHANNELS])
async def test_document_text_is_found_only_by_who_may_see_its_post(
        site: Site, document_files: dict[str, int], state: str, role: str,
        channel: str) -> None:
    upload_id = document_files[state]
    status, text = await _fetch(site, role, DOCUMENT_CHANNELS[channel](document_marker(state)))
    assert status == 200, text
    if channel.startswith("api"):
        found = json.loads(text)
        # Counted is seen too: the marker is in this file only, a count would tell it exists.
        seen = found["documents_total"] > 0 or upload_id in [
            hit["upload_id"] for hit in found["documents"]]
    else:
        # The count too, on the page: "1 document found" above no hit tells the file exists.
        counted = re.search(r'id="documents-heading">\s*([1-9])', text) is not None
        seen = counted or re.search(rf'href="/files/{upload_id}/[^"#]*#?[^"]*"', text) is not None
    if state == "published":
        assert seen, f"the control document is not found in {channel} by {role}"
    elif role not in SEES[state]:
        assert not seen, f"{role} finds the file of a {state} item in {channel}"


async def test_unread_channel_counts_what_the_role_may_see(site: Site) -> None:
    """The channel is not blind: a pending reply is new to the board's moderators only."""
    item = site.items["post_pending"]
    path = f"unread:{site.board.slug}:{item.thread_id}:{item.post_id}"
    assert (await _unread(site, "mod_this_board", path))[1] == "seen"
    assert (await _unread(site, "trusted", path))[1] == ""


async def test_unread_kept_for_one_role_never_answers_another(site: Site) -> None:
    """Unread counts are kept across writes (forum/reads.py: KeptUnread): each role's unread
    channel, for every post and thread item, answers the same with nothing kept as after every
    other role asked the same question (their counts kept, under the same floors)."""
    kept = site.forum.app[keys.UNREAD]
    members = [role for role in ROLES if role != "visitor"]
    for state, item in sorted(site.items.items()):
        if item.kind not in ("post", "thread") or item.version or item.post_id is None:
            continue
        path = f"unread:{_b(site, item)}:{item.thread_id}:{item.post_id}"
        alone = {}
        for role in members:
            kept.invalidate({ALL})
            alone[role] = await _unread(site, role, path)
        for role in members:  # every role's counts kept, then asked again in another order
            assert await _unread(site, role, path) == alone[role], (state, role)
        assert len(kept.counts) > 0
        for role in reversed(members):
            assert await _unread(site, role, path) == alone[role], (state, role)
