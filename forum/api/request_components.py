"""The paths of records requests (api/requests.py), merged into the document by api/openapi.py;
their parameters and schemas are in api/components/requests.py."""
from __future__ import annotations

from typing import Any

from forum.models.requests import PAGE_SIZE

V1 = "/api/v1"
TAG = {"name": "requests", "description": "Records requests (demandes CADA) members sent to "
       "administrations, and what became of them. Open data exports (CSV, JSON) are at "
       "/requests.csv and /b/{slug}/requests.csv."}


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
    }
