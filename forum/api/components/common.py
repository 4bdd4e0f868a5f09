"""What every part of the OpenAPI document uses: media type, limits, references, helpers."""
from __future__ import annotations

from typing import Any

from forum.text import VISIBLE

JSON = "application/json"
ID_MAX = 2**62 - 1  # ids past it name nothing (and would not fit SQLite's integers)
SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"  # forum.text.slugify's output
TOKEN_LABEL_MAX = 100  # as stored (models.users.create_token)
STATUSES = ["published", "pending", "rejected"]  # the CHECK of posts.status and threads.status


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


# The building blocks of response schemas, shared by every resource (never changed in place).
TEXT, COUNT = {"type": "string"}, {"type": "integer", "minimum": 0}
IDENT = PAGE = {"type": "integer", "minimum": 1}
WHEN = {"type": "string", "format": "date-time"}
MAYBE_WHEN = {"type": ["string", "null"], "format": "date-time"}


def array(name: str) -> dict[str, Any]:
    """A list of the schema `name`."""
    return {"type": "array", "items": ref("schemas", name)}


def path_id(what: str) -> dict[str, Any]:
    """A path parameter `id` naming one `what`."""
    return {"name": "id", "in": "path", "required": True, "description": f"A {what} id.",
            "schema": {"type": "integer", "minimum": 1}}


def parameters() -> dict[str, Any]:
    return {
        "page": {"name": "page", "in": "query", "required": False,
                 "description": "From 1; past the last page is 404.",
                 "schema": {"type": "integer", "minimum": 1, "default": 1}},
    }


def field(description: str, max_length: int | None = None,
          min_length: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "description": description}
    if min_length:
        schema["minLength"] = min_length
        schema["pattern"] = VISIBLE  # not only spaces or what cleaning removes
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def exact(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A response object: every property always present, nothing else."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False}


def outputs() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "Error": exact({"error": exact(
            {"code": text, "message": text, "field": text}, required=["code", "message"])}),
    }


def error_responses() -> dict[str, Any]:
    descriptions = {
        "400": "Malformed JSON, a body that is not an object, or a bad query parameter (or"
               " more than 100 of them).",
        "401": "Not logged in, or the bearer token is not valid.",
        "403": "Not allowed (or, with the session cookie, a missing CSRF header).",
        "404": "No such thing, or not visible to you.",
        "409": "Conflicts with what exists (a board address taken, a deleted post, a "
               "decision another moderator already took, a second flag).",
        "413": "Too large (a post body past its limit, a file, or the whole request).",
        "422": "A field (or parameter) is not valid: `field` names it.",
        "429": "Posting or sending files too fast, the day's quota of files is used, or too"
               " many invalid requests (400, 413, 422) from your address this minute.",
        "503": "Not now: `too_slow`, a search past its time budget (narrow it or retry), or "
               "`unavailable`, the server's storage is full or failing (nothing was saved).",
    }
    responses = {code: {"description": text, "content": {JSON: {"schema": ref(
        "schemas", "Error")}}} for code, text in descriptions.items()}
    for code in ("429", "503"):
        responses[code]["headers"] = {"Retry-After": {
            "description": "Seconds to wait.", "required": True, "schema": {"type": "string"}}}
    return responses


def closed(schema: Any) -> Any:
    """`schema` (or any value in one) with additionalProperties: false on every object in it
    that lists its properties."""
    if not isinstance(schema, dict):
        return schema
    result = {key: ([closed(item) for item in value] if isinstance(value, list) else
                    closed(value) if isinstance(value, dict) and key != "properties" else
                    {name: closed(sub) for name, sub in value.items()}
                    if key == "properties" else value)
              for key, value in schema.items()}
    if "properties" in result and result.get("type") == "object":
        result.setdefault("additionalProperties", False)
    return result
