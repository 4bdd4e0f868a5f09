"""Reading findings: one, a filtered list, a member's, a post's, a moderator's queue, and the
versions of one; who may see which is decided by permissions.finding_filter."""
from __future__ import annotations

import json

from forum import permissions
from forum.db import Conn, Row
from forum.errors import NotFound
from forum.models import existing
from forum.models.findings.filters import Filters
from forum.models.findings.records import _COLUMNS, _FROM, SELECT, Finding, Revision, Source
from forum.models.users import User
from forum.permissions import PUBLIC_FINDING, READABLE_POST

SLICE = 500  # findings whose sources one query reads


async def get(conn: Conn, finding_id: int) -> Finding:
    row = existing(await conn.one(f"{SELECT} where findings.id = ?", (finding_id,)),
                   NotFound("This finding does not exist."))
    sources = await sources_of(conn, [finding_id])
    return Finding.from_row(row, tuple(sources.get(finding_id, ())))


async def sources_of(conn: Conn, finding_ids: list[int]) -> dict[int, list[Source]]:
    """The sources of these findings, in order, with what a page shows of each."""
    found: dict[int, list[Source]] = {}
    # In slices: SQLite bounds the number of parameters of one statement (32 766).
    for start in range(0, len(finding_ids), SLICE):
        await _sources_of(conn, finding_ids[start:start + SLICE], found)
    return found


async def _sources_of(conn: Conn, finding_ids: list[int],
                      found: dict[int, list[Source]]) -> None:
    marks = ", ".join("?" * len(finding_ids))
    rows = await conn.all(
        "select finding_sources.finding_id, finding_sources.kind, finding_sources.post_id,"
        " finding_sources.upload_id, finding_sources.url, finding_sources.label,"
        " posts.thread_id, threads.title, uploads.filename,"
        # A file source is public while it is still attached to its public post.
        f" case when posts.id is null or (({READABLE_POST}) and (finding_sources.upload_id"
        " is null or exists (select 1 from post_attachments where post_attachments.upload_id"
        " = finding_sources.upload_id and post_attachments.post_id = posts.id)))"
        " then 1 else 0 end as public"
        " from finding_sources left join posts on posts.id = finding_sources.post_id"
        " left join threads on threads.id = posts.thread_id"
        " left join uploads on uploads.id = finding_sources.upload_id"
        f" where finding_sources.finding_id in ({marks})"
        " order by finding_sources.finding_id, finding_sources.position", finding_ids)
    for row in rows:
        # (mypy cannot count a row's slice, so it fears it fills `public` too.)
        found.setdefault(row[0], []).append(
            Source(*tuple(row)[1:9], public=bool(row[9])))  # type: ignore[misc]


async def from_rows(conn: Conn, rows: list[Row], read: bool = True) -> list[Finding]:
    """Findings from rows of SELECT, with their sources unless `read` is false."""
    sources = await sources_of(conn, [row["id"] for row in rows]) if read else {}
    return [Finding.from_row(row, tuple(sources.get(row["id"], ()))) for row in rows]


async def search(conn: Conn, viewer: User | None, filters: Filters, limit: int = 500,
                 offset: int = 0, with_sources: bool = True) -> list[Finding]:
    """The findings this viewer may see that match, by city, kind, then date."""
    visible, params = permissions.finding_filter(viewer)
    where, filter_params = filters.sql()
    rows = await conn.all(
        f"{SELECT} where {visible} and {where}"
        " order by boards.name, finding_kinds.position, observed, findings.id limit ? offset ?",
        (*params, *filter_params, limit, offset))
    return await from_rows(conn, rows, with_sources)


async def unpublished_authors(conn: Conn, board_id: int) -> frozenset[int]:
    """The authors of this city's findings that are not public: the members who see more of
    it than their class does (views/watch.py: their own city page)."""
    rows = await conn.all("select distinct author_id from findings where board_id = ?"
                          f" and not {PUBLIC_FINDING}", (board_id,))
    return frozenset(row[0] for row in rows)


async def by_author(conn: Conn, author_id: int, viewer: User | None,
                    limit: int = 20) -> list[Finding]:
    """A member's latest findings that this viewer may see, newest first (their profile)."""
    visible, params = permissions.finding_filter(viewer)
    rows = await conn.all(
        f"{SELECT} where findings.author_id = ? and {visible} order by findings.id desc limit ?",
        (author_id, *params, limit))
    return await from_rows(conn, rows, read=False)


async def count(conn: Conn, viewer: User | None, filters: Filters) -> int:
    visible, params = permissions.finding_filter(viewer)
    where, filter_params = filters.sql()
    return int(await conn.value(
        f"select count(*) from findings where {visible} and {where}",
        (*params, *filter_params)))


async def recently_published(conn: Conn, limit: int = 50,
                             board_id: int | None = None) -> list[Finding]:
    """Public findings, the last published first: the Atom feed."""
    extra, params = ("and findings.board_id = ?", (board_id,)) if board_id else ("", ())
    rows = await conn.all(
        f"{SELECT} where {PUBLIC_FINDING} {extra}"
        " order by published_at desc, findings.id desc limit ?", (*params, limit))
    return await from_rows(conn, rows)


async def for_posts(conn: Conn, post_ids: list[int],
                    viewer: User | None) -> dict[int, list[Finding]]:
    """The findings drawn from each of these posts (or their files) that this viewer may see."""
    if not post_ids:
        return {}
    visible, params = permissions.finding_filter(viewer)
    marks = ", ".join("?" * len(post_ids))
    rows = await conn.all(
        f"select distinct {_COLUMNS}, finding_sources.post_id as source_post{_FROM}"
        " join finding_sources on finding_sources.finding_id = findings.id"
        f" where finding_sources.post_id in ({marks}) and {visible}"
        " order by finding_sources.post_id, findings.observed", (*post_ids, *params))
    found: dict[int, list[Finding]] = {}
    for row in rows:
        found.setdefault(row["source_post"], []).append(Finding.from_row(row))
    return found


async def pending(conn: Conn, moderator: User, board_id: int | None = None,
                  limit: int = 50) -> list[Finding]:
    """Findings waiting for this moderator's decision, oldest first."""
    waiting, params = permissions.finding_queue_filter(moderator)
    extra, extra_params = ("and findings.board_id = ?", (board_id,)) if board_id else ("", ())
    rows = await conn.all(
        f"{SELECT} where {waiting} {extra}"
        " order by findings.id limit ?", (*params, *extra_params, limit))
    return await from_rows(conn, rows)


_REVISION = (
    "select finding_revisions.id, users.name, data, reason, finding_revisions.created_at,"
    " finding_revisions.state, finding_revisions.note"
    " from finding_revisions join users on users.id = editor_id"
)


def _revision(row: Row) -> Revision:
    return Revision(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6])


async def revisions(conn: Conn, finding_id: int, private: bool = False) -> list[Revision]:
    """A finding's versions, oldest first: only the public ones unless `private` (for its
    author and moderators: permissions 'see_private_versions')."""
    only_public = "" if private else " and finding_revisions.state = 'public'"
    rows = await conn.all(
        f"{_REVISION} where finding_id = ?{only_public} order by finding_revisions.id",
        (finding_id,))
    return [_revision(row) for row in rows]


async def pending_edit(conn: Conn, finding_id: int) -> Revision | None:
    """The correction of a public finding that waits for a moderator, if any."""
    row = await conn.one(
        f"{_REVISION} where finding_id = ? and finding_revisions.state = 'pending'"
        " and (select review from findings where findings.id = finding_id) = 'published'"
        " order by finding_revisions.id desc limit 1", (finding_id,))
    return _revision(row) if row else None


async def pending_edits(conn: Conn, moderator: User, board_id: int | None = None,
                        limit: int = 50) -> list[tuple[Finding, Revision]]:
    """Public findings whose correction waits for this moderator, oldest first."""
    waiting, params = permissions.finding_correction_queue_filter(moderator)
    extra, extra_params = ("and findings.board_id = ?", (board_id,)) if board_id else ("", ())
    rows = await conn.all(
        f"{SELECT} where {waiting} {extra} order by findings.id limit ?",
        (*params, *extra_params, limit))
    found = []
    for finding in await from_rows(conn, rows):
        edit = await pending_edit(conn, finding.id)
        if edit is not None:
            found.append((finding, edit))
    return found
