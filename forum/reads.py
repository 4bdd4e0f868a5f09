"""Unread tracking with no write on the read path (issue 16).

A thread page shown to a member notes, in this process's memory (ReadLog), the last post it
showed them; the maintenance task writes those notes in batches through the one writer
(app.flush_views, with the page views), each process its own, with max() so that no mark ever
goes back. A note stays in memory until its batch is committed, so that what a reader sees
never steps back while it is written. Until then another worker process does not know it:
there, for at most Config.view_flush_seconds, the thread still shows as unread.

What is new to a member is per reader, and their pages are kept for their whole class
(forum/fragments.py: ReaderPage): the counts and the marker are bits of the reader's, filled in
per request from at most two queries for all the page's items (models/reads.py: stored_floors,
count_new). Their results are kept per member and thread (KeptUnread) across the writes that
do not change them, as the follow states are: a member reading while others write elsewhere
asks nothing again. The home page's counts per board, which any post anywhere changes, are kept
with the session instead (dropped at every write).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from forum import keys
from forum.cache import ALL, Tag, TaggedLRU
from forum.models import reads
from forum.models.reads import Unread
from forum.models.users import User

# Entries of each of KeptUnread's two tables: a (member, thread) pair each, a few dozen bytes.
KEPT_UNREAD_ENTRIES = 50_000


class ReadLog:
    """Reads not written yet: member -> thread -> the last post id shown to them."""

    def __init__(self) -> None:
        self._members: dict[int, dict[int, int]] = {}

    def __len__(self) -> int:
        return sum(len(threads) for threads in self._members.values())

    def seen(self, user_id: int, thread_id: int, post_id: int) -> None:
        threads = self._members.setdefault(user_id, {})
        if post_id > threads.get(thread_id, 0):
            threads[thread_id] = post_id

    def of(self, user_id: int) -> dict[int, int]:
        """This member's reads not written yet (not to be changed)."""
        return self._members.get(user_id, {})

    def batch(self) -> dict[tuple[int, int], int]:
        """Every read not written yet, to be written (then forgotten: forget())."""
        return {(user_id, thread_id): post_id for user_id, threads in self._members.items()
                for thread_id, post_id in threads.items()}

    def forget(self, batch: dict[tuple[int, int], int]) -> None:
        """Drop the reads a committed batch wrote, unless a later read moved them since."""
        for (user_id, thread_id), post_id in batch.items():
            threads = self._members.get(user_id)
            if threads is not None and threads.get(thread_id) == post_id:
                del threads[thread_id]
                if not threads:
                    del self._members[user_id]


class KeptUnread:
    """What unread tracking read from the database, per member and thread, kept until a write
    changes it (exact, like fragments.FragmentCache.follow_states):

      floors  (member, thread) -> (stored floor, opened): thread_reads and board_reads, which
              only models/reads.py writes, each write tagged ("reads", member); and the thread's
              board (a move), tagged ("thread", id) with every change to the thread.
      counts  (what the member may see, thread, floor) -> (new posts, the first): the posts of
              the thread above the floor that the member may see, changed only by a write to
              the thread, which is tagged ("thread", id) as for its pages. The member's part of
              the key holds everything permissions.post_filter reads of them (their id, role,
              boards, when they joined): a role or group change gives another key.
    The floor in use is the stored one or, if higher, the one noted in memory and not written
    yet (ReadLog): it is part of the counts' key, so noting a read needs no invalidation. Other
    processes' writes come with the same tags (db.catch_up)."""

    def __init__(self, max_entries: int = KEPT_UNREAD_ENTRIES) -> None:
        self.floors = TaggedLRU(max_entries)
        self.counts = TaggedLRU(max_entries)

    def invalidate(self, tags: set[Tag]) -> None:
        """After a commit (db.after_commit): drop what it changed."""
        if ALL in tags:
            self.floors.reset()
            self.counts.reset()
            return
        threads = [tag for tag in tags if tag[0] == "thread"]
        self.floors.forget([*threads, *(tag for tag in tags if tag[0] == "reads")])
        self.counts.forget(threads)


def _view(user: User) -> tuple[object, ...]:
    """All that a count reads of the member (models/reads.py: permissions.post_filter)."""
    return (user.id, user.created_at, user.role, user.is_banned, user.moderated_boards,
            user.member_boards)


Floor = tuple[int, bool]  # the stored floor, and whether the member opened the thread
Count = tuple[int, int | None]  # posts new to the member, and the first of them


async def unread(request: web.Request, user: User,
                 thread_ids: Iterable[int]) -> dict[int, Unread]:
    """What is new to this member in each thread: no query for the threads whose floor and
    count no write changed since they were last asked (KeptUnread), else at most two."""
    ids = tuple(thread_ids)
    if not ids:
        return {}
    kept = request.app[keys.UNREAD]
    floors: dict[int, Floor] = {}
    for thread_id in ids:
        floor = kept.floors.get((user.id, thread_id))
        if floor is not None:
            floors[thread_id] = floor
    # Epochs before reading: a write committed meanwhile keeps what was read out of the tables.
    floors_epoch, counts_epoch = kept.floors.epoch, kept.counts.epoch
    if len(floors) < len(ids):
        unknown = [thread_id for thread_id in ids if thread_id not in floors]
        async with request.app[keys.DB].read() as conn:
            found = await reads.stored_floors(conn, user.id, unknown)
        for thread_id in unknown:
            floors[thread_id] = found.get(thread_id, (0, False))
            kept.floors.put((user.id, thread_id), floors[thread_id],
                            {("reads", user.id), ("thread", thread_id)}, floors_epoch)
    pending = request.app[keys.READS].of(user.id)
    above = {thread_id: max(floor, pending.get(thread_id, 0))
             for thread_id, (floor, _opened) in floors.items()}
    view = _view(user)
    counts: dict[int, Count] = {}
    for thread_id, floor in above.items():
        count = kept.counts.get((view, thread_id, floor))
        if count is not None:
            counts[thread_id] = count
    if len(counts) < len(ids):
        missing = {thread_id: floor for thread_id, floor in above.items()
                   if thread_id not in counts}
        async with request.app[keys.DB].read() as conn:
            found_counts = await reads.count_new(conn, user, missing)
        for thread_id, count in found_counts.items():
            counts[thread_id] = count
            kept.counts.put((view, thread_id, missing[thread_id]), count,
                            {("thread", thread_id)}, counts_epoch)
    return {thread_id: Unread(*counts[thread_id], floors[thread_id][1] or thread_id in pending)
            for thread_id in ids}


def _memo(request: web.Request) -> dict[object, Any]:
    known = request.get(keys.KNOWN_SESSION)
    return known.memo if known is not None else {}


async def boards_with_news(request: web.Request, user: User) -> dict[int, int]:
    """Per board: how many of its threads have posts new to this member (the home page), among
    the most recently active (models/reads.py: ACTIVE_MAX)."""
    memo = _memo(request)
    pending = request.app[keys.READS].of(user.id)
    active = memo.get("active_threads")
    found = None
    if active is not None:
        floors = _active_floors(active, pending)
        found = memo.get(("news", tuple(floors.items())))
    if found is None:
        async with request.app[keys.DB].read() as conn:
            if active is None:
                active = memo["active_threads"] = await reads.active_threads(conn, user)
            floors = _active_floors(active, pending)
            found = await reads.with_news(conn, user, floors)
            memo[("news", tuple(floors.items()))] = found
    listed: dict[int, tuple[int, int, bool]] = active or {}  # (read or memoised above)
    news: dict[int, int] = {}
    for thread_id in found:
        board_id = listed[thread_id][0]
        news[board_id] = news.get(board_id, 0) + 1
    return news


def _active_floors(active: dict[int, tuple[int, int, bool]],
                   pending: dict[int, int]) -> dict[int, int]:
    return {thread_id: max(floor, pending.get(thread_id, 0))
            for thread_id, (_board, floor, _opened) in active.items()}
