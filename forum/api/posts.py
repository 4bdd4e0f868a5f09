"""Posts in JSON: reading one, editing (every revision kept), deleting (a tombstone), history."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.api import (
    bool_param,
    fresh_post_json,
    id_param,
    json_body,
    post_json,
    query_text,
    revision_json,
    text_field,
)
from forum.api.moderation import reason_required
from forum.db import Conn
from forum.handlers import require_writer, visible_or_404
from forum.models import moderation, posts, uploads
from forum.models.users import User
from forum.permissions import can


async def _visible_post(conn: Conn, post_id: int, viewer: User | None) -> posts.Post:
    return visible_or_404(viewer, "see_post", await posts.get(conn, post_id))


async def show_post(request: web.Request) -> web.Response:
    """GET /api/v1/posts/{id}: one post (a tombstone if deleted)."""
    viewer = request.get(keys.USER)
    post_id = id_param(request)
    async with request.app[keys.DB].read() as conn:
        post = await _visible_post(conn, post_id, viewer)
        files = await uploads.for_post(conn, post.id)
    return web.json_response(post_json(post, viewer, files))


async def edit_post(request: web.Request) -> web.Response:
    """PATCH /api/v1/posts/{id} {body}: a new version of the text; the post as it now is."""
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    post_id = id_param(request)
    data = await json_body(request, "PostInput")
    body = text_field(data, "body")
    async with request.app[keys.DB].transaction() as tx:
        # The post as it now is: its public text stays while an edit waits (edit_pending).
        await moderation.edit_as(tx, post_id, user, body, config.body_max,
                                 config.mentions_max, config.trust_threshold)
        shown = await fresh_post_json(tx, post_id, user)
    return web.json_response(shown)


async def delete_post(request: web.Request) -> web.Response:
    """DELETE /api/v1/posts/{id}?reason=…&private=…: leave a tombstone; 204."""
    user = require_writer(request)
    post_id = id_param(request)
    reason = query_text(request, "reason")
    private = bool_param(request, "private")
    # A moderator must give a reason: it goes to the journal, the author is told.
    with reason_required("Deleting someone else's message needs a reason (the reason"
                         " parameter)."):
        async with request.app[keys.DB].transaction() as tx:
            await moderation.delete_as(tx, post_id, user, reason, private=private)
    return web.Response(status=204)


async def list_revisions(request: web.Request) -> web.Response:
    """GET /api/v1/posts/{id}/revisions: the versions of a post that were public, oldest
    first; every version, with its state, for its author and moderators."""
    viewer = request.get(keys.USER)
    post_id = id_param(request)
    async with request.app[keys.DB].read() as conn:
        post = visible_or_404(viewer, "see_revisions", await _visible_post(conn, post_id, viewer))
        history = await posts.revisions(conn, post.id,
                                        private=can(viewer, "see_private_versions", post))
    return web.json_response({"post_id": post.id,
                              "revisions": [revision_json(rev) for rev in history]})


async def preview(request: web.Request) -> web.Response:
    """POST /api/v1/preview {body}: the HTML a post with this Markdown would show (mentions of
    real members linked), as the editor's preview; nothing is stored."""
    require_writer(request)
    body = text_field(await json_body(request, "PreviewInput"), "body")
    async with request.app[keys.DB].read() as conn:
        return web.json_response({"body_html": await posts.preview_html(conn, body)})
