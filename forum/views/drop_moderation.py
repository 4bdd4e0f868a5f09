"""The moderators' side of the drop for sources (/moderation/drops): the list, one drop, an
answer, publishing a file in a post, deleting for good. Only the city's moderators and global
ones see a drop; it is a 404 for everyone else, whoever they are.
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from forum import keys
from forum.errors import Invalid, NotFound, TooLarge
from forum.i18n import gettext
from forum.models import drops, posts, threads, uploads
from forum.models.users import User
from forum.permissions import can
from forum.templating import render
from forum.views import int_param, publication_status, see_other, text_field, url_for
from forum.views.drops import PRIVATE_HEADERS, erase, private
from forum.views.uploads import FILE_CSP, content_disposition

PUBLISH_THREADS = 50  # threads offered to publish a drop's file in


def _moderator(request: web.Request) -> User:
    user = request.get(keys.USER)
    if user is None or not can(user, "moderate_any"):
        raise NotFound()
    return user


async def _drop_to_moderate(request: web.Request) -> tuple[User, drops.Drop]:
    user = _moderator(request)
    async with request.app[keys.DB].read() as conn:
        drop = await drops.get(conn, int_param(request, "id"))
    if not can(user, "moderate", drop):
        raise NotFound()
    return user, drop


async def queue(request: web.Request) -> web.Response:
    """/moderation/drops: the drops of the cities this moderator looks after."""
    user = _moderator(request)
    async with request.app[keys.DB].read() as conn:
        items = await drops.list_for_boards(conn, drops.scope_of(user))
    return private(render(request, "drops/queue.html", {
        "drops": items, "days": request.app[keys.CONFIG].drop_days,
        "drops_waiting": sum(drop.awaiting_answer for drop in items)}))


async def show(request: web.Request, errors: dict[str, str] | None = None,
               status: int = 200) -> web.Response:
    """One drop: its conversation, its files, and what a moderator may do with them."""
    _user, drop = await _drop_to_moderate(request)
    async with request.app[keys.DB].read() as conn:
        messages = await drops.messages(conn, drop.id)
        files = await drops.files(conn, drop.id)
        offered = await threads.list_for_board(conn, drop.board_id, 1, PUBLISH_THREADS)
    return private(render(request, "drops/show.html", {
        "drop": drop, "messages": messages, "files": files, "threads": offered,
        "errors": errors or {}, "days": request.app[keys.CONFIG].drop_days},
        status=status, form=True))


async def answer(request: web.Request) -> web.Response:
    user, drop = await _drop_to_moderate(request)
    form = await request.post()
    try:
        async with request.app[keys.DB].transaction() as tx:
            await drops.add_message(tx, drop.id, user.id, text_field(form, "message"))
    except Invalid as error:
        return await show(request, {"answer": gettext(error.message, **error.params)}, 422)
    raise see_other(url_for(request, "moderation_drop", id=drop.id))


async def delete(request: web.Request) -> web.Response:
    """Erase the drop for good: its rows and its files, no tombstone."""
    _user, drop = await _drop_to_moderate(request)
    await erase(request.app, [drop.id])
    raise see_other(url_for(request, "moderation_drops"))


async def serve_file(request: web.Request) -> web.StreamResponse:
    """A drop's cleaned file, to its moderators only (always downloaded, never shown inline)."""
    _user, drop = await _drop_to_moderate(request)
    async with request.app[keys.DB].read() as conn:
        f = await drops.get_file(conn, drop.id, int_param(request, "file"))
    return await request.app[keys.DROP_STORE].response(request, f.sha256, {
        "Content-Type": f.content_type, "Content-Disposition": content_disposition(f.filename,
                                                                                   False),
        "Content-Security-Policy": FILE_CSP, "X-Content-Type-Options": "nosniff",
        **PRIVATE_HEADERS})


async def publish(request: web.Request) -> web.Response:
    """Publish one file of a drop in a new post of a thread: the file is copied to the post,
    written by the moderator; the drop's message stays private."""
    user, drop = await _drop_to_moderate(request)
    form = await request.post()
    raw_thread = text_field(form, "thread")
    try:
        async with request.app[keys.DB].read() as conn:
            f = await drops.get_file(conn, drop.id, int_param(request, "file"))
            try:
                thread = await threads.get(conn, int(raw_thread) if raw_thread.isdigit()
                                           else 0)
            except NotFound:
                raise Invalid("Choose a thread.", field="thread") from None
        if not (can(user, "moderate", thread) and can(user, "reply", thread)):
            raise Invalid("You cannot publish in this thread.", field="thread")
        post_id = await _copy_into_post(request, user, f, thread, text_field(form, "body"))
    except (Invalid, TooLarge) as error:
        return await show(request, {f"publish-{int_param(request, 'file')}":
                                    gettext(error.message, **error.params)}, error.status)
    raise see_other(url_for(request, "post", id=post_id))


async def _copy_into_post(request: web.Request, user: User, f: drops.DropFile,
                          thread: threads.Thread, body: str) -> int:
    config = request.app[keys.CONFIG]
    uploader, drop_store = request.app[keys.UPLOADER], request.app[keys.DROP_STORE]
    with uploader.store.temp_path() as copy, uploader.store.temp_path() as thumb_copy:
        try:
            storage = drop_store.storage
            await asyncio.to_thread(storage.download, drop_store.key(f.sha256), copy)
            if f.thumbnail_sha256:
                await asyncio.to_thread(storage.download, drop_store.key(f.thumbnail_sha256),
                                        thumb_copy)
        except FileNotFoundError:  # the drop was erased meanwhile
            raise NotFound() from None
        await asyncio.to_thread(uploader.store.sync, copy,
                                thumb_copy if f.thumbnail_sha256 else None)
        status = publication_status(request, user, thread.board_id, thread.board_mode)
        async with request.app[keys.DB].transaction() as tx:
            upload = await uploads.insert(tx, user.id, f.sha256, f.filename, f.kind,
                                          f.content_type, f.size, f.width, f.height,
                                          f.thumbnail_sha256, list(f.removed))
            post_id = await posts.create(tx, thread.id, thread.board_id, user, body,
                                         config.body_max, status=status,
                                         mentions_max=config.mentions_max)
            await uploads.attach(tx, post_id, user.id, [upload.id],
                                 config.upload_post_max_files, config.upload_post_max_bytes)
            await drops.mark_published(tx, f.id, post_id)
            await uploader.store.place(copy, f.sha256)  # under the writer's lock, as pipeline
            if f.thumbnail_sha256:
                await uploader.store.place(thumb_copy, f.thumbnail_sha256)
    # Its text is read from the published copy only: a drop's own files are never indexed.
    await uploader.read_text(request.app[keys.DB], upload.id, f.sha256, f.kind)
    if upload.is_image:  # shown in its post like any photo (issue 16)
        await uploader.make_sizes(request.app[keys.DB], upload)
    return post_id
