"""Attachments in pages: serving files and thumbnails, reading forms that carry files.

A form with files is read as a stream, part by part (forum/multipart.py): text fields are small
and bounded, each file goes straight to disk through the Uploader (forum/uploads/pipeline.py),
under its size limit, and is cleaned before the next part is read. The whole request is never
in memory.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web
from multidict import MultiMapping

from forum import keys
from forum.db import Transaction
from forum.errors import Invalid, NotFound
from forum.i18n import gettext
from forum.models import posts, requests, uploads
from forum.models.uploads import Upload
from forum.models.users import User
from forum.multipart import accept_part, read_multipart
from forum.permissions import can
from forum.templating import render
from forum.uploads import names
from forum.uploads.kinds import KINDS
from forum.views import int_param

FILES_FIELD = "files"  # <input type="file" name="files" multiple>
KEPT_FIELD = "attachment"  # a checkbox per file already sent (kept while checked)
SHOWN_FIELD = "attachments_shown"  # the form listed the files: its checkboxes are the truth
# A file is never a page of this site: no script, no plugin, no form, whatever it holds.
FILE_CSP = "default-src 'none'; sandbox"


@dataclass
class PostForm:
    """A post's form as sent: its text fields, and the files it is to carry."""

    fields: MultiMapping[object]  # the text fields (a multipart form's or a plain one's)
    attachment_ids: list[int] = field(default_factory=list)
    shown: bool = False  # False: a form without the files block, attachments left as they are
    errors: list[str] = field(default_factory=list)  # one line per file refused


async def read_post_form(request: web.Request, user: User) -> PostForm:
    """The form of a new post or an edit, with its files received, cleaned and stored."""
    if request.content_type != "multipart/form-data":
        data = await request.post()
        return PostForm(data, ids_of(data.getall(KEPT_FIELD, [])), SHOWN_FIELD in data)
    config = request.app[keys.CONFIG]
    received: list[Upload] = []
    errors: list[str] = []

    async def on_file(part: BodyPartReader) -> None:
        budget = config.upload_post_max_bytes - sum(upload.size for upload in received)
        try:
            received.append(await accept_part(request, user, part, FILES_FIELD,
                                              min(config.upload_max_bytes, max(budget, 0))))
        except Invalid as error:  # refused; TooLarge and 429 stop reading the request
            await part.release()
            name = names.clean_filename(part.filename or "")
            errors.append(f"{name}: {gettext(error.message, **error.params)}")

    fields = await read_multipart(request, FILES_FIELD, on_file, config.upload_post_max_bytes)
    kept = ids_of(fields.getall(KEPT_FIELD, []))
    return PostForm(fields, kept + [upload.id for upload in received], SHOWN_FIELD in fields,
                    errors)


def ids_of(values: Iterable[object]) -> list[int]:
    """Ids from checkboxes; anything that is not one is ignored (and so never attached)."""
    return [int(v) for v in values if isinstance(v, str) and v.isascii() and v.isdigit()
            and len(v) < 19]


# The editor's files block. -------------------------------------------------------------------

@dataclass(frozen=True)
class Picker:
    """What the editor's files block shows: the files already sent, and what may be added."""

    files: list[Upload]
    accept: str  # the file input's accept attribute: extensions and types of enabled kinds
    max_mb: int


def picker(request: web.Request, files: list[Upload]) -> Picker:
    config = request.app[keys.CONFIG]
    enabled = [KINDS[name] for name in KINDS if name in request.app[keys.UPLOADER].kinds]
    accept = ",".join([f".{ext}" for kind in enabled for ext in kind.extensions]
                      + [kind.content_type.split(";")[0] for kind in enabled])
    return Picker(files, accept, config.upload_max_bytes // (1024 * 1024))


async def picker_for(request: web.Request, user: User, ids: list[int],
                     post_id: int | None = None) -> Picker:
    """The files block of a form sent back: the ids it listed that this member may attach."""
    async with request.app[keys.DB].read() as conn:
        return picker(request, await uploads.attachable(conn, user.id, ids, post_id))


def refused_files(request: web.Request, template: str, context: dict[str, Any],
                  form: PostForm) -> web.Response:
    """The form again, its text kept and its accepted files listed, with why others were not."""
    context["errors"] = {FILES_FIELD: "\n".join(form.errors)}
    return render(request, template, context, status=422, form=True)


async def attach_files(tx: Transaction, request: web.Request, post_id: int, actor: User,
                       form: PostForm) -> None:
    """Give the post the form's files (in the post's transaction); a form without the files
    block leaves them as they are."""
    if not (form.shown or form.attachment_ids):
        return
    config = request.app[keys.CONFIG]
    await uploads.attach(tx, post_id, actor.id, form.attachment_ids,
                         config.upload_post_max_files, config.upload_post_max_bytes)


# Serving. -----------------------------------------------------------------------------------

async def serve_file(request: web.Request) -> web.StreamResponse:
    """/files/{id}/{name}: the cleaned file, to whoever may see the post it is attached to."""
    upload = await _visible_upload(request)
    if request.match_info["name"] != upload.filename:
        raise NotFound()
    kind_inline = upload.is_image or upload.kind == "pdf"
    return await _file_response(request, upload.sha256, upload.content_type, upload.filename,
                          kind_inline)


async def serve_thumbnail(request: web.Request) -> web.StreamResponse:
    """/files/{id}/thumb: a small JPEG of an image or of a PDF's first page."""
    upload = await _visible_upload(request)
    if not upload.thumbnail_sha256:
        raise NotFound()
    stem = upload.filename.rpartition(".")[0] or upload.filename
    return await _file_response(request, upload.thumbnail_sha256, "image/jpeg", f"{stem}.jpg", True)


async def serve_size(request: web.Request) -> web.StreamResponse:
    """/files/{id}/sizes/{width}: a smaller copy of a photo (its srcset), as the file itself."""
    upload = await _visible_upload(request)
    width = int_param(request, "width")
    async with request.app[keys.DB].read() as conn:
        sha = await uploads.size_sha(conn, upload.id, width)
    if sha is None:
        raise NotFound()
    stem = upload.filename.rpartition(".")[0] or upload.filename
    return await _file_response(request, sha, "image/jpeg", f"{stem}-{width}.jpg", True)


async def visible_upload(request: web.Request) -> tuple[Upload, posts.Post | None]:
    """The file of the request's {id} and its post, if this viewer may see it (else 404)."""
    viewer = request.get(keys.USER)
    async with request.app[keys.DB].read() as conn:
        upload = await uploads.get(conn, int_param(request, "id"))
        post_id = await uploads.post_of(conn, upload.id)
        post = await posts.get(conn, post_id) if post_id is not None else None
    if post is None or not can(viewer, "see_attachments", post):
        raise NotFound()
    return upload, post


async def _visible_upload(request: web.Request) -> Upload:
    """The file, if this viewer may see it: its post's rules, or only its owner's if unattached."""
    viewer = request.get(keys.USER)
    async with request.app[keys.DB].read() as conn:
        upload = await uploads.get(conn, int_param(request, "id"))
        post_id = await uploads.post_of(conn, upload.id)
        post = await posts.get(conn, post_id) if post_id is not None else None
        request_id = await requests.request_of_file(conn, upload.id) if post is None else None
        records_request = await requests.get(conn, request_id) if request_id else None
    if records_request is not None:  # a records request's letter or document: as the request
        visible = can(viewer, "see_request", records_request)
    elif post is None:
        visible = viewer is not None and viewer.id == upload.owner_id
    else:
        visible = can(viewer, "see_attachments", post)
    if not visible:
        raise NotFound()
    return upload


async def _file_response(request: web.Request, sha256: str, content_type: str, filename: str,
                         inline: bool) -> web.StreamResponse:
    """The stored file, streamed from its storage (forum/storage.py), with a file's headers."""
    return await request.app[keys.UPLOADER].store.response(request, sha256, {
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(filename, inline),
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",  # no other site shows our members' files
        "Cache-Control": "private, no-cache",  # asked again each time: a post may be deleted
    })


def content_disposition(filename: str, inline: bool) -> str:
    """RFC 6266: an ASCII fallback name, and the real one as filename*=UTF-8''…"""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;%' else "_"
                       for c in filename)
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
