"""Notifications and marking them read."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import COUNT, ID_MAX, IDENT, TEXT, WHEN, array, exact


def outputs() -> dict[str, Any]:
    text, count, ident, when = TEXT, COUNT, IDENT, WHEN

    return {
        "Notification": exact({
            "id": ident, "kind": {"type": "string", "enum": [
                "mention", "quote", "reply", "new_thread", "approved", "rejected", "deleted",
                "warn", "suspend", "ban", "lift", "finding_approved", "finding_rejected",
                "finding_deleted", "new_finding"]},
            "post_id": {"type": ["integer", "null"]},
            "finding_id": {"type": ["integer", "null"]},
            "finding_city": {"type": ["string", "null"]},
            "thread_id": {"type": ["integer", "null"]},
            "thread_title": {"type": ["string", "null"]}, "actor": {"type": ["string", "null"]},
            "text": text, "count": ident, "created_at": when, "read": {"type": "boolean"}}),
        "NotificationList": exact({"notifications": array("Notification"), "unread": count}),
    }


def inputs() -> dict[str, Any]:
    return {
        "ReadInput": {"type": "object", "properties": {
            "ids": {"type": "array", "maxItems": 200,
                    "items": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
                    "description": "Your notifications' ids (404 for one that is not yours)."}}},
    }
