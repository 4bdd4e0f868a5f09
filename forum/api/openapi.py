"""The OpenAPI 3.1 description of /api/v1, built from the running Config: GET /api/openapi.json."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.api.components import JSON, error_responses, parameters, ref, schemas
from forum.api.draft_components import draft_paths
from forum.api.findings import PAGE_SIZE as FINDINGS_PAGE_SIZE
from forum.api.moderation import QUEUE_LIMIT
from forum.api.request_components import TAG as REQUESTS_TAG
from forum.api.request_components import request_paths
from forum.auth import SESSION_COOKIE
from forum.config import Config
from forum.csrf import HEADER as CSRF_HEADER
from forum.models.search import CANDIDATES
from forum.uploads.kinds import KINDS

V1 = "/api/v1"  # as in routes.py; tests/test_openapi.py checks that both list the same routes
# Reads are open to anonymous readers ({}), who see what the pages show them.
Security = list[dict[str, list[str]]]
READ: Security = [{}, {"bearer": []}, {"session": []}]
MEMBER: Security = [{"bearer": []}, {"session": []}]  # reads for members only (401 without)
WRITE: Security = [{"bearer": []}, {"session": [], "csrf": []}]
UPLOAD_MEDIA_TYPES = [kind.content_type.split(";")[0] for kind in KINDS.values()]


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
                "`Authorization: Bearer <token>` (`vigie token create <name>` prints one, and "
                "so does POST /api/v1/tokens from a logged-in browser), "
                f"or with the session cookie plus the `{CSRF_HEADER}` header on writes. Errors are "
                '`{"error": {"code", "message", "field"?}}`. Fields a client may not set '
                "(author, status, role, pinned…) and unknown fields are refused (422)."),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "tags": [{"name": "boards"}, {"name": "threads"}, {"name": "posts"},
                 {"name": "moderation", "description": "Flags, and the moderators' tools."},
                 {"name": "uploads", "description": "Files to attach to new posts."},
                 {"name": "search", "description": "Full-text search of published posts."},
                 {"name": "members", "description": "Profiles, and moderators' decisions "
                  "about a member."},
                 {"name": "following", "description": "Threads and boards one follows "
                  "(notified) or muted."},
                 {"name": "settings", "description": "One's preferences and personal API "
                  "tokens. The password, e-mail address, sessions, two-factor set-up and "
                  "leaving stay on /settings: a stolen token must not take an account."},
                 {"name": "findings", "description": "The watch board: sourced facts about "
                  "each city's surveillance equipment. Open data exports (CSV, JSON, GeoJSON) "
                  "are at /watch/findings.csv and /b/{slug}/watch/findings.csv."},
                 REQUESTS_TAG,
                 {"name": "drafts", "description": "What you are writing and did not send "
                  "yet, kept on the server for any device."}],
        "paths": _paths(config),
        "components": {
            # Inputs are closed (components.closed): an unknown field is refused.
            "schemas": schemas(config),
            "responses": error_responses(),
            "parameters": parameters(),
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


def _ok(description: str, schema: str, status: int = 200,
        location: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {JSON: {"schema": ref("schemas", schema)}}}
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
    codes = errors.split()
    # Whatever sends input (a body, a query) may be turned away: too many invalid requests
    # (forum/input_limits.py); a JSON body past its bound is 413 before it is read.
    codes += [code for code, applies in (("413", body), ("429", body or write or params))
              if applies and code not in codes]
    operation: dict[str, Any] = {
        "operationId": op_id, "tags": [tag], "summary": summary,
        "security": WRITE if write or body else MEMBER if member else READ,
        "parameters": [ref("parameters", name) for name in params],
        "responses": {**ok, **{code: ref("responses", code) for code in sorted(codes)}},
    }
    if body:
        operation["requestBody"] = {"required": body_required,
                                    "content": {JSON: {"schema": ref("schemas", body)}}}
    return operation


def _purge(op_id: str, target: str) -> dict[str, Any]:
    """A moderator's purge of one version of a post or a finding (`target`: its id parameter);
    the same rules for both (models.posts.version_to_purge)."""
    return _op(op_id, "moderation",
               "Erase a version that must disappear (a name, an address): its text, and its "
               "copies in the search index, notifications and mails. Not the current version "
               "of a post or finding still shown (409: correct it first). The journal records "
               "the purge, not the content. 404 unless you moderate it.",
               {"204": {"description": "Purged."}}, "401 403 404 409",
               params=(target, "revision_id"), write=True)


def _paths(config: Config) -> dict[str, Any]:
    document = {"get": {
        "operationId": "api_openapi", "summary": "This document.", "security": READ,
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": {JSON: {"schema": {"type": "object"}}}}}}}
    return {"/api/openapi.json": document, **_board_paths(), **_thread_paths(),
            **_post_paths(), **_upload_paths(config), **_moderation_paths(), **_search_paths(),
            **_notification_paths(), **_finding_paths(), **request_paths(_op, _ok),
            **_member_paths(), **_settings_paths(), **_open_data_paths(),
            **draft_paths(_op, _ok)}


def _board_paths() -> dict[str, Any]:
    return {
        f"{V1}/boards": {
            "get": _op("api_boards", "boards", "Every city board.",
                       _ok("The boards.", "BoardList"), "401"),
            "post": _op("api_create_board", "boards", "Create a board (administrators).",
                        _ok("The new board.", "Board", 201, location=True),
                        "400 401 403 409 413 422", body="BoardInput"),
        },
        f"{V1}/boards/{{slug}}": {
            "patch": _op("api_edit_board", "boards", "Rename, move to a new address, describe a "
                         "board, change its moderation mode or whether it is a city "
                         "(administrators).", _ok("The board as it now is.", "Board"),
                         "400 401 403 404 409 413 422", params=("slug",),
                         body="BoardEditInput"),
        },
        f"{V1}/boards/{{slug}}/members": {
            "get": _op("api_board_members", "boards",
                       "A closed board's members (for its members and moderators; 404 for "
                       "anyone else).", _ok("The members.", "BoardMembers"), "400 401 404",
                       params=("slug",), member=True),
            "post": _op("api_add_board_member", "boards",
                        "Add a member to a board's group (its moderators).",
                        _ok("The member added.", "MemberAdded", 201, location=True),
                        "400 401 403 404 409 413 422", params=("slug",), body="MemberInput"),
        },
        f"{V1}/boards/{{slug}}/members/{{name}}": {
            "delete": _op("api_remove_board_member", "boards",
                          "Take a member out of a board's group (its moderators).",
                          {"204": {"description": "Removed."}}, "400 401 403 404",
                          params=("slug", "member_name"), write=True),
        },
        f"{V1}/registration": {
            "get": _op("api_registration", "boards", "How accounts are created "
                       "(administrators).", _ok("The rules.", "Registration"), "401 403",
                       member=True),
            "patch": _op("api_change_registration", "boards", "Open sign-up, by invitation "
                         "only, or closed; the sign-up question (administrators).",
                         _ok("The rules as they now are.", "Registration"),
                         "400 401 403 413 422", body="RegistrationInput"),
        },
        f"{V1}/boards/{{slug}}/moderators": {
            "get": _op("api_board_moderators", "boards", "Who moderates this board "
                       "(administrators).", _ok("Their pseudonyms.", "BoardModerators"),
                       "401 403 404", params=("slug",), member=True),
        },
        f"{V1}/boards/{{slug}}/moderators/{{name}}": {
            "put": _op("api_add_board_moderator", "boards", "Make a member a moderator of "
                       "this board (administrators); their sessions end, so that it holds at "
                       "once.", {"204": {"description": "Done (or already so)."}},
                       "401 403 404", params=("slug", "member_name"), write=True),
            "delete": _op("api_remove_board_moderator", "boards", "A member no longer "
                          "moderates this board (404 if they did not).",
                          {"204": {"description": "Done."}}, "401 403 404",
                          params=("slug", "member_name"), write=True),
        },
        f"{V1}/boards/{{slug}}/read": {"post": _op(
            "api_mark_board_read", "threads", "Everything posted in this board until now "
            "counts as read by you (its threads' `unread_posts` drop to 0).",
            {"204": {"description": "Done."}}, "400 401 404 413 422", params=("slug",),
            body="MarkReadInput", body_required=False)},
        f"{V1}/read": {"post": _op(
            "api_mark_all_read", "threads", "Everything posted until now in every board you "
            "read counts as read by you.", {"204": {"description": "Done."}},
            "400 401 413 422", body="MarkReadInput", body_required=False)},
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
            # Independent of the first post: a deleted first post leaves its title showing.
            "patch": _op("api_rename_thread", "threads",
                         "Rename a thread (its moderators; its author while it is not public). "
                         "The old title is kept for moderators, never shown in the journal.",
                         _ok("The thread as it now is.", "Thread"), "400 401 403 404 422",
                         params=("thread_id",), body="ThreadTitleInput"),
        },
        f"{V1}/threads/{{id}}/read": {"post": _op(
            "api_mark_thread_read", "threads", "You read this thread up to `post_id` (by "
            "default, its last post you may see). A mark never goes back.",
            {"204": {"description": "Done."}}, "400 401 404 413 422", params=("thread_id",),
            body="ThreadReadInput", body_required=False)},
        f"{V1}/threads/{{id}}/move": {
            "post": _op("api_move_thread", "threads",
                        "Move a thread to another board (a moderator of both). Out of a closed "
                        "board into an open one, it needs `confirm`: without it, 409 says what "
                        "would become public and nothing moves. The journal records the move.",
                        {**_ok("The thread moved, and what became public.", "MovedThread"),
                         "409": {"description": "Not confirmed: what would become public.",
                                 "content": {JSON: {"schema": ref("schemas", "MoveRefused")}}}},
                        "400 401 403 404 413 422", params=("thread_id",), body="MoveInput"),
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
            "patch": _op("api_edit_post", "posts", "Edit a post (a new revision). Where a new "
                         "post would wait, the edit waits: the public text stays, "
                         "`edit_pending` is true.",
                         _ok("The post as it now is.", "Post"),
                         "400 401 403 404 409 413 422", params=("post_id",), body="PostInput"),
            "delete": _op("api_delete_post", "posts", "Delete a post (a tombstone stays).",
                          {"204": {"description": "Deleted."}}, "400 401 403 404 409 422",
                          params=("post_id", "reason", "private"), write=True),
        },
        f"{V1}/posts/{{id}}/revisions": {
            "get": _op("api_post_revisions", "posts", "The versions of a post that were "
                       "public; every version, with its state, for its author and moderators.",
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
            "type": "string", "format": "binary", "minLength": 1,
            "description": f"At most {config.upload_max_bytes} bytes; PDF, JPEG, PNG, WebP, "
                           "GIF, ODT, ODS, ODP, DOCX, XLSX, PPTX, CSV or UTF-8 text. Its "
                           "content decides, not the part's Content-Type: bytes of none of "
                           "these kinds are refused (422)."}}},
        # What a file may be: its content has to be one of these (a schema cannot say more
        # of bytes; clients and fuzzers generate files of these media types).
        "encoding": {"file": {"contentType": ", ".join(UPLOAD_MEDIA_TYPES)}}}}}
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
                       f"Pending posts, edits waiting and flagged posts of the boards you "
                       f"moderate, the oldest "
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
                        "Publish a pending post in place, with its original time, or the edit "
                        "waiting on a public post.",
                        _ok("The post as it now is.", "Post"), "401 403 404 409",
                        params=("post_id",), write=True),
        },
        f"{mod}/posts/{{id}}/reject": {
            "post": _op("api_moderation_reject", "moderation",
                        "Refuse a pending post, or the edit waiting on a public post (which "
                        "keeps its text); its author is told why.",
                        _ok("The post as it now is.", "Post"), decision,
                        params=("post_id",), body="RejectInput"),
        },
        f"{mod}/posts/{{id}}/revisions/{{revision}}/purge": {
            "post": _purge("api_moderation_purge_post", "post_id"),
        },
        f"{mod}/posts/{{id}}/edit-and-approve": {
            "post": _op("api_moderation_edit_and_approve", "moderation",
                        "Correct a pending post or edit (the version corrected is kept, "
                        "seen only by the author and moderators), then publish it.",
                        _ok("The post as it now is.", "Post"), decision,
                        params=("post_id",), body="CorrectionInput"),
        },
    }
    for action, summary in (
            ("dismiss-flags", "The flags were unfounded: close them and show the post again "
                              "(409: nothing to dismiss)."),
            ("restore", "Restore a deleted post (409: it is not deleted).")):
        paths[f"{mod}/posts/{{id}}/{action}"] = {"post": _op(
            f"api_moderation_{action.replace('-', '_')}", "moderation", summary,
            _ok("The post as it now is.", "Post"), decision, params=("post_id",),
            body="ThreadActionInput", body_required=False)}
    paths[f"{mod}/threads/{{id}}/move"] = {"post": {**_op(
        "api_moderation_move", "moderation",
        "Deprecated: use POST /api/v1/threads/{id}/move, the same move, which also says what "
        "became public. This one answers the thread only, and a plain 409 out of a closed "
        "board without `confirm`.",
        _ok("The thread as it now is.", "Thread"), "400 401 403 404 409 413 422",
        params=("thread_id",), body="MoveInput"), "deprecated": True}}
    paths[f"{mod}/journal"] = {"get": _op(
        "api_moderation_journal", "moderation",
        "The public journal of moderation, newest first (private reasons left out).",
        _ok("A page of the journal.", "Journal"), "400 401 404", params=("page",))}
    for action, summary in (("lock", "Lock a thread: only moderators may still reply."),
                            ("unlock", "Unlock a thread."),
                            ("pin", "Pin a thread at the top of its board."),
                            ("unpin", "Unpin a thread."),
                            # Whatever became of its first post (a title can name someone).
                            ("hide", "Hide a thread from everyone but its moderators (its "
                                     "status is then `rejected`, as a refused thread's)."),
                            ("show", "Show a hidden thread again.")):
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
            "Pseudonyms starting with `prefix` (case ignored), for the editor's @ suggestions;"
            " at most 8, for logged-in members only.",
            _ok("Matching pseudonyms.", "MemberNames"), "400 401 422", params=("prefix",),
            member=True)},
    }


def _search_paths() -> dict[str, Any]:
    return {f"{V1}/search": {"get": _op(
        "api_search", "search",
        "Search published posts and thread titles (the same for everyone: pending, refused, "
        "hidden and deleted posts are never found). Accents and case are ignored; every word "
        'and "exact phrase" must appear; a word ending in * is a prefix. Posts whose thread '
        f"title matches come first, then the most recent; at most {CANDIDATES} are ranked. "
        "`documents` holds the attached files whose text matches, among the posts you may "
        "see (a file of a pending, refused, hidden or deleted post only for those who may see "
        "that post), each with its page and snippet.",
        _ok("A page of results.", "SearchResults"), "400 401 404 422 503",
        params=("q", "board", "author", "since", "until", "search_type", "page"))}}


def _finding_paths() -> dict[str, Any]:
    mod = f"{V1}/moderation/findings/{{id}}"
    decision = "400 401 403 404 409 413 422"  # 404: not visible to you; 403: not your city
    return {
        f"{V1}/findings": {
            "get": _op("api_findings", "findings",
                       f"The findings you may see, {FINDINGS_PAGE_SIZE} a page, by city, kind "
                       "and date: the public ones, and your own or (moderators) your cities' "
                       "pending ones, which say so in `review`.",
                       _ok("A page of findings.", "FindingList"), "400 401 404 422",
                       params=("city", "kind", "finding_status", "observed_since",
                               "observed_until", "finding_scope", "page")),
            "post": _op("api_create_finding", "findings",
                        "Propose a finding with its sources (at least one).",
                        _ok("The new finding.", "Finding", 201, location=True),
                        "400 401 403 404 413 422 429", body="FindingInput"),
        },
        f"{V1}/findings/{{id}}": {
            "get": _op("api_finding", "findings", "One finding.", _ok("The finding.", "Finding"),
                       "401 404", params=("finding_id",)),
            "patch": _op("api_edit_finding", "findings",
                         "Correct a finding (its author, or its city's moderators): a new "
                         "version with its reason, every earlier one kept.",
                         _ok("The finding as it now is.", "Finding"),
                         "400 401 403 404 409 413 422", params=("finding_id",),
                         body="FindingCorrectionInput"),
            "delete": _op("api_delete_finding", "findings",
                          "Withdraw a finding (a tombstone moderators still see; they may "
                          "restore it).", {"204": {"description": "Withdrawn."}},
                          "401 403 404 409", params=("finding_id", "withdraw_reason"),
                          write=True),
        },
        f"{V1}/findings/{{id}}/revisions": {
            "get": _op("api_finding_revisions", "findings",
                       "The versions of a finding that were public; every version, with its "
                       "state and note, for its author and moderators.",
                       _ok("The versions, oldest first.", "FindingRevisionList"), "401 404",
                       params=("finding_id",)),
        },
        f"{mod}/restore": {
            "post": _op("api_moderation_restore_finding", "moderation",
                        "Restore a withdrawn finding of a city you moderate (409: it is not "
                        "withdrawn).", _ok("The finding as it now is.", "Finding"), decision,
                        params=("finding_id",), body="ThreadActionInput", body_required=False),
        },
        f"{V1}/finding-kinds": {
            "get": _op("api_finding_kinds", "findings",
                       "The kinds of equipment, statuses and units a finding may have.",
                       _ok("The choices, with their names in your language.", "FindingKinds"),
                       "401"),
            "post": _op("api_create_finding_kind", "findings",
                        "Add a kind of equipment (administrators).",
                        _ok("The new kind.", "FindingKind", 201), "400 401 403 409 413 422",
                        body="KindInput"),
        },
        f"{V1}/finding-kinds/{{slug}}": {
            "patch": _op("api_rename_kind", "findings",
                         "Rename a kind of equipment (administrators). The old name stays in "
                         "the journal and the kinds' history.",
                         _ok("The kind as it now is.", "FindingKind"),
                         "400 401 403 404 409 413 422", params=("kind_slug",),
                         body="RenameKindInput"),
        },
        f"{V1}/finding-kinds/{{slug}}/merge": {
            "post": _op("api_merge_kind", "findings",
                        "Merge a kind of equipment into another (administrators): its "
                        "findings move there; earlier versions keep the old name.",
                        _ok("The kind that received the findings, and how many moved.",
                            "MergedKind"),
                        "400 401 403 404 413 422", params=("kind_slug",),
                        body="MergeKindInput"),
        },
        f"{mod}/approve": {
            "post": _op("api_moderation_approve_finding", "moderation",
                        "Publish a pending finding of a city you moderate (or the correction "
                        "waiting on a public one). A total that does not fit the published "
                        "record is 422 unless `confirm` is true.",
                        _ok("The finding as it now is.", "Finding"), "400 401 403 404 409 422",
                        params=("finding_id",), body="ApproveFindingInput",
                        body_required=False),
        },
        f"{mod}/reject": {
            "post": _op("api_moderation_reject_finding", "moderation",
                        "Refuse a pending finding, or the correction waiting on a public one; "
                        "its author is told why and may correct it.",
                        _ok("The finding as it now is.", "Finding"), decision,
                        params=("finding_id",), body="RejectInput"),
        },
        f"{mod}/revisions/{{revision}}/purge": {
            "post": _purge("api_moderation_purge_finding", "finding_id"),
        },
    }


def _member_paths() -> dict[str, Any]:
    return {
        f"{V1}/members/{{name}}": {"get": _op(
            "api_member", "members", "A member's profile, as their page shows it.",
            _ok("The member.", "Member"), "401 404", params=("member_name",))},
        f"{V1}/members/{{name}}/decisions": {"post": _op(
            "api_member_decision", "members",
            "Warn, suspend, ban or lift (the member is told, the journal records it); or "
            "grant or withdraw trust. 403 unless you may sanction this member; 409 for a "
            "suspension whose end date is already past (a date valid when it was written).",
            {"204": {"description": "Done."}}, "400 401 403 404 409 413 422",
            params=("member_name",), body="MemberDecisionInput")},
        f"{V1}/preview": {"post": _op(
            "api_preview", "posts", "The HTML a post with this Markdown would show, as the "
            "editor's preview (mentions of real members linked). Nothing is stored.",
            _ok("The preview.", "Preview"), "400 401 403 413 422", body="PreviewInput")},
    }


def _settings_paths() -> dict[str, Any]:
    thread = f"{V1}/follows/threads/{{id}}"
    board = f"{V1}/follows/boards/{{slug}}"
    state = _ok("What you now do with it.", "FollowState")
    gone = {"204": {"description": "Neither followed nor muted (as by default)."}}
    create = _op("api_create_token", "settings",
                 "A new personal token, shown once. Only with the session cookie (a browser "
                 "logged in, with its CSRF header): a token may not mint tokens, or a stolen "
                 "one would outlive its revocation (403).",
                 _ok("The token.", "NewToken", 201), "400 401 403 413 422", body="TokenInput",
                 body_required=False)
    create["security"] = [{"session": [], "csrf": []}]
    return {
        f"{V1}/follows": {"get": _op(
            "api_follows", "following", "What you follow or muted, newest first.",
            _ok("Your threads and boards.", "FollowList"), "401", member=True)},
        thread: {
            "put": _op("api_follow_thread", "following", "Follow a thread (notified of its "
                       "replies) or mute it.", state, "400 401 403 404 413 422",
                       params=("thread_id",), body="FollowInput"),
            "delete": _op("api_unfollow_thread", "following", "Stop following or muting a "
                          "thread.", gone, "401 403 404", params=("thread_id",), write=True)},
        board: {
            "put": _op("api_follow_board", "following", "Follow a board (notified of its new "
                       "threads) or mute it.", state, "400 401 403 404 413 422",
                       params=("slug",), body="FollowInput"),
            "delete": _op("api_unfollow_board", "following", "Stop following or muting a "
                          "board.", gone, "401 403 404", params=("slug",), write=True)},
        f"{V1}/preferences": {
            "get": _op("api_preferences", "settings", "Your preferences.",
                       _ok("Your preferences.", "Preferences"), "401", member=True),
            "patch": _op("api_change_preferences", "settings", "Change some preferences.",
                         _ok("Your preferences as they now are.", "Preferences"),
                         "400 401 403 413 422", body="PreferencesInput")},
        f"{V1}/tokens": {
            "get": _op("api_tokens", "settings", "Your live personal tokens (never the "
                       "tokens themselves).", _ok("Your tokens.", "TokenList"), "401",
                       member=True),
            "post": create},
        f"{V1}/invitations": {
            "get": _op("api_invitations", "settings", "The sign-up links you made, newest "
                       "first (never the links again).",
                       _ok("Your invitations.", "InvitationList"), "401", member=True),
            "post": _op("api_create_invitation", "settings",
                        "A new single-use sign-up link, shown once: for members with enough "
                        "approved posts and moderators, within a limit per period (403).",
                        _ok("The invitation.", "NewInvitation", 201), "401 403",
                        write=True)},
        f"{V1}/invitations/{{id}}": {"delete": _op(
            "api_withdraw_invitation", "settings", "Withdraw an unused link of yours (404 "
            "for another's or one used).", {"204": {"description": "Withdrawn."}},
            "401 403 404", params=("invitation_id",), write=True)},
        f"{V1}/tokens/{{id}}": {"delete": _op(
            "api_revoke_token", "settings", "End one of your tokens (404 for another's).",
            {"204": {"description": "Ended."}}, "401 403 404", params=("token_id",),
            write=True)},
    }


# Pages outside /api/v1 that a client reads: open data, feeds and attached files. Their errors
# are HTML pages (they are the site's own addresses); tests/test_openapi.py checks the names.
OPEN_DATA_ROUTES = ("watch_export", "city_watch_export", "watch_feed", "city_watch_feed",
                    "feed_site", "feed_board", "feed_thread", "moderation_journal_feed",
                    "file", "file_thumbnail")
HTML = "text/html"
ATOM = "application/atom+xml"


def _page(op_id: str, tag: str, summary: str, content: dict[str, Any], errors: str,
          params: tuple[dict[str, Any], ...] = (), security: list[Any] | None = None,
          moved: bool = False) -> dict[str, Any]:
    """A GET of a page that is no JSON: its media types, and its errors as HTML pages."""
    responses: dict[str, Any] = {"200": {"description": "The document.", "content": content}}
    if moved:
        responses["301"] = {"description": "A former address of the board: the new one is in "
                                           "Location.",
                            "headers": {"Location": {"schema": {"type": "string"}}}}
    for code in errors.split():
        responses[code] = {"description": "An error page.",
                           "content": {HTML: {"schema": {"type": "string"}}}}
    return {"operationId": op_id, "tags": [tag], "summary": summary,
            "security": security if security is not None else [{}],
            "parameters": list(params), "responses": responses}


def _open_data_paths() -> dict[str, Any]:
    fmt = {"name": "format", "in": "path", "required": True,
           "description": "csv (UTF-8, `;`-safe for spreadsheets), json or geojson (only the "
                          "findings with a place).",
           "schema": {"type": "string", "enum": ["csv", "json", "geojson"]}}
    exports = {"text/csv": {"schema": {"type": "string"}},
               JSON: {"schema": {"type": "object"}},
               "application/geo+json": {"schema": {"type": "object"}}}
    filters = ("The watch pages' filters apply too, as their links carry them: `kind`, "
               "`status`, `since`, `until` (400 for one that is not valid). Public findings "
               "only, the same bytes for everyone, licensed as the `Link` header says.")
    atom = {ATOM: {"schema": {"type": "string"}}}
    slug, thread = ref("parameters", "slug"), ref("parameters", "thread_id")
    file_id = {"name": "id", "in": "path", "required": True, "description": "A file's id.",
               "schema": {"type": "integer", "minimum": 1}}
    name = {"name": "name", "in": "path", "required": True,
            "description": "Its file name, as in its `url` (404 for another).",
            "schema": {"type": "string", "minLength": 1}}
    files = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
             "*/*": {"schema": {"type": "string", "format": "binary"}}}
    return {
        "/watch/findings.{format}": {"get": _page(
            "watch_export", "findings", "Every city's public findings. " + filters, exports,
            "404", (fmt,))},
        "/b/{slug}/watch/findings.{format}": {"get": _page(
            "city_watch_export", "findings", "One city's public findings. " + filters,
            exports, "404", (slug, fmt), moved=True)},
        "/watch/feed.atom": {"get": _page(
            "watch_feed", "findings", "The latest public findings of every city.", atom,
            "404")},
        "/b/{slug}/watch/feed.atom": {"get": _page(
            "city_watch_feed", "findings", "The latest public findings of a city.", atom,
            "404", (slug,), moved=True)},
        "/feed.atom": {"get": _page(
            "feed_site", "threads", "The latest public posts of every board.", atom, "404")},
        "/b/{slug}/feed.atom": {"get": _page(
            "feed_board", "threads", "The latest public posts of a board.", atom, "404",
            (slug,), moved=True)},
        "/t/{id}/feed.atom": {"get": _page(
            "feed_thread", "threads", "The latest posts of a public thread.", atom, "404",
            (thread,))},
        "/moderation/journal.atom": {"get": _page(
            "moderation_journal_feed", "moderation", "The public journal of moderation.",
            atom, "404")},
        "/files/{id}/{name}": {"get": _page(
            "file", "uploads", "A file attached to a post (or your own, not attached yet), "
            "cleaned of its metadata, to whoever may see the post: with a bearer token or the "
            "session cookie for what is not public.", files, "401 404", (file_id, name),
            security=READ)},
        "/files/{id}/thumb": {"get": _page(
            "file_thumbnail", "uploads", "A small JPEG of an image or of a PDF's first page "
            "(404 for other files).", {"image/jpeg": {"schema": {
                "type": "string", "format": "binary"}}}, "401 404", (file_id,),
            security=READ)},
    }
