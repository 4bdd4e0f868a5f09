"""The OpenAPI 3.1 description of /api/v1, built from the running Config: GET /api/openapi.json."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import keys
from forum.api.components import JSON, error_responses, parameters, ref, schemas
from forum.api.draft_components import draft_paths
from forum.api.findings import PAGE_SIZE as FINDINGS_PAGE_SIZE
from forum.api.moderation import QUEUE_LIMIT
from forum.api.operations import READ, V1, change, ok, op, purge
from forum.api.request_components import TAG as REQUESTS_TAG
from forum.api.request_components import request_paths
from forum.auth import SESSION_COOKIE
from forum.config import Config
from forum.csrf import HEADER as CSRF_HEADER
from forum.models.search import CANDIDATES
from forum.uploads.kinds import KINDS

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


def _paths(config: Config) -> dict[str, Any]:
    document = {"get": {
        "operationId": "api_openapi", "summary": "This document.", "security": READ,
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": {JSON: {"schema": {"type": "object"}}}}}}}
    return {"/api/openapi.json": document, **_board_paths(), **_thread_paths(),
            **_post_paths(), **_upload_paths(config), **_moderation_paths(), **_search_paths(),
            **_notification_paths(), **_finding_paths(), **request_paths(),
            **_member_paths(), **_settings_paths(), **_open_data_paths(),
            **draft_paths()}


def _board_paths() -> dict[str, Any]:
    return {
        f"{V1}/boards": {
            "get": op("api_boards", "boards", "Every city board.",
                      ok("The boards.", "BoardList"), "401"),
            "post": op("api_create_board", "boards", "Create a board (administrators).",
                       ok("The new board.", "Board", 201, location=True),
                       "400 401 403 409 413 422", body="BoardInput"),
        },
        f"{V1}/boards/{{slug}}": {
            "patch": change("api_edit_board", "boards", "board", "Rename, move to a new "
                            "address, describe a board, change its moderation mode or whether "
                            "it is a city (administrators).", "400 401 403 404 409 413 422",
                            body="BoardEditInput"),
        },
        f"{V1}/boards/{{slug}}/members": {
            "get": op("api_board_members", "boards",
                      "A closed board's members (for its members and moderators; 404 for "
                      "anyone else).", ok("The members.", "BoardMembers"), "400 401 404",
                      params=("slug",), member=True),
            "post": op("api_add_board_member", "boards",
                       "Add a member to a board's group (its moderators).",
                       ok("The member added.", "MemberAdded", 201, location=True),
                       "400 401 403 404 409 413 422", params=("slug",), body="MemberInput"),
        },
        f"{V1}/boards/{{slug}}/members/{{name}}": {
            "delete": op("api_remove_board_member", "boards",
                         "Take a member out of a board's group (its moderators).",
                         {"204": {"description": "Removed."}}, "400 401 403 404",
                         params=("slug", "member_name"), write=True),
        },
        f"{V1}/registration": {
            "get": op("api_registration", "boards", "How accounts are created "
                      "(administrators).", ok("The rules.", "Registration"), "401 403",
                      member=True),
            "patch": op("api_change_registration", "boards", "Open sign-up, by invitation "
                        "only, or closed; the sign-up question (administrators).",
                        ok("The rules as they now are.", "Registration"),
                        "400 401 403 413 422", body="RegistrationInput"),
        },
        f"{V1}/boards/{{slug}}/moderators": {
            "get": op("api_board_moderators", "boards", "Who moderates this board "
                      "(administrators).", ok("Their pseudonyms.", "BoardModerators"),
                      "401 403 404", params=("slug",), member=True),
        },
        f"{V1}/boards/{{slug}}/moderators/{{name}}": {
            "put": op("api_add_board_moderator", "boards", "Make a member a moderator of "
                      "this board (administrators); their sessions end, so that it holds at "
                      "once.", {"204": {"description": "Done (or already so)."}},
                      "401 403 404", params=("slug", "member_name"), write=True),
            "delete": op("api_remove_board_moderator", "boards", "A member no longer "
                         "moderates this board (404 if they did not).",
                         {"204": {"description": "Done."}}, "401 403 404",
                         params=("slug", "member_name"), write=True),
        },
        f"{V1}/boards/{{slug}}/read": {"post": op(
            "api_mark_board_read", "threads", "Everything posted in this board until now "
            "counts as read by you (its threads' `unread_posts` drop to 0).",
            {"204": {"description": "Done."}}, "400 401 404 413 422", params=("slug",),
            body="MarkReadInput", body_required=False)},
        f"{V1}/read": {"post": op(
            "api_mark_all_read", "threads", "Everything posted until now in every board you "
            "read counts as read by you.", {"204": {"description": "Done."}},
            "400 401 413 422", body="MarkReadInput", body_required=False)},
        f"{V1}/boards/{{slug}}/threads": {
            "get": op("api_board_threads", "threads", "A page of a board's threads.",
                      ok("The board and a page of its threads.", "BoardThreads"),
                      "400 401 404", params=("slug", "page")),
            "post": op("api_create_thread", "threads", "Start a thread with its first post.",
                       ok("The new thread and its first post.", "NewThread", 201,
                            location=True),
                       "400 401 403 404 413 422 429", params=("slug",), body="ThreadInput"),
        },
    }


def _thread_paths() -> dict[str, Any]:
    return {
        f"{V1}/threads/{{id}}": {
            "get": op("api_thread", "threads", "A thread and a page of its posts.",
                      ok("The thread and the page.", "ThreadPage"), "400 401 404",
                      params=("thread_id", "page")),
            # Independent of the first post: a deleted first post leaves its title showing.
            "patch": change("api_rename_thread", "threads", "thread",
                            "Rename a thread (its moderators; its author while it is not "
                            "public). The old title is kept for moderators, never shown in the "
                            "journal.", "400 401 403 404 422", body="ThreadTitleInput"),
        },
        f"{V1}/threads/{{id}}/read": {"post": op(
            "api_mark_thread_read", "threads", "You read this thread up to `post_id` (by "
            "default, its last post you may see). A mark never goes back.",
            {"204": {"description": "Done."}}, "400 401 404 413 422", params=("thread_id",),
            body="ThreadReadInput", body_required=False)},
        f"{V1}/threads/{{id}}/move": {
            "post": op("api_move_thread", "threads",
                       "Move a thread to another board (a moderator of both). Out of a closed "
                       "board into an open one, it needs `confirm`: without it, 409 says what "
                       "would become public and nothing moves. The journal records the move.",
                       {**ok("The thread moved, and what became public.", "MovedThread"),
                         "409": {"description": "Not confirmed: what would become public.",
                                 "content": {JSON: {"schema": ref("schemas", "MoveRefused")}}}},
                       "400 401 403 404 413 422", params=("thread_id",), body="MoveInput"),
        },
        f"{V1}/threads/{{id}}/posts": {
            "post": op("api_create_post", "posts", "Reply to a thread.",
                       ok("The new post.", "Post", 201, location=True),
                       "400 401 403 404 413 422 429", params=("thread_id",),
                       body="ReplyInput"),
        },
    }


def _post_paths() -> dict[str, Any]:
    return {
        f"{V1}/posts/{{id}}": {
            "get": op("api_post", "posts", "One post.", ok("The post.", "Post"), "401 404",
                       params=("post_id",)),
            "patch": change("api_edit_post", "posts", "post", "Edit a post (a new revision). "
                            "Where a new post would wait, the edit waits: the public text "
                            "stays, `edit_pending` is true.", "400 401 403 404 409 413 422",
                            body="PostInput"),
            "delete": op("api_delete_post", "posts", "Delete a post (a tombstone stays).",
                         {"204": {"description": "Deleted."}}, "400 401 403 404 409 422",
                         params=("post_id", "reason", "private"), write=True),
        },
        f"{V1}/posts/{{id}}/revisions": {
            "get": op("api_post_revisions", "posts", "The versions of a post that were "
                      "public; every version, with its state, for its author and moderators.",
                      ok("The versions, oldest first.", "RevisionList"), "401 404",
                      params=("post_id",)),
        },
    }


def _upload_paths(config: Config) -> dict[str, Any]:
    operation = op("api_upload", "uploads",
                   "Send one file (multipart/form-data, field `file`); list its id in a new "
                   "post's `attachments`. Its kind is told from its content; its metadata (GPS "
                   "position, camera, author…) is removed before it is stored, and `removed` "
                   "says what was. Never attached, it is deleted after "
                   f"{config.orphan_upload_hours:g} hours.",
                   ok("The stored file.", "Upload", 201, location=True),
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
    decided = "400 401 403 404 409 413 422"  # 404: not visible to you; 403: not your board
    paths = {
        f"{V1}/posts/{{id}}/flags": {
            "post": op("api_flag_post", "moderation",
                       "Flag a post for the moderators (not your own; once per post).",
                       ok("The flag is recorded; `hidden` when the post is now hidden.",
                            "FlagResult", 201), decided, params=("post_id",),
                       body="FlagInput"),
        },
        f"{mod}/queue": {
            "get": op("api_moderation_queue", "moderation",
                      f"Pending posts, edits waiting and flagged posts of the boards you "
                      f"moderate, the oldest "
                      f"{QUEUE_LIMIT} first (404 when you moderate none).",
                      ok("The items with their context.", "ModerationQueue"),
                      "401 403 404", params=("board",), member=True),
        },
        f"{mod}/reasons": {
            "get": op("api_moderation_reasons", "moderation",
                      "The reasons a moderator may pick for refusing, in your language.",
                      ok("The reasons.", "ReasonList"), "401 403 404", member=True),
        },
        f"{mod}/posts/{{id}}/approve": {
            "post": change("api_moderation_approve", "moderation", "post",
                           "Publish a pending post in place, with its original time, or the "
                           "edit waiting on a public post.", "401 403 404 409", write=True),
        },
        f"{mod}/posts/{{id}}/reject": {
            "post": change("api_moderation_reject", "moderation", "post",
                           "Refuse a pending post, or the edit waiting on a public post "
                           "(which keeps its text); its author is told why.", decided,
                           body="RejectInput"),
        },
        f"{mod}/posts/{{id}}/revisions/{{revision}}/purge": {
            "post": purge("api_moderation_purge_post", "post_id"),
        },
        f"{mod}/posts/{{id}}/edit-and-approve": {
            "post": change("api_moderation_edit_and_approve", "moderation", "post",
                           "Correct a pending post or edit (the version corrected is kept, "
                           "seen only by the author and moderators), then publish it.",
                           decided, body="CorrectionInput"),
        },
    }
    for action, summary in (
            ("dismiss-flags", "The flags were unfounded: close them and show the post again "
                              "(409: nothing to dismiss)."),
            ("restore", "Restore a deleted post (409: it is not deleted).")):
        paths[f"{mod}/posts/{{id}}/{action}"] = {"post": change(
            f"api_moderation_{action.replace('-', '_')}", "moderation", "post", summary,
            decided, body="ThreadActionInput", body_required=False)}
    paths[f"{mod}/threads/{{id}}/move"] = {"post": {**change(
        "api_moderation_move", "moderation", "thread",
        "Deprecated: use POST /api/v1/threads/{id}/move, the same move, which also says what "
        "became public. This one answers the thread only, and a plain 409 out of a closed "
        "board without `confirm`.", decided, body="MoveInput"), "deprecated": True}}
    paths[f"{mod}/journal"] = {"get": op(
        "api_moderation_journal", "moderation",
        "The public journal of moderation, newest first (private reasons left out).",
        ok("A page of the journal.", "Journal"), "400 401 404", params=("page",))}
    for action, summary in (("lock", "Lock a thread: only moderators may still reply."),
                            ("unlock", "Unlock a thread."),
                            ("pin", "Pin a thread at the top of its board."),
                            ("unpin", "Unpin a thread."),
                            # Whatever became of its first post (a title can name someone).
                            ("hide", "Hide a thread from everyone but its moderators (its "
                                     "status is then `rejected`, as a refused thread's)."),
                            ("show", "Show a hidden thread again.")):
        paths[f"{mod}/threads/{{id}}/{action}"] = {"post": change(
            f"api_moderation_{action}", "moderation", "thread", summary,
            "400 401 403 404 413 422", body="ThreadActionInput", body_required=False)}
    return paths


def _notification_paths() -> dict[str, Any]:
    return {
        f"{V1}/notifications": {"get": op(
            "api_notifications", "notifications",
            "Your notifications, newest first; new messages about one thread are grouped "
            "(`count`). Nothing about a post that is no longer public.",
            ok("Your notifications and how many are unread.", "NotificationList"),
            "401 403", member=True)},
        f"{V1}/notifications/read": {"post": {**op(
            "api_notifications_read", "notifications",
            "Mark these notifications (each with its group) read, or all of them without "
            "`ids`.", {"204": {"description": "Done."}}, "400 401 403 404 413 422",
            body="ReadInput", body_required=False)}},
        f"{V1}/members": {"get": op(
            "api_members", "members",
            "Pseudonyms starting with `prefix` (case ignored), for the editor's @ suggestions;"
            " at most 8, for logged-in members only.",
            ok("Matching pseudonyms.", "MemberNames"), "400 401 422", params=("prefix",),
            member=True)},
    }


def _search_paths() -> dict[str, Any]:
    return {f"{V1}/search": {"get": op(
        "api_search", "search",
        "Search published posts and thread titles (the same for everyone: pending, refused, "
        "hidden and deleted posts are never found). Accents and case are ignored; every word "
        'and "exact phrase" must appear; a word ending in * is a prefix. Posts whose thread '
        f"title matches come first, then the most recent; at most {CANDIDATES} are ranked. "
        "`documents` holds the attached files whose text matches, among the posts you may "
        "see (a file of a pending, refused, hidden or deleted post only for those who may see "
        "that post), each with its page and snippet.",
        ok("A page of results.", "SearchResults"), "400 401 404 422 503",
        params=("q", "board", "author", "since", "until", "search_type", "page"))}}


def _finding_paths() -> dict[str, Any]:
    mod = f"{V1}/moderation/findings/{{id}}"
    decided = "400 401 403 404 409 413 422"  # 404: not visible to you; 403: not your city
    return {
        f"{V1}/findings": {
            "get": op("api_findings", "findings",
                      f"The findings you may see, {FINDINGS_PAGE_SIZE} a page, by city, kind "
                      "and date: the public ones, and your own or (moderators) your cities' "
                      "pending ones, which say so in `review`.",
                      ok("A page of findings.", "FindingList"), "400 401 404 422",
                      params=("city", "kind", "finding_status", "observed_since",
                               "observed_until", "finding_scope", "page")),
            "post": op("api_create_finding", "findings",
                       "Propose a finding with its sources (at least one).",
                       ok("The new finding.", "Finding", 201, location=True),
                       "400 401 403 404 413 422 429", body="FindingInput"),
        },
        f"{V1}/findings/{{id}}": {
            "get": op("api_finding", "findings", "One finding.", ok("The finding.", "Finding"),
                       "401 404", params=("finding_id",)),
            "patch": change("api_edit_finding", "findings", "finding",
                            "Correct a finding (its author, or its city's moderators): a new "
                            "version with its reason, every earlier one kept.",
                            "400 401 403 404 409 413 422", body="FindingCorrectionInput"),
            "delete": op("api_delete_finding", "findings",
                         "Withdraw a finding (a tombstone moderators still see; they may "
                         "restore it).", {"204": {"description": "Withdrawn."}},
                         "401 403 404 409", params=("finding_id", "withdraw_reason"),
                         write=True),
        },
        f"{V1}/findings/{{id}}/revisions": {
            "get": op("api_finding_revisions", "findings",
                      "The versions of a finding that were public; every version, with its "
                      "state and note, for its author and moderators.",
                      ok("The versions, oldest first.", "FindingRevisionList"), "401 404",
                      params=("finding_id",)),
        },
        f"{mod}/restore": {
            "post": change("api_moderation_restore_finding", "moderation", "finding",
                           "Restore a withdrawn finding of a city you moderate (409: it is "
                           "not withdrawn).", decided, body="ThreadActionInput",
                           body_required=False),
        },
        f"{V1}/finding-kinds": {
            "get": op("api_finding_kinds", "findings",
                      "The kinds of equipment, statuses and units a finding may have.",
                      ok("The choices, with their names in your language.", "FindingKinds"),
                      "401"),
            "post": op("api_create_finding_kind", "findings",
                       "Add a kind of equipment (administrators).",
                       ok("The new kind.", "FindingKind", 201), "400 401 403 409 413 422",
                       body="KindInput"),
        },
        f"{V1}/finding-kinds/{{slug}}": {
            "patch": change("api_rename_kind", "findings", "kind",
                            "Rename a kind of equipment (administrators). The old name stays "
                            "in the journal and the kinds' history.",
                            "400 401 403 404 409 413 422", body="RenameKindInput"),
        },
        f"{V1}/finding-kinds/{{slug}}/merge": {
            "post": op("api_merge_kind", "findings",
                       "Merge a kind of equipment into another (administrators): its "
                       "findings move there; earlier versions keep the old name.",
                       ok("The kind that received the findings, and how many moved.",
                            "MergedKind"),
                       "400 401 403 404 413 422", params=("kind_slug",),
                       body="MergeKindInput"),
        },
        f"{mod}/approve": {
            "post": change("api_moderation_approve_finding", "moderation", "finding",
                           "Publish a pending finding of a city you moderate (or the "
                           "correction waiting on a public one). A total that does not fit "
                           "the published record is 422 unless `confirm` is true.",
                           "400 401 403 404 409 422", body="ApproveFindingInput",
                           body_required=False),
        },
        f"{mod}/reject": {
            "post": change("api_moderation_reject_finding", "moderation", "finding",
                           "Refuse a pending finding, or the correction waiting on a public "
                           "one; its author is told why and may correct it.", decided,
                           body="RejectInput"),
        },
        f"{mod}/revisions/{{revision}}/purge": {
            "post": purge("api_moderation_purge_finding", "finding_id"),
        },
    }


def _member_paths() -> dict[str, Any]:
    return {
        f"{V1}/members/{{name}}": {"get": op(
            "api_member", "members", "A member's profile, as their page shows it.",
            ok("The member.", "Member"), "401 404", params=("member_name",))},
        f"{V1}/members/{{name}}/decisions": {"post": op(
            "api_member_decision", "members",
            "Warn, suspend, ban or lift (the member is told, the journal records it); or "
            "grant or withdraw trust. 403 unless you may sanction this member; 409 for a "
            "suspension whose end date is already past (a date valid when it was written).",
            {"204": {"description": "Done."}}, "400 401 403 404 409 413 422",
            params=("member_name",), body="MemberDecisionInput")},
        f"{V1}/preview": {"post": op(
            "api_preview", "posts", "The HTML a post with this Markdown would show, as the "
            "editor's preview (mentions of real members linked). Nothing is stored.",
            ok("The preview.", "Preview"), "400 401 403 413 422", body="PreviewInput")},
    }


def _settings_paths() -> dict[str, Any]:
    state = ok("What you now do with it.", "FollowState")
    gone = {"204": {"description": "Neither followed nor muted (as by default)."}}
    follows = {}  # a thread or a board, each followed and muted the same way
    for kind, key, param, news in (("thread", "id", "thread_id", "replies"),
                                   ("board", "slug", "slug", "new threads")):
        follows[f"{V1}/follows/{kind}s/{{{key}}}"] = {
            "put": op(f"api_follow_{kind}", "following", f"Follow a {kind} (notified of its "
                      f"{news}) or mute it.", state, "400 401 403 404 413 422",
                      params=(param,), body="FollowInput"),
            "delete": op(f"api_unfollow_{kind}", "following", "Stop following or muting a "
                         f"{kind}.", gone, "401 403 404", params=(param,), write=True)}
    create = op("api_create_token", "settings",
                "A new personal token, shown once. Only with the session cookie (a browser "
                "logged in, with its CSRF header): a token may not mint tokens, or a stolen "
                "one would outlive its revocation (403).",
                ok("The token.", "NewToken", 201), "400 401 403 413 422", body="TokenInput",
                body_required=False)
    create["security"] = [{"session": [], "csrf": []}]
    return {
        f"{V1}/follows": {"get": op(
            "api_follows", "following", "What you follow or muted, newest first.",
            ok("Your threads and boards.", "FollowList"), "401", member=True)},
        **follows,
        f"{V1}/preferences": {
            "get": op("api_preferences", "settings", "Your preferences.",
                      ok("Your preferences.", "Preferences"), "401", member=True),
            "patch": op("api_change_preferences", "settings", "Change some preferences.",
                        ok("Your preferences as they now are.", "Preferences"),
                        "400 401 403 413 422", body="PreferencesInput")},
        f"{V1}/tokens": {
            "get": op("api_tokens", "settings", "Your live personal tokens (never the "
                      "tokens themselves).", ok("Your tokens.", "TokenList"), "401",
                      member=True),
            "post": create},
        f"{V1}/invitations": {
            "get": op("api_invitations", "settings", "The sign-up links you made, newest "
                      "first (never the links again).",
                      ok("Your invitations.", "InvitationList"), "401", member=True),
            "post": op("api_create_invitation", "settings",
                       "A new single-use sign-up link, shown once: for members with enough "
                       "approved posts and moderators, within a limit per period (403).",
                       ok("The invitation.", "NewInvitation", 201), "401 403",
                       write=True)},
        f"{V1}/invitations/{{id}}": {"delete": op(
            "api_withdraw_invitation", "settings", "Withdraw an unused link of yours (404 "
            "for another's or one used).", {"204": {"description": "Withdrawn."}},
            "401 403 404", params=("invitation_id",), write=True)},
        f"{V1}/tokens/{{id}}": {"delete": op(
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
