"""Following and muting threads and boards."""
from __future__ import annotations

from forum import clock
from forum.db import Conn, Transaction
from forum.errors import Invalid

MODES = ("follow", "mute")


async def state(conn: Conn, user_id: int, kind: str, target_id: int) -> str | None:
    """'follow', 'mute' or None for this member and thread/board."""
    return await conn.value(
        "select mode from follows where user_id = ? and target_kind = ? and target_id = ?",
        (user_id, kind, target_id))


async def set_state(tx: Transaction, user_id: int, kind: str, target_id: int,
                    mode: str | None) -> None:
    """Follow, mute, or go back to neither (mode None)."""
    if mode is None:
        await tx.execute(
            "delete from follows where user_id = ? and target_kind = ? and target_id = ?",
            (user_id, kind, target_id))
        return
    if mode not in MODES:
        raise Invalid("Unknown choice.", field="mode")
    await tx.execute(
        "insert into follows (user_id, target_kind, target_id, mode, created_at)"
        " values (?, ?, ?, ?, ?) on conflict (user_id, target_kind, target_id)"
        " do update set mode = excluded.mode", (user_id, kind, target_id, mode, clock.now()))


async def follow_by_default(tx: Transaction, user_id: int, thread_id: int) -> None:
    """Starting or replying follows the thread, if the member wants it and did not mute it."""
    await tx.execute(
        "insert or ignore into follows (user_id, target_kind, target_id, mode, created_at)"
        " select id, 'thread', ?, 'follow', ? from users where id = ? and follow_on_post = 1",
        (thread_id, clock.now(), user_id))

