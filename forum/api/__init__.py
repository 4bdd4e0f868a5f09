"""JSON handlers per domain, and what they share: request bodies, parameters, serialisers."""
from __future__ import annotations

import functools
import json
import re
from typing import Any

import jsonschema_rs
from aiohttp import web

from forum import keys
from forum.api import components
from forum.config import Config
from forum.db import Conn
from forum.errors import BadRequest, Invalid, NotFound, TooLarge
from forum.handlers import (  # noqa: F401 (shared with the pages, used through forum.api)
    check_rate,
    require_user,
    require_writer,
    url_for,
)
from forum.handlers import int_param as id_param  # noqa: F401 (a numeric path part, else 404)
from forum.input_limits import body_bytes_max
from forum.models.boards import NAME_MAX, Board
from forum.models.posts import Post, Revision
from forum.models.posts import get as get_post
from forum.models.threads import Thread
from forum.models.uploads import Upload, for_post
from forum.models.users import User
from forum.permissions import can
from forum.text import clean_input

# What a board address can look like (slugify's output): anything else is not looked up.
SLUG = re.compile(r"[a-z0-9-]+")
READ_CHUNK = 64 * 1024  # a JSON body is read by pieces of this, and never past its bound


async def json_body(request: web.Request, schema: str, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, checked against the input `schema` of the OpenAPI document
    (api/components/): 400 when the body is not an object (413 past body_bytes_max), 422
    naming the field for anything the schema refuses — so that the server is exactly as
    strict as the document; the handlers and models then check what a schema cannot say.

    With `optional`, an empty body stands for an empty object.
    """
    raw = await _bounded_body(request, body_bytes_max(request.app[keys.CONFIG]))
    if optional and not raw:
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # "[[[[…" nested past Python's stack
            raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    config = request.app[keys.CONFIG]
    limits = _max_lengths(config, schema)
    for name, value in data.items():
        # The validator's own check, first and in O(1): a long text is not copied to be measured.
        if isinstance(value, str) and len(value) > limits.get(name, len(value)):
            raise Invalid("This field is too long (at most %(max)s characters).", field=name,
                          max=limits[name])
        if _has_surrogate(name) or _has_surrogate(value):  # the validator takes valid Unicode
            raise Invalid("This text is not valid Unicode.", field=name)
    error = next(_validator(config, schema).iter_errors(data), None)
    if error is not None:
        raise _invalid(error)
    return data


async def _bounded_body(request: web.Request, limit: int) -> bytes:
    """The body, refused with 413 before it is read when it says it is longer than `limit`,
    or as soon as it grows past it (a chunked body says nothing)."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge("The request body is too large (at most %(max)s bytes).", max=limit)
    if not request.can_read_body:  # none, or read already (a form's CSRF field): as kept
        body = bytearray(await request.read())
        if len(body) > limit:
            raise TooLarge("The request body is too large (at most %(max)s bytes).", max=limit)
        return bytes(body)
    body = bytearray()
    while chunk := await request.content.read(min(READ_CHUNK, limit + 1 - len(body))):
        body += chunk
        if len(body) > limit:
            raise TooLarge("The request body is too large (at most %(max)s bytes).", max=limit)
    return bytes(body)


def _has_surrogate(value: Any) -> bool:
    """Whether a JSON value holds a lone surrogate ("\\ud800"), which no UTF-8 text can."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")  # far faster than a search (a body of 1.5 MB: 0.3 ms)
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, list):
        return any(_has_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(_has_surrogate(key) or _has_surrogate(item) for key, item in value.items())
    return False


@functools.cache
def _max_lengths(config: Config, schema: str) -> dict[str, int]:
    """The maxLength of each text property of an input schema."""
    properties = components.schemas(config)[schema].get("properties", {})
    return {name: prop["maxLength"] for name, prop in properties.items()
            if isinstance(prop, dict) and "maxLength" in prop}


@functools.cache
def _validator(config: Config, schema: str) -> Any:
    """The validator of one input schema of the document, its references resolved in it."""
    schemas = components.schemas(config)
    return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{schema}",
                                        "components": {"schemas": schemas}},
                                       validate_formats=True)


def _invalid(error: Any) -> Invalid:
    """The 422 for a schema's complaint, in the words the handlers use for the same faults."""
    kind = error.kind.name
    path = [part for part in error.instance_path if isinstance(part, str)]
    if kind == "additionalProperties":
        names = [".".join([*path, name]) for name in error.kind.unexpected]
        return Invalid("Unknown fields: %(names)s.", field=path[0] if path else names[0],
                       names=", ".join(names))
    if kind == "required":
        return Invalid("This field is required.", field=path[0] if path else error.kind.property)
    field = path[0] if path else None
    details = error.kind.as_dict()
    if kind == "type" and details.get("types") == ["string"]:
        return Invalid("This field must be a string.", field=field)
    if kind == "maxLength":
        return Invalid("This field is too long (at most %(max)s characters).", field=field,
                       max=details["limit"])
    return Invalid("This value is not allowed here: see the API document (/api/openapi.json).",
                   field=field)


def text_field(data: dict[str, Any], name: str, max_length: int | None = None) -> str:
    """A string member of a JSON body ("" when absent: the model says if it is required),
    without the characters no user text keeps (forum.text.UNSAFE)."""
    value = data.get(name, "")
    if not isinstance(value, str):
        raise Invalid("This field must be a string.", field=name)
    check_unicode(value, name)
    # The models measure cleaned text (spaces folded, invisible characters removed); the
    # schema promises a limit on what was sent, so it is enforced here as published.
    if max_length is not None and len(value) > max_length:
        raise Invalid("This field is too long (at most %(max)s characters).", field=name,
                      max=max_length)
    return clean_input(value)  # as the forms' fields: forum.handlers.text_field


def query_text(request: web.Request, name: str) -> str:
    """A text sent in the query string to be kept (a DELETE's reason), cleaned as text_field."""
    return clean_input(request.query.get(name, ""))


def check_unicode(value: str, name: str) -> None:
    """422 for text SQLite cannot store: JSON escapes can carry lone surrogates ("\\ud800")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid("This text is not valid Unicode.", field=name) from None


def slug_param(request: web.Request) -> str:
    """A board address from the path; 404 for one no board could have."""
    return board_slug(request.match_info["slug"])


def board_slug(slug: str) -> str:
    """A board address as sent (path or query); 404 for one no board could have."""
    if not SLUG.fullmatch(slug) or len(slug) > NAME_MAX:
        raise NotFound("This board does not exist.")
    return slug


def page_param(request: web.Request) -> int:
    """The `page` query parameter: 400 unless a whole number from 1; far pages are 404."""
    raw = request.query.get("page", "1")
    digits = raw.lstrip("0")
    if not (raw.isascii() and raw.isdigit()) or not digits:
        raise BadRequest("A page number is a whole number from 1.", field="page")
    if len(digits) > 18:  # past any last page, and int() of huge strings is slow or refused
        raise NotFound()
    return int(digits)


def bool_param(request: web.Request, name: str) -> bool:
    """A boolean query parameter as OpenAPI writes it: true or false (absent: false)."""
    raw = request.query.get(name, "false")
    if raw not in ("true", "false"):
        raise BadRequest("This parameter is true or false.", field=name)
    return raw == "true"


async def check_posting_rate(request: web.Request, user: User) -> None:
    """The views' limit on new posts, on the same counter: the API is no way around it."""
    config = request.app[keys.CONFIG]
    await check_rate(request, f"post:{user.id}", config.posts_per_minute, 60,
                     "You are posting too fast. Please wait a minute.")


# Serialisers: what a client sees of each model, decided by permissions like the pages. ---------

def board_json(board: Board) -> dict[str, Any]:
    """A board as the API shows it."""
    return {
        "id": board.id, "slug": board.slug, "name": board.name, "region": board.region,
        "description": board.description, "moderation_mode": board.moderation_mode,
        "thread_count": board.thread_count, "post_count": board.post_count,
        "last_post_at": board.last_post_at, "is_city": board.is_city,
        "closed": board.closed,
    }


def thread_json(thread: Thread) -> dict[str, Any]:
    """A thread as the API shows it (its posts come separately, page by page)."""
    return {
        "id": thread.id, "board": thread.board_slug, "title": thread.title,
        "author": thread.author_name, "status": thread.status, "pinned": thread.pinned,
        "locked": thread.locked, "post_count": thread.post_count,
        "created_at": thread.created_at, "last_post_at": thread.last_post_at,
    }


def post_json(post: Post, viewer: User | None, files: list[Upload]) -> dict[str, Any]:
    """A post as this viewer may see it: a deleted one keeps only its tombstone, and its
    files only for those who may download them."""
    hidden = post.is_deleted and not can(viewer, "see_deleted_text", post)
    # A refusal's reason and an edit waiting are the author's and the moderators' business.
    private = can(viewer, "see_private_versions", post)
    shown = {
        "id": post.id, "thread_id": post.thread_id, "author": post.author_name,
        "body_html": "" if hidden else post.body_html,
        "body_source": "" if hidden else post.body_source,
        "status": post.status, "reject_reason": post.reject_reason if private else None,
        "hidden": post.hidden, "created_at": post.created_at, "edited_at": post.edited_at,
        "deleted": post.is_deleted, "edit_pending": post.edit_pending and private,
    }
    visible = can(viewer, "see_attachments", post)
    shown["attachments"] = [attachment_json(file) for file in files] if visible else []
    return shown


async def fresh_post_json(conn: Conn, post_id: int, viewer: User | None) -> dict[str, Any]:
    """A post read again (after a change), with its files: every post answer has the same form."""
    # Functions imported by name: `forum.api.posts` and `forum.api.uploads` are submodules here.
    post = await get_post(conn, post_id)
    return post_json(post, viewer, await for_post(conn, post_id))


def attachment_json(file: Upload) -> dict[str, Any]:
    """A file under a post, as any reader of the post sees it."""
    return {"id": file.id, "filename": file.filename, "content_type": file.content_type,
            "kind": file.kind, "size": file.size, "url": file.url,
            "thumbnail_url": file.thumbnail_url, **photo_json(file)}


def photo_json(file: Upload) -> dict[str, Any]:
    """A photo's size, smaller copies and viewer page (empty and null for other files)."""
    return {"width": file.width, "height": file.height,
            "sizes": [{"width": s.width, "height": s.height, "url": s.url} for s in file.sizes],
            "viewer_url": f"/photos/{file.id}" if file.is_photo else None}


def revision_json(revision: Revision) -> dict[str, Any]:
    """One version of a post (only its author and moderators get others than public ones)."""
    return {
        "id": revision.id, "editor": revision.editor_name, "body_html": revision.body_html,
        "body_source": revision.body_source, "created_at": revision.created_at,
        "state": revision.state, "note": revision.note,
    }
