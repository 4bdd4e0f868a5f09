"""What members are told: replies, mentions, moderation decisions and sanctions about them."""
from __future__ import annotations

from dataclasses import dataclass, replace

from forum import clock, permissions
from forum.db import Conn, Row, Transaction

PAGE_SIZE = 50
# A notification about a records request: shown while the request is public, or to its author.
REQUEST_TOLD = (f"records_requests.id is null or {permissions.public_request()}"
                " or records_requests.author_id = notifications.user_id")


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
    finding_id: int | None = None
    finding_city: str | None = None  # the name of the finding's board
    count: int = 1  # grouped: this many of the same kind about the same thread
    request_id: int | None = None  # a records request (models/requests.py)
    request_city: str | None = None


# Kinds about the member's own posts, findings or account: shown even if no longer public.
PERSONAL = ("approved", "rejected", "deleted", "warn", "suspend", "ban", "lift",
            "finding_approved", "finding_rejected", "finding_deleted",
            "request_approved", "request_rejected")
GROUPED = ("reply", "new_thread")
# The columns of list_for_user's query that make a Notification, by name.
_COLUMNS = ("id", "kind", "post_id", "thread_id", "thread_title", "actor_name", "text",
            "created_at", "read_at", "finding_id", "finding_city", "request_id", "request_city")


async def list_for_user(conn: Conn, user_id: int, limit: int = PAGE_SIZE) -> list[Notification]:
    """Newest first; replies about one thread grouped; nothing about a post or a finding no
    longer public (but what concerns the member themself)."""
    rows = await conn.all(
        "select notifications.id, notifications.kind, notifications.post_id,"
        " notifications.thread_id, threads.title as thread_title, users.name as actor_name,"
        " notifications.text, notifications.created_at, notifications.read_at,"
        " notifications.finding_id, finding_boards.name as finding_city,"
        " notifications.request_id, request_boards.name as request_city,"
        # Public by its state, in a board this member reads (a closed board's group only).
        f" case when (posts.id is null or ({permissions.indexed_post()} and"
        f" {permissions.member_reads_board('notifications.user_id', 'threads.board_id')}))"
        f" and (findings.id is null or ({permissions.published_finding()} and"
        f" {permissions.member_reads_board('notifications.user_id', 'findings.board_id')}))"
        f" and ({REQUEST_TOLD})"
        " then 1 else 0 end as visible"
        " from notifications left join posts on posts.id = notifications.post_id"
        " left join threads on threads.id = notifications.thread_id"
        " left join users on users.id = notifications.actor_id"
        " left join findings on findings.id = notifications.finding_id"
        " left join boards as finding_boards on finding_boards.id = findings.board_id"
        " left join records_requests on records_requests.id = notifications.request_id"
        " left join boards as request_boards on request_boards.id = records_requests.board_id"
        " where notifications.user_id = ? order by notifications.id desc limit ?",
        (user_id, limit * 4))
    items: list[Notification] = []
    groups: dict[tuple[str, int | None, bool], int] = {}
    for row in rows:
        if not row["visible"] and row["kind"] not in PERSONAL:
            continue
        key = (row["kind"], row["thread_id"], row["read_at"] is None)
        if row["kind"] in GROUPED and key in groups:
            index = groups[key]
            # The group links to the oldest of its posts: where the member should start reading.
            items[index] = replace(items[index], id=row["id"], post_id=row["post_id"],
                                   count=items[index].count + 1)
            continue
        if row["kind"] in GROUPED:
            groups[key] = len(items)
        items.append(Notification(**{name: row[name] for name in _COLUMNS}))
        if len(items) >= limit:
            break
    return items


async def add(tx: Transaction, user_id: int, kind: str, post_id: int | None = None,
              thread_id: int | None = None, actor_id: int | None = None,
              text: str = "", finding_id: int | None = None,
              request_id: int | None = None) -> None:
    await tx.execute(
        "insert into notifications (user_id, kind, post_id, thread_id, actor_id, text,"
        " finding_id, request_id, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, kind, post_id, thread_id, actor_id, text, finding_id, request_id,
         clock.now()))


async def count_unread(conn: Conn, user_id: int) -> int:
    return int(await conn.value(
        "select count(*) from notifications where user_id = ? and read_at is null", (user_id,)))


async def mark_all_read(tx: Transaction, user_id: int) -> None:
    await tx.execute("update notifications set read_at = ? where user_id = ? and read_at is null",
                     (clock.now(), user_id))


# Fan-out when a post becomes public. -----------------------------------------------------------


async def post_published(tx: Transaction, post_id: int) -> int:
    """Tell quoted authors, mentioned members and followers, each once; returns how many.

    Called when a post becomes public (at once, or on approval) and after an edit of a public
    post (only mentions and quotes it newly holds are then told). Never for a pending or
    rejected post: nothing about it may reach anyone before it is public.
    """
    post = await tx.one(
        "select posts.id, posts.author_id, posts.thread_id, threads.board_id,"
        " posts.followers_notified, (select min(id) from posts as p"
        " where p.thread_id = posts.thread_id) = posts.id as opens_thread"
        f" from posts join threads on threads.id = posts.thread_id"
        f" where posts.id = ? and {permissions.indexed_post()}", (post_id,))
    if post is None:
        return 0
    at = clock.now()
    common = (post["id"], post["thread_id"], post["author_id"], at)
    told = await tx.update(
        "insert into notifications (user_id, kind, post_id, thread_id, actor_id, created_at)"
        # cast: with distinct, PostgreSQL would type the parameters as text.
        " select distinct quoted.author_id, 'quote', cast(? as integer), cast(? as integer),"
        " cast(? as integer), cast(? as text) from post_quotes"
        " join posts as quoted on quoted.id = post_quotes.quoted_post_id"
        " join threads on threads.id = quoted.thread_id"
        " where post_quotes.post_id = ? and post_quotes.notified = 0"
        f" and quoted.author_id <> ? and {permissions.indexed_post('quoted', 'threads')}"
        f" and {_reads('quoted.author_id', post['board_id'])}",
        (*common, post_id, post["author_id"]))
    await tx.execute("update post_quotes set notified = 1 where post_id = ?", (post_id,))
    told += await tx.update(
        "insert into notifications (user_id, kind, post_id, thread_id, actor_id, created_at)"
        " select user_id, 'mention', ?, ?, ?, ? from post_mentions"
        " where post_id = ? and notified = 0 and user_id <> ?"
        f" and {_NOT_YET_TOLD} and {_reads('post_mentions.user_id', post['board_id'])}",
        (*common, post_id, post["author_id"], post_id))
    await tx.execute("update post_mentions set notified = 1 where post_id = ?", (post_id,))
    if not post["followers_notified"]:
        told += await _tell_followers(tx, post, common)
    return told


def _reads(user: str, board_id: int) -> str:
    """SQL: the member in `user` reads this board (in a closed board, only its group is told).
    The id is an integer from the database, written in the SQL."""
    return permissions.member_reads_board(user, str(int(board_id)))


# A member told once about a post, whatever the reason (a quote beats a mention beats a follow).
_NOT_YET_TOLD = ("user_id not in (select user_id from notifications as n"
                 " where n.post_id = ? and n.kind in ('quote', 'mention'))")


async def _tell_followers(tx: Transaction, post: Row, common: tuple[object, ...]) -> int:
    if post["opens_thread"]:
        kind, target_kind, target_id = "new_thread", "board", post["board_id"]
    else:
        kind, target_kind, target_id = "reply", "thread", post["thread_id"]
    told = await tx.update(
        "insert into notifications (user_id, kind, post_id, thread_id, actor_id, created_at)"
        f" select user_id, '{kind}', ?, ?, ?, ? from follows"
        " where target_kind = ? and target_id = ? and mode = 'follow' and user_id <> ?"
        f" and {_NOT_YET_TOLD}"
        " and user_id not in (select user_id from follows as m where m.target_kind = 'thread'"
        " and m.target_id = ? and m.mode = 'mute')"
        f" and {_reads('follows.user_id', post['board_id'])}",
        (*common, target_kind, target_id, post["author_id"], post["id"], post["thread_id"]))
    await tx.execute("update posts set followers_notified = 1 where id = ?", (post["id"],))
    return told


async def mark_read(tx: Transaction, user_id: int, notification_id: int) -> bool:
    """Mark one of this member's notifications (and its group, same thread and kind) read."""
    row = await tx.one("select kind, thread_id from notifications where id = ? and user_id = ?",
                       (notification_id, user_id))
    if row is None:
        return False
    await tx.execute(
        "update notifications set read_at = ? where user_id = ? and read_at is null and"
        " (id = ? or (kind = ? and thread_id is ? and kind in ('reply', 'new_thread')))",
        (clock.now(), user_id, notification_id, row["kind"], row["thread_id"]))
    return True
