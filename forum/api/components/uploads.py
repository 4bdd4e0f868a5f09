"""Files sent to attach to posts."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import COUNT, IDENT, TEXT, exact, ref


def photo_fields() -> dict[str, Any]:
    """A photo's smaller copies (JPEG, made at upload) for a srcset, and its viewer page."""
    return {
        "sizes": {"type": "array", "items": ref("schemas", "PhotoSize"),
                  "description": "Smaller JPEG copies of an image, smallest first (a srcset)."},
        "viewer_url": {"type": ["string", "null"], "description": "The photo's page (full "
                       "size, previous and next of its thread); null for other files."},
    }


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
            **photo_fields(),
            "removed": {"type": "array", "items": text,
                        "description": "What was removed, in the reader's language."}}),
        "PhotoSize": exact({"width": ident, "height": ident, "url": text}),
    }
