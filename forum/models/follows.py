"""Following and muting threads and boards."""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock, permissions
from forum.db import Conn, Transaction
from forum.errors import Invalid
from forum.models.users import User

MODES = ("follow", "mute")


async def state(conn: Conn, user_id: int, kind: str, target_id: int) -> str | None:
    """'follow', 'mute' or None for this member and thread/board."""
    return await conn.value(
        "select mode from follows where user_id = ? and target_kind = ? and target_id = ?",
        (user_id, kind, target_id))


async def set_state(tx: Transaction, user_id: int, kind: str, target_id: int,
                    mode: str | None) -> None:
    """Follow, mute, or go back to neither (mode None)."""
    tx.changed("follows", user_id)  # the states kept in memory (fragments.FragmentCache)
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
    tx.changed("follows", user_id)
    await tx.execute(
        "insert or ignore into follows (user_id, target_kind, target_id, mode, created_at)"
        " select id, 'thread', ?, 'follow', ? from users where id = ? and follow_on_post = 1",
        (thread_id, clock.now(), user_id))


@dataclass(frozen=True)
class Followed:
    """A thread or board a member follows or muted, as /settings and the API list it."""

    kind: str  # 'thread' or 'board'
    target_id: int
    mode: str  # 'follow' or 'mute'
    name: str  # the thread's title or the board's name
    slug: str  # the board's address (of the thread's board for a thread)
    is_city: bool
    created_at: str


async def list_for_user(conn: Conn, user: User) -> list[Followed]:
    """What this member follows or muted: boards, then threads, newest first.

    A thread the member may no longer see (hidden, refused) is left out of the list.
    """
    visible, params = permissions.thread_filter(user)
    rows = await conn.all(
        "select 'board' as kind, boards.id, follows.mode, boards.name, boards.slug,"
        " boards.is_city, follows.created_at from follows"
        " join boards on boards.id = follows.target_id"
        " where follows.user_id = ? and follows.target_kind = 'board'"
        " union all"
        " select 'thread', threads.id, follows.mode, threads.title, boards.slug, boards.is_city,"
        " follows.created_at from follows join threads on threads.id = follows.target_id"
        " join boards on boards.id = threads.board_id"
        f" where follows.user_id = ? and follows.target_kind = 'thread' and {visible}"
        " order by 1, 7 desc", (user.id, user.id, *params))
    return [Followed(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6])
            for row in rows]
