"""A post's permalink, editing (every revision kept), deleting (a tombstone) and history."""
from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from forum import keys
from forum.diffs import changes_html
from forum.errors import Forbidden, ForumError, Invalid
from forum.handlers import visible_or_404
from forum.models import moderation, posts, threads, uploads
from forum.permissions import can
from forum.templating import render
from forum.views import (
    form_error,
    int_param,
    preview,
    require_writer,
    see_other,
    text_field,
    url_for,
)
from forum.views.uploads import attach_files, picker, picker_for, read_post_form, refused_files


async def _visible_post(request: web.Request) -> posts.Post:
    async with request.app[keys.DB].read() as conn:
        post = await posts.get(conn, int_param(request, "id"))
    return visible_or_404(request.get(keys.USER), "see_post", post)


async def permalink(request: web.Request) -> web.Response:
    """/p/123 -> the thread page where post 123 stands, at #p123."""
    viewer = request.get(keys.USER)
    config = request.app[keys.CONFIG]
    post = await _visible_post(request)
    async with request.app[keys.DB].read() as conn:
        page = await posts.page_of(conn, post, viewer, config.posts_per_page)
    query = {"page": page} if page > 1 else None
    raise web.HTTPFound(url_for(request, "thread", query, fragment=f"p{post.id}",
                                id=post.thread_id))


async def edit(request: web.Request) -> web.Response:
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    post = await _visible_post(request)
    if not can(user, "edit_post", post):
        raise Forbidden("You may not edit this message.")
    async with request.app[keys.DB].read() as conn:
        thread = await threads.get(conn, post.thread_id)
        attached = await uploads.for_post(conn, post.id)
        waiting = await posts.pending_edit(conn, post.id)
    # The member goes on from their edit that waits, if there is one (the public text stays).
    context: dict[str, Any] = {"post": post, "thread": thread, "preview": None, "errors": {},
               "body": waiting.body_source if waiting else post.body_source,
               "edit_pending": waiting is not None, "files": picker(request, attached)}
    if request.method == "POST":
        sent = await read_post_form(request, user)
        form = sent.fields
        context["body"] = text_field(form, "body")
        if sent.shown:
            context["files"] = await picker_for(request, user, sent.attachment_ids, post.id)
        if sent.errors:
            return refused_files(request, "posts/edit.html", context, sent)
        if form.get("action") == "preview":
            context["preview"] = await preview(request, context["body"])
        else:
            try:
                async with request.app[keys.DB].transaction() as tx:
                    await moderation.edit_as(tx, post.id, user, context["body"],
                                             config.body_max, config.mentions_max,
                                             config.trust_threshold)
                    if set(sent.attachment_ids) - {file.id for file in attached} and (
                            await moderation.edit_waits(tx, user, post,
                                                        config.trust_threshold)):
                        # Files would be public at once: they go with a reply, which waits.
                        raise Invalid("New files cannot wait with an edit: add them in a "
                                      "reply, which the moderators will review.",
                                      field="attachments")
                    await attach_files(tx, request, post.id, user, sent)
                    posts.changed(tx, post.thread_id, post.board_id)
            except ForumError as error:
                return form_error(request, "posts/edit.html", context, error)
            raise see_other(url_for(request, "post", id=post.id))
    return render(request, "posts/edit.html", context, form=True)


async def delete(request: web.Request) -> web.Response:
    """GET: ask for confirmation; POST: leave the tombstone."""
    user = require_writer(request)
    post = await _visible_post(request)
    if not can(user, "delete_post", post):
        raise Forbidden("You may not delete this message.")
    if request.method == "POST":
        form = await request.post()
        reason = text_field(form, "reason")
        async with request.app[keys.DB].transaction() as tx:
            await moderation.delete_as(tx, post.id, user, reason,
                                       private=bool(form.get("private")))
        raise see_other(url_for(request, "post", id=post.id))
    async with request.app[keys.DB].read() as conn:
        thread = await threads.get(conn, post.thread_id)
    return render(request, "posts/delete.html", {"post": post, "thread": thread}, form=True)


async def revisions(request: web.Request) -> web.Response:
    """A post's history: its public versions; every version, marked, for its author and
    moderators."""
    viewer = request.get(keys.USER)
    post = visible_or_404(viewer, "see_revisions", await _visible_post(request))
    private = can(viewer, "see_private_versions", post)
    async with request.app[keys.DB].read() as conn:
        thread = await threads.get(conn, post.thread_id)
        history = await posts.revisions(conn, post.id, private=private)
    # A version the moderators corrected: what they changed, against the version after it.
    changes = {} if not private else {
        revision.id: changes_html(revision.body_source, following.body_source)
        for revision, following in itertools.pairwise(history)
        if revision.state == "corrected"}
    return render(request, "posts/revisions.html",
                  {"post": post, "thread": thread, "revisions": history, "private": private,
                   "changes": changes}, form=private)
