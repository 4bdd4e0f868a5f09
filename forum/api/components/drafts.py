"""Drafts: what a member is writing and did not send yet (api/drafts.py)."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import exact
from forum.config import Config


def outputs() -> dict[str, Any]:
    return {"Draft": exact({"title": {"type": "string"}, "body": {"type": "string"},
                            "updated_at": {"type": "string"}})}


def inputs(config: Config) -> dict[str, Any]:
    def text(description: str, max_length: int) -> dict[str, Any]:
        return {"type": "string", "maxLength": max_length, "description": description}

    body = text("The Markdown typed so far (empty: nothing is kept).", config.body_max)
    return {
        "ReplyDraftInput": {"type": "object", "required": ["body"],
                            "properties": {"body": body}},
        "ThreadDraftInput": {"type": "object", "required": ["body"], "properties": {
            "title": text("The title typed so far.", config.title_max), "body": body}},
    }
