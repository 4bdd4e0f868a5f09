"""Atom feeds: the latest public posts of the site, of a board or of a thread, newest first.

Feeds are anonymous: whoever asks, they hold what a visitor may read, tombstones left out.
"""
from __future__ import annotations

from dataclasses import dataclass

from forum import permissions
from forum.db import Conn

FEED_SIZE = 30  # entries in each feed


@dataclass(frozen=True)
class FeedPost:
    id: int
    thread_id: int
    thread_title: str
    board_slug: str
    board_name: str
    author_name: str
    body_html: str
    created_at: str
    edited_at: str | None
    opens_thread: bool  # the first post of its thread: a new thread, in a board's feed

    @property
    def updated_at(self) -> str:
        return self.edited_at or self.created_at


_SELECT = (
    "select posts.id, posts.thread_id, threads.title, boards.slug, boards.name, users.name,"
    " posts.body_html, posts.created_at, posts.edited_at,"
    " posts.id = (select min(id) from posts as first where first.thread_id = posts.thread_id)"
    " from posts join threads on threads.id = posts.thread_id"
    " join boards on boards.id = threads.board_id join users on users.id = posts.author_id"
)


def _public() -> permissions.Filter:
    """What an anonymous reader may see, as in a thread page, without the tombstones."""
    return permissions.readable_post(), ()


async def _latest(conn: Conn, where: str, params: tuple[object, ...],
                  limit: int) -> list[FeedPost]:
    # Pick the ids first, then read only those rows: sorting a big board's posts with their
    # bodies and authors costs twenty times more than sorting their ids.
    public, public_params = _public()
    rows = await conn.all(
        f"{_SELECT} where posts.id in (select posts.id from posts join threads"
        f" on threads.id = posts.thread_id where {where} and {public}"
        " order by posts.id desc limit ?) order by posts.id desc",
        (*params, *public_params, limit))
    # mypy cannot count the fields of a row's slice (any length for it), so it sees one too many.
    return [FeedPost(*row[:9], bool(row[9])) for row in rows]  # type: ignore[call-arg]


async def latest_for_site(conn: Conn, limit: int = FEED_SIZE) -> list[FeedPost]:
    """The latest public posts of every board (posts' primary key, read backwards)."""
    return await _latest(conn, permissions.EVERYTHING, (), limit)


async def latest_for_board(conn: Conn, board_id: int, limit: int = FEED_SIZE) -> list[FeedPost]:
    """The latest public posts of a board, whichever of its threads they are in."""
    # Its threads (threads_by_board_activity), then their posts (posts_by_thread), ids sorted:
    # a cost in the board's size (40 ms for 130 000 posts), never in the whole forum's.
    return await _latest(conn, "threads.board_id = ?", (board_id,), limit)


async def latest_for_thread(conn: Conn, thread_id: int,
                            limit: int = FEED_SIZE) -> list[FeedPost]:
    """The latest public posts of a thread (posts_by_thread, read backwards)."""
    return await _latest(conn, "posts.thread_id = ?", (thread_id,), limit)


async def board_created_at(conn: Conn, board_id: int) -> str:
    """When a board was opened: the date of its feed while it has no post."""
    return str(await conn.value("select created_at from boards where id = ?", (board_id,)))
