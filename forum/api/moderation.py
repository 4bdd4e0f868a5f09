"""Moderation in JSON: the queue, decisions on pending posts, flags, and thread tools.

The same models and permission checks as the pages (forum/views/moderation.py): 404 for a post
or thread the moderator may not see, 403 for one they see but whose board they do not moderate.
Each decision reads its post inside the write transaction, so that of two moderators acting at
once the second finds it decided (409) and nothing is applied twice.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from forum import keys
from forum.api import (
    board_slug,
    fresh_post_json,
    id_param,
    json_body,
    page_param,
    post_json,
    revision_json,
    text_field,
    thread_json,
)
from forum.api.boards import moved_thread
from forum.db import Transaction
from forum.errors import Forbidden, Invalid, NotFound, Unauthorized
from forum.handlers import require_writer
from forum.i18n import gettext
from forum.models import boards, moderation, posts, targets, threads, uploads
from forum.models.uploads import Upload
from forum.models.users import User
from forum.permissions import can

QUEUE_LIMIT = 50  # the oldest items; the rest show once these are decided


def _require_moderator(request: web.Request) -> User:
    """A member who moderates some board; the queue's existence is not told to others (404)."""
    if request.get(keys.USER) is None:  # require_user would redirect a GET to the login page
        raise Unauthorized("You need to log in.")
    user = require_writer(request)
    if not can(user, "moderate_any"):
        raise NotFound()
    return user


def _queue_item(item: moderation.QueueItem, board: boards.Board, viewer: User,
                files: dict[int, list[Upload]]) -> dict[str, Any]:
    return {
        "post": post_json(item.post, viewer, files.get(item.post.id, [])),
        "thread": {"id": item.post.thread_id, "title": item.thread_title},
        "board": {"slug": board.slug, "name": board.name},
        "previous": post_json(item.previous, viewer, files.get(item.previous.id, []))
        if item.previous else None,
        "author": {"name": item.post.author_name, "approved": item.author_approved,
                   "rejected": item.author_rejected, "since": item.author_since},
        "flags": [{"by": flag.user_name, "reason": flag.reason, "created_at": flag.created_at}
                  for flag in item.flags],
        "pending_edit": revision_json(item.pending_edit) if item.pending_edit else None,
    }


async def queue(request: web.Request) -> web.Response:
    """GET /api/v1/moderation/queue?board=slug: pending and flagged posts, oldest first."""
    user = _require_moderator(request)
    slug = request.query.get("board")
    async with request.app[keys.DB].read() as conn:
        board_id = None
        if slug is not None:  # "" too is a board that does not exist
            # As on the page, a board the member does not moderate just has nothing for them.
            board_id = (await boards.get_readable(conn, board_slug(slug), user)).id
        items = await moderation.queue(conn, user, board_id, limit=QUEUE_LIMIT)
        by_id = {board.id: board for board in await boards.list_all(conn)}
        files = await uploads.for_posts(conn, [p.id for item in items
                                               for p in (item.post, item.previous) if p])
    return web.json_response({"items": [
        _queue_item(item, by_id[item.post.board_id], user, files) for item in items]})


async def reasons(request: web.Request) -> web.Response:
    """GET /api/v1/moderation/reasons: the reasons to pick from, in the reader's language."""
    _require_moderator(request)
    return web.json_response({"reasons": [gettext(reason)
                                          for reason in moderation.REJECT_REASONS]})


async def approve(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/approve: publish in place; the post as it now is."""
    user = require_writer(request)
    post_id = id_param(request)
    async with request.app[keys.DB].transaction() as tx:
        post = await targets.post_to_moderate(tx, post_id, user)
        await moderation.approve(tx, post, user)
        shown = await fresh_post_json(tx, post.id, user)
    return web.json_response(shown)


async def refusal(request: web.Request) -> tuple[str, bool]:
    """A refusal's body (RejectInput), for posts, findings and records requests: its reason
    (required and cut to length by the models: 422) and whether it stays out of the public
    journal."""
    data = await json_body(request, "RejectInput")
    return text_field(data, "reason"), data.get("private", False) is True


async def reject(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/reject {reason, private?}: refuse, the author told."""
    user = require_writer(request)
    post_id = id_param(request)
    reason, private = await refusal(request)
    async with request.app[keys.DB].transaction() as tx:
        post = await targets.post_to_moderate(tx, post_id, user)
        await moderation.reject(tx, post, user, reason, private=private)
        shown = await fresh_post_json(tx, post.id, user)
    return web.json_response(shown)


async def edit_and_approve(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/edit-and-approve {body, note?}: correct, then publish.

    The version corrected stays in the history, seen only by the author and the moderators;
    the edit and the approval are both in the journal.
    """
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    post_id = id_param(request)
    data = await json_body(request, "CorrectionInput")
    body = text_field(data, "body")
    note = text_field(data, "note")
    async with request.app[keys.DB].transaction() as tx:
        await targets.post_to_moderate(tx, post_id, user)
        post = await moderation.correct_and_approve(tx, post_id, user, body, config.body_max,
                                                    config.mentions_max, note=note)
        shown = await fresh_post_json(tx, post.id, user)
    return web.json_response(shown)


async def purge_version(request: web.Request, purge: Any) -> web.Response:
    """POST …/{id}/revisions/{revision}/purge, for posts and findings alike: erase a version's
    text everywhere it was copied (`purge(tx, id, moderator, revision)` checks who may); the
    journal says only that a version was purged. 204; 404 for whoever may not purge it."""
    user = require_writer(request)
    target_id, revision_id = id_param(request), id_param(request, "revision")
    async with request.app[keys.DB].transaction() as tx:
        await purge(tx, target_id, user, revision_id)
    return web.Response(status=204)


async def _purge_post(tx: Transaction, post_id: int, user: User, revision_id: int) -> None:
    post = await targets.post_to_purge(tx, post_id, user)
    await moderation.purge_post_version(tx, post, user, revision_id)


async def purge_post_version(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/revisions/{revision}/purge."""
    return await purge_version(request, _purge_post)


@contextlib.contextmanager
def reason_required(message: str) -> Iterator[None]:
    """Deleting another's text without a reason: 403 naming `reason` (not 422: the request is
    well formed, the act is not allowed without one), for posts and findings alike."""
    try:
        yield
    except Invalid as error:
        if error.field != "reason":
            raise
        raise Forbidden(message, field="reason") from None


async def flag_post(request: web.Request) -> web.Response:
    """POST /api/v1/posts/{id}/flags {reason}: report a post to the moderators; 201."""
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    post_id = id_param(request)
    reason = text_field(await json_body(request, "FlagInput"), "reason")
    async with request.app[keys.DB].transaction() as tx:
        post = await targets.post_to_flag(tx, post_id, user)
        await moderation.flag(tx, post, user, reason, config.flags_to_hide,
                              config.trust_threshold)
        post = await posts.get(tx, post.id)
    return web.json_response({"post_id": post.id, "hidden": post.hidden}, status=201)


async def thread_state(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/threads/{id}/{lock,unlock,pin,unpin,hide,show} {reason?}: the
    action its route names (lock: no more replies but from moderators; pin: first in its
    board; hide: out of every list, page, feed and search); the thread as it now is."""
    action = str(request.match_info.route.name).removeprefix("api_moderation_")
    user = require_writer(request)
    thread_id = id_param(request)
    data = await json_body(request, "ThreadActionInput", optional=True)
    async with request.app[keys.DB].transaction() as tx:
        thread = await targets.thread_to_moderate(tx, thread_id, user)
        await moderation.set_thread_state(tx, thread, user, action, text_field(data, "reason"))
        thread = await threads.get(tx, thread.id)
    return web.json_response(thread_json(thread))


async def _decide_on_post(request: web.Request, decide: Any) -> web.Response:
    """A decision about a post with an optional reason {reason?}: the post as it now is."""
    user = require_writer(request)
    post_id = id_param(request)
    reason = text_field(await json_body(request, "ThreadActionInput", optional=True), "reason")
    async with request.app[keys.DB].transaction() as tx:
        await decide(tx, await targets.post_to_moderate(tx, post_id, user), user, reason)
        shown = await fresh_post_json(tx, post_id, user)
    return web.json_response(shown)


async def dismiss_flags(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/dismiss-flags {reason?}: the flags were unfounded;
    the post shows again. 409 when there is nothing to dismiss."""
    return await _decide_on_post(request, moderation.dismiss_flags)


async def restore_post(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/restore {reason?}: a deleted post back (409 if it
    is not deleted)."""
    return await _decide_on_post(request, moderation.restore_post)


async def move_thread(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/threads/{id}/move {board, reason?, confirm?}: deprecated for
    POST /api/v1/threads/{id}/move, the same move (api/boards.moved_thread); the thread as it
    now is, and a plain 409 where that one says what would become public."""
    moved, _shown = await moved_thread(request)
    if moved is None:
        raise moderation.NotConfirmed()
    return web.json_response(thread_json(moved))


async def journal(request: web.Request) -> web.Response:
    """GET /api/v1/moderation/journal?page=n: the public journal, newest first (private
    reasons left out), as /moderation/journal."""
    per_page = request.app[keys.CONFIG].journal_per_page
    page = page_param(request)
    async with request.app[keys.DB].read() as conn:
        pages = max(1, -(-await moderation.journal_size(conn) // per_page))
        if page > pages:
            raise NotFound()
        entries = await moderation.journal(conn, page, per_page)
    return web.json_response({"entries": [{
        "id": entry.id, "moderator": entry.moderator_name, "action": entry.action,
        "target_kind": entry.target_kind, "target_id": entry.target_id,
        "board": entry.board_name, "reason": entry.reason, "created_at": entry.created_at}
        for entry in entries], "page": page, "pages": pages})
