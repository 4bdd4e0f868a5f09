"""A member's sessions as the settings page shows them: devices, last day used, ending one.

Opening, loading and closing sessions is in models/users.py, with the accounts they belong to.
"""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock
from forum.db import Conn, Transaction
from forum.errors import NotFound


@dataclass(frozen=True)
class Device:
    """One of a member's sessions as the settings page lists it."""
    handle: str  # the first characters of the token's hash: names it in a form, reveals nothing
    browser: str
    os: str
    created_at: str
    last_used_on: str | None
    current: bool


HANDLE_LENGTH = 16


async def list_sessions(conn: Conn, user_id: int, current_digest: str | None) -> list[Device]:
    """A member's live sessions, the most recently used first."""
    rows = await conn.all(
        "select id, browser, os, created_at, last_used_on from sessions"
        " where user_id = ? and expires_at > ? order by last_used_on desc, created_at desc",
        (user_id, clock.now()))
    return [Device(row["id"][:HANDLE_LENGTH], row["browser"], row["os"], row["created_at"],
                   row["last_used_on"], row["id"] == current_digest) for row in rows]


async def end_session(tx: Transaction, user_id: int, handle: str) -> str:
    """End one of this member's sessions; returns its digest. NotFound for another's."""
    if len(handle) != HANDLE_LENGTH or not all(c in "0123456789abcdef" for c in handle):
        raise NotFound("This session does not exist.")
    digest = await tx.value("select id from sessions where user_id = ? and substr(id, 1, ?) = ?",
                            (user_id, HANDLE_LENGTH, handle))
    if digest is None:
        raise NotFound("This session does not exist.")
    await tx.execute("delete from sessions where id = ?", (digest,))
    return str(digest)


async def end_other_sessions(tx: Transaction, user_id: int, kept_digest: str) -> None:
    """End every session of this member but the one whose digest is `kept_digest`."""
    await tx.execute("delete from sessions where user_id = ? and id <> ?",
                     (user_id, kept_digest))


async def mark_session_used(tx: Transaction, digest: str, day: str) -> None:
    await tx.execute("update sessions set last_used_on = ? where id = ?", (day, digest))
