"""Drafts of replies and new threads: saved by a button (no JS) or every few seconds by
static/js/drafts.js, and put back in the form when the member comes back, on any device, with
the files sent with them."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.db import Transaction
from forum.i18n import gettext
from forum.models import drafts, uploads
from forum.models.uploads import Upload
from forum.models.users import User
from forum.views import check_rate, int_param, require_writer, text_field
from forum.views.uploads import KEPT_FIELD, SHOWN_FIELD, ids_of, picker_for

AUTOSAVES_PER_MINUTE = drafts.AUTOSAVES_PER_MINUTE


def target(context: dict[str, Any]) -> dict[str, int]:
    """The draft of a writing form's context: its thread (a reply) or its board."""
    if "thread" in context:
        return {"thread_id": context["thread"].id}
    return {"board_id": context["board"].id}


async def restore(request: web.Request, user: User, context: dict[str, Any]) -> None:
    """Fill an empty form with the member's draft (a quote asked for wins: it is not empty)."""
    if context.get("body"):
        return
    async with request.app[keys.DB].read() as conn:
        draft = await drafts.get(conn, user.id, **target(context))
    if draft is not None:
        context["body"] = draft.body
        if "title" in context:
            context["title"] = draft.title
        context["draft_at"] = draft.updated_at
        if draft.attachment_ids:
            context["files"] = await picker_for(request, user, list(draft.attachment_ids))


async def keep(request: web.Request, user: User, context: dict[str, Any],
               attachment_ids: list[int]) -> None:
    """The "Save the draft" button: the text typed so far and the files, kept on the server."""
    _check_lengths(request, context.get("title", ""), context["body"])
    async with request.app[keys.DB].transaction() as tx:
        await drafts.save(tx, user.id, context.get("title", ""), context["body"],
                          **target(context), attachment_ids=attachment_ids)
    context["draft_saved"] = True


async def erase(tx: Transaction, user: User, context: dict[str, Any]) -> None:
    """The message is sent (in this transaction): its draft goes with it."""
    await drafts.erase(tx, user.id, **target(context))


def _check_lengths(request: web.Request, title: str, body: str) -> None:
    config = request.app[keys.CONFIG]
    drafts.check_lengths(title, body, config.title_max, config.body_max)


async def _target_of(request: web.Request, user: User) -> dict[str, int]:
    """The thread (/t/N/reply/draft) or board (/b/slug/new/draft) of the request, checked."""
    async with request.app[keys.DB].read() as conn:
        if "slug" in request.match_info:
            return await drafts.place(conn, user, board_slug=request.match_info["slug"])
        return await drafts.place(conn, user, thread_id=int_param(request, "id"))


async def autosave(request: web.Request) -> web.Response:
    """GET: the member's draft as JSON ({} when none), with its files; POST title, body and
    the form's files (`attachment` ids, with `attachments_shown`): keep it, 204. (The API's
    twin, with a documented body: api/drafts.py.)"""
    user = require_writer(request)
    where = await _target_of(request, user)
    headers = {"Cache-Control": "private, no-store"}
    if request.method != "POST":
        async with request.app[keys.DB].read() as conn:
            draft = await drafts.get(conn, user.id, **where)
            files = [] if draft is None else await uploads.attachable(
                conn, user.id, list(draft.attachment_ids))
        found = {} if draft is None else {"title": draft.title, "body": draft.body,
                                          "updated_at": draft.updated_at,
                                          "attachments": [_file_json(f) for f in files]}
        return web.json_response(found, headers=headers)
    await check_rate(request, f"draft:{user.id}", AUTOSAVES_PER_MINUTE, 60)
    form = await request.post()
    title, body = text_field(form, "title"), text_field(form, "body")
    _check_lengths(request, title, body)
    # A form without its files block leaves the draft's files as they are.
    listed = ids_of(form.getall(KEPT_FIELD, [])) if SHOWN_FIELD in form else None
    async with request.app[keys.DB].transaction() as tx:
        await drafts.save(tx, user.id, title, body, **where, attachment_ids=listed)
    return web.Response(status=204, headers=headers)


def _file_json(upload: Upload) -> dict[str, Any]:
    """A draft's file as static/js/drafts.js lists it again (its owner is the reader)."""
    return {"id": upload.id, "filename": upload.filename, "kind": upload.kind,
            "size": upload.size, "content_type": upload.content_type, "url": upload.url,
            "thumbnail_url": upload.thumbnail_url,
            "removed": [gettext(label) for label in upload.removed_labels]}
