"""Multipart bodies read as a stream, part by part, for the pages' forms and the API alike.

Text fields are small and bounded; each file goes to a callback (the Uploader, or the drop's
store) as it comes, under its size limit. The whole request is never in memory, and a
malformed body is the client's error (400), never ours.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict

from forum import csrf, keys
from forum.errors import BadRequest, TooLarge
from forum.handlers import check_rate
from forum.models.uploads import Upload
from forum.models.users import User

TEXT_FIELD_MAX = 256 * 1024  # bytes of one text field (a post body is at most ~80 kB)
FIELDS_ALLOWANCE = 2 * 1024 * 1024  # what a form may hold besides its files
MAX_PARTS = 200
CHUNK = 256 * 1024
# What a malformed multipart body makes aiohttp raise: the client's fault, a 400.
UNREADABLE = (ValueError, LookupError, EOFError, asyncio.IncompleteReadError, HttpProcessingError)
NOT_READABLE = "This form could not be read. Please try again."


async def accept_part(request: web.Request, user: User, part: BodyPartReader, field_name: str,
                      limit: int) -> Upload:
    """One file of a form or of the API, through the rate limit, the quota and the cleaning."""
    config = request.app[keys.CONFIG]
    await check_rate(request, f"upload:{user.id}", config.uploads_per_minute, 60,
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
