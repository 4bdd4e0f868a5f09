"""Files sent to attach to posts."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import COUNT, IDENT, TEXT, exact


def outputs() -> dict[str, Any]:
    text, count, ident = TEXT, COUNT, IDENT
    return {
        "Upload": exact({
            "id": ident, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "filename": {"type": "string", "description": "Cleaned; ends in its kind's "
                         "extension."},
            "content_type": text, "kind": text, "size": count,
            "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
            "url": text, "thumbnail_url": {"type": ["string", "null"]},
            "removed": {"type": "array", "items": text,
                        "description": "What was removed, in the reader's language."}}),
    }
