"""Moderation in JSON: the queue, decisions on pending posts, flags, and thread tools.

The same models and permission checks as the pages (forum/views/moderation.py): 404 for a post
or thread the moderator may not see, 403 for one they see but whose board they do not moderate.
Each decision reads its post inside the write transaction, so that of two moderators acting at
once the second finds it decided (409) and nothing is applied twice.
"""
from __future__ import annotations

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
from forum.errors import Invalid, NotFound, Unauthorized
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


async def reject(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/reject {reason, private?}: refuse, the author told."""
    user = require_writer(request)
    post_id = id_param(request)
    data = await json_body(request, "RejectInput")
    reason = text_field(data, "reason")  # required and cut to length by the model (422)
    private = data.get("private", False)
    if not isinstance(private, bool):
        raise Invalid("This field is true or false.", field="private")
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


async def purge_post_version(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/revisions/{revision}/purge: erase a version's text
    everywhere it was copied; the journal says only that a version was purged. 204."""
    user = require_writer(request)
    post_id, revision_id = id_param(request), id_param(request, "revision")
    async with request.app[keys.DB].transaction() as tx:
        post = await targets.post_to_purge(tx, post_id, user)
        await moderation.purge_post_version(tx, post, user, revision_id)
    return web.Response(status=204)


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


async def _set_thread_state(request: web.Request, action: str) -> web.Response:
    """Lock, unlock, pin, unpin, hide or show a thread {reason?}; the thread as it now is."""
    user = require_writer(request)
    thread_id = id_param(request)
    data = await json_body(request, "ThreadActionInput", optional=True)
    reason = text_field(data, "reason")
    async with request.app[keys.DB].transaction() as tx:
        thread = await targets.thread_to_moderate(tx, thread_id, user)
        await moderation.set_thread_state(tx, thread, user, action, reason)
        thread = await threads.get(tx, thread.id)
    return web.json_response(thread_json(thread))


async def lock_thread(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/threads/{id}/lock: no more replies (but from moderators)."""
    return await _set_thread_state(request, "lock")


async def unlock_thread(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/threads/{id}/unlock."""
    return await _set_thread_state(request, "unlock")


async def pin_thread(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/threads/{id}/pin: first in its board's list."""
    return await _set_thread_state(request, "pin")


async def unpin_thread(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/threads/{id}/unpin."""
    return await _set_thread_state(request, "unpin")


async def hide_thread(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/threads/{id}/hide: out of every list, page, feed and search."""
    return await _set_thread_state(request, "hide")


async def unhide_thread(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/threads/{id}/show: a hidden thread public again."""
    return await _set_thread_state(request, "show")


async def _post_decision(request: web.Request, schema: str) -> tuple[User, int, str]:
    user = require_writer(request)
    post_id = id_param(request)
    reason = text_field(await json_body(request, schema, optional=True), "reason")
    return user, post_id, reason


async def dismiss_flags(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/dismiss-flags {reason?}: the flags were unfounded;
    the post shows again. 409 when there is nothing to dismiss."""
    user, post_id, reason = await _post_decision(request, "ThreadActionInput")
    async with request.app[keys.DB].transaction() as tx:
        post = await targets.post_to_moderate(tx, post_id, user)
        await moderation.dismiss_flags(tx, post, user, reason)
        shown = await fresh_post_json(tx, post.id, user)
    return web.json_response(shown)


async def restore_post(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/posts/{id}/restore {reason?}: a deleted post back (409 if it
    is not deleted)."""
    user, post_id, reason = await _post_decision(request, "ThreadActionInput")
    async with request.app[keys.DB].transaction() as tx:
        post = await targets.post_to_moderate(tx, post_id, user)
        await moderation.restore_post(tx, post, user, reason)
        shown = await fresh_post_json(tx, post.id, user)
    return web.json_response(shown)


async def move_thread(request: web.Request) -> web.Response:
    """POST /api/v1/moderation/threads/{id}/move {board, reason?}: to another board one
    moderates too; the thread as it now is."""
    user = require_writer(request)
    thread_id = id_param(request)
    data = await json_body(request, "MoveInput")
    slug = board_slug(text_field(data, "board"))
    async with request.app[keys.DB].transaction() as tx:
        thread = await targets.thread_to_moderate(tx, thread_id, user)
        await moderation.move_thread_to(tx, thread, slug, user, text_field(data, "reason"))
        thread = await threads.get(tx, thread.id)
    return web.json_response(thread_json(thread))


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
