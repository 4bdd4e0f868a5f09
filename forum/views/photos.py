"""The photo viewer: a post's image full size, with its post, its thread, and the previous and
next photos of the thread that this reader may see. A plain page (no JavaScript needed);
static/js/lightbox.js shows the same photos over the thread page as an enhancement."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.errors import NotFound
from forum.models import threads, uploads
from forum.permissions import can
from forum.templating import render
from forum.views.uploads import visible_upload


async def viewer(request: web.Request) -> web.Response:
    """/photos/{id}: 404 unless the reader may see the photo's post (and so its files)."""
    upload, post = await visible_upload(request)
    if not upload.is_photo or post is None:
        raise NotFound()
    viewer_user = request.get(keys.USER)
    async with request.app[keys.DB].read() as conn:
        thread = await threads.get(conn, post.thread_id)
        if not can(viewer_user, "see_thread", thread):
            raise NotFound()
        photos = [photo for photo, _post in await uploads.thread_photos(conn, thread.id,
                                                                         viewer_user)]
    at = photos.index(upload.id) if upload.id in photos else None
    previous = photos[at - 1] if at is not None and at > 0 else None
    following = photos[at + 1] if at is not None and at + 1 < len(photos) else None
    response = render(request, "photos/show.html", {
        "photo": upload, "post": post, "thread": thread, "previous": previous,
        "next": following, "position": None if at is None else at + 1, "count": len(photos)})
    # What a reader may see changes with every decision: never kept by a shared cache.
    response.headers.setdefault("Cache-Control", "private, no-cache")
    return response
