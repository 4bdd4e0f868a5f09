"""Posts: cooked once at write time, every revision kept, deletions are tombstones."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from forum import clock, markdown, permissions
from forum.config import Config
from forum.db import Conn, Row, Transaction
from forum.errors import Conflict, Invalid, NotFound, TooLarge
from forum.i18n import N_
from forum.models import existing, follows, notifications, users
from forum.models.users import User

MENTIONS_MAX = Config.mentions_max
TOO_COMPLEX = N_("This text is too complex to be shown: simplify its layout (nested quotes,"
                 " lists, brackets or emphasis) and send it again.")


class Post(NamedTuple):
    """A post as pages and the API show it (a row of SELECT).

    A named tuple rather than a frozen dataclass: a thread page builds fifty per render, and a
    tuple is made several times faster; it is immutable and compared by value the same way.
    """

    id: int
    thread_id: int
    board_id: int
    author_id: int
    author_name: str
    body_source: str
    body_html: str
    status: str
    created_at: str
    edited_at: str | None
    deleted_at: str | None
    thread_locked: bool = False
    hidden: bool = False
    reject_reason: str | None = None
    thread_status: str = "published"
    edit_pending: bool = False  # a public post whose edit waits for a moderator
    board_closed: bool = False  # in a closed board: its members and moderators only

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @classmethod
    def from_row(cls, row: Row) -> Post:
        """A Post from the first columns of a SELECT row, by position (a name lookup in a
        sqlite3.Row scans the columns: seventeen of them cost more than the tuple)."""
        (id_, thread_id, board_id, author_id, author_name, body_source, body_html, status,
         created_at, edited_at, deleted_at, locked, hidden, reject_reason, thread_status,
         edit_pending, board_closed) = row[:17]
        return cls(id_, thread_id, board_id, author_id, author_name, body_source, body_html,
                   status, created_at, edited_at, deleted_at, bool(locked), bool(hidden),
                   reject_reason, thread_status, bool(edit_pending), bool(board_closed))


# What became of a version (post_revisions.state, migration 0009). Only public versions are
# shown to everyone; the others to the post's author and moderators, with their marker.
PUBLIC, PENDING, REFUSED = "public", "pending", "refused"
SUPERSEDED, CORRECTED, PURGED = "superseded", "corrected", "purged"
REVISION_STATES = (PUBLIC, PENDING, REFUSED, SUPERSEDED, CORRECTED, PURGED)


@dataclass(frozen=True)
class Revision:
    id: int
    editor_name: str
    body_source: str
    body_html: str
    created_at: str
    state: str = PUBLIC
    note: str = ""  # a refusal's reason or a moderator's word on a correction: private


SELECT = (
    "select posts.id, posts.thread_id, threads.board_id, posts.author_id,"
    " users.name as author_name, posts.body_source, posts.body_html, posts.status,"
    " posts.created_at, posts.edited_at, posts.deleted_at, threads.locked as thread_locked,"
    " posts.hidden, posts.reject_reason, threads.status as thread_status,"
    " (posts.status = 'published' and exists (select 1 from post_revisions as waiting"
    " where waiting.post_id = posts.id and waiting.state = 'pending')) as edit_pending,"
    f" not {permissions.open_board('threads.board_id')} as board_closed"
    " from posts join threads on threads.id = posts.thread_id"
    " join users on users.id = posts.author_id"
)


@dataclass(frozen=True)
class Cooked:
    html: str
    mentioned: frozenset[int]  # members' ids
    quoted: frozenset[int]  # post ids


async def preview_html(conn: Conn, body: str) -> str:
    """The post as it would be published, @mentions of real members linked (every one: the
    limit is on whom a post notifies, not on what a preview shows)."""
    return (await cook(conn, body, mentions_max=10_000)).html


async def cook(conn: Conn, body: str, mentions_max: int = MENTIONS_MAX) -> Cooked:
    """Markdown -> safe HTML with @mentions of real members linked; what it refers to."""
    # Off the event loop: a hostile body takes the parser and sanitizer 0.3 to 0.8 s.
    try:
        names, quoted = await markdown.in_worker(markdown.references, body)
        found = await users.resolve_names(conn, names) if names else {}
        if len(found) > mentions_max:
            raise Invalid("Too many mentions in one message (at most %(max)s).", field="body",
                          max=mentions_max)
        html = await markdown.in_worker(
            markdown.render, body, {key: name for key, (_id, name) in found.items()})
    except markdown.TooComplex:
        raise Invalid(TOO_COMPLEX, field="body") from None
    return Cooked(html, frozenset(user_id for user_id, _name in found.values()),
                  frozenset(quoted))


async def _store_references(tx: Transaction, post_id: int, author_id: int,
                            cooked: Cooked) -> None:
    """Remember who the post's text mentions and what it quotes; told once it is public.

    Those not told yet come from this text only: a mention dropped from a post before it was
    approved is never sent.
    """
    await tx.execute("delete from post_mentions where post_id = ? and notified = 0", (post_id,))
    await tx.execute("delete from post_quotes where post_id = ? and notified = 0", (post_id,))
    for user_id in cooked.mentioned - {author_id}:
        await tx.execute("insert or ignore into post_mentions (post_id, user_id) values (?, ?)",
                         (post_id, user_id))
    for quoted_id in cooked.quoted - {post_id}:
        await tx.execute(
            "insert or ignore into post_quotes (post_id, quoted_post_id)"
            " select ?, id from posts where id = ?", (post_id, quoted_id))


def check_body(body: str, limit: int) -> None:
    if not body.strip():
        raise Invalid("A message cannot be empty.", field="body")
    if len(body) > limit:
        raise TooLarge("This message is too long (at most %(max)s characters).", field="body",
                       max=limit)


async def get(conn: Conn, post_id: int) -> Post:
    row = await conn.one(f"{SELECT} where posts.id = ?", (post_id,))
    return Post.from_row(existing(row, NotFound("This message does not exist.")))


async def list_for_thread(conn: Conn, thread_id: int, viewer: User | None, page: int,
                          per_page: int) -> list[Post]:
    """One page of the posts this viewer may see, oldest first (index posts_by_thread)."""
    visible, params = permissions.post_filter(viewer, tombstones=True)
    rows = await conn.all(
        f"{SELECT} where posts.thread_id = ? and {visible} order by posts.id limit ? offset ?",
        (thread_id, *params, per_page, (page - 1) * per_page))
    return [Post.from_row(row) for row in rows]


class PostPage(NamedTuple):
    """A page of a thread's posts, with which of them the page must read more about."""

    posts: list[Post]
    with_files: list[int]  # ids of the posts with attached files
    with_sources: list[int]  # ids of the posts that findings were drawn from (or their files)


async def page_for_thread(conn: Conn, thread_id: int, viewer: User | None, page: int,
                          per_page: int) -> PostPage:
    """list_for_thread, and which posts have files or sources: most pages have none, and a
    query saved is worth more than the two index lookups per post that tell (the thread page
    reads their files and findings only for those)."""
    return page_from_rows(await conn.all(*page_query(thread_id, viewer, page, per_page)))


def page_query(thread_id: int, viewer: User | None, page: int,
               per_page: int) -> tuple[str, tuple[Any, ...]]:
    """page_for_thread's statement, to run beside another (threads.with_page)."""
    visible, params = permissions.post_filter(viewer, tombstones=True)
    return (f"{_PAGE_SELECT} where posts.thread_id = ? and {visible} order by posts.id"
            " limit ? offset ?", (thread_id, *params, per_page, (page - 1) * per_page))


def page_from_rows(rows: Sequence[Row]) -> PostPage:
    return PostPage([Post.from_row(row) for row in rows],
                    [row[0] for row in rows if row[17]], [row[0] for row in rows if row[18]])


# SELECT and two columns more: whether the post has files, and whether findings cite it.
_PAGE_SELECT = SELECT.replace(
    " from posts join",
    ", exists (select 1 from post_attachments where post_attachments.post_id = posts.id),"
    " exists (select 1 from finding_sources where finding_sources.post_id = posts.id)"
    " from posts join", 1)


async def count_for_thread(conn: Conn, thread_id: int, viewer: User | None) -> int:
    visible, params = permissions.post_filter(viewer, tombstones=True)
    return int(await conn.value(
        "select count(*) from posts join threads on threads.id = posts.thread_id"
        f" where posts.thread_id = ? and {visible}", (thread_id, *params)))


async def last_visible(conn: Conn, thread_id: int, viewer: User | None) -> int:
    """The id of the thread's last post this viewer may see (0 when none)."""
    visible, params = permissions.post_filter(viewer, tombstones=True)
    return int(await conn.value(
        "select coalesce(max(posts.id), 0) from posts join threads on threads.id = posts.thread_id"
        f" where posts.thread_id = ? and {visible}", (thread_id, *params)))


async def page_of(conn: Conn, post: Post, viewer: User | None, per_page: int) -> int:
    """The page of its thread on which this post stands for this viewer."""
    visible, params = permissions.post_filter(viewer, tombstones=True)
    before = await conn.value(
        "select count(*) from posts join threads on threads.id = posts.thread_id"
        f" where posts.thread_id = ? and posts.id < ? and {visible}",
        (post.thread_id, post.id, *params))
    return int(before) // per_page + 1


async def create(tx: Transaction, thread_id: int, board_id: int, author: User, body: str,
                 body_max: int, at: str | None = None, status: str = "published",
                 mentions_max: int = MENTIONS_MAX) -> int:
    """Add a post and its first revision; counted and announced only once it is published."""
    check_body(body, body_max)
    at = at or clock.now()
    cooked = await cook(tx, body, mentions_max)
    html = cooked.html
    post_id = await tx.insert(
        "insert into posts (thread_id, author_id, body_source, body_html, status, created_at)"
        " values (?, ?, ?, ?, ?, ?) returning id",
        (thread_id, author.id, body, html, status, at))
    await _add_revision(tx, post_id, author.id, body, html, at,
                        PUBLIC if status == "published" else PENDING)
    await _store_references(tx, post_id, author.id, cooked)
    await follows.follow_by_default(tx, author.id, thread_id)
    if status == "published":
        await _count(tx, thread_id, board_id, author.id, +1, at, post_id)
        await notifications.post_published(tx, post_id)
    changed(tx, thread_id, board_id)
    return post_id


async def publish(tx: Transaction, post: Post) -> None:
    """Count a post that just became public (and its thread, when it opens one)."""
    if await is_first_of_thread(tx, post):
        await tx.execute("update threads set status = 'published' where id = ?",
                         (post.thread_id,))
        await tx.execute("update boards set thread_count = thread_count + 1 where id = ?",
                         (post.board_id,))
    await _count(tx, post.thread_id, post.board_id, post.author_id, +1, post.created_at,
                 post.id)
    await notifications.post_published(tx, post.id)
    changed(tx, post.thread_id, post.board_id)


async def count_public(tx: Transaction, post: Post, delta: int) -> None:
    """A published post hidden (-1) or shown again (+1)."""
    await _count(tx, post.thread_id, post.board_id, post.author_id, delta, None, None)
    changed(tx, post.thread_id, post.board_id)


async def _count(tx: Transaction, thread_id: int, board_id: int, author_id: int, delta: int,
                 at: str | None, post_id: int | None) -> None:
    await tx.execute("update threads set post_count = post_count + ? where id = ?",
                     (delta, thread_id))
    await tx.execute("update boards set post_count = post_count + ? where id = ?",
                     (delta, board_id))
    # A member's count is shown on their profile to anyone: posts of closed boards stay out.
    await tx.execute("update users set post_count = post_count + ? where id = ?"
                     f" and {permissions.open_board('?')}", (delta, author_id, board_id))
    if at is not None:
        # An approved post keeps its original time; activity never goes backwards.
        await tx.execute(
            "update threads set last_post_at = ?, last_post_id = ?"
            " where id = ? and last_post_at <= ?", (at, post_id, thread_id, at))
        await tx.execute(
            "update boards set last_post_at = ? where id = ?"
            " and (last_post_at is null or last_post_at <= ?)", (at, board_id, at))


async def is_first_of_thread(conn: Conn, post: Post) -> bool:
    first = await conn.value("select min(id) from posts where thread_id = ?", (post.thread_id,))
    return first == post.id


async def edit(tx: Transaction, post: Post, editor: User, body: str, body_max: int,
               mentions_max: int = MENTIONS_MAX, wait: bool = False, note: str = "") -> bool:
    """A new version of a post's text, kept beside every earlier one; False if it waits.

    `wait`: an edit of a public post that must be approved first (permissions.
    publication_status); the public version stays shown meanwhile. Otherwise the post shows
    the new text at once and members it newly mentions or quotes are told if it is public.
    """
    check_body(body, body_max)
    waiting = await pending_edit(tx, post.id)
    if body == (waiting.body_source if waiting else post.body_source):
        return waiting is None
    at = clock.now()
    cooked = await cook(tx, body, mentions_max)
    await _close_unpublished(tx, post, editor, note)
    if wait and post.status == "published":
        await _add_revision(tx, post.id, editor.id, body, cooked.html, at, PENDING)
        changed(tx, post.thread_id, post.board_id)  # it now shows "edit waiting" to some
        return False
    await _add_revision(tx, post.id, editor.id, body, cooked.html, at,
                        PUBLIC if post.status == "published" else PENDING)
    await _show_version(tx, post, body, cooked, at)
    if post.status == "rejected" and editor.id == post.author_id:
        # A rejected post, corrected by its author, goes back to the moderators.
        await tx.execute("update posts set status = 'pending' where id = ?", (post.id,))
        if await is_first_of_thread(tx, post):
            await tx.execute("update threads set status = 'pending' where id = ?",
                             (post.thread_id,))
    return True


async def _show_version(tx: Transaction, post: Post, body: str, cooked: Cooked,
                        at: str) -> None:
    """Make this text the post's own; mentions and quotes come from it alone."""
    await tx.execute(
        "update posts set body_source = ?, body_html = ?, edited_at = ? where id = ?",
        (body, cooked.html, at, post.id))
    await _store_references(tx, post.id, post.author_id, cooked)
    await notifications.post_published(tx, post.id)  # does nothing unless it is public
    changed(tx, post.thread_id, post.board_id)


async def _close_unpublished(tx: Transaction, post: Post, editor: User, note: str) -> None:
    """A new version replaces the one waiting: superseded by its author, corrected by a
    moderator (with their note). A refused version stays refused."""
    corrected = editor.id != post.author_id
    await tx.execute(
        "update post_revisions set state = ?, note = ? where post_id = ? and state = ?",
        (CORRECTED if corrected else SUPERSEDED, note[:500] if corrected else "", post.id,
         PENDING))


async def _add_revision(tx: Transaction, post_id: int, editor_id: int, body: str, html: str,
                        at: str, state: str) -> None:
    await tx.execute(
        "insert into post_revisions (post_id, editor_id, body_source, body_html, created_at,"
        " state) values (?, ?, ?, ?, ?, ?)", (post_id, editor_id, body, html, at, state))


async def pending_edit(conn: Conn, post_id: int) -> Revision | None:
    """The version of a public post that waits for a moderator (None for a post that waits:
    its text is the post's own)."""
    row = await conn.one(
        f"{_REVISION} where post_id = ? and post_revisions.state = 'pending'"
        " and (select status from posts where posts.id = post_id) = 'published'"
        " order by post_revisions.id desc limit 1", (post_id,))
    return Revision(*row) if row else None


async def publish_edit(tx: Transaction, post: Post) -> Revision:
    """A moderator approves the edit waiting on a public post: it becomes the post's text."""
    waiting = await pending_edit(tx, post.id)
    if waiting is None or post.is_deleted:
        raise Conflict("Another moderator has already decided on this message.")
    await tx.execute("update post_revisions set state = ? where id = ?", (PUBLIC, waiting.id))
    cooked = await cook(tx, waiting.body_source, mentions_max=10_000)
    await _show_version(tx, post, waiting.body_source, cooked, clock.now())
    return waiting


async def refuse_edit(tx: Transaction, post: Post, reason: str) -> Revision:
    """A moderator refuses the edit waiting on a public post: the post keeps its text."""
    waiting = await pending_edit(tx, post.id)
    if waiting is None or post.is_deleted:
        raise Conflict("Another moderator has already decided on this message.")
    await tx.execute("update post_revisions set state = ?, note = ? where id = ?",
                     (REFUSED, reason, waiting.id))
    changed(tx, post.thread_id, post.board_id)  # no edit waits any more
    return waiting


async def decide_versions(tx: Transaction, post_id: int, state: str, note: str = "") -> None:
    """The version waiting with a pending post takes the moderator's decision."""
    await tx.execute("update post_revisions set state = ?, note = ? where post_id = ?"
                     " and state = ?", (state, note, post_id, PENDING))


async def delete(tx: Transaction, post: Post, by: User, reason: str = "") -> None:
    """Leave a tombstone in place; the text stays in the database for moderators.

    Conditional: of two deletions at once (two servers, READ COMMITTED) the second waits for
    the first and finds the post deleted: a Conflict, nothing written twice.
    """
    if not await tx.update(
            "update posts set deleted_at = ?, deleted_by = ?, delete_reason = ?"
            " where id = ? and deleted_at is null",
            (clock.now(), by.id, reason[:500] or None, post.id)):
        raise Conflict("This message is already deleted.")
    changed(tx, post.thread_id, post.board_id)


async def restore(tx: Transaction, post: Post) -> None:
    """Take a tombstone away: the post shows again as it was (once: see delete)."""
    if not await tx.update(
            "update posts set deleted_at = null, deleted_by = null, delete_reason = null"
            " where id = ? and deleted_at is not null", (post.id,)):
        raise Conflict("This message is not deleted.")
    changed(tx, post.thread_id, post.board_id)


_REVISION = (
    "select post_revisions.id, users.name, post_revisions.body_source,"
    " post_revisions.body_html, post_revisions.created_at, post_revisions.state,"
    " post_revisions.note from post_revisions join users on users.id = editor_id"
)


async def revisions(conn: Conn, post_id: int, private: bool = False) -> list[Revision]:
    """A post's versions, oldest first: only the public ones unless `private` (for its
    author and moderators: permissions 'see_private_versions')."""
    only_public = "" if private else " and post_revisions.state = 'public'"
    rows = await conn.all(
        f"{_REVISION} where post_id = ?{only_public} order by post_revisions.id", (post_id,))
    return [Revision(*row) for row in rows]


def version_to_purge(row: Row | None) -> Row:
    """The version a moderator asked to purge (a post's or a finding's, with its `state`):
    404 when it is not one of this target's, 409 when it is purged already."""
    if row is None:
        raise NotFound("This version does not exist.")
    if row["state"] == PURGED:
        raise Conflict("This version is already purged.")
    return row


async def purge_version(tx: Transaction, post: Post, revision_id: int) -> list[str]:
    """Erase a version's text (and any other version holding the same text); returns the
    texts erased, for their copies elsewhere to go too (moderation.purge_post_version).

    A post's current text cannot be purged while the post shows: correct it first (or
    delete the post, whose text then goes too).
    """
    row = version_to_purge(await tx.one("select body_source, note, state from post_revisions"
                                        " where id = ? and post_id = ?", (revision_id, post.id)))
    current = row["body_source"] == post.body_source
    if current and not post.is_deleted:
        raise Conflict("This is the message's current text: correct the message (or delete "
                       "it) first, then purge this version.")
    await tx.execute(
        "update post_revisions set body_source = '', body_html = '', note = '', state = ?"
        " where post_id = ? and (id = ? or body_source = ?)",
        (PURGED, post.id, revision_id, row["body_source"]))
    if current:
        await tx.execute("update posts set body_source = '', body_html = '' where id = ?",
                         (post.id,))
    changed(tx, post.thread_id, post.board_id)
    tx.changed("post", post.id)  # its rendered fragments too (forum/fragments.py)
    return [text for text in (row["body_source"], row["note"]) if text.strip()]


async def rerender_all(tx: Transaction) -> int:
    """Cook every post again (after a change of the Markdown rules); returns the count."""
    rows = await tx.all("select id, body_source from posts")
    for row in rows:
        cooked = await cook(tx, row["body_source"], mentions_max=10_000)
        await tx.execute("update posts set body_html = ? where id = ?", (cooked.html, row["id"]))
    tx.changed("all", None)
    return len(rows)


def changed(tx: Transaction, thread_id: int, board_id: int) -> None:
    """Drop the cached pages that show this thread."""
    tx.changed("thread", thread_id)
    tx.changed("board", board_id)
    tx.changed("boards", None)


@dataclass(frozen=True)
class AuthoredPost:
    id: int
    thread_id: int
    thread_title: str
    body_html: str
    status: str
    created_at: str


# The tabs of a member's profile (issue 16): what each one lists, beside what the viewer may see.
AUTHOR_TABS = {"published": "posts.status = 'published'", "pending": "posts.status = 'pending'",
               "refused": "posts.status = 'rejected'"}


async def list_for_author(conn: Conn, author_id: int, viewer: User | None,
                          limit: int = 20, tab: str = "published") -> list[AuthoredPost]:
    """A member's latest posts of a profile tab that this viewer may see, tombstones left out."""
    visible, params = permissions.post_filter(viewer)
    rows = await conn.all(
        "select posts.id, posts.thread_id, threads.title, posts.body_html, posts.status,"
        " posts.created_at from posts join threads on threads.id = posts.thread_id"
        f" where posts.author_id = ? and {visible} and {AUTHOR_TABS[tab]}"
        " order by posts.id desc limit ?",
        (author_id, *params, limit))
    return [AuthoredPost(*row) for row in rows]


async def count_for_author(conn: Conn, author_id: int, viewer: User | None) -> dict[str, int]:
    """How many of a member's posts each profile tab holds, for this viewer."""
    visible, params = permissions.post_filter(viewer)
    counts = ", ".join(f"count(*) filter (where {condition})"
                       for condition in AUTHOR_TABS.values())
    row = await conn.one(
        f"select {counts} from posts join threads on threads.id = posts.thread_id"
        f" where posts.author_id = ? and {visible}", (author_id, *params))
    return dict(zip(AUTHOR_TABS, row or (0, 0, 0), strict=True))
