"""Plain SQL per domain: small dataclasses and async functions taking a connection."""
from __future__ import annotations

from forum.db import Row
from forum.errors import ForumError


def existing(row: Row | None, missing: ForumError) -> Row:
    """The row a query found, or `missing` (a NotFound saying what does not exist) raised."""
    if row is None:
        raise missing
    return row
