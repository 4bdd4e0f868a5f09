"""Threads in JSON: reading one page by page, starting one in a board, replying, renaming."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.api import (
    check_posting_rate,
    fresh_post_json,
    id_param,
    json_body,
    page_param,
    post_json,
    slug_param,
    text_field,
    thread_json,
    url_for,
)
from forum.api.uploads import attach_listed, attachments_field
from forum.errors import Forbidden, NotFound
from forum.handlers import publication_status, require_writer, visible_or_404
from forum.models import boards, moderation, posts, targets, threads, uploads
from forum.permissions import can


async def show_thread(request: web.Request) -> web.Response:
    """GET /api/v1/threads/{id}?page=n: the thread and one page of the posts this viewer sees."""
    config = request.app[keys.CONFIG]
    viewer = request.get(keys.USER)
    page = page_param(request)
    thread_id = id_param(request)
    async with request.app[keys.DB].read() as conn:
        thread = visible_or_404(viewer, "see_thread", await threads.get(conn, thread_id))
        items, pages = await threads.posts_page(conn, thread, viewer, page,
                                                config.posts_per_page)
        files = await uploads.for_posts(conn, [post.id for post in items])
    return web.json_response({
        "thread": thread_json(thread),
        "posts": [post_json(post, viewer, files.get(post.id, [])) for post in items],
        "page": page, "pages": pages})


async def create_thread(request: web.Request) -> web.Response:
    """POST /api/v1/boards/{slug}/threads {title, body}: the new thread and its first post."""
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    slug = slug_param(request)
    async with request.app[keys.DB].read() as conn:
        board = await boards.get_readable(conn, slug, user)
    if not can(user, "start_thread", board):
        raise Forbidden()
    data = await json_body(request, "ThreadInput")
    title = text_field(data, "title", config.title_max)
    body = text_field(data, "body")
    attachments = attachments_field(data)
    await check_posting_rate(request, user)
    status = publication_status(request, user, board.id, board.moderation_mode)
    async with request.app[keys.DB].transaction() as tx:
        thread_id, post_id = await threads.create(tx, board, user, title, body,
                                                  config.title_max, config.body_max,
                                                  status=status,
                                                  mentions_max=config.mentions_max)
        await attach_listed(tx, request, post_id, user, attachments)
        thread = await threads.get(tx, thread_id)
        shown = await fresh_post_json(tx, post_id, user)
    return web.json_response(
        {"thread": thread_json(thread), "post": shown}, status=201,
        headers={"Location": url_for(request, "api_thread", id=thread.id)})


async def create_post(request: web.Request) -> web.Response:
    """POST /api/v1/threads/{id}/posts {body}: a reply (pending when moderation says so)."""
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    thread_id = id_param(request)
    async with request.app[keys.DB].read() as conn:
        thread = await threads.get(conn, thread_id)
    if not can(user, "see_thread", thread):
        raise NotFound()
    if not can(user, "reply", thread):
        if thread.locked:
            raise Forbidden("This thread is locked: no new replies.")
        raise Forbidden()  # e.g. a thread still waiting for the moderators
    data = await json_body(request, "ReplyInput")
    body = text_field(data, "body")
    attachments = attachments_field(data)
    await check_posting_rate(request, user)
    status = publication_status(request, user, thread.board_id, thread.board_mode)
    async with request.app[keys.DB].transaction() as tx:
        post_id = await posts.create(tx, thread.id, thread.board_id, user, body,
                                     config.body_max, status=status,
                                     mentions_max=config.mentions_max)
        await attach_listed(tx, request, post_id, user, attachments)
        shown = await fresh_post_json(tx, post_id, user)
    return web.json_response(shown, status=201,
                             headers={"Location": url_for(request, "api_post", id=post_id)})


async def rename_thread(request: web.Request) -> web.Response:
    """PATCH /api/v1/threads/{id} {title, reason?}: a new title, whatever became of the first
    post (its moderators; its author while the thread is not public). The thread as it is."""
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    thread_id = id_param(request)
    data = await json_body(request, "ThreadTitleInput")
    title = text_field(data, "title", config.title_max)
    reason = text_field(data, "reason")
    async with request.app[keys.DB].transaction() as tx:
        thread = await targets.thread_to_rename(tx, thread_id, user)
        await moderation.rename_thread(tx, thread, user, title, config.title_max, reason)
        thread = await threads.get(tx, thread.id)
    return web.json_response(thread_json(thread))
