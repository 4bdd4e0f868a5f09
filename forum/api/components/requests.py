"""Records requests (demandes CADA): their parameters and schemas."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import SLUG_PATTERN, exact, ref
from forum.models.requests import (
    ADMINISTRATION_MAX,
    CHANNELS,
    DOCUMENTS_MAX,
    FILES_MAX,
    NOTE_MAX,
    SHOWN_STATUSES,
    STATUSES,
)


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


# A day as check_date takes it: from 1900 on (and, which no pattern can say, not in the future).
DAY_PATTERN = "^(19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"


def parameters() -> dict[str, Any]:
    return {
        "request_id": {"name": "id", "in": "path", "required": True,
                       "description": "A records request's id.",
                       "schema": {"type": "integer", "minimum": 1}},
        "request_city": _query("city", "Only this city's requests (a board's address); "
                               "unknown, or a board that is not a city: 404.",
                               {"type": "string", "minLength": 1, "pattern": SLUG_PATTERN}),
        "request_status": _query("status", "Only requests with this status as readers see "
                                 "it (`implicit_refusal`: still unanswered past the month).",
                                 {"type": "string", "enum": list(SHOWN_STATUSES)}),
        "administration": _query("administration", "Only requests to this administration "
                                 "(its name, compared without case); empty: 422.",
                                 {"type": "string", "minLength": 1}),
    }


def outputs() -> dict[str, Any]:
    text, day = {"type": "string"}, {"type": "string", "format": "date"}
    maybe_day, maybe_text = {"type": ["string", "null"], "format": "date"}, {
        "type": ["string", "null"]}
    summary = {
        "id": {"type": "integer", "minimum": 1}, "url": text,
        "city": exact({"slug": text, "name": text}), "administration": text,
        "documents": text, "channel": {"type": "string", "enum": list(CHANNELS)},
        "sent_on": day, "received_on": maybe_day,
        "status": {"type": "string", "enum": list(SHOWN_STATUSES)},
        "status_name": {"type": "string", "description": "In your language."},
        "status_on": day,
        "implicit_refusal_on": {**day, "description": "The end of the month of silence."},
        "counted_from": {"type": "string", "enum": ["received", "sent"],
                         "description": "What the month runs from."},
        "cada_referral_by": {**maybe_day, "description": "The last day to refer a refusal "
                             "to the CADA (a weekend or holiday runs to the next working day)."},
        "requested_by": text, "published_at": maybe_text,
        "review": {"type": "string", "enum": ["published", "pending", "rejected"]},
        "reject_reason": {**maybe_text, "description": "For its author and moderators only."},
    }
    event = exact({"status": {"type": "string", "enum": list(STATUSES)},
                     "happened_on": day, "note": text, "recorded_by": text})
    file = exact({"id": {"type": "integer"}, "filename": text,
                    "role": {"type": "string", "enum": ["letter", "document"]}, "url": text})
    page = {"type": "integer", "minimum": 1}
    return {
        "RecordsRequest": exact(summary),
        "RecordsRequestDetail": exact({**summary,
                                         "events": {"type": "array", "items": event},
                                         "files": {"type": "array", "items": file}}),
        "RecordsRequestList": exact({
            "requests": {"type": "array", "items": ref("schemas", "RecordsRequest")},
            "total": {"type": "integer", "minimum": 0}, "page": page, "pages": page}),
        "RecordsRequestInput": {
            "type": "object", "required": ["city", "administration", "documents", "channel",
                                           "sent_on"],
            "description": "`pending` (still 201) in an a-priori city or from a member not "
                           "trusted yet. Every rule answers 422 naming the field.",
            "properties": {
                "city": {"type": "string", "minLength": 1, "pattern": SLUG_PATTERN},
                "administration": {"type": "string", "minLength": 1,
                                   "maxLength": ADMINISTRATION_MAX},
                "documents": {"type": "string", "minLength": 1, "maxLength": DOCUMENTS_MAX,
                              "description": "One per line."},
                "channel": {"type": "string", "enum": list(CHANNELS)},
                "sent_on": {"type": "string", "format": "date", "pattern": DAY_PATTERN,
                            "description": "YYYY-MM-DD, not in the future."},
                "received_on": {"type": ["string", "null"], "format": "date",
                                "pattern": DAY_PATTERN,
                                "description": "YYYY-MM-DD if known: the month runs from it."},
                "files": _files("A copy of the letter: ids of your files (POST /uploads).")},
            "examples": [{"city": "metz", "administration": "Mairie de Metz",
                          "documents": "Plan des caméras", "channel": "email",
                          "sent_on": "2026-01-31"}]},
        "RecordsRequestStatusInput": {
            "type": "object", "required": ["status", "happened_on"],
            "properties": {
                "status": {"type": "string", "enum": list(STATUSES),
                           "description": "The implicit refusal is computed, not recorded."},
                "happened_on": {"type": "string", "format": "date", "pattern": DAY_PATTERN,
                                "description": "YYYY-MM-DD, not in the "
                                "future nor before the request was sent."},
                "note": {"type": "string", "maxLength": NOTE_MAX, "description": "Required "
                         "when the status goes back (a lower step or an earlier date)."},
                "files": _files("The documents received: ids of your files.")}},
    }


def _files(description: str) -> dict[str, Any]:
    return {"type": "array", "maxItems": FILES_MAX, "description": description,
            "items": {"type": "integer", "minimum": 1}}
