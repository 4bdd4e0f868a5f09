"""The reusable parts of the OpenAPI document (parameters, error responses, schemas), one module
per resource; this module puts them together for api/openapi.py and for api.json_body."""
from __future__ import annotations

from typing import Any

from forum.api.components import (
    boards,
    common,
    findings,
    members,
    moderation,
    notifications,
    posts,
    requests,
    search,
    uploads,
)
from forum.api.components.common import (
    ID_MAX,
    JSON,
    SLUG_PATTERN,
    STATUSES,
    closed,
    error_responses,
    exact,
    ref,
)
from forum.api.components.members import TOKEN_LABEL_MAX
from forum.config import Config

__all__ = ["ID_MAX", "JSON", "SLUG_PATTERN", "STATUSES", "TOKEN_LABEL_MAX", "closed",
           "error_responses", "exact", "input_schemas", "output_schemas", "parameters", "ref",
           "schemas"]


def parameters() -> dict[str, Any]:
    return {**common.parameters(), **posts.parameters(), **boards.parameters(),
            **moderation.parameters(), **members.parameters(), **search.parameters(),
            **findings.parameters(), **requests.parameters()}


def output_schemas() -> dict[str, Any]:
    return {**common.outputs(), **boards.outputs(), **posts.outputs(), **moderation.outputs(),
            **uploads.outputs(), **notifications.outputs(), **members.outputs(),
            **search.outputs(), **findings.outputs()}


def input_schemas(config: Config) -> dict[str, Any]:
    # Closed: a member the document does not name is refused (422), as are the nested
    # objects' (closed()), so a misspelt field never goes unnoticed.
    return {name: closed(schema) for name, schema in {
        **boards.inputs(config), **posts.inputs(config), **moderation.inputs(),
        **notifications.inputs(), **findings.inputs(), **members.inputs()}.items()}


def schemas(config: Config) -> dict[str, Any]:
    """Every schema of the document; inputs are closed (an unknown field is refused)."""
    return {name: closed(schema) if name.endswith("Input") else schema
            for name, schema in {**output_schemas(), **input_schemas(config),
                                 **requests.outputs()}.items()}
