"""Files in JSON: POST /api/v1/uploads, then the id goes in a new post's `attachments`."""
from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from forum import csrf, keys
from forum.db import Transaction
from forum.errors import BadRequest, Invalid
from forum.handlers import require_writer
from forum.i18n import gettext
from forum.models import uploads
from forum.models.uploads import Upload
from forum.models.users import User
from forum.multipart import accept_part, read_multipart

FILE_FIELD = "file"


async def create_upload(request: web.Request) -> web.Response:
    """POST /api/v1/uploads (multipart/form-data, one `file`): the cleaned file, attached to none.

    The JavaScript of the pages sends files here as soon as they are chosen (with a progress
    bar), then lists the ids in the form; without JavaScript, the form carries the files itself.
    """
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    if request.content_type != "multipart/form-data":
        raise BadRequest("Send the file as multipart/form-data, in a field named “file”.",
                         field=FILE_FIELD)
    received: list[Upload] = []

    async def on_file(part: BodyPartReader) -> None:
        if received:
            raise BadRequest("Send one file per request.", field=FILE_FIELD)
        received.append(await accept_part(request, user, part, FILE_FIELD,
                                          config.upload_max_bytes))

    fields = await read_multipart(request, FILE_FIELD, on_file, config.upload_max_bytes)
    unknown = sorted(set(fields) - {csrf.FIELD})
    if unknown:  # (a file sent before them waits unattached, and is purged in time)
        raise BadRequest("Only one field is expected: “file”.", field=unknown[0][:50])
    if not received:
        raise Invalid("No file was sent (a field named “file”).", field=FILE_FIELD)
    upload = received[0]
    return web.json_response(upload_json(upload), status=201,
                             headers={"Location": upload.url})


def upload_json(upload: Upload) -> dict[str, Any]:
    """A file as the API shows it to its owner, with what was removed from it."""
    return {
        "id": upload.id, "sha256": upload.sha256, "filename": upload.filename,
        "content_type": upload.content_type, "kind": upload.kind, "size": upload.size,
        "width": upload.width, "height": upload.height, "url": upload.url,
        "thumbnail_url": upload.thumbnail_url,
        "removed": [gettext(label) for label in upload.removed_labels],
    }


def attachments_field(data: dict[str, Any]) -> list[int]:
    """`attachments` of a new post: ids from POST /api/v1/uploads, each once."""
    value = data.get("attachments", [])
    # JSON has numbers, not integers: 12.0 is the id 12 (as the schema's "integer" says).
    if not isinstance(value, list) or not all(
            type(item) in (int, float) and float(item).is_integer() and 1 <= item < 2 ** 62
            for item in value):
        raise Invalid("A list of file ids from POST /api/v1/uploads is expected.",
                      field="attachments")
    ids = [int(item) for item in value]
    if len(set(ids)) != len(ids):
        raise Invalid("Each file may be listed only once.", field="attachments")
    return ids


async def attach_listed(tx: Transaction, request: web.Request, post_id: int, user: User,
                        ids: list[int]) -> None:
    """Attach the listed files to a new post, in its transaction (422 for any not theirs)."""
    if ids:
        config = request.app[keys.CONFIG]
        await uploads.attach(tx, post_id, user.id, ids, config.upload_post_max_files,
                             config.upload_post_max_bytes)
