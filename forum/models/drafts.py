"""Drafts: what a member was writing and has not sent, kept on the server (table drafts, 0024).

One draft per member and thread (a reply) and per member and board (a new thread), so that the
text comes back on another device too; erased in the transaction that sends the message. The
files sent with it are kept with it (draft_attachments, 0026): not purged as unattached, and
given back with the text.
"""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock
from forum.db import Conn, Transaction
from forum.errors import Forbidden, Invalid, NotFound
from forum.models import boards, threads, uploads
from forum.models.users import User
from forum.permissions import can

# Autosaves that a member's browser may send per minute (one every few seconds, two tabs).
AUTOSAVES_PER_MINUTE = 60


@dataclass(frozen=True)
class Draft:
    title: str
    body: str
    updated_at: str
    attachment_ids: tuple[int, ...] = ()  # in their order


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
    row = await conn.one(f"select id, title, body, updated_at from drafts"
                         f" where user_id = ? and {column} = ?", (user_id, target))
    if row is None:
        return None
    files = await conn.all("select upload_id from draft_attachments where draft_id = ?"
                           " order by position", (row["id"],))
    return Draft(row["title"], row["body"], row["updated_at"], tuple(r[0] for r in files))


async def save(tx: Transaction, user_id: int, title: str, body: str,
               thread_id: int | None = None, board_id: int | None = None,
               attachment_ids: list[int] | None = None) -> None:
    """Keep the text, and the files listed (None: those kept already stay); a draft with no
    text and no file is erased: nothing is left to lose."""
    column, target = _target(thread_id, board_id)
    if attachment_ids is not None:
        # Only the member's own files that no post holds (as a form shown again lists them).
        attachment_ids = [f.id for f in await uploads.attachable(tx, user_id, attachment_ids)]
    else:
        kept = await get(tx, user_id, thread_id, board_id)
        attachment_ids = list(kept.attachment_ids) if kept else []
    if not title.strip() and not body.strip() and not attachment_ids:
        await erase(tx, user_id, thread_id, board_id)
        return
    # The partial unique indexes drafts_reply and drafts_thread are the conflict targets.
    draft_id = await tx.value(
        f"insert into drafts (user_id, {column}, title, body, updated_at) values (?, ?, ?, ?, ?)"
        f" on conflict (user_id, {column}) where {column} is not null"
        " do update set title = excluded.title, body = excluded.body,"
        " updated_at = excluded.updated_at returning id",
        (user_id, target, title, body, clock.now()))
    await tx.execute("delete from draft_attachments where draft_id = ?", (draft_id,))
    for position, upload_id in enumerate(attachment_ids):
        await tx.execute("insert into draft_attachments (draft_id, upload_id, position)"
                         " values (?, ?, ?)", (draft_id, upload_id, position))


async def erase(tx: Transaction, user_id: int, thread_id: int | None = None,
                board_id: int | None = None) -> None:
    """The message was sent (or emptied): its draft goes."""
    column, target = _target(thread_id, board_id)
    await tx.execute(f"delete from drafts where user_id = ? and {column} = ?", (user_id, target))


# What the pages' autosave and the API share: where a draft may be kept, and its limits. ------

async def place(conn: Conn, user: User, thread_id: int | None = None,
                board_slug: str | None = None) -> dict[str, int]:
    """The target of a draft, checked: a thread this member may see (404 otherwise), or a
    board they may start a thread on (403 otherwise; 404 if it does not exist for them, as a
    closed board for who is not of its group)."""
    if board_slug is not None:
        board = await boards.get_readable(conn, board_slug, user)
        if not can(user, "start_thread", board):
            raise Forbidden()
        return {"board_id": board.id}
    thread = await threads.get(conn, thread_id or 0)
    if not can(user, "see_thread", thread):
        raise NotFound()
    return {"thread_id": thread.id}


def check_lengths(title: str, body: str, title_max: int, body_max: int) -> None:
    """A draft is kept within the limits of the message it will become (422 otherwise)."""
    if len(body) > body_max:
        raise Invalid("This message is too long (at most %(max)s characters).", field="body",
                      max=body_max)
    if len(title) > title_max:
        raise Invalid("This title is too long (at most %(max)s characters).", field="title",
                      max=title_max)
