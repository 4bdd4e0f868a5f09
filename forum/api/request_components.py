"""The OpenAPI parts of records requests (api/requests.py), in the style of api/components.py:
parameters, schemas and paths, merged into the document by api/openapi.py."""
from __future__ import annotations

from typing import Any

from forum.api.components import SLUG_PATTERN, _object, ref
from forum.models.requests import (
    ADMINISTRATION_MAX,
    CHANNELS,
    DOCUMENTS_MAX,
    FILES_MAX,
    NOTE_MAX,
    PAGE_SIZE,
    SHOWN_STATUSES,
    STATUSES,
)

V1 = "/api/v1"
TAG = {"name": "requests", "description": "Records requests (demandes CADA) members sent to "
       "administrations, and what became of them. Open data exports (CSV, JSON) are at "
       "/requests.csv and /b/{slug}/requests.csv."}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


# A day as check_date takes it: from 1900 on (and, which no pattern can say, not in the future).
DAY_PATTERN = "^(19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"


def request_parameters() -> dict[str, Any]:
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


def request_schemas() -> dict[str, Any]:
    text, day = {"type": "string"}, {"type": "string", "format": "date"}
    maybe_day, maybe_text = {"type": ["string", "null"], "format": "date"}, {
        "type": ["string", "null"]}
    summary = {
        "id": {"type": "integer", "minimum": 1}, "url": text,
        "city": _object({"slug": text, "name": text}), "administration": text,
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
    event = _object({"status": {"type": "string", "enum": list(STATUSES)},
                     "happened_on": day, "note": text, "recorded_by": text})
    file = _object({"id": {"type": "integer"}, "filename": text,
                    "role": {"type": "string", "enum": ["letter", "document"]}, "url": text})
    page = {"type": "integer", "minimum": 1}
    return {
        "RecordsRequest": _object(summary),
        "RecordsRequestDetail": _object({**summary,
                                         "events": {"type": "array", "items": event},
                                         "files": {"type": "array", "items": file}}),
        "RecordsRequestList": _object({
            "requests": {"type": "array", "items": ref("schemas", "RecordsRequest")},
            "total": {"type": "integer", "minimum": 0}, "page": page, "pages": page}),
        "RecordsRequestQueue": _object({
            "requests": {"type": "array", "items": ref("schemas", "RecordsRequest")}}),
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


def request_paths(op: Any, ok: Any) -> dict[str, Any]:
    """The paths, built with openapi.py's own `_op` and `_ok` helpers."""
    return {
        f"{V1}/requests": {
            "get": op("api_requests", "requests",
                      f"The records requests you may see, {PAGE_SIZE} a page, newest sent "
                      "first: the public ones, and your own or (moderators) your cities' "
                      "pending ones, which say so in `review`.",
                      ok("A page of requests.", "RecordsRequestList"), "400 401 404 422",
                      params=("request_city", "request_status", "administration", "page")),
            "post": op("api_create_request", "requests",
                       "Record a request you sent (Vigie sends nothing).",
                       ok("The new request.", "RecordsRequestDetail", 201, location=True),
                       "400 401 403 404 409 413 422 429", body="RecordsRequestInput"),
        },
        f"{V1}/requests/{{id}}": {
            "get": op("api_request", "requests", "One request with its timeline and files.",
                      ok("The request.", "RecordsRequestDetail"), "401 404",
                      params=("request_id",)),
            "patch": op("api_change_request", "requests",
                        "Record a new status (its requester or the city's moderators).",
                        ok("The request as it now is.", "RecordsRequestDetail"),
                        "400 401 403 404 409 413 422", params=("request_id",),
                        body="RecordsRequestStatusInput"),
        },
        f"{V1}/moderation/requests": {
            "get": op("api_moderation_requests", "moderation",
                      "The requests waiting for a decision in the cities you moderate, oldest "
                      "first (404 when you moderate none).",
                      ok("The waiting requests.", "RecordsRequestQueue"), "401 404",
                      member=True),
        },
        f"{V1}/moderation/requests/{{id}}/approve": {
            "post": op("api_moderation_approve_request", "moderation",
                       "Publish a pending request; its author is told. 404 unless you "
                       "moderate its city; 409 when it was already decided.",
                       ok("The request as it now is.", "RecordsRequestDetail"),
                       "401 404 409", params=("request_id",), write=True),
        },
        f"{V1}/moderation/requests/{{id}}/reject": {
            "post": op("api_moderation_reject_request", "moderation",
                       "Refuse a pending request with a reason its author reads. 404 unless "
                       "you moderate its city; 409 when it was already decided.",
                       ok("The request as it now is.", "RecordsRequestDetail"),
                       "400 401 404 409 413 422", params=("request_id",), body="RejectInput"),
        },
    }
