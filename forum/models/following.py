"""Following as members do it, from the pages and the API alike: a thread they may see or a
board by its address (the rows, and the list of what one follows: models/follows.py, which
models/posts.py uses, so it cannot import the threads it names)."""
from __future__ import annotations

from forum.db import Transaction
from forum.errors import NotFound
from forum.models import boards, threads
from forum.models.follows import set_state
from forum.models.users import User
from forum.permissions import can


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
