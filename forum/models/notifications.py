"""What members are told: for now, moderation decisions and sanctions about them."""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock
from forum.db import Conn, Transaction

PAGE_SIZE = 50


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str
    post_id: int | None
    thread_id: int | None
    thread_title: str | None
    actor_name: str | None
    text: str
    created_at: str
    read_at: str | None


async def add(tx: Transaction, user_id: int, kind: str, post_id: int | None = None,
              thread_id: int | None = None, actor_id: int | None = None,
              text: str = "") -> None:
    await tx.execute(
        "insert into notifications (user_id, kind, post_id, thread_id, actor_id, text,"
        " created_at) values (?, ?, ?, ?, ?, ?, ?)",
        (user_id, kind, post_id, thread_id, actor_id, text, clock.now()))


async def list_for_user(conn: Conn, user_id: int, limit: int = PAGE_SIZE) -> list[Notification]:
    rows = await conn.all(
        "select notifications.id, kind, post_id, thread_id, threads.title, users.name, text,"
        " notifications.created_at, read_at from notifications"
        " left join threads on threads.id = thread_id left join users on users.id = actor_id"
        " where user_id = ? order by notifications.id desc limit ?", (user_id, limit))
    return [Notification(*row) for row in rows]


async def count_unread(conn: Conn, user_id: int) -> int:
    return int(await conn.value(
        "select count(*) from notifications where user_id = ? and read_at is null", (user_id,)))


async def mark_all_read(tx: Transaction, user_id: int) -> None:
    await tx.execute("update notifications set read_at = ? where user_id = ? and read_at is null",
                     (clock.now(), user_id))
