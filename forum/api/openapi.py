"""The OpenAPI 3.1 description of /api/v1, built from the running Config: GET /api/openapi.json."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.auth import SESSION_COOKIE
from forum.config import Config
from forum.csrf import HEADER as CSRF_HEADER
from forum.models.boards import DESCRIPTION_MAX, MODERATION_MODES, NAME_MAX, REGION_MAX

JSON = "application/json"
V1 = "/api/v1"  # as in routes.py; tests/test_openapi.py checks that both list the same routes
STATUSES = ["published", "pending", "rejected"]  # the CHECK of posts.status and threads.status
# Reads are open to anonymous readers ({}), who see what the pages show them.
READ = [{}, {"bearer": []}, {"session": []}]
WRITE = [{"bearer": []}, {"session": [], "csrf": []}]


async def spec(request: web.Request) -> web.Response:
    """GET /api/openapi.json."""
    return web.json_response(build(request.app[keys.CONFIG]))


def build(config: Config) -> dict[str, Any]:
    """The whole document; the limits are those of this server's configuration."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vigie API",
            "version": "1",
            "description": (
                "Read and write the forum as a member. Authenticate with "
                "`Authorization: Bearer <token>` (`vigie token create <name>` prints one), "
                f"or with the session cookie plus the `{CSRF_HEADER}` header on writes. Errors are "
                '`{"error": {"code", "message", "field"?}}`. Fields a client may not set '
                "(author, status, role, pinned…) and unknown fields are ignored."),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "tags": [{"name": "boards"}, {"name": "threads"}, {"name": "posts"}],
        "paths": _paths(),
        "components": {
            "schemas": {**_output_schemas(), **_input_schemas(config)},
            "responses": _error_responses(),
            "parameters": _parameters(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An API token of a member."},
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                            "description": "The session cookie of a logged-in browser."},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER,
                         "description": "With the session cookie, the page's CSRF token."},
            },
        },
    }


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _ok(description: str, schema: str, status: int = 200,
        location: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {JSON: {"schema": _ref("schemas", schema)}}}
    if location:
        response["headers"] = {"Location": {"description": "Where the new thing is read.",
                                            "schema": {"type": "string"}}}
    return {str(status): response}


def _op(op_id: str, tag: str, summary: str, ok: dict[str, Any], errors: str,
        params: tuple[str, ...] = (), body: str | None = None,
        write: bool = False) -> dict[str, Any]:
    """One operation; `errors` names its error responses ("400 401 404")."""
    operation: dict[str, Any] = {
        "operationId": op_id, "tags": [tag], "summary": summary,
        "security": WRITE if write or body else READ,
        "parameters": [_ref("parameters", name) for name in params],
        "responses": {**ok, **{code: _ref("responses", code) for code in errors.split()}},
    }
    if body:
        operation["requestBody"] = {"required": True,
                                    "content": {JSON: {"schema": _ref("schemas", body)}}}
    return operation


def _paths() -> dict[str, Any]:
    document = {"get": {
        "operationId": "api_openapi", "summary": "This document.", "security": READ,
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": {JSON: {"schema": {"type": "object"}}}}}}}
    return {"/api/openapi.json": document, **_board_paths(), **_thread_paths(),
            **_post_paths()}


def _board_paths() -> dict[str, Any]:
    return {
        f"{V1}/boards": {
            "get": _op("api_boards", "boards", "Every city board.",
                       _ok("The boards.", "BoardList"), "401"),
            "post": _op("api_create_board", "boards", "Create a board (administrators).",
                        _ok("The new board.", "Board", 201, location=True),
                        "400 401 403 409 413 422", body="BoardInput"),
        },
        f"{V1}/boards/{{slug}}/threads": {
            "get": _op("api_board_threads", "threads", "A page of a board's threads.",
                       _ok("The board and a page of its threads.", "BoardThreads"),
                       "400 401 404", params=("slug", "page")),
            "post": _op("api_create_thread", "threads", "Start a thread with its first post.",
                        _ok("The new thread and its first post.", "NewThread", 201,
                            location=True),
                        "400 401 403 404 413 422 429", params=("slug",), body="ThreadInput"),
        },
    }


def _thread_paths() -> dict[str, Any]:
    return {
        f"{V1}/threads/{{id}}": {
            "get": _op("api_thread", "threads", "A thread and a page of its posts.",
                       _ok("The thread and the page.", "ThreadPage"), "400 401 404",
                       params=("thread_id", "page")),
        },
        f"{V1}/threads/{{id}}/posts": {
            "post": _op("api_create_post", "posts", "Reply to a thread.",
                        _ok("The new post.", "Post", 201, location=True),
                        "400 401 403 404 413 422 429", params=("thread_id",),
                        body="PostInput"),
        },
    }


def _post_paths() -> dict[str, Any]:
    return {
        f"{V1}/posts/{{id}}": {
            "get": _op("api_post", "posts", "One post.", _ok("The post.", "Post"), "401 404",
                       params=("post_id",)),
            "patch": _op("api_edit_post", "posts", "Edit a post (a new revision).",
                         _ok("The post as it now is.", "Post"),
                         "400 401 403 404 409 413 422", params=("post_id",), body="PostInput"),
            "delete": _op("api_delete_post", "posts", "Delete a post (a tombstone stays).",
                          {"204": {"description": "Deleted."}}, "400 401 403 404 409 422",
                          params=("post_id", "reason", "private"), write=True),
        },
        f"{V1}/posts/{{id}}/revisions": {
            "get": _op("api_post_revisions", "posts", "Every version of a post.",
                       _ok("The versions, oldest first.", "RevisionList"), "401 404",
                       params=("post_id",)),
        },
    }


def _parameters() -> dict[str, Any]:
    def path_id(what: str) -> dict[str, Any]:
        return {"name": "id", "in": "path", "required": True, "description": f"A {what} id.",
                "schema": {"type": "integer", "minimum": 1}}

    return {
        "thread_id": path_id("thread"),
        "post_id": path_id("post"),
        "slug": {"name": "slug", "in": "path", "required": True,
                 "description": "A board's address (a former one still answers).",
                 "schema": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}},
        "page": {"name": "page", "in": "query", "required": False,
                 "description": "From 1; past the last page is 404.",
                 "schema": {"type": "integer", "minimum": 1, "default": 1}},
        "reason": {"name": "reason", "in": "query", "required": False,
                   "description": "Why: required from a moderator deleting someone else's "
                                  "post (422), shown in the public journal; 500 characters "
                                  "are kept.",
                   "schema": {"type": "string"}},
        "private": {"name": "private", "in": "query", "required": False,
                    "description": "Keep the moderator's reason out of the public journal.",
                    "schema": {"type": "boolean", "default": False}},
    }


def _error_responses() -> dict[str, Any]:
    descriptions = {
        "400": "Malformed JSON, a body that is not an object, or a bad query parameter.",
        "401": "Not logged in, or the bearer token is not valid.",
        "403": "Not allowed (or, with the session cookie, a missing CSRF header).",
        "404": "No such thing, or not visible to you.",
        "409": "Conflicts with what exists (a board address taken, a deleted post).",
        "413": "Too large (a post body past its limit, or the whole request).",
        "422": "A field (or parameter) is not valid: `field` names it.",
        "429": "Posting too fast.",
    }
    responses = {code: {"description": text, "content": {JSON: {"schema": _ref(
        "schemas", "Error")}}} for code, text in descriptions.items()}
    responses["429"]["headers"] = {"Retry-After": {
        "description": "Seconds to wait.", "required": True, "schema": {"type": "string"}}}
    return responses


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A response object: every property always present, nothing else."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False}


def _output_schemas() -> dict[str, Any]:
    text, count = {"type": "string"}, {"type": "integer", "minimum": 0}
    ident, page = {"type": "integer", "minimum": 1}, {"type": "integer", "minimum": 1}
    when = {"type": "string", "format": "date-time"}
    maybe_when = {"type": ["string", "null"], "format": "date-time"}
    status = {"type": "string", "enum": STATUSES}
    mode = {"type": "string", "enum": list(MODERATION_MODES)}

    def array(name: str) -> dict[str, Any]:
        return {"type": "array", "items": _ref("schemas", name)}

    return {
        "Error": _object({"error": _object(
            {"code": text, "message": text, "field": text}, required=["code", "message"])}),
        "Board": _object({"id": ident, "slug": text, "name": text, "region": text,
                          "description": text, "moderation_mode": mode,
                          "thread_count": count, "post_count": count,
                          "last_post_at": maybe_when}),
        "Thread": _object({"id": ident, "board": text, "title": text, "author": text,
                           "status": status, "pinned": {"type": "boolean"},
                           "locked": {"type": "boolean"}, "post_count": count,
                           "created_at": when, "last_post_at": when}),
        "Post": _object({
            "id": ident, "thread_id": ident, "author": text,
            "body_html": {"type": "string", "description": "Sanitized HTML; \"\" when "
                          "deleted, except for moderators."},
            "body_source": {"type": "string", "description": "The Markdown; hidden alike."},
            "status": status,
            "reject_reason": {"type": ["string", "null"],
                              "description": "Why the moderators refused it."},
            "hidden": {"type": "boolean", "description": "Hidden after flags, until reviewed."},
            "created_at": when, "edited_at": maybe_when, "deleted": {"type": "boolean"}}),
        "Revision": _object({"id": ident, "editor": text, "body_html": text,
                             "body_source": text, "created_at": when}),
        "BoardList": _object({"boards": array("Board")}),
        "BoardThreads": _object({"board": _ref("schemas", "Board"), "threads": array("Thread"),
                                 "page": page, "pages": page}),
        "ThreadPage": _object({"thread": _ref("schemas", "Thread"), "posts": array("Post"),
                               "page": page, "pages": page}),
        "NewThread": _object({"thread": _ref("schemas", "Thread"),
                              "post": _ref("schemas", "Post")}),
        "RevisionList": _object({"post_id": ident, "revisions": array("Revision")}),
    }


def _input_schemas(config: Config) -> dict[str, Any]:
    def field(description: str, max_length: int | None = None,
              min_length: int = 0) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "description": description}
        if min_length:
            schema["minLength"] = min_length
        if max_length is not None:
            schema["maxLength"] = max_length
        return schema

    body = field("Markdown. Not only spaces; longer is 413. The new post is `pending` (still "
                 "201) in an a-priori board or from a member not trusted yet.",
                 config.body_max, 1)
    # Inputs ignore unknown members, so they stay open (no additionalProperties: false).
    return {
        "BoardInput": {"type": "object", "required": ["name"], "properties": {
            "name": field("Shown as the board's title.", NAME_MAX, 1),
            "slug": field("Its address: made from the name when absent; letters are folded "
                          "to a-z, 0-9 and dashes.", NAME_MAX),
            "region": field(f"Cut to {REGION_MAX} characters."),
            "description": field("Plain text.", DESCRIPTION_MAX),
            "moderation_mode": {"type": "string", "enum": list(MODERATION_MODES),
                                "default": config.moderation_default,
                                "description": "a-priori: posts wait for a moderator."}}},
        "ThreadInput": {"type": "object", "required": ["title", "body"], "properties": {
            "title": field("Not only spaces.", config.title_max, 1), "body": body}},
        "PostInput": {"type": "object", "required": ["body"], "properties": {"body": body}},
    }
