"""Drops: files and a message a source sends a city's moderators without an account.

Tables drops, drop_messages, drop_files (migration 0017). What identifies a sender is nothing but
a code they were shown once: it is kept as its SHA-256. Rows carry the day, never a time, and no
address or user agent ever reaches this module. Deleting a drop erases its rows (secure_delete is
on: their bytes do not linger); the caller removes its files from the drop store.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from forum import permissions
from forum.db import Conn, Row, Transaction
from forum.errors import Invalid, NotFound
from forum.models import existing
from forum.models.uploads import StoredFile
from forum.models.users import BANNED, User

CODE_BYTES = 20  # 160 random bits, written as 32 letters and digits (base32)
CODE_LENGTH = 32
MESSAGE_MAX = 5_000  # characters of one message


def today() -> str:
    """The only time a drop keeps: the UTC day."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


def new_code() -> str:
    """A sender's code, shown once: 8 groups of 4 (A-Z, 2-7), easy to copy by hand."""
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii")
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def code_hash(code: str) -> str | None:
    """The stored form of a code as typed (case, spaces and dashes ignored); None if it cannot
    be one."""
    letters = "".join(c for c in code.upper() if c.isascii() and c.isalnum())
    if len(letters) != CODE_LENGTH or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
                                          for c in letters):
        return None
    return hashlib.sha256(letters.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Drop:
    id: int
    board_id: int
    board_name: str
    board_slug: str
    day: str
    message_count: int = 0
    file_count: int = 0
    awaiting_answer: bool = False  # the latest message is the sender's


@dataclass(frozen=True)
class Message:
    id: int
    moderator_name: str | None  # None: the sender
    body: str
    day: str

    @property
    def from_sender(self) -> bool:
        return self.moderator_name is None


@dataclass(frozen=True)
class DropFile(StoredFile):
    id: int
    drop_id: int
    published_post_id: int | None

    @classmethod
    def from_row(cls, row: Row) -> DropFile:
        return cls(**StoredFile.columns(row), id=row["id"], drop_id=row["drop_id"],
                   published_post_id=row["published_post_id"])


CleanFile = StoredFile  # a file the upload worker cleaned, about to be stored with its drop


FILE_COLUMNS = ("id, drop_id, sha256, filename, kind, content_type, size, width, height,"
                " thumbnail_sha256, removed, published_post_id")
# A drop waits for an answer while its sender wrote last, or nobody wrote yet (files alone).
AWAITING = ("coalesce((select moderator_id is null from drop_messages where drop_id = drops.id"
            " order by id desc limit 1), true)")
DROP_SELECT = (
    "select drops.id, drops.board_id, boards.name, boards.slug, drops.day,"
    " (select count(*) from drop_messages where drop_id = drops.id),"
    " (select count(*) from drop_files where drop_id = drops.id),"
    f" {AWAITING}"
    " from drops join boards on boards.id = drops.board_id")


def _drop(row: Row) -> Drop:
    return Drop(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]))


def check_message(body: str) -> str:
    body = body.strip()
    if len(body) > MESSAGE_MAX:
        raise Invalid("A message holds at most %(max)s characters.", field="message",
                      max=MESSAGE_MAX)
    return body


async def create(tx: Transaction, board_id: int, message: str, files: list[CleanFile]) -> str:
    """Record a drop; returns its code (shown once to the sender, never stored)."""
    if not message and not files:
        raise Invalid("Send a file or a message (or both).", field="message")
    code = new_code()
    day = today()
    await lock_contents(tx, [sha for f in files for sha in (f.sha256, f.thumbnail_sha256)])
    drop_id = await tx.insert(
        "insert into drops (board_id, code_hash, day) values (?, ?, ?) returning id",
        (board_id, code_hash(code), day))
    if message:
        await add_message(tx, drop_id, None, message)
    await _tell_moderators(tx, board_id)
    for f in files:
        await tx.execute(
            "insert into drop_files (drop_id, sha256, filename, kind, content_type, size, width,"
            " height, thumbnail_sha256, removed) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (drop_id, f.sha256, f.filename, f.kind, f.content_type, f.size, f.width, f.height,
             f.thumbnail_sha256, ",".join(f.removed)))
    return code


async def _tell_moderators(tx: Transaction, board_id: int) -> None:
    """Notify the city's moderators and the global ones (banned staff apart) that a drop came:
    the notification names the city and nothing of the drop (its text is the city's name)."""
    name = await tx.value("select name from boards where id = ?", (board_id,))
    moderators = await tx.all(
        "select id from users where (role in ('moderator', 'admin') or id in"
        " (select user_id from board_moderators where board_id = ?))"
        " and coalesce(suspended_until, '') not like ? order by id",
        (board_id, f"{BANNED}%"))
    # Dated by the day, as the drop, and never mailed (marked so): an exact time, in a row or
    # in a mail's headers, could be matched with a network's logs.
    day = f"{today()}T00:00:00.000Z"
    for row in moderators:
        await tx.execute("insert into notifications (user_id, kind, text, created_at, mailed_at)"
                         " values (?, 'drop', ?, ?, ?)", (row[0], name, day, day))


async def waiting_for(conn: Conn, moderator: User) -> int:
    """How many drops of this moderator's cities wait for an answer (the header's badge)."""
    scope, params = permissions.moderated_board_filter(moderator, "drops.board_id")
    return int(await conn.value(f"select count(*) from drops where {scope} and {AWAITING}",
                                params))


async def add_message(tx: Transaction, drop_id: int, moderator_id: int | None,
                      body: str) -> None:
    body = check_message(body)
    if not body:
        raise Invalid("Write a message.", field="message")
    await tx.execute(
        "insert into drop_messages (drop_id, moderator_id, body, day) values (?, ?, ?, ?)",
        (drop_id, moderator_id, body, today()))


async def get(conn: Conn, drop_id: int) -> Drop:
    row = await conn.one(f"{DROP_SELECT} where drops.id = ?", (drop_id,))
    return _drop(existing(row, NotFound()))


async def by_code(conn: Conn, code: str) -> Drop | None:
    """The drop of this code; None for a wrong one (or one that cannot be a code)."""
    digest = code_hash(code)
    if digest is None:
        return None
    row = await conn.one(f"{DROP_SELECT} where drops.code_hash = ?", (digest,))
    return _drop(row) if row else None


async def list_for_boards(conn: Conn, board_ids: list[int] | None) -> list[Drop]:
    """The drops of these boards (None: every board), the newest first."""
    if board_ids is None:
        rows = await conn.all(f"{DROP_SELECT} order by drops.id desc")
    elif not board_ids:
        return []
    else:
        marks = ", ".join("?" * len(board_ids))
        rows = await conn.all(f"{DROP_SELECT} where drops.board_id in ({marks})"
                              " order by drops.id desc", board_ids)
    return [_drop(row) for row in rows]


def scope_of(moderator: User) -> list[int] | None:
    """The boards whose drops a moderator sees (None: every board, for global moderators)."""
    return None if moderator.is_moderator else sorted(moderator.moderated_boards)


async def awaiting_count(conn: Conn, board_ids: list[int] | None) -> int:
    """How many of these boards' drops wait for an answer (their source wrote last)."""
    return sum(drop.awaiting_answer for drop in await list_for_boards(conn, board_ids))


async def messages(conn: Conn, drop_id: int) -> list[Message]:
    rows = await conn.all(
        "select drop_messages.id, users.name, drop_messages.body, drop_messages.day"
        " from drop_messages left join users on users.id = drop_messages.moderator_id"
        " where drop_messages.drop_id = ? order by drop_messages.id", (drop_id,))
    return [Message(*row) for row in rows]


async def files(conn: Conn, drop_id: int) -> list[DropFile]:
    rows = await conn.all(f"select {FILE_COLUMNS} from drop_files where drop_id = ?"
                          " order by id", (drop_id,))
    return [DropFile.from_row(row) for row in rows]


async def get_file(conn: Conn, drop_id: int, file_id: int) -> DropFile:
    row = await conn.one(f"select {FILE_COLUMNS} from drop_files where id = ? and drop_id = ?",
                         (file_id, drop_id))
    return DropFile.from_row(existing(row, NotFound()))


async def mark_published(tx: Transaction, file_id: int, post_id: int) -> None:
    await tx.execute("update drop_files set published_post_id = ? where id = ?",
                     (post_id, file_id))


async def erase(tx: Transaction, drop_ids: list[int]) -> set[str]:
    """Delete drops for good; returns the contents (SHA-256) no drop refers to any more."""
    contents: set[str] = set()
    for drop_id in drop_ids:
        for row in await tx.all("select sha256, thumbnail_sha256 from drop_files"
                                " where drop_id = ?", (drop_id,)):
            contents.update(sha for sha in row if sha)
        await tx.execute("delete from drop_files where drop_id = ?", (drop_id,))
        await tx.execute("delete from drop_messages where drop_id = ?", (drop_id,))
        await tx.execute("delete from drops where id = ?", (drop_id,))
    return await unused(tx, contents)


async def lock_contents(tx: Transaction, shas: Iterable[str | None]) -> None:
    """As uploads.lock_contents, for the drop's own store."""
    await tx.lock(f"drops:{sha}" for sha in shas if sha)


async def unused(tx: Transaction, contents: set[str]) -> set[str]:
    """Of these contents (SHA-256), those no drop's file or thumbnail refers to: safe to
    remove until the commit (under their locks, as uploads.unused)."""
    await lock_contents(tx, contents)
    still = set()
    for sha in contents:
        if await tx.value("select 1 from drop_files where sha256 = ? or thumbnail_sha256 = ?",
                          (sha, sha)):
            still.add(sha)
    return contents - still


async def expired(conn: Conn, days: int) -> list[int]:
    """Drops older than `days` days (counted from the day they were sent)."""
    limit = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%d")
    return [row[0] for row in await conn.all("select id from drops where day < ?", (limit,))]
