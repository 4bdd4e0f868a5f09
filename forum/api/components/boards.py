"""Boards: their lists and threads, members of closed boards, moderators, moves."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import (
    COUNT,
    IDENT,
    MAYBE_WHEN,
    PAGE,
    SLUG_PATTERN,
    TEXT,
    WHEN,
    array,
    exact,
    field,
    ref,
)
from forum.config import Config
from forum.models.boards import DESCRIPTION_MAX, MODERATION_MODES, NAME_MAX, REGION_MAX
from forum.models.moderation import REASON_MAX


def parameters() -> dict[str, Any]:
    return {
        "slug": {"name": "slug", "in": "path", "required": True,
                 "description": "A board's address (a former one still answers).",
                 "schema": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}},
        "board": {"name": "board", "in": "query", "required": False,
                  "description": "Only this board's items (its address); unknown is 404.",
                  "schema": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}},
    }


def outputs() -> dict[str, Any]:
    text, count, ident, page, when, maybe_when = TEXT, COUNT, IDENT, PAGE, WHEN, MAYBE_WHEN
    mode = {"type": "string", "enum": list(MODERATION_MODES)}

    return {
        "Board": exact({"id": ident, "slug": text, "name": text, "region": text,
                          "description": text, "moderation_mode": mode,
                          "thread_count": count, "post_count": count,
                          "last_post_at": maybe_when, "is_city": {
                              "type": "boolean", "description": "A city: it has a watch page "
                              "and findings."}, "closed": {
                              "type": "boolean", "description": "Only its members and "
                              "moderators read it (listed only to them)."}}),
        "BoardMembers": exact({"board": text, "members": {"type": "array", "items": exact(
            {"name": text, "added_at": when})}}),
        "MemberAdded": exact({"name": text}),
        "Exposure": exact({
            "posts": count, "files": {"type": "array", "items": text},
            "findings_elsewhere": count, "findings_kept": count}),
        "MovedThread": exact({"thread": ref("schemas", "Thread"),
                                "exposure": ref("schemas", "Exposure")}),
        "MoveRefused": exact({"error": exact(
            {"code": text, "message": text, "field": text}, required=["code", "message"]),
            "exposure": ref("schemas", "Exposure")}),
        "BoardList": exact({"boards": array("Board")}),
        "BoardThreads": exact({"board": ref("schemas", "Board"), "threads": array("Thread"),
                                 "page": page, "pages": page}),
        "BoardModerators": exact({"moderators": {
            "type": "array", "items": text, "description": "Pseudonyms, by name; global "
            "moderators (every board) are not listed."}}),
    }


def inputs(config: Config) -> dict[str, Any]:
    return {
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
        "BoardEditInput": _board_edit_input(),
    }


def _board_edit_input() -> dict[str, Any]:
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
