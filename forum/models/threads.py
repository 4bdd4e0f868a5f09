"""Threads of a board: listing by latest activity, creation with their first post, titles."""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock, permissions
from forum.db import Conn, Row, Transaction
from forum.errors import NotFound
from forum.i18n import N_
from forum.models import existing, posts
from forum.models.boards import Board
from forum.models.users import User
from forum.text import required_line


@dataclass(frozen=True)
class Thread:
    id: int
    board_id: int
    board_slug: str
    board_name: str
    author_id: int
    author_name: str
    title: str
    status: str
    pinned: bool
    locked: bool
    post_count: int
    views: int
    created_at: str
    last_post_at: str
    last_post_id: int | None
    board_mode: str = "a-posteriori"
    board_is_city: bool = True
    hidden_at: str | None = None  # hidden by its moderators (status 'rejected' meanwhile)
    board_closed: bool = False  # in a closed board: its members and moderators only

    @classmethod
    def from_row(cls, row: Row) -> Thread:
        return cls(row["id"], row["board_id"], row["board_slug"], row["board_name"],
                   row["author_id"], row["author_name"], row["title"], row["status"],
                   bool(row["pinned"]), bool(row["locked"]), row["post_count"], row["views"],
                   row["created_at"], row["last_post_at"], row["last_post_id"],
                   row["board_mode"], bool(row["board_is_city"]), row["hidden_at"],
                   bool(row["board_closed"]))


SELECT = (
    "select threads.*, boards.slug as board_slug, boards.name as board_name,"
    " boards.moderation_mode as board_mode, boards.is_city as board_is_city,"
    " boards.closed as board_closed,"
    " users.name as author_name from threads"
    " join boards on boards.id = threads.board_id join users on users.id = threads.author_id"
)


def clean_title(title: str, limit: int) -> str:
    return required_line(title, "title", limit, N_("A title is required."),
                         N_("This title is too long (at most %(max)s characters)."))


async def get(conn: Conn, thread_id: int) -> Thread:
    row = await conn.one(f"{SELECT} where threads.id = ?", (thread_id,))
    return Thread.from_row(existing(row, NotFound("This thread does not exist.")))


async def with_page(conn: Conn, thread_id: int, viewer: User | None, page: int,
                    per_page: int) -> tuple[Thread, posts.PostPage]:
    """The thread and a page of its posts as `viewer` sees them (posts.page_for_thread), read
    together: one trip to the database for a thread page. The caller still decides whether
    `viewer` may see the thread before using either."""
    thread_rows, post_rows = await conn.all_each(
        [(f"{SELECT} where threads.id = ?", (thread_id,)),
         posts.page_query(thread_id, viewer, page, per_page)])
    thread = Thread.from_row(existing(next(iter(thread_rows), None),
                                      NotFound("This thread does not exist.")))
    return thread, posts.page_from_rows(post_rows)


async def list_for_board(conn: Conn, board_id: int, page: int, per_page: int,
                         viewer: User | None = None) -> list[Thread]:
    """Public threads, pinned first, then by latest activity (index threads_by_board_activity).

    The same list for everyone who reads the board: a pending thread is reached from the queue
    or its author's profile, never listed with the public record. (The caller checked that
    `viewer` may read the board: a closed board's threads are listed for its readers.)
    """
    visible, params = permissions.thread_filter(None)
    if viewer is not None:
        board_read, read_params = permissions.readable_board_filter(viewer, "threads.board_id")
        visible = (f"({permissions.published_thread()} and {board_read})")
        params = read_params
    rows = await conn.all(
        f"{SELECT} where threads.board_id = ? and {visible}"
        " order by threads.pinned desc, threads.last_post_at desc limit ? offset ?",
        (board_id, *params, per_page, (page - 1) * per_page))
    return [Thread.from_row(row) for row in rows]


async def create(tx: Transaction, board: Board, author: User, title: str, body: str,
                 title_max: int, body_max: int, at: str | None = None,
                 status: str = "published",
                 mentions_max: int = posts.MENTIONS_MAX) -> tuple[int, int]:
    """Open a thread with its first post (both pending or both published); returns their ids."""
    title = clean_title(title, title_max)
    posts.check_body(body, body_max)
    at = at or clock.now()
    thread_id = await tx.insert(
        "insert into threads (board_id, author_id, title, status, created_at, last_post_at)"
        " values (?, ?, ?, ?, ?, ?) returning id",
        (board.id, author.id, title, status, at, at))
    if status == "published":
        await tx.execute("update boards set thread_count = thread_count + 1 where id = ?",
                         (board.id,))
    post_id = await posts.create(tx, thread_id, board.id, author, body, body_max, at=at,
                                 status=status, mentions_max=mentions_max)
    return thread_id, post_id


@dataclass(frozen=True)
class TitleRevision:
    """A title a thread had until `replaced_at` (for its moderators only)."""
    title: str
    editor_name: str
    replaced_at: str


async def rename(tx: Transaction, thread: Thread, editor: User, title: str,
                 title_max: int) -> bool:
    """Give a thread a new title, the old one kept in thread_title_revisions; False when the
    title did not change (nothing is written)."""
    title = clean_title(title, title_max)
    if title == thread.title:
        return False
    await tx.execute(
        "insert into thread_title_revisions (thread_id, editor_id, title, replaced_at)"
        " values (?, ?, ?, ?)", (thread.id, editor.id, thread.title, clock.now()))
    # The search index follows through its trigger on threads.title (0003_search.sql).
    await tx.execute("update threads set title = ? where id = ?", (title, thread.id))
    posts.changed(tx, thread.id, thread.board_id)
    tx.changed("board_meta", thread.board_id)  # notifications and feeds name the thread
    return True


async def title_revisions(conn: Conn, thread_id: int) -> list[TitleRevision]:
    """The titles a thread had, oldest first."""
    rows = await conn.all(
        "select title, users.name, replaced_at from thread_title_revisions"
        " join users on users.id = editor_id where thread_id = ?"
        " order by thread_title_revisions.id", (thread_id,))
    return [TitleRevision(*row) for row in rows]


async def hide(tx: Transaction, thread: Thread) -> bool:
    """Take a public thread out of every list, page, feed and search (its moderators still
    see it); False when it was not public."""
    if not await tx.update("update threads set status = 'rejected', hidden_at = ?"
                           " where id = ? and status = 'published'", (clock.now(), thread.id)):
        return False
    await _count_public_thread(tx, thread, -1)
    return True


async def unhide(tx: Transaction, thread: Thread) -> bool:
    """Show a hidden thread again (never a refused one); False when it was not hidden."""
    if not await tx.update("update threads set status = 'published', hidden_at = null"
                           " where id = ? and hidden_at is not null", (thread.id,)):
        return False
    await _count_public_thread(tx, thread, +1)
    return True


async def _count_public_thread(tx: Transaction, thread: Thread, sign: int) -> None:
    """The board's and the authors' counts without (-1) or with (+1) the thread, counted
    again rather than moved: a reply approved meanwhile would make them drift."""
    counted = permissions.published_post()
    await tx.execute(
        "update users set post_count = (select count(*) from posts join threads"
        " on threads.id = posts.thread_id where posts.author_id = users.id"
        f" and {permissions.public_post()})"
        " where id in (select author_id from posts where thread_id = ?)", (thread.id,))
    await tx.execute(
        "update boards set thread_count = thread_count + ?, post_count = (select count(*)"
        f" from posts join threads on threads.id = posts.thread_id where threads.board_id = ?"
        f" and {counted}), last_post_at = (select max(last_post_at) from threads"
        f" where board_id = ? and {permissions.published_thread()}) where id = ?",
        (sign, thread.board_id, thread.board_id, thread.board_id))
    posts.changed(tx, thread.id, thread.board_id)
    tx.changed("board_meta", thread.board_id)  # watch pages name their source threads


async def count_views(tx: Transaction, views: dict[int, int]) -> None:
    """Add batched page views (counted in memory on the read path)."""
    for thread_id, count in views.items():
        board_id = await tx.value("select board_id from threads where id = ?", (thread_id,))
        if board_id is None:
            continue
        await tx.execute("update threads set views = views + ? where id = ?", (count, thread_id))
        tx.changed("board", board_id)


async def posts_page(conn: Conn, thread: Thread, viewer: User | None, page: int,
                     per_page: int) -> tuple[list[posts.Post], int]:
    """A page of a thread as this viewer sees it, and how many pages it has (404 past the
    last), for the API (the page reads which posts have files and sources beside them)."""
    pages = await page_total(conn, thread, viewer, page, per_page)
    return await posts.list_for_thread(conn, thread.id, viewer, page, per_page), pages


async def page_total(conn: Conn, thread: Thread, viewer: User | None, page: int,
                     per_page: int) -> int:
    """How many pages of the thread this viewer sees (404 when `page` is past the last). A
    visitor's count is the thread's own counter."""
    total = thread.post_count if viewer is None else await posts.count_for_thread(
        conn, thread.id, viewer)
    pages = max(1, -(-total // per_page))
    if page > pages:
        raise NotFound()
    return pages
