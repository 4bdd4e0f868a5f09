"""Threads, posts, their revisions and the Markdown preview."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import (
    COUNT,
    ID_MAX,
    IDENT,
    MAYBE_WHEN,
    PAGE,
    STATUSES,
    TEXT,
    WHEN,
    array,
    exact,
    field,
    path_id,
    ref,
)
from forum.config import Config
from forum.models.moderation import REASON_MAX
from forum.models.posts import REVISION_STATES


def parameters() -> dict[str, Any]:
    return {
        "thread_id": path_id("thread"),
        "post_id": path_id("post"),
        "finding_id": path_id("finding"),
        "revision_id": {"name": "revision", "in": "path", "required": True,
                        "description": "A version's id (from its history).",
                        "schema": {"type": "integer", "minimum": 1}},
        "reason": {"name": "reason", "in": "query", "required": False,
                   "description": "Why: required from a moderator deleting someone else's "
                                  "post (403 without), shown in the public journal; 500 "
                                  "characters "
                                  "are kept.",
                   "schema": {"type": "string"}},
    }


def outputs() -> dict[str, Any]:
    text, count, ident, page, when, maybe_when = TEXT, COUNT, IDENT, PAGE, WHEN, MAYBE_WHEN
    status = {"type": "string", "enum": STATUSES}

    return {
        "Thread": exact({"id": ident, "board": text, "title": text, "author": text,
                           "status": status, "pinned": {"type": "boolean"},
                           "locked": {"type": "boolean"}, "post_count": count,
                           "created_at": when, "last_post_at": when}),
        "Post": exact({
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
        "Attachment": exact({"id": ident, "filename": text, "content_type": text,
                               "kind": text, "size": count, "url": text,
                               "thumbnail_url": {"type": ["string", "null"]}}),
        "Revision": exact({"id": ident, "editor": text, "body_html": text,
                             "body_source": text, "created_at": when,
                             "state": {"type": "string", "enum": list(REVISION_STATES),
                                       "description": "public; or (only for the author and "
                                       "moderators) pending, refused, superseded, corrected, "
                                       "purged."},
                             "note": {"type": "string", "description": "A refusal's reason "
                                      "or a moderator's note on a correction."}}),
        "ThreadPage": exact({"thread": ref("schemas", "Thread"), "posts": array("Post"),
                               "page": page, "pages": page}),
        "NewThread": exact({"thread": ref("schemas", "Thread"),
                              "post": ref("schemas", "Post")}),
        "RevisionList": exact({"post_id": ident, "revisions": array("Revision")}),
        "Preview": exact({"body_html": {"type": "string", "description": "Sanitized HTML."}}),
    }


def inputs(config: Config) -> dict[str, Any]:
    body = field("Markdown. Not only spaces. The new post is `pending` (still "
                 "201) in an a-priori board or from a member not trusted yet.",
                 config.body_max, 1)
    attachments = {"type": "array", "uniqueItems": True, "maxItems": config.upload_post_max_files,
                   "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                   "description": "Ids from POST /api/v1/uploads, your own, not attached yet "
                                  f"(404 otherwise); at most {config.upload_post_max_bytes} "
                                  "bytes in all (413)."}
    return {
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
        "ThreadActionInput": {"type": "object", "properties": {
            "reason": field(f"Optional, in the public journal; {REASON_MAX} characters are "
                            "kept.")}},
        "PreviewInput": {"type": "object", "required": ["body"], "properties": {"body": field(
            "Markdown. Not only spaces.", config.body_max, 1)}},
    }
