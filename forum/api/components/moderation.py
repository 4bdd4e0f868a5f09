"""The moderators' queue, flags, decisions about members and the public journal."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import COUNT, IDENT, PAGE, TEXT, WHEN, array, exact, field, ref
from forum.models.moderation import REASON_MAX, SANCTIONS, TRUST
from forum.text import VISIBLE


def parameters() -> dict[str, Any]:
    return {
        "private": {"name": "private", "in": "query", "required": False,
                    "description": "Keep the moderator's reason out of the public journal.",
                    "schema": {"type": "boolean", "default": False}},
    }


def outputs() -> dict[str, Any]:
    text, count, ident, page, when = TEXT, COUNT, IDENT, PAGE, WHEN

    return {
        "QueueItem": exact({
            "post": ref("schemas", "Post"),
            "thread": exact({"id": ident, "title": text}),
            "board": exact({"slug": text, "name": text}),
            "previous": {"description": "The published post it answers (null: the first).",
                         "anyOf": [ref("schemas", "Post"), {"type": "null"}]},
            "author": exact({"name": text, "approved": count, "rejected": count,
                               "since": when}),
            "flags": {"type": "array", "description": "Open flags, oldest first.",
                      "items": exact({"by": text, "reason": text, "created_at": when})},
            "pending_edit": {"description": "The edit waiting on a public post: approving "
                             "or refusing the post decides on it (null: none).",
                             "anyOf": [ref("schemas", "Revision"), {"type": "null"}]}}),
        "ModerationQueue": exact({"items": array("QueueItem")}),
        "ReasonList": exact({"reasons": {"type": "array", "items": text}}),
        "FlagResult": exact({"post_id": ident, "hidden": {
            "type": "boolean", "description": "Hidden from readers until reviewed."}}),
        "Journal": exact({
            "entries": {"type": "array", "items": exact({
                "id": ident, "moderator": text, "action": text,
                "target_kind": text, "target_id": ident,
                "board": {"type": ["string", "null"]},
                "reason": {"type": "string", "description": "\"\" when private."},
                "created_at": when})},
            "page": page, "pages": page}),
    }


def inputs() -> dict[str, Any]:
    return {
        "RejectInput": {"type": "object", "required": ["reason"], "properties": {
            "reason": field("One of /moderation/reasons, or your own words (or both). Told "
                            "to the author; in the public journal unless `private`. Not "
                            f"only spaces; {REASON_MAX} characters are kept.", min_length=1),
            "private": {"type": "boolean", "default": False,
                        "description": "Keep the reason out of the public journal."}}},
        "FlagInput": {"type": "object", "required": ["reason"], "properties": {
            "reason": field("What is wrong with it, for the moderators. Not only spaces; "
                            f"{REASON_MAX} characters are kept.", min_length=1)}},
        "MemberDecisionInput": _decision_input(),
    }


def _decision_input() -> dict[str, Any]:
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
