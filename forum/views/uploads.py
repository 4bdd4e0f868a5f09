"""Attachments in pages: serving files and thumbnails, reading forms that carry files.

A form with files is read as a stream, part by part: text fields are small and bounded, each
file goes straight to disk through the Uploader (forum/uploads/pipeline.py), under its size
limit, and is cleaned before the next part is read. The whole request is never in memory.
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict, MultiMapping

from forum import csrf, keys
from forum.db import Transaction
from forum.errors import BadRequest, Invalid, NotFound, TooLarge
from forum.i18n import gettext
from forum.models import posts, requests, uploads
from forum.models.uploads import Upload
from forum.models.users import User
from forum.permissions import can
from forum.uploads import names
from forum.uploads.kinds import KINDS
from forum.views import check_rate, int_param

FILES_FIELD = "files"  # <input type="file" name="files" multiple>
KEPT_FIELD = "attachment"  # a checkbox per file already sent (kept while checked)
SHOWN_FIELD = "attachments_shown"  # the form listed the files: its checkboxes are the truth
TEXT_FIELD_MAX = 256 * 1024  # bytes of one text field (a post body is at most ~80 kB)
FIELDS_ALLOWANCE = 2 * 1024 * 1024  # what a form may hold besides its files
MAX_PARTS = 200
CHUNK = 256 * 1024
# What a malformed multipart body makes aiohttp raise: the client's fault, a 400.
UNREADABLE = (ValueError, LookupError, EOFError, asyncio.IncompleteReadError, HttpProcessingError)
# A file is never a page of this site: no script, no plugin, no form, whatever it holds.
FILE_CSP = "default-src 'none'; sandbox"
NOT_READABLE = "This form could not be read. Please try again."


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
        return PostForm(data, _ids(data.getall(KEPT_FIELD, [])), SHOWN_FIELD in data)
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
    kept = _ids(fields.getall(KEPT_FIELD, []))
    return PostForm(fields, kept + [upload.id for upload in received], SHOWN_FIELD in fields,
                    errors)


async def accept_part(request: web.Request, user: User, part: BodyPartReader, field_name: str,
                      limit: int) -> Upload:
    """One file of a form or of the API, through the rate limit, the quota and the cleaning."""
    config = request.app[keys.CONFIG]
    check_rate(request, f"upload:{user.id}", config.uploads_per_minute, 60,
               "You are sending files too fast. Please wait a minute.")
    return await request.app[keys.UPLOADER].accept(
        request.app[keys.DB], user, part_chunks(part), part.filename or "",
        part.headers.get("Content-Type", ""), limit, field_name)


async def read_multipart(request: web.Request, file_field: str,
                         on_file: Callable[[BodyPartReader], Awaitable[None]],
                         files_max: int) -> MultiDict[str]:
    """Text fields of a multipart request; each chosen file of `file_field` goes to on_file.

    When the CSRF middleware left the token to us, it must come before any file (a page's
    forms put it first), so nothing is received for a forged request.
    """
    declared = request.content_length
    if declared is not None and declared > files_max + FIELDS_ALLOWANCE:
        raise TooLarge("These files are too large (at most %(max)s MB in all).",
                       max=files_max // (1024 * 1024))
    token_checked = not request.get(keys.CSRF_IN_STREAM)
    fields: MultiDict[str] = MultiDict()
    try:
        reader = await request.multipart()
    except UNREADABLE:
        raise BadRequest(NOT_READABLE) from None
    for _count in range(MAX_PARTS):
        part = await _next_part(reader)
        if part is None:
            break
        if part.name != file_field:
            value = await _text(part)
            if part.name == csrf.FIELD and not token_checked:
                csrf.check_form_token(request, value)
                token_checked = True
            fields.add(part.name or "", value)
            continue
        if not token_checked:
            csrf.check_form_token(request, None)  # 403
        if part.filename:  # an empty file input still sends a nameless, empty part
            await on_file(part)
        else:
            await part.release()
    else:
        raise BadRequest(NOT_READABLE)
    if not token_checked:
        csrf.check_form_token(request, fields.get(csrf.FIELD))
    return fields


async def _next_part(reader: MultipartReader) -> BodyPartReader | None:
    try:
        part = await reader.next()
    except UNREADABLE:
        raise BadRequest(NOT_READABLE) from None
    if part is not None and not isinstance(part, BodyPartReader):
        raise BadRequest(NOT_READABLE)  # a multipart inside the multipart
    return part


async def _text(part: BodyPartReader) -> str:
    data = bytearray()
    async for chunk in part_chunks(part):
        data += chunk
        if len(data) > TEXT_FIELD_MAX:
            raise TooLarge()
    return data.decode("utf-8", "replace")


async def part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    """A part's bytes as they come; a malformed body is the client's error (400)."""
    while True:
        try:
            chunk = await part.read_chunk(CHUNK)
        except UNREADABLE:
            raise BadRequest(NOT_READABLE) from None
        if not chunk:
            return
        yield chunk


def _ids(values: Iterable[object]) -> list[int]:
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
    from forum.templating import render

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
    return _file_response(request, upload.sha256, upload.content_type, upload.filename,
                          kind_inline)


async def serve_thumbnail(request: web.Request) -> web.StreamResponse:
    """/files/{id}/thumb: a small JPEG of an image or of a PDF's first page."""
    upload = await _visible_upload(request)
    if not upload.thumbnail_sha256:
        raise NotFound()
    stem = upload.filename.rpartition(".")[0] or upload.filename
    return _file_response(request, upload.thumbnail_sha256, "image/jpeg", f"{stem}.jpg", True)


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


def _file_response(request: web.Request, sha256: str, content_type: str, filename: str,
                   inline: bool) -> web.StreamResponse:
    path = request.app[keys.UPLOADER].store.path_for(sha256)
    try:
        if not path.is_file():
            raise NotFound()
        if path.stat().st_mtime_ns != 0:
            # Files are stored once per content: the file's own time is that of the first
            # upload of these bytes, maybe by someone else. Last-Modified, the ETag and
            # If-Modified-Since all come from it, so every stored file gets the same time
            # (1970): it tells nothing.
            os.utime(path, ns=(0, 0))
    except FileNotFoundError:  # removed meanwhile (its last post purged)
        raise NotFound() from None
    # FileResponse answers Range, If-Range, If-None-Match (its ETag) and HEAD by itself.
    return web.FileResponse(path, chunk_size=CHUNK, headers={
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
