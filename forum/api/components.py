"""The reusable parts of the OpenAPI document: parameters, error responses, schemas."""
from __future__ import annotations

from typing import Any

from forum.config import REGISTRATION_MODES, Config
from forum.i18n import LOCALES
from forum.models.boards import DESCRIPTION_MAX, MODERATION_MODES, NAME_MAX, REGION_MAX
from forum.models.finding_drafts import (
    FILTER_DATE_PATTERN,
    LABEL_MAX,
    NOTE_MAX,
    PLACE_MAX,
    QUANTITY_MAX,
    SOURCES_MAX,
    URL_MAX,
    URL_PATTERN,
)
from forum.models.finding_search import SHOWN as FINDINGS_SHOWN
from forum.models.findings import KIND_LABEL_MAX, SCOPES, UNITS
from forum.models.findings import STATUSES as FINDING_STATUSES
from forum.models.follows import MODES as FOLLOW_MODES
from forum.models.invitations import QUESTION_MAX
from forum.models.moderation import REASON_MAX, SANCTIONS, TRUST
from forum.models.posts import REVISION_STATES
from forum.models.search import CANDIDATES, QUERY_MAX, TERMS_MAX
from forum.models.users import EMAIL_CHOICES
from forum.text import PSEUDONYM_MAX, VISIBLE

JSON = "application/json"
ID_MAX = 2**62 - 1  # ids past it name nothing (and would not fit SQLite's integers)
SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"  # forum.text.slugify's output
TOKEN_LABEL_MAX = 100  # as stored (models.users.create_token)
STATUSES = ["published", "pending", "rejected"]  # the CHECK of posts.status and threads.status


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def parameters() -> dict[str, Any]:
    def path_id(what: str) -> dict[str, Any]:
        return {"name": "id", "in": "path", "required": True, "description": f"A {what} id.",
                "schema": {"type": "integer", "minimum": 1}}

    return {
        "thread_id": path_id("thread"),
        "post_id": path_id("post"),
        "finding_id": path_id("finding"),
        "revision_id": {"name": "revision", "in": "path", "required": True,
                        "description": "A version's id (from its history).",
                        "schema": {"type": "integer", "minimum": 1}},
        "slug": {"name": "slug", "in": "path", "required": True,
                 "description": "A board's address (a former one still answers).",
                 "schema": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}},
        "kind_slug": {"name": "slug", "in": "path", "required": True,
                      "description": "A kind of equipment's identifier (not a merged one).",
                      "schema": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}},
        "page": {"name": "page", "in": "query", "required": False,
                 "description": "From 1; past the last page is 404.",
                 "schema": {"type": "integer", "minimum": 1, "default": 1}},
        "reason": {"name": "reason", "in": "query", "required": False,
                   "description": "Why: required from a moderator deleting someone else's "
                                  "post (403 without), shown in the public journal; 500 "
                                  "characters "
                                  "are kept.",
                   "schema": {"type": "string"}},
        "board": {"name": "board", "in": "query", "required": False,
                  "description": "Only this board's items (its address); unknown is 404.",
                  "schema": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}},
        "private": {"name": "private", "in": "query", "required": False,
                    "description": "Keep the moderator's reason out of the public journal.",
                    "schema": {"type": "boolean", "default": False}},
        "token_id": path_id("personal token"),
        "invitation_id": path_id("invitation"),
        "withdraw_reason": {"name": "reason", "in": "query", "required": False,
                            "description": "Why: required from a moderator withdrawing "
                                           "someone else's finding (403 without), told to "
                                           f"its author; {REASON_MAX} characters are kept.",
                            "schema": {"type": "string"}},
        "member_name": {"name": "name", "in": "path", "required": True,
                        "description": "A member's pseudonym, spelt as registered.",
                        "schema": {"type": "string", "minLength": 1,
                                   "maxLength": PSEUDONYM_MAX}},
        "prefix": {"name": "prefix", "in": "query", "required": False,
                   "description": "The start of a pseudonym (a leading @ is ignored).",
                   "schema": {"type": "string", "maxLength": 30}},
        **_searchparameters(),
        **_finding_parameters(),
    }


def _searchparameters() -> dict[str, Any]:
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
        "search_type": {
            "name": "type", "in": "query", "required": False,
            "description": "What to search: posts and the text of their files (absent: posts in "
                           "`results`, a few documents in `documents`), `posts` only, or "
                           "`documents` only (then `page` and `pages` are the documents').",
            "schema": {"type": "string", "enum": ["posts", "documents"]}},
    }


def _finding_parameters() -> dict[str, Any]:
    def query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description,
                "schema": schema}

    observed = ("2020, 2020-03 or 2020-03-10 (03/2020 and 10/03/2020 too); compared at its "
                "own precision. Not a date: 422.")
    return {
        "city": query("city", "Only this city's findings (a board's address); unknown, or a "
                      "board that is not a city: 404.",
                      {"type": "string", "minLength": 1, "pattern": SLUG_PATTERN}),
        "kind": query("kind", "Only this kind of equipment (a slug of /finding-kinds); "
                      "unknown: 404.", {"type": "string", "minLength": 1, "pattern": SLUG_PATTERN}),
        "finding_status": query("status", "Only findings with this status of the equipment.",
                                {"type": "string", "enum": list(FINDING_STATUSES)}),
        "observed_since": query("since", f"Findings observed from then on: {observed}",
                                {"type": "string", "pattern": FILTER_DATE_PATTERN}),
        "observed_until": query("until", f"Findings observed up to then, included: {observed}",
                                {"type": "string", "pattern": FILTER_DATE_PATTERN}),
        "finding_scope": query("scope", "Only the quantities of this scope: total (the whole "
                               "city), change or part.",
                               {"type": "string", "enum": list(SCOPES)}),
    }


def error_responses() -> dict[str, Any]:
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
        "503": "Not now: `too_slow`, a search past its time budget (narrow it or retry), or "
               "`unavailable`, the server's storage is full or failing (nothing was saved).",
    }
    responses = {code: {"description": text, "content": {JSON: {"schema": ref(
        "schemas", "Error")}}} for code, text in descriptions.items()}
    for code in ("429", "503"):
        responses[code]["headers"] = {"Retry-After": {
            "description": "Seconds to wait.", "required": True, "schema": {"type": "string"}}}
    return responses


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A response object: every property always present, nothing else."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False}


def output_schemas() -> dict[str, Any]:
    text, count = {"type": "string"}, {"type": "integer", "minimum": 0}
    ident, page = {"type": "integer", "minimum": 1}, {"type": "integer", "minimum": 1}
    when = {"type": "string", "format": "date-time"}
    maybe_when = {"type": ["string", "null"], "format": "date-time"}
    status = {"type": "string", "enum": STATUSES}
    mode = {"type": "string", "enum": list(MODERATION_MODES)}

    def array(name: str) -> dict[str, Any]:
        return {"type": "array", "items": ref("schemas", name)}

    return {
        "Error": _object({"error": _object(
            {"code": text, "message": text, "field": text}, required=["code", "message"])}),
        "Board": _object({"id": ident, "slug": text, "name": text, "region": text,
                          "description": text, "moderation_mode": mode,
                          "thread_count": count, "post_count": count,
                          "last_post_at": maybe_when, "is_city": {
                              "type": "boolean", "description": "A city: it has a watch page "
                              "and findings."}, "closed": {
                              "type": "boolean", "description": "Only its members and "
                              "moderators read it (listed only to them)."}}),
        "BoardMembers": _object({"board": text, "members": {"type": "array", "items": _object(
            {"name": text, "added_at": when})}}),
        "MemberAdded": _object({"name": text}),
        "Exposure": _object({
            "posts": count, "files": {"type": "array", "items": text},
            "findings_elsewhere": count, "findings_kept": count}),
        "MovedThread": _object({"thread": ref("schemas", "Thread"),
                                "exposure": ref("schemas", "Exposure")}),
        "MoveRefused": _object({"error": _object(
            {"code": text, "message": text, "field": text}, required=["code", "message"]),
            "exposure": ref("schemas", "Exposure")}),
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
                              "description": "Why the moderators refused it (null but for "
                                             "its author and moderators)."},
            "edit_pending": {"type": "boolean", "description": "An edit waits for the "
                             "moderators (told only to its author and moderators)."},
            "hidden": {"type": "boolean", "description": "Hidden after flags, until reviewed."},
            "created_at": when, "edited_at": maybe_when, "deleted": {"type": "boolean"},
            "attachments": {"type": "array", "items": ref("schemas", "Attachment"),
                            "description": "Its files (empty when you may not see them)."}}),
        "Attachment": _object({"id": ident, "filename": text, "content_type": text,
                               "kind": text, "size": count, "url": text,
                               "thumbnail_url": {"type": ["string", "null"]}}),
        "Revision": _object({"id": ident, "editor": text, "body_html": text,
                             "body_source": text, "created_at": when,
                             "state": {"type": "string", "enum": list(REVISION_STATES),
                                       "description": "public; or (only for the author and "
                                       "moderators) pending, refused, superseded, corrected, "
                                       "purged."},
                             "note": {"type": "string", "description": "A refusal's reason "
                                      "or a moderator's note on a correction."}}),
        "BoardList": _object({"boards": array("Board")}),
        "BoardThreads": _object({"board": ref("schemas", "Board"), "threads": array("Thread"),
                                 "page": page, "pages": page}),
        "ThreadPage": _object({"thread": ref("schemas", "Thread"), "posts": array("Post"),
                               "page": page, "pages": page}),
        "NewThread": _object({"thread": ref("schemas", "Thread"),
                              "post": ref("schemas", "Post")}),
        "RevisionList": _object({"post_id": ident, "revisions": array("Revision")}),
        "QueueItem": _object({
            "post": ref("schemas", "Post"),
            "thread": _object({"id": ident, "title": text}),
            "board": _object({"slug": text, "name": text}),
            "previous": {"description": "The published post it answers (null: the first).",
                         "anyOf": [ref("schemas", "Post"), {"type": "null"}]},
            "author": _object({"name": text, "approved": count, "rejected": count,
                               "since": when}),
            "flags": {"type": "array", "description": "Open flags, oldest first.",
                      "items": _object({"by": text, "reason": text, "created_at": when})},
            "pending_edit": {"description": "The edit waiting on a public post: approving "
                             "or refusing the post decides on it (null: none).",
                             "anyOf": [ref("schemas", "Revision"), {"type": "null"}]}}),
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
                "warn", "suspend", "ban", "lift", "finding_approved", "finding_rejected",
                "finding_deleted", "new_finding"]},
            "post_id": {"type": ["integer", "null"]},
            "finding_id": {"type": ["integer", "null"]},
            "finding_city": {"type": ["string", "null"]},
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
        "DocumentHit": _object({
            "upload_id": ident, "filename": text, "kind": text,
            "url": {"type": "string", "description": "The file, with #page=N for a PDF: "
                    "browsers open it at the page."},
            "page": {"type": "integer", "minimum": 0, "description": "The first page that "
                     "matches (0: a document without pages)."},
            "other_pages": {"type": "array", "items": ident, "description": "Further pages "
                            "that match (the first ten)."},
            "snippet_html": {"type": "string", "description": "Escaped text around the "
                             "matches, which are in <mark>."},
            "post_id": ident, "thread_id": ident, "thread_title": text, "board": text,
            "author": text, "created_at": when}),
        "SearchResults": _object({
            "results": array("SearchHit"), "total": count,
            "documents": {"type": "array", "items": ref("schemas", "DocumentHit"),
                          "description": "Files of the posts you may see whose text matches."},
            "documents_total": count,
            "findings": {"type": "array", "items": ref("schemas", "Finding"),
                         "description": "On the first page (not with type=documents): the "
                         f"public findings whose kind, place, note or city match, at most "
                         f"{FINDINGS_SHOWN}, the most recent observations first."},
            "findings_total": count,
            "more": {"type": "boolean", "description": f"More than {CANDIDATES} posts match: "
                     "the most recent were ranked."},
            "page": page, "pages": page}),
        **_finding_schemas(),
        **_member_schemas(),
    }


def _member_schemas() -> dict[str, Any]:
    """Following, preferences, tokens, profiles and the journal."""
    text, count = {"type": "string"}, {"type": "integer", "minimum": 0}
    ident, page = {"type": "integer", "minimum": 1}, {"type": "integer", "minimum": 1}
    when = {"type": "string", "format": "date-time"}
    maybe_when = {"type": ["string", "null"], "format": "date-time"}
    mode = {"type": "string", "enum": list(FOLLOW_MODES)}
    token = {"id": ident, "label": text, "created_at": when,
             "last_used_on": {"type": ["string", "null"], "description": "The day (UTC)."}}
    invitation = {"id": ident, "created_at": when, "expires_at": when, "used_at": maybe_when,
                  "used_by": {"type": ["string", "null"], "description": "Who signed up "
                              "with it."},
                  "live": {"type": "boolean", "description": "Not used yet, not expired."}}
    return {
        "FollowState": _object({
            "kind": {"type": "string", "enum": ["thread", "board"]},
            "target": {"type": "string", "description": "The thread's id or board's address."},
            "mode": {"type": ["string", "null"], "enum": [*FOLLOW_MODES, None]}}),
        "FollowList": _object({
            "threads": {"type": "array", "items": _object({
                "id": ident, "title": text, "mode": mode, "since": when})},
            "boards": {"type": "array", "items": _object({
                "slug": text, "name": text, "mode": mode, "since": when})}}),
        "Preferences": _object({
            "follow_on_post": {"type": "boolean", "description": "Starting or replying to a "
                               "thread follows it."},
            "email_notifications": {"type": "string", "enum": list(EMAIL_CHOICES)},
            "login_notices": {"type": "boolean", "description": "A mail at each new log-in."},
            "locale": {"type": ["string", "null"], "enum": [*LOCALES, None],
                       "description": "The interface and mails' language (null: the "
                                      "browser's)."}}),
        "Token": _object(token),
        "Invitation": _object(invitation),
        "InvitationList": _object({"invitations": {"type": "array", "items": ref(
            "schemas", "Invitation")}}),
        "NewInvitation": _object({**invitation, "link": {
            "type": "string", "description": "The sign-up link, shown this once only."}}),
        "TokenList": _object({"tokens": {"type": "array", "items": ref("schemas", "Token")}}),
        "NewToken": _object({**token, "token": {
            "type": "string", "description": "The token itself, shown this once only."}}),
        "Registration": _object({
            "mode": {"type": "string", "enum": list(REGISTRATION_MODES)},
            "question": {"type": "string", "description": "Asked at sign-up, the answer "
                         "shown to moderators (\"\": none)."}}),
        "BoardModerators": _object({"moderators": {
            "type": "array", "items": text, "description": "Pseudonyms, by name; global "
            "moderators (every board) are not listed."}}),
        "Preview": _object({"body_html": {"type": "string", "description": "Sanitized HTML."}}),
        "Member": _object({
            "name": text, "role": {"type": "string", "enum": ["member", "moderator", "admin"]},
            "created_at": when, "post_count": count,
            "posts": {"type": "array", "description": "Their latest posts you may see.",
                      "items": _object({"id": ident, "thread_id": ident, "thread_title": text,
                                        "body_html": text, "status": {
                                            "type": "string", "enum": STATUSES},
                                        "created_at": when})},
            "sanctions": {"type": "array", "description": "Only for those who may sanction "
                          "this member (their reasons may be private); empty otherwise.",
                          "items": _object({"kind": text, "until": maybe_when, "reason": text,
                                            "moderator": text, "created_at": when})}}),
        "Journal": _object({
            "entries": {"type": "array", "items": _object({
                "id": ident, "moderator": text, "action": text,
                "target_kind": text, "target_id": ident,
                "board": {"type": ["string", "null"]},
                "reason": {"type": "string", "description": "\"\" when private."},
                "created_at": when})},
            "page": page, "pages": page}),
    }


def _finding_schemas() -> dict[str, Any]:
    text, count, page = {"type": "string"}, {"type": "integer", "minimum": 0}, {
        "type": "integer", "minimum": 1}
    maybe_when = {"type": ["string", "null"], "format": "date-time"}
    maybe_number, maybe_id = {"type": ["number", "null"]}, {"type": ["integer", "null"]}
    named = _object({"slug": text, "name": {"type": "string",
                                            "description": "In your language."}})
    return {
        "Finding": _object({
            "id": {"type": "integer", "minimum": 1},
            "url": {"type": "string", "description": "Its page."},
            "city": _object({"slug": text, "name": text}),
            "kind": _object({"slug": text, "label": {
                "type": "string", "description": "As stored (English for the built-in kinds)."},
                "name": {"type": "string", "description": "In your language."}}),
            "quantity": maybe_number, "unit": {"type": ["string", "null"], "enum": [*UNITS, None]},
            "scope": {"type": ["string", "null"], "enum": [*SCOPES, None], "description":
                      "What the quantity counts: total (the whole city at that date, the only "
                      "figures of headlines, timelines and tables), change (added or removed "
                      "then, signed) or part (one place, district or contract). null without "
                      "a quantity."},
            "observed": {"type": "string", "description": "2008, 2014-11 or 2020-03-10: as "
                         "precise as its source."},
            "status": {"type": "string", "enum": list(FINDING_STATUSES)},
            "place": text, "latitude": maybe_number, "longitude": maybe_number, "note": text,
            "review": {"type": "string", "enum": STATUSES, "description": "published, or "
                       "(seen only by its author and the city's moderators) pending or "
                       "rejected."},
            "reject_reason": {"type": ["string", "null"], "description": "Why the moderators "
                              "refused it (null but for its author and moderators)."},
            "edit_pending": {"type": "boolean", "description": "A correction waits for the "
                             "moderators (told only to its author and moderators)."},
            "deleted": {"type": "boolean", "description": "Withdrawn (moderators only see it)."},
            "proposed_by": text, "approved_by": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "published_at": maybe_when, "edited_at": maybe_when,
            "sources": {"type": "array", "items": ref("schemas", "FindingSource")}}),
        "FindingSource": _object({
            "kind": {"type": "string", "enum": ["post", "file", "link"]},
            "post_id": maybe_id, "upload_id": maybe_id,
            "url": {"type": ["string", "null"], "description": "null: a message that is no "
                    "longer public."},
            "label": text}),
        "FindingRevision": _object({
            "id": {"type": "integer", "minimum": 1}, "editor": text,
            "created_at": {"type": "string", "format": "date-time"},
            "state": {"type": "string", "enum": list(REVISION_STATES), "description": "public; "
                      "or (only for its author and moderators) pending, refused, "
                      "superseded, corrected, purged."},
            "reason": {"type": "string", "description": "The editor's reason, public with "
                       "the version."},
            "note": {"type": "string", "description": "A refusal's reason or a moderator's "
                     "word (\"\" but for its author and moderators)."},
            "fields": {"description": "The version's values (null: purged).", "anyOf": [
                {"type": "null"}, _object({
                    "kind": {"type": ["string", "null"]}, "quantity": maybe_number,
                    "unit": {"type": ["string", "null"]}, "scope": {"type": ["string", "null"]},
                    "observed": {"type": ["string", "null"]},
                    "status": {"type": ["string", "null"]},
                    "place": {"type": ["string", "null"]}, "latitude": maybe_number,
                    "longitude": maybe_number, "note": text,
                    "sources": {"type": "array", "items": _object({
                        "kind": {"type": ["string", "null"]}, "post_id": maybe_id,
                        "upload_id": maybe_id, "url": {"type": ["string", "null"]},
                        "label": {"type": ["string", "null"]}})}})]}}),
        "FindingRevisionList": _object({
            "finding_id": {"type": "integer", "minimum": 1},
            "revisions": {"type": "array", "items": ref("schemas", "FindingRevision")}}),
        "FindingKind": _object({"slug": text, "label": text, "name": {
            "type": "string", "description": "In your language."}}),
        "FindingList": _object({"findings": {"type": "array", "items": ref(
            "schemas", "Finding")}, "total": count, "page": page, "pages": page}),
        "FindingKinds": _object({
            "kinds": {"type": "array", "items": _object({
                "slug": text, "label": text, "name": text})},
            "statuses": {"type": "array", "items": named},
            "units": {"type": "array", "items": _object({
                "slug": text, "name": text, "symbol": text})},
            "scopes": {"type": "array", "items": named}}),
        "MergedKind": _object({"kind": ref("schemas", "FindingKind"), "moved": count}),
    }


def input_schemas(config: Config) -> dict[str, Any]:
    def field(description: str, max_length: int | None = None,
              min_length: int = 0) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "description": description}
        if min_length:
            schema["minLength"] = min_length
            schema["pattern"] = VISIBLE  # not only spaces or what cleaning removes
        if max_length is not None:
            schema["maxLength"] = max_length
        return schema

    body = field("Markdown. Not only spaces. The new post is `pending` (still "
                 "201) in an a-priori board or from a member not trusted yet.",
                 config.body_max, 1)
    attachments = {"type": "array", "uniqueItems": True, "maxItems": config.upload_post_max_files,
                   "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                   "description": "Ids from POST /api/v1/uploads, your own, not attached yet "
                                  f"(404 otherwise); at most {config.upload_post_max_bytes} "
                                  "bytes in all (413)."}
    # Closed: a member the document does not name is refused (422), as are the nested
    # objects' (closed() below), so a misspelt field never goes unnoticed.
    return {name: closed(schema) for name, schema in {
        "BoardInput": {"type": "object", "required": ["name"], "properties": {
            "name": field("Shown as the board's title.", NAME_MAX, 1),
            "slug": {**field("Its address: made from the name when absent; lower-case "
                             "letters a-z, digits and single dashes.", NAME_MAX),
                     "pattern": SLUG_PATTERN},
            "region": field(f"Cut to {REGION_MAX} characters."),
            "description": field("Plain text.", DESCRIPTION_MAX),
            "moderation_mode": {"type": "string", "enum": list(MODERATION_MODES),
                                "default": config.moderation_default,
                                "description": "a-priori: posts wait for a moderator."},
            "is_city": {"type": "boolean", "default": True,
                        "description": "A city has a watch page and findings."},
            "closed": {"type": "boolean", "default": False,
                       "description": "Only its members and moderators read it; for anyone "
                                      "else it does not exist."}}},
        "MemberInput": {"type": "object", "required": ["name"], "properties": {
            "name": field("A member's pseudonym.", min_length=1)}},
        "MoveInput": {"type": "object", "required": ["board"], "properties": {
            "board": field("The address of the board to move it to (one you moderate).",
                           NAME_MAX, 1),
            "reason": field(f"Optional, in the public journal; {REASON_MAX} characters are "
                            "kept."),
            "confirm": {"type": "boolean", "default": False, "description":
                        "You read what becomes public (409 `exposure`): needed to move a "
                        "thread out of a closed board into an open one."}}},
        "BoardEditInput": _board_edit_input(field),
        "ThreadInput": {"type": "object", "required": ["title", "body"], "properties": {
            "title": field("Not only spaces.", config.title_max, 1), "body": body,
            "attachments": attachments}},
        "ThreadTitleInput": {"type": "object", "required": ["title"], "properties": {
            "title": field("Not only spaces.", config.title_max, 1),
            "reason": field("A moderator's reason, in the public journal (the titles are "
                            f"not); {REASON_MAX} characters are kept.")}},
        "ReplyInput": {"type": "object", "required": ["body"], "properties": {
            "body": body, "attachments": attachments}},
        "PostInput": {"type": "object", "required": ["body"], "properties": {"body": body}},
        "CorrectionInput": {"type": "object", "required": ["body"], "properties": {
            "body": body, "note": field("What you corrected, for the author and the "
                                        f"moderators; {REASON_MAX} characters are kept.")}},
        "RejectInput": {"type": "object", "required": ["reason"], "properties": {
            "reason": field("One of /moderation/reasons, or your own words (or both). Told "
                            "to the author; in the public journal unless `private`. Not "
                            f"only spaces; {REASON_MAX} characters are kept.", min_length=1),
            "private": {"type": "boolean", "default": False,
                        "description": "Keep the reason out of the public journal."}}},
        "ReadInput": {"type": "object", "properties": {
            "ids": {"type": "array", "maxItems": 200,
                    "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                    "description": "Your notifications' ids (404 for one that is not yours)."}}},
        "FlagInput": {"type": "object", "required": ["reason"], "properties": {
            "reason": field("What is wrong with it, for the moderators. Not only spaces; "
                            f"{REASON_MAX} characters are kept.", min_length=1)}},
        "ThreadActionInput": {"type": "object", "properties": {
            "reason": field(f"Optional, in the public journal; {REASON_MAX} characters are "
                            "kept.")}},
        "FindingInput": _finding_input(field),
        "RenameKindInput": {"type": "object", "required": ["label"], "properties": {
            "label": field("The new name, as shown (the identifier stays).", min_length=1),
            "reason": field(f"Optional, in the public journal; {REASON_MAX} characters are "
                            "kept.")}},
        "MergeKindInput": {"type": "object", "required": ["into"], "properties": {
            "into": field("The identifier of the kind that receives the findings.",
                          min_length=1),
            "reason": field(f"Optional, in the public journal; {REASON_MAX} characters are "
                            "kept.")}},
        "FindingCorrectionInput": _correction_input(field),
        "FollowInput": {"type": "object", "required": ["mode"], "properties": {
            "mode": {"type": "string", "enum": list(FOLLOW_MODES),
                     "description": "follow: be notified; mute: never, even when mentioned "
                                    "in it."}}},
        "PreferencesInput": {"type": "object", "description": "Only what is sent changes.",
                             "properties": {
            "follow_on_post": {"type": "boolean"},
            "email_notifications": {"type": "string", "enum": list(EMAIL_CHOICES),
                                    "description": "Each at once, a daily digest, or none."},
            "login_notices": {"type": "boolean"},
            "locale": {"type": ["string", "null"], "enum": [*LOCALES, None]}}},
        "KindInput": {"type": "object", "required": ["label"], "properties": {"label": {
            **field("Its name (shown as written; its slug is made from it). At least one "
                    "letter a-z or digit.", KIND_LABEL_MAX, 1), "pattern": "[A-Za-z0-9]"}}},
        "RegistrationInput": {"type": "object", "description": "Only what is sent changes.",
                              "properties": {
            "mode": {"type": "string", "enum": list(REGISTRATION_MODES), "description":
                     "open, by invitation only, or closed."},
            "question": field("Asked at sign-up (\"\": none); one line.", QUESTION_MAX)}},
        "TokenInput": {"type": "object", "properties": {
            "label": field("What it is for (a script, a laptop).", TOKEN_LABEL_MAX)}},
        "PreviewInput": {"type": "object", "required": ["body"], "properties": {"body": field(
            "Markdown. Not only spaces.", config.body_max, 1)}},
        "MemberDecisionInput": _decision_input(field),
        "ApproveFindingInput": {"type": "object", "properties": {
            "confirm": {"type": "boolean", "default": False, "description":
                        "You compared the figure with the record: needed for a total that "
                        "moves by more than half from the previous one, is older than the "
                        "latest, or contradicts another of the same date."}}},
    }.items()}


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with additionalProperties: false on every object in it that lists its
    properties."""
    if not isinstance(schema, dict):
        return schema
    result = {key: ([closed(item) for item in value] if isinstance(value, list) else
                    closed(value) if isinstance(value, dict) and key != "properties" else
                    {name: closed(sub) for name, sub in value.items()}
                    if key == "properties" else value)
              for key, value in schema.items()}
    if "properties" in result and result.get("type") == "object":
        result.setdefault("additionalProperties", False)
    return result


def _finding_input(field: Any) -> dict[str, Any]:
    def source(name: str, what: str) -> dict[str, Any]:
        return {"type": "object", "required": [name], "description": what, "properties": {
            name: {"type": "integer", "minimum": 1, "maximum": ID_MAX}}}

    def number(description: str, bound: float | None = None) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": ["number", "string", "null"],
                                  "description": description}
        if bound is not None:
            schema.update(minimum=-bound, maximum=bound)
        return schema

    link = {"type": "object", "required": ["url"], "description": "A page elsewhere.",
            "properties": {"url": {**field("http:// or https://, then a host.", URL_MAX, 1),
                                   "pattern": URL_PATTERN},
                           "label": field("What it is.", LABEL_MAX)}}
    quantity = number("148, 1.2 or a string as people write it (\"250 000\", \"1,5\"); "
                      "null or absent: no figure (a status only). Negative only for a "
                      "`change` (equipment removed).")
    quantity.update(minimum=-QUANTITY_MAX, maximum=QUANTITY_MAX)
    return {
        "type": "object", "required": ["city", "kind", "observed", "status", "sources"],
        "description": "A finding is `pending` (still 201) in an a-priori city or from a "
                       "member not trusted yet. Every rule answers 422 naming the field.",
        "properties": {
            "city": field("A city board's address.", min_length=1),
            "kind": field("A slug of GET /api/v1/finding-kinds.", min_length=1),
            "quantity": quantity,
            "unit": {"type": ["string", "null"], "enum": [*UNITS, None],
                     "description": "Required with a quantity."},
            "scope": {"type": ["string", "null"], "enum": [*SCOPES, None],
                      "description": "Required with a quantity (422 without): total (the "
                      "whole city at that date), change (added or removed then, signed) or "
                      "part (one place, district or contract)."},
            "observed": field("The date it holds for, as precise as the source: 2020, "
                              "2020-03 or 2020-03-10. In the future only when `planned`.",
                              min_length=1),
            "status": {"type": "string", "enum": list(FINDING_STATUSES)},
            "place": field("Where, in words.", PLACE_MAX),
            "latitude": number("With the longitude, or neither (null or \"\" is none).", 90),
            "longitude": number("With the latitude, or neither (null or \"\" is none).", 180),
            "note": field("Plain text.", NOTE_MAX),
            "sources": {"type": "array", "minItems": 1, "maxItems": SOURCES_MAX, "items": {
                "oneOf": [source("post", "A public message of the forum."),
                          source("file", "A file attached to a public message."), link]}}},
        # Both coordinates, or neither.
        "allOf": [{"if": {"required": [one], "properties": {one: {"not": {"enum": [None, ""]}}}},
                   "then": {"required": [other],
                            "properties": {other: {"not": {"enum": [None, ""]}}}}}
                  for one, other in (("latitude", "longitude"), ("longitude", "latitude"))],
        "examples": [{"city": "metz", "kind": "cameras", "quantity": 148, "unit": "count",
                      "scope": "total",
                      "observed": "2020", "status": "in-use", "sources": [
                          {"url": "https://example.org/deliberation-2020.pdf",
                           "label": "Délibération du conseil municipal"}]}],
    }


def _board_edit_input(field: Any) -> dict[str, Any]:
    """A board's changes: BoardInput's fields, each optional, with no defaults (absent: as
    it is)."""
    return {"type": "object", "description": "Only what is sent changes; a former address "
            "keeps leading to the board.", "properties": {
        "name": field("Shown as the board's title.", NAME_MAX, 1),
        "slug": {**field("Its new address (409 if taken): lower-case letters a-z, digits and "
                         "single dashes.", NAME_MAX), "pattern": SLUG_PATTERN},
        "region": field(f"Cut to {REGION_MAX} characters."),
        "description": field("Plain text.", DESCRIPTION_MAX),
        "moderation_mode": {"type": "string", "enum": list(MODERATION_MODES),
                            "description": "a-priori: posts wait for a moderator."},
        "is_city": {"type": "boolean", "description": "A city has a watch page and "
                    "findings."},
        "closed": {"type": "boolean", "description": "Close the board (only its members and "
                   "moderators read it then) or open it to everyone."}}}


def _correction_input(field: Any) -> dict[str, Any]:
    """A finding's correction: every field again but its city, and why."""
    schema = _finding_input(field)
    properties = {name: value for name, value in schema["properties"].items() if name != "city"}
    properties["reason"] = field("Why (a new source, a mistake): shown with the version. Not "
                                 f"only spaces; {REASON_MAX} characters are kept.",
                                 min_length=1)
    return {**schema, "properties": properties,
            "required": [*(name for name in schema["required"] if name != "city"), "reason"],
            "description": "The finding as it should now be, every field sent again. Where a "
                           "new finding would wait, the correction of a public one waits "
                           "(`edit_pending`); a refused finding corrected by its author goes "
                           "back to the moderators.",
            "examples": [{key: value for key, value in example.items() if key != "city"}
                         | {"reason": "Chiffre du rapport 2021"}
                         for example in schema["examples"]]}


def _decision_input(field: Any) -> dict[str, Any]:
    """A moderator's decision about a member: what the profile's form sends."""
    day = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
    return {
        "type": "object", "required": ["kind"],
        "properties": {
            "kind": {"type": "string", "enum": [*SANCTIONS, *TRUST], "description":
                     "warn, suspend (until a day), ban, lift what is in force; trust or "
                     "distrust (whether their posts wait for a moderator). Sanctioning a "
                     "moderator is for administrators (422)."},
            "reason": field("Told to the member; in the public journal unless `private`. "
                            f"Required but for trust and distrust; {REASON_MAX} characters "
                            "are kept."),
            "until": {"type": "string", "pattern": day, "description": "For `suspend`: the "
                      "last day (UTC), in the future (422 otherwise)."},
            "private": {"type": "boolean", "default": False,
                        "description": "Keep the reason out of the public journal."}},
        "allOf": [
            {"if": {"properties": {"kind": {"enum": list(SANCTIONS)}}},
             "then": {"required": ["reason"], "properties": {"reason": {
                 "minLength": 1, "pattern": VISIBLE}}}},
            {"if": {"properties": {"kind": {"const": "suspend"}}},
             "then": {"required": ["until"]}}],
    }
