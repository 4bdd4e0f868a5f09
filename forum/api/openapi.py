"""The OpenAPI 3.1 description of /api/v1, built from the running Config: GET /api/openapi.json."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.api.moderation import QUEUE_LIMIT
from forum.auth import SESSION_COOKIE
from forum.config import Config
from forum.csrf import HEADER as CSRF_HEADER
from forum.models.boards import DESCRIPTION_MAX, MODERATION_MODES, NAME_MAX, REGION_MAX
from forum.models.moderation import REASON_MAX
from forum.models.search import CANDIDATES, QUERY_MAX, TERMS_MAX
from forum.text import PSEUDONYM_MAX

JSON = "application/json"
V1 = "/api/v1"  # as in routes.py; tests/test_openapi.py checks that both list the same routes
STATUSES = ["published", "pending", "rejected"]  # the CHECK of posts.status and threads.status
# Reads are open to anonymous readers ({}), who see what the pages show them.
READ = [{}, {"bearer": []}, {"session": []}]
MEMBER = [{"bearer": []}, {"session": []}]  # reads for logged-in members only (401 without)
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
        "tags": [{"name": "boards"}, {"name": "threads"}, {"name": "posts"},
                 {"name": "moderation", "description": "Flags, and the moderators' tools."},
                 {"name": "uploads", "description": "Files to attach to new posts."},
                 {"name": "search", "description": "Full-text search of published posts."}],
        "paths": _paths(config),
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
        params: tuple[str, ...] = (), body: str | None = None, write: bool = False,
        member: bool = False, body_required: bool = True) -> dict[str, Any]:
    """One operation; `errors` names its error responses ("400 401 404").

    `member`: a read that needs a logged-in member; `body_required=False`: may be sent empty.
    """
    operation: dict[str, Any] = {
        "operationId": op_id, "tags": [tag], "summary": summary,
        "security": WRITE if write or body else MEMBER if member else READ,
        "parameters": [_ref("parameters", name) for name in params],
        "responses": {**ok, **{code: _ref("responses", code) for code in errors.split()}},
    }
    if body:
        operation["requestBody"] = {"required": body_required,
                                    "content": {JSON: {"schema": _ref("schemas", body)}}}
    return operation


def _paths(config: Config) -> dict[str, Any]:
    document = {"get": {
        "operationId": "api_openapi", "summary": "This document.", "security": READ,
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": {JSON: {"schema": {"type": "object"}}}}}}}
    return {"/api/openapi.json": document, **_board_paths(), **_thread_paths(),
            **_post_paths(), **_upload_paths(config), **_moderation_paths(), **_search_paths(),
            **_notification_paths()}


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
                        body="ReplyInput"),
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


def _upload_paths(config: Config) -> dict[str, Any]:
    operation = _op("api_upload", "uploads",
                    "Send one file (multipart/form-data, field `file`); list its id in a new "
                    "post's `attachments`. Its kind is told from its content; its metadata (GPS "
                    "position, camera, author…) is removed before it is stored, and `removed` "
                    "says what was. Never attached, it is deleted after "
                    f"{config.orphan_upload_hours:g} hours.",
                    _ok("The stored file.", "Upload", 201, location=True),
                    "400 401 403 413 422 429", write=True)
    operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {
        # Closed: a form's other fields would be ignored, but aiohttp refuses some field names.
        "schema": {"type": "object", "required": ["file"], "additionalProperties": False,
                   "properties": {"file": {
            "type": "string", "format": "binary",
            "description": f"At most {config.upload_max_bytes} bytes; PDF, JPEG, PNG, WebP, "
                           "GIF, ODT, ODS, ODP, DOCX, XLSX, PPTX, CSV or UTF-8 text."}}}}}}
    return {f"{V1}/uploads": {"post": operation}}


def _moderation_paths() -> dict[str, Any]:
    mod = f"{V1}/moderation"
    decision = "400 401 403 404 409 413 422"  # 404: not visible to you; 403: not your board
    paths = {
        f"{V1}/posts/{{id}}/flags": {
            "post": _op("api_flag_post", "moderation",
                        "Flag a post for the moderators (not your own; once per post).",
                        _ok("The flag is recorded; `hidden` when the post is now hidden.",
                            "FlagResult", 201), decision, params=("post_id",),
                        body="FlagInput"),
        },
        f"{mod}/queue": {
            "get": _op("api_moderation_queue", "moderation",
                       f"Pending and flagged posts of the boards you moderate, the oldest "
                       f"{QUEUE_LIMIT} first (404 when you moderate none).",
                       _ok("The items with their context.", "ModerationQueue"),
                       "401 403 404", params=("board",), member=True),
        },
        f"{mod}/reasons": {
            "get": _op("api_moderation_reasons", "moderation",
                       "The reasons a moderator may pick for refusing, in your language.",
                       _ok("The reasons.", "ReasonList"), "401 403 404", member=True),
        },
        f"{mod}/posts/{{id}}/approve": {
            "post": _op("api_moderation_approve", "moderation",
                        "Publish a pending post in place, with its original time.",
                        _ok("The post as it now is.", "Post"), "401 403 404 409",
                        params=("post_id",), write=True),
        },
        f"{mod}/posts/{{id}}/reject": {
            "post": _op("api_moderation_reject", "moderation",
                        "Refuse a pending post; its author is told why.",
                        _ok("The post as it now is.", "Post"), decision,
                        params=("post_id",), body="RejectInput"),
        },
        f"{mod}/posts/{{id}}/edit-and-approve": {
            "post": _op("api_moderation_edit_and_approve", "moderation",
                        "Correct a pending post (the original is kept as a revision), "
                        "then publish it.", _ok("The post as it now is.", "Post"), decision,
                        params=("post_id",), body="PostInput"),
        },
    }
    for action, summary in (("lock", "Lock a thread: only moderators may still reply."),
                            ("unlock", "Unlock a thread."),
                            ("pin", "Pin a thread at the top of its board."),
                            ("unpin", "Unpin a thread.")):
        paths[f"{mod}/threads/{{id}}/{action}"] = {"post": _op(
            f"api_moderation_{action}", "moderation", summary,
            _ok("The thread as it now is.", "Thread"), "400 401 403 404 413 422",
            params=("thread_id",), body="ThreadActionInput", body_required=False)}
    return paths


def _notification_paths() -> dict[str, Any]:
    return {
        f"{V1}/notifications": {"get": _op(
            "api_notifications", "notifications",
            "Your notifications, newest first; new messages about one thread are grouped "
            "(`count`). Nothing about a post that is no longer public.",
            _ok("Your notifications and how many are unread.", "NotificationList"),
            "401 403", member=True)},
        f"{V1}/notifications/read": {"post": {**_op(
            "api_notifications_read", "notifications",
            "Mark these notifications (each with its group) read, or all of them without "
            "`ids`.", {"204": {"description": "Done."}}, "400 401 403 404 413 422",
            body="ReadInput", body_required=False)}},
        f"{V1}/members": {"get": _op(
            "api_members", "members",
            "Pseudonyms starting with `prefix` (case ignored), for @ suggestions; at most 8.",
            _ok("Matching pseudonyms.", "MemberNames"), "400 422", params=("prefix",))},
    }


def _search_paths() -> dict[str, Any]:
    return {f"{V1}/search": {"get": _op(
        "api_search", "search",
        "Search published posts and thread titles (the same for everyone: pending, refused, "
        "hidden and deleted posts are never found). Accents and case are ignored; every word "
        'and "exact phrase" must appear; a word ending in * is a prefix. Posts whose thread '
        f"title matches come first, then the most recent; at most {CANDIDATES} are ranked.",
        _ok("A page of results.", "SearchResults"), "400 401 404 422",
        params=("q", "board", "author", "since", "until", "page"))}}


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
        "board": {"name": "board", "in": "query", "required": False,
                  "description": "Only this board's items (its address); unknown is 404.",
                  "schema": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}},
        "private": {"name": "private", "in": "query", "required": False,
                    "description": "Keep the moderator's reason out of the public journal.",
                    "schema": {"type": "boolean", "default": False}},
        "prefix": {"name": "prefix", "in": "query", "required": False,
                   "description": "The start of a pseudonym (a leading @ is ignored).",
                   "schema": {"type": "string", "maxLength": 30}},
        **_search_parameters(),
    }


def _search_parameters() -> dict[str, Any]:
    def day(name: str, description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description,
                "schema": {"type": "string", "format": "date"}}

    return {
        "q": {"name": "q", "in": "query", "required": True,
              "description": f'Words and "exact phrases", at most {TERMS_MAX}; longer than '
                             f"{QUERY_MAX} characters is 422. Punctuation only finds nothing.",
              "schema": {"type": "string", "maxLength": QUERY_MAX}},
        "author": {"name": "author", "in": "query", "required": False,
                   "description": "Only this member's posts (a pseudonym); unknown is 404.",
                   "schema": {"type": "string", "minLength": 1, "maxLength": PSEUDONYM_MAX}},
        "since": day("since", "Posts from this day on (Paris time)."),
        "until": day("until", "Posts up to this day, included (Paris time)."),
    }


def _error_responses() -> dict[str, Any]:
    descriptions = {
        "400": "Malformed JSON, a body that is not an object, or a bad query parameter.",
        "401": "Not logged in, or the bearer token is not valid.",
        "403": "Not allowed (or, with the session cookie, a missing CSRF header).",
        "404": "No such thing, or not visible to you.",
        "409": "Conflicts with what exists (a board address taken, a deleted post, a "
               "decision another moderator already took, a second flag).",
        "413": "Too large (a post body past its limit, a file, or the whole request).",
        "422": "A field (or parameter) is not valid: `field` names it.",
        "429": "Posting or sending files too fast, or the day's quota of files is used.",
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
            "created_at": when, "edited_at": maybe_when, "deleted": {"type": "boolean"},
            "attachments": {"type": "array", "items": _ref("schemas", "Attachment"),
                            "description": "Its files (empty when you may not see them)."}}),
        "Attachment": _object({"id": ident, "filename": text, "content_type": text,
                               "kind": text, "size": count, "url": text,
                               "thumbnail_url": {"type": ["string", "null"]}}),
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
        "QueueItem": _object({
            "post": _ref("schemas", "Post"),
            "thread": _object({"id": ident, "title": text}),
            "board": _object({"slug": text, "name": text}),
            "previous": {"description": "The published post it answers (null: the first).",
                         "anyOf": [_ref("schemas", "Post"), {"type": "null"}]},
            "author": _object({"name": text, "approved": count, "rejected": count,
                               "since": when}),
            "flags": {"type": "array", "description": "Open flags, oldest first.",
                      "items": _object({"by": text, "reason": text, "created_at": when})}}),
        "ModerationQueue": _object({"items": array("QueueItem")}),
        "ReasonList": _object({"reasons": {"type": "array", "items": text}}),
        "Upload": _object({
            "id": ident, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "filename": {"type": "string", "description": "Cleaned; ends in its kind's "
                         "extension."},
            "content_type": text, "kind": text, "size": count,
            "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
            "url": text, "thumbnail_url": {"type": ["string", "null"]},
            "removed": {"type": "array", "items": text,
                        "description": "What was removed, in the reader's language."}}),
        "Notification": _object({
            "id": ident, "kind": {"type": "string", "enum": [
                "mention", "quote", "reply", "new_thread", "approved", "rejected", "deleted",
                "warn", "suspend", "ban", "lift"]},
            "post_id": {"type": ["integer", "null"]},
            "thread_id": {"type": ["integer", "null"]},
            "thread_title": {"type": ["string", "null"]}, "actor": {"type": ["string", "null"]},
            "text": text, "count": ident, "created_at": when, "read": {"type": "boolean"}}),
        "NotificationList": _object({"notifications": array("Notification"), "unread": count}),
        "MemberNames": _object({"members": {"type": "array", "items": text}}),
        "FlagResult": _object({"post_id": ident, "hidden": {
            "type": "boolean", "description": "Hidden from readers until reviewed."}}),
        "SearchHit": _object({
            "post_id": ident, "thread_id": ident, "thread_title": text,
            "title_html": {"type": "string", "description": "The thread title, escaped, its "
                           "matches in <mark> when the post opens the thread."},
            "snippet_html": {"type": "string", "description": "Escaped text around the "
                             "matches, which are in <mark>."},
            "board": text, "author": text, "created_at": when,
            "opens_thread": {"type": "boolean", "description": "The first post of its thread."}}),
        "SearchResults": _object({
            "results": array("SearchHit"), "total": count,
            "more": {"type": "boolean", "description": f"More than {CANDIDATES} posts match: "
                     "the most recent were ranked."},
            "page": page, "pages": page}),
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
    attachments = {"type": "array", "uniqueItems": True, "maxItems": config.upload_post_max_files,
                   "items": {"type": "integer", "minimum": 1},
                   "description": "Ids from POST /api/v1/uploads, your own, not attached yet "
                                  f"(422 otherwise); at most {config.upload_post_max_bytes} "
                                  "bytes in all (413)."}
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
            "title": field("Not only spaces.", config.title_max, 1), "body": body,
            "attachments": attachments}},
        "ReplyInput": {"type": "object", "required": ["body"], "properties": {
            "body": body, "attachments": attachments}},
        "PostInput": {"type": "object", "required": ["body"], "properties": {"body": body}},
        "RejectInput": {"type": "object", "required": ["reason"], "properties": {
            "reason": field("One of /moderation/reasons, or your own words (or both). Told "
                            "to the author; in the public journal unless `private`. Not "
                            f"only spaces; {REASON_MAX} characters are kept.", min_length=1),
            "private": {"type": "boolean", "default": False,
                        "description": "Keep the reason out of the public journal."}}},
        "ReadInput": {"type": "object", "properties": {
            "ids": {"type": "array", "maxItems": 200, "items": {"type": "integer", "minimum": 1},
                    "description": "Your notifications' ids (404 for one that is not yours)."}}},
        "FlagInput": {"type": "object", "required": ["reason"], "properties": {
            "reason": field("What is wrong with it, for the moderators. Not only spaces; "
                            f"{REASON_MAX} characters are kept.", min_length=1)}},
        "ThreadActionInput": {"type": "object", "properties": {
            "reason": field(f"Optional, in the public journal; {REASON_MAX} characters are "
                            "kept.")}},
    }
