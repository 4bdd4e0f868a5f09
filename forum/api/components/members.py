"""Members: profiles, following, preferences, personal tokens, invitations, sign-up."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import (
    COUNT,
    IDENT,
    MAYBE_WHEN,
    STATUSES,
    TEXT,
    WHEN,
    exact,
    field,
    path_id,
    ref,
)
from forum.config import REGISTRATION_MODES
from forum.i18n import LOCALES
from forum.models.follows import MODES as FOLLOW_MODES
from forum.models.invitations import QUESTION_MAX
from forum.models.users import EMAIL_CHOICES
from forum.text import PSEUDONYM_MAX

TOKEN_LABEL_MAX = 100  # as stored (models.users.create_token)


def parameters() -> dict[str, Any]:
    return {
        "token_id": path_id("personal token"),
        "invitation_id": path_id("invitation"),
        "member_name": {"name": "name", "in": "path", "required": True,
                        "description": "A member's pseudonym, spelt as registered.",
                        "schema": {"type": "string", "minLength": 1,
                                   "maxLength": PSEUDONYM_MAX}},
        "prefix": {"name": "prefix", "in": "query", "required": False,
                   "description": "The start of a pseudonym (a leading @ is ignored).",
                   "schema": {"type": "string", "maxLength": 30}},
    }


def outputs() -> dict[str, Any]:
    """Following, preferences, tokens, profiles, invitations and sign-up."""
    text, count, ident, when, maybe_when = TEXT, COUNT, IDENT, WHEN, MAYBE_WHEN
    mode = {"type": "string", "enum": list(FOLLOW_MODES)}
    token = {"id": ident, "label": text, "created_at": when,
             "last_used_on": {"type": ["string", "null"], "description": "The day (UTC)."}}
    invitation = {"id": ident, "created_at": when, "expires_at": when, "used_at": maybe_when,
                  "used_by": {"type": ["string", "null"], "description": "Who signed up "
                              "with it."},
                  "live": {"type": "boolean", "description": "Not used yet, not expired."}}
    return {
        "MemberNames": exact({"members": {"type": "array", "items": text}}),
        "FollowState": exact({
            "kind": {"type": "string", "enum": ["thread", "board"]},
            "target": {"type": "string", "description": "The thread's id or board's address."},
            "mode": {"type": ["string", "null"], "enum": [*FOLLOW_MODES, None]}}),
        "FollowList": exact({
            "threads": {"type": "array", "items": exact({
                "id": ident, "title": text, "mode": mode, "since": when})},
            "boards": {"type": "array", "items": exact({
                "slug": text, "name": text, "mode": mode, "since": when})}}),
        "Preferences": exact({
            "follow_on_post": {"type": "boolean", "description": "Starting or replying to a "
                               "thread follows it."},
            "email_notifications": {"type": "string", "enum": list(EMAIL_CHOICES)},
            "login_notices": {"type": "boolean", "description": "A mail at each new log-in."},
            "locale": {"type": ["string", "null"], "enum": [*LOCALES, None],
                       "description": "The interface and mails' language (null: the "
                                      "browser's)."}}),
        "Token": exact(token),
        "Invitation": exact(invitation),
        "InvitationList": exact({"invitations": {"type": "array", "items": ref(
            "schemas", "Invitation")}}),
        "NewInvitation": exact({**invitation, "link": {
            "type": "string", "description": "The sign-up link, shown this once only."}}),
        "TokenList": exact({"tokens": {"type": "array", "items": ref("schemas", "Token")}}),
        "NewToken": exact({**token, "token": {
            "type": "string", "description": "The token itself, shown this once only."}}),
        "Registration": exact({
            "mode": {"type": "string", "enum": list(REGISTRATION_MODES)},
            "question": {"type": "string", "description": "Asked at sign-up, the answer "
                         "shown to moderators (\"\": none)."}}),
        "Member": exact({
            "name": text, "role": {"type": "string", "enum": ["member", "moderator", "admin"]},
            "created_at": when, "post_count": count,
            "posts": {"type": "array", "description": "Their latest posts you may see.",
                      "items": exact({"id": ident, "thread_id": ident, "thread_title": text,
                                        "body_html": text, "status": {
                                            "type": "string", "enum": STATUSES},
                                        "created_at": when})},
            "sanctions": {"type": "array", "description": "Only for those who may sanction "
                          "this member (their reasons may be private); empty otherwise.",
                          "items": exact({"kind": text, "until": maybe_when, "reason": text,
                                            "moderator": text, "created_at": when})}}),
    }


def inputs() -> dict[str, Any]:
    return {
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
        "RegistrationInput": {"type": "object", "description": "Only what is sent changes.",
                              "properties": {
            "mode": {"type": "string", "enum": list(REGISTRATION_MODES), "description":
                     "open, by invitation only, or closed."},
            "question": field("Asked at sign-up (\"\": none); one line.", QUESTION_MAX)}},
        "TokenInput": {"type": "object", "properties": {
            "label": field("What it is for (a script, a laptop).", TOKEN_LABEL_MAX)}},
    }
