"""Following as members do it, from the pages and the API alike: a thread they may see or a
board by its address, and the list of what they follow (the rows: models/follows.py, which
models/posts.py uses, so it cannot import the threads it names)."""
from __future__ import annotations

from dataclasses import dataclass

from forum.db import Conn, Transaction
from forum.errors import NotFound
from forum.models import boards, threads
from forum.models.follows import set_state
from forum.models.users import User
from forum.permissions import can

LIST_MAX = 500  # a member's follows listed at once (the newest)


@dataclass(frozen=True)
class Followed:
    """A thread or board a member follows or muted, as they may see it."""
    kind: str  # thread | board
    id: int
    key: str  # the thread's id or the board's address, as URLs name them
    title: str
    mode: str
    created_at: str


async def set_for_thread(tx: Transaction, user: User, thread_id: int,
                         mode: str | None) -> threads.Thread:
    """Follow, mute or stop following a thread this member may see (404 otherwise)."""
    thread = await threads.get(tx, thread_id)
    if not can(user, "see_thread", thread):
        raise NotFound()
    await set_state(tx, user.id, "thread", thread.id, mode)
    return thread


async def set_for_board(tx: Transaction, user: User, slug: str,
                        mode: str | None) -> boards.Board:
    """Follow, mute or stop following a board, by its address (a former one too)."""
    board = await boards.get_readable(tx, slug, user)  # a closed board: its group only
    await set_state(tx, user.id, "board", board.id, mode)
    return board


async def list_for(conn: Conn, user: User) -> list[Followed]:
    """What this member follows or muted, newest first; threads they may no longer see are
    left out (a thread hidden since)."""
    rows = await conn.all(
        "select target_kind, target_id, mode, created_at from follows where user_id = ?"
        " order by created_at desc, target_id desc limit ?", (user.id, LIST_MAX))
    found: list[Followed] = []
    for kind, target_id, mode, created_at in rows:
        try:
            if kind == "thread":
                thread = await threads.get(conn, target_id)
                if can(user, "see_thread", thread):
                    found.append(Followed(kind, thread.id, str(thread.id), thread.title, mode,
                                          created_at))
            else:
                board = await boards.get(conn, target_id)
                found.append(Followed(kind, board.id, board.slug, board.name, mode, created_at))
        except NotFound:  # deleted since: nothing to show
            continue
    return found
