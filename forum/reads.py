"""Unread tracking with no write on the read path (issue 16).

A thread page shown to a member notes, in this process's memory (ReadLog), the last post it
showed them; the maintenance task writes those notes in batches through the one writer
(app.flush_views, with the page views), each process its own, with max() so that no mark ever
goes back. A note stays in memory until its batch is committed, so that what a reader sees
never steps back while it is written. Until then another worker process does not know it:
there, for at most Config.view_flush_seconds, the thread still shows as unread.

What is new to a member is per reader, and their pages are kept for their whole class
(forum/fragments.py: ReaderPage): the counts and the marker are bits of the reader's, filled in
per request from one query for all the page's items (models/reads.py: count_new), kept with
their session until the next write (or the next read note: the floors are in the memo key).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from forum import keys
from forum.models import reads
from forum.models.reads import Unread
from forum.models.users import User


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


def _memo(request: web.Request) -> dict[object, Any]:
    known = request.get(keys.KNOWN_SESSION)
    return known.memo if known is not None else {}


async def unread(request: web.Request, user: User,
                 thread_ids: Iterable[int]) -> dict[int, Unread]:
    """What is new to this member in each thread: at most two queries, none while their
    session is kept and they read nothing (forum/auth.py: SessionCache)."""
    ids = tuple(thread_ids)
    if not ids:
        return {}
    memo = _memo(request)
    pending = request.app[keys.READS].of(user.id)
    stored = memo.get(("read_floors", ids))
    counted = None
    if stored is not None:
        floors = _floors(ids, stored, pending)
        counted = memo.get(("unread", tuple(floors.items())))
    if counted is None:
        async with request.app[keys.DB].read() as conn:
            if stored is None:
                stored = await reads.stored_floors(conn, user.id, ids)
                memo[("read_floors", ids)] = stored
            floors = _floors(ids, stored, pending)
            counted = await reads.count_new(conn, user, floors)
            memo[("unread", tuple(floors.items()))] = counted
    floors_read: dict[int, tuple[int, bool]] = stored or {}  # (read or memoised above)
    found: dict[int, tuple[int, int | None]] = counted
    return {thread_id: Unread(found[thread_id][0], found[thread_id][1],
                              floors_read.get(thread_id, (0, False))[1] or thread_id in pending)
            for thread_id in ids}


def _floors(ids: tuple[int, ...], stored: dict[int, tuple[int, bool]],
            pending: dict[int, int]) -> dict[int, int]:
    return {thread_id: max(stored.get(thread_id, (0, False))[0], pending.get(thread_id, 0))
            for thread_id in ids}


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
