"""The builders of the OpenAPI document's operations (api/openapi.py and the paths of each
resource: api/request_components.py, api/draft_components.py)."""
from __future__ import annotations

from typing import Any

from forum.api.components import JSON, ref

V1 = "/api/v1"  # as in routes.py; tests/test_openapi.py checks that both list the same routes
# Reads are open to anonymous readers ({}), who see what the pages show them.
Security = list[dict[str, list[str]]]
READ: Security = [{}, {"bearer": []}, {"session": []}]
MEMBER: Security = [{"bearer": []}, {"session": []}]  # reads for members only (401 without)
WRITE: Security = [{"bearer": []}, {"session": [], "csrf": []}]
# What an operation on one thing answers with, the thing as it now is: (schema, id parameter).
CHANGED = {"post": ("Post", "post_id"), "thread": ("Thread", "thread_id"),
           "board": ("Board", "slug"), "finding": ("Finding", "finding_id"),
           "kind": ("FindingKind", "kind_slug"), "request": ("RecordsRequestDetail", "request_id")}


def ok(description: str, schema: str, status: int = 200,
       location: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {JSON: {"schema": ref("schemas", schema)}}}
    if location:
        response["headers"] = {"Location": {"description": "Where the new thing is read.",
                                            "schema": {"type": "string"}}}
    return {str(status): response}


def op(op_id: str, tag: str, summary: str, success: dict[str, Any], errors: str,
       params: tuple[str, ...] = (), body: str | None = None, write: bool = False,
       member: bool = False, body_required: bool = True) -> dict[str, Any]:
    """One operation; `errors` names its error responses ("400 401 404").

    `success`: its answers that are no error (`ok`); `member`: a read that needs a logged-in
    member; `body_required=False`: may be sent empty.
    """
    codes = errors.split()
    # Whatever sends input (a body, a query) may be turned away: too many invalid requests
    # (forum/input_limits.py); a JSON body past its bound is 413 before it is read.
    codes += [code for code, applies in (("413", body), ("429", body or write or params))
              if applies and code not in codes]
    operation: dict[str, Any] = {
        "operationId": op_id, "tags": [tag], "summary": summary,
        "security": WRITE if write or body else MEMBER if member else READ,
        "parameters": [ref("parameters", name) for name in params],
        "responses": {**success, **{code: ref("responses", code) for code in sorted(codes)}},
    }
    if body:
        operation["requestBody"] = {"required": body_required,
                                    "content": {JSON: {"schema": ref("schemas", body)}}}
    return operation


def purge(op_id: str, target: str) -> dict[str, Any]:
    """A moderator's purge of one version of a post or a finding (`target`: its id parameter);
    the same rules for both (models.posts.version_to_purge)."""
    return op(op_id, "moderation",
              "Erase a version that must disappear (a name, an address): its text, and its "
              "copies in the search index, notifications and mails. Not the current version "
              "of a post or finding still shown (409: correct it first). The journal records "
              "the purge, not the content. 404 unless you moderate it.",
              {"204": {"description": "Purged."}}, "401 403 404 409",
              params=(target, "revision_id"), write=True)


def change(op_id: str, tag: str, target: str, summary: str, errors: str,
           **options: Any) -> dict[str, Any]:
    """An operation on one post, thread, board, finding, kind or request (`target`, named by
    its id parameter), answered with it as it now is; `options` as for `op`."""
    schema, param = CHANGED[target]
    return op(op_id, tag, summary, ok(f"The {target} as it now is.", schema), errors,
              params=(param,), **options)
