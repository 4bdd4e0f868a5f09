"""Unread tracking (issue 16): where each member stopped reading, and what is new to them.

A post is new to a member when they may see it (permissions.post_filter: never a pending,
refused, hidden or deleted post they could not open), did not write it, it came after they
joined, and its id is above their floor in its thread: the highest of the last post they were
shown there (thread_reads, written in batches by forum/reads.py) and their "read everything
before" mark for the board (board_reads).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from forum import permissions
from forum.db import Conn, Transaction
from forum.models.users import User


@dataclass(frozen=True)
class Unread:
    """What is new to a member in one thread."""

    count: int  # posts new to them
    first: int | None  # the first of them (its id), None when there is none
    opened: bool  # they read the thread before (else it is new to them as a whole)


async def stored_floors(conn: Conn, user_id: int,
                        thread_ids: Iterable[int]) -> dict[int, tuple[int, bool]]:
    """Per thread: the floor written in the database, and whether the member opened it."""
    ids = tuple(thread_ids)
    if not ids:
        return {}
    rows = await conn.all(
        "select threads.id, max(coalesce(thread_reads.last_read_post_id, 0),"
        " coalesce(board_reads.read_before, 0)), thread_reads.user_id is not null"
        " from threads left join thread_reads on thread_reads.user_id = ?"
        " and thread_reads.thread_id = threads.id"
        " left join board_reads on board_reads.user_id = ?"
        " and board_reads.board_id = threads.board_id"
        f" where threads.id in ({', '.join('?' * len(ids))})", (user_id, user_id, *ids))
    return {row[0]: (int(row[1]), bool(row[2])) for row in rows}


def _new_above_floors(user: User, floors: Mapping[int, int]) -> tuple[str, str, tuple[object, ...]]:
    """The `floor` table of (thread, post) pairs, the condition on `posts` joined with `threads`
    that a post is new to this member above its thread's floor (one they may see, not theirs,
    since they joined), and the parameters of both in order."""
    # Typed: PostgreSQL reads a bare parameter in a values list as text.
    values = ", ".join("(cast(? as integer), cast(? as integer))" for _ in floors)
    visible, params = permissions.post_filter(user)
    return (f"with floor (thread_id, post_id) as (values {values})",
            f"posts.id > floor.post_id and {visible} and posts.author_id <> ?"
            " and posts.created_at >= ?",
            (*(value for pair in floors.items() for value in pair), *params, user.id,
             user.created_at))


async def count_new(conn: Conn, user: User,
                    floors: Mapping[int, int]) -> dict[int, tuple[int, int | None]]:
    """Per thread: how many posts above its floor are new to this member, and the first.

    One query whatever the threads: each floor reaches its posts through posts_by_thread."""
    if not floors:
        return {}
    floor, new, params = _new_above_floors(user, floors)
    rows = await conn.all(
        f"{floor} select floor.thread_id, count(posts.id), min(posts.id) from floor"
        " join posts on posts.thread_id = floor.thread_id"
        f" join threads on threads.id = posts.thread_id where {new}"
        " group by floor.thread_id", params)
    found = {row[0]: (int(row[1]), row[2]) for row in rows}
    return {thread_id: found.get(thread_id, (0, None)) for thread_id in floors}


# The home page counts, per board, the threads with news among this many most recently active
# (a member who never marks anything read would otherwise have every thread counted each time).
ACTIVE_MAX = 500


async def with_news(conn: Conn, user: User, floors: Mapping[int, int]) -> set[int]:
    """The threads with at least one post above its floor that is new to this member (as
    count_new, stopping at the first)."""
    if not floors:
        return set()
    floor, new, params = _new_above_floors(user, floors)
    rows = await conn.all(
        f"{floor} select floor.thread_id from floor where exists (select 1 from posts"
        " join threads on threads.id = posts.thread_id"
        f" where posts.thread_id = floor.thread_id and {new})", params)
    return {row[0] for row in rows}


async def active_threads(conn: Conn, user: User) -> dict[int, tuple[int, int, bool]]:
    """The listed threads with a public post after the member's floor there, since they joined:
    thread id -> (board id, stored floor, opened), the ACTIVE_MAX most recently active ones,
    for the home page's counts per board."""
    board_read, params = permissions.readable_board_filter(user, "threads.board_id")
    rows = await conn.all(
        "select threads.id, threads.board_id, max(coalesce(thread_reads.last_read_post_id, 0),"
        " coalesce(board_reads.read_before, 0)) as floor, thread_reads.user_id is not null"
        " from threads left join thread_reads on thread_reads.user_id = ?"
        " and thread_reads.thread_id = threads.id"
        " left join board_reads on board_reads.user_id = ?"
        " and board_reads.board_id = threads.board_id"
        f" where threads.last_post_at >= ? and {permissions.published_thread()} and {board_read}"
        " and threads.last_post_id > max(coalesce(thread_reads.last_read_post_id, 0),"
        " coalesce(board_reads.read_before, 0)) order by threads.last_post_at desc limit ?",
        (user.id, user.id, user.created_at, *params, ACTIVE_MAX))
    return {row[0]: (row[1], int(row[2]), bool(row[3])) for row in rows}


async def record(tx: Transaction, reads: Mapping[tuple[int, int], int]) -> None:
    """Write a batch of reads ((member, thread) -> last post shown). With max(): a batch from
    another process, or an older one, never takes a mark back."""
    for (user_id, thread_id), post_id in sorted(reads.items()):
        await tx.execute(
            "insert into thread_reads (user_id, thread_id, last_read_post_id)"
            " select ?, ?, ? where exists (select 1 from users where id = ?)"
            " and exists (select 1 from threads where id = ?)"
            " on conflict (user_id, thread_id) do update"
            " set last_read_post_id = max(thread_reads.last_read_post_id,"
            " excluded.last_read_post_id)",
            (user_id, thread_id, post_id, user_id, thread_id))
        tx.changed("reads", user_id)  # its floors kept in memory (forum/reads.py: KeptUnread)


_MARK = (" on conflict (user_id, board_id) do update"
         " set read_before = max(board_reads.read_before, excluded.read_before)")


async def mark_board(tx: Transaction, user: User, board_id: int) -> None:
    """Everything posted in the board until now counts as read by this member."""
    await tx.execute(
        "insert into board_reads (user_id, board_id, read_before)"
        " select ?, ?, coalesce(max(id), 0) from posts where true" + _MARK,
        (user.id, board_id))
    tx.changed("reads", user.id)


async def mark_all(tx: Transaction, user: User) -> None:
    """Every board the member reads: everything posted until now counts as read."""
    board_read, params = permissions.readable_board_filter(user, "boards.id")
    await tx.execute(
        "insert into board_reads (user_id, board_id, read_before)"
        " select ?, boards.id, (select coalesce(max(id), 0) from posts) from boards"
        f" where {board_read}" + _MARK, (user.id, *params))
    tx.changed("reads", user.id)
