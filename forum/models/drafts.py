"""Drafts: what a member was writing and has not sent, kept on the server (table drafts, 0024).

One draft per member and thread (a reply) and per member and board (a new thread), so that the
text comes back on another device too; erased in the transaction that sends the message.
"""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock
from forum.db import Conn, Transaction


@dataclass(frozen=True)
class Draft:
    title: str
    body: str
    updated_at: str


def _target(thread_id: int | None, board_id: int | None) -> tuple[str, int]:
    """The column and id a draft belongs to: exactly one of a thread or a board."""
    if thread_id is not None and board_id is None:
        return "thread_id", thread_id
    if board_id is not None and thread_id is None:
        return "board_id", board_id
    raise ValueError("a draft is for a thread or for a board")


async def get(conn: Conn, user_id: int, thread_id: int | None = None,
              board_id: int | None = None) -> Draft | None:
    """This member's draft for a reply to the thread or a new thread on the board, if any."""
    column, target = _target(thread_id, board_id)
    row = await conn.one(f"select title, body, updated_at from drafts"
                         f" where user_id = ? and {column} = ?", (user_id, target))
    return None if row is None else Draft(row["title"], row["body"], row["updated_at"])


async def save(tx: Transaction, user_id: int, title: str, body: str,
               thread_id: int | None = None, board_id: int | None = None) -> None:
    """Keep the text (an empty one erases the draft: nothing is left to lose)."""
    column, target = _target(thread_id, board_id)
    if not title.strip() and not body.strip():
        await erase(tx, user_id, thread_id, board_id)
        return
    # The partial unique indexes drafts_reply and drafts_thread are the conflict targets.
    await tx.execute(
        f"insert into drafts (user_id, {column}, title, body, updated_at) values (?, ?, ?, ?, ?)"
        f" on conflict (user_id, {column}) where {column} is not null"
        " do update set title = excluded.title, body = excluded.body,"
        " updated_at = excluded.updated_at", (user_id, target, title, body, clock.now()))


async def erase(tx: Transaction, user_id: int, thread_id: int | None = None,
                board_id: int | None = None) -> None:
    """The message was sent (or emptied): its draft goes."""
    column, target = _target(thread_id, board_id)
    await tx.execute(f"delete from drafts where user_id = ? and {column} = ?", (user_id, target))
