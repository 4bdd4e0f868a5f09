"""The paths of records requests (api/requests.py), merged into the document by api/openapi.py;
their parameters and schemas are in api/components/requests.py."""
from __future__ import annotations

from typing import Any

from forum.api.operations import V1, change, ok, op
from forum.models.requests import PAGE_SIZE

TAG = {"name": "requests", "description": "Records requests (demandes CADA) members sent to "
       "administrations, and what became of them. Open data exports (CSV, JSON) are at "
       "/requests.csv and /b/{slug}/requests.csv."}


def request_paths() -> dict[str, Any]:
    """The document's paths of records requests."""
    return {
        f"{V1}/requests": {
            "get": op("api_requests", "requests",
                      f"The records requests you may see, {PAGE_SIZE} a page, newest sent "
                      "first: the public ones, and your own or (moderators) your cities' "
                      "pending ones, which say so in `review`.",
                      ok("A page of requests.", "RecordsRequestList"), "400 401 404 422",
                      params=("request_city", "request_status", "administration", "page")),
            "post": op("api_create_request", "requests",
                       "Record a request you sent (Vigie sends nothing). 409 for a date "
                       "in the future, or received before it was sent.",
                       ok("The new request.", "RecordsRequestDetail", 201, location=True),
                       "400 401 403 404 409 413 422 429", body="RecordsRequestInput"),
        },
        f"{V1}/requests/{{id}}": {
            "get": op("api_request", "requests", "One request with its timeline and files.",
                      ok("The request.", "RecordsRequestDetail"), "401 404",
                      params=("request_id",)),
            "patch": change("api_change_request", "requests", "request",
                            "Record a new status (its requester or the city's moderators). "
                            "409 (`field` says which) for what depends on the request's "
                            "record or on the day, which no schema can tell: a date in the "
                            "future or before the request was sent, or a status going back (a "
                            "lower step or an earlier date) without a `note`.",
                            "400 401 403 404 409 413 422", body="RecordsRequestStatusInput"),
        },
        f"{V1}/moderation/requests": {
            "get": op("api_moderation_requests", "moderation",
                      "The requests waiting for a decision in the cities you moderate, oldest "
                      "first (404 when you moderate none).",
                      ok("The waiting requests.", "RecordsRequestQueue"), "401 404",
                      member=True),
        },
        f"{V1}/moderation/requests/{{id}}/approve": {
            "post": change("api_moderation_approve_request", "moderation", "request",
                           "Publish a pending request; its author is told. 404 unless you "
                           "moderate its city; 409 when it was already decided.",
                           "401 404 409", write=True),
        },
        f"{V1}/moderation/requests/{{id}}/reject": {
            "post": change("api_moderation_reject_request", "moderation", "request",
                           "Refuse a pending request with a reason its author reads. 404 "
                           "unless you moderate its city; 409 when it was already decided.",
                           "400 401 404 409 413 422", body="RejectInput"),
        },
    }
