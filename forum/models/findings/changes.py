"""Writing findings: a new one, a correction (every version kept), and what each write
tells followers and drops from the caches."""
from __future__ import annotations

from forum import clock, permissions
from forum.db import Transaction
from forum.models import moderation
from forum.models.boards import Board
from forum.models.findings.reads import pending_edit
from forum.models.findings.records import Draft, Finding, Source
from forum.models.posts import CORRECTED, PENDING, PUBLIC, SUPERSEDED
from forum.models.users import User


async def create(tx: Transaction, board: Board, author: User, draft: Draft,
                 review: str = "published", at: str | None = None) -> int:
    """Store a finding, its sources and its first version; public at once or pending."""
    at = at or clock.now()
    finding_id = await tx.insert(
        "insert into findings (board_id, kind_id, quantity, unit, scope, observed, status,"
        " place, latitude, longitude, note, author_id, review, created_at, published_at)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
        (board.id, draft.kind_id, draft.quantity, draft.unit, draft.scope, draft.observed,
         draft.status, draft.place, draft.latitude, draft.longitude, draft.note, author.id,
         review, at,
         at if review == "published" else None))
    await _store_sources(tx, finding_id, draft.sources)
    await _add_revision(tx, finding_id, author, draft, "", at,
                        PUBLIC if review == "published" else PENDING)
    if review == "published":
        await tell_followers(tx, finding_id, board.id, author.id)
    await changed(tx, finding_id, board.id)
    return finding_id


async def edit(tx: Transaction, finding: Finding, editor: User, draft: Draft,
               reason: str, wait: bool = False) -> bool:
    """Correct a finding; the new version is kept beside every earlier one, with its reason.

    `wait`: a correction of a public finding that must be approved first (where a new
    finding would wait); the public version stays shown meanwhile, and False is returned.
    A refused finding corrected by its author goes back to the moderators.
    """
    reason = moderation.clean_reason(reason)
    at = clock.now()
    # A moderator's reason for correcting what was never public speaks of it: it stays with
    # the version corrected (its note) and out of the public journal.
    private = editor.id != finding.author_id and (
        finding.review != "published" or await pending_edit(tx, finding.id) is not None)
    await _close_unpublished(tx, finding, editor, reason)
    if wait and finding.review == "published":
        await _add_revision(tx, finding.id, editor, draft, reason, at, PENDING)
        await changed(tx, finding.id, finding.board_id)  # a correction now waits
        return False
    await _add_revision(tx, finding.id, editor, draft, "" if private else reason, at,
                        PUBLIC if finding.review == "published" else PENDING)
    await apply_draft(tx, finding, draft, at)
    if finding.review == "rejected" and editor.id == finding.author_id:
        await tx.execute("update findings set review = 'pending' where id = ?", (finding.id,))
    if editor.id != finding.author_id:
        await moderation.log(tx, editor, "edit", "finding", finding.id, finding.board_id, reason,
                             private)
    return True


async def apply_draft(tx: Transaction, finding: Finding, draft: Draft, at: str) -> None:
    """Make these fields and sources the finding's own."""
    await changed(tx, finding.id, finding.board_id)  # the threads of the old sources too
    await tx.execute(
        "update findings set kind_id = ?, quantity = ?, unit = ?, scope = ?, observed = ?,"
        " status = ?, place = ?, latitude = ?, longitude = ?, note = ?, edited_at = ?"
        " where id = ?",
        (draft.kind_id, draft.quantity, draft.unit, draft.scope, draft.observed, draft.status,
         draft.place, draft.latitude, draft.longitude, draft.note, at, finding.id))
    await tx.execute("delete from finding_sources where finding_id = ?", (finding.id,))
    await _store_sources(tx, finding.id, draft.sources)
    await changed(tx, finding.id, finding.board_id)


async def _close_unpublished(tx: Transaction, finding: Finding, editor: User,
                             note: str) -> None:
    """A new version replaces the one waiting: superseded by its author, corrected by a
    moderator (their reason kept as its note). A refused version stays refused."""
    corrected = editor.id != finding.author_id
    await tx.execute(
        "update finding_revisions set state = ?, note = ? where finding_id = ? and state = ?",
        (CORRECTED if corrected else SUPERSEDED, note if corrected else "", finding.id,
         PENDING))


async def changed(tx: Transaction, finding_id: int, board_id: int) -> None:
    """Drop the cached pages that show this finding: its city, the national page, its sources."""
    tx.changed("watch", board_id)
    tx.changed("watch", None)
    tx.changed("finding", finding_id)
    rows = await tx.all(
        "select distinct posts.thread_id from finding_sources join posts"
        " on posts.id = finding_sources.post_id where finding_id = ?", (finding_id,))
    for row in rows:
        tx.changed("thread", row[0])


async def _store_sources(tx: Transaction, finding_id: int, sources: tuple[Source, ...]) -> None:
    for position, source in enumerate(sources):
        await tx.execute(
            "insert into finding_sources (finding_id, position, kind, post_id, upload_id, url,"
            " label) values (?, ?, ?, ?, ?, ?, ?)",
            (finding_id, position, source.kind, source.post_id, source.upload_id, source.url,
             source.label))


async def _add_revision(tx: Transaction, finding_id: int, editor: User, draft: Draft,
                        reason: str, at: str, state: str) -> None:
    await tx.execute(
        "insert into finding_revisions (finding_id, editor_id, data, reason, created_at, state)"
        " values (?, ?, ?, ?, ?, ?)",
        (finding_id, editor.id, draft.as_json(), reason, at, state))


async def tell_followers(tx: Transaction, finding_id: int, board_id: int,
                          author_id: int) -> int:
    """Members who follow the city hear of a finding once it is public (never before)."""
    return await tx.update(
        "insert into notifications (user_id, kind, finding_id, actor_id, created_at)"
        " select user_id, 'new_finding', ?, ?, ? from follows where target_kind = 'board'"
        " and target_id = ? and mode = 'follow' and user_id <> ?"
        # A closed city: its group only (the id is an integer from the database).
        f" and {permissions.member_reads_board('follows.user_id', str(int(board_id)))}",
        (finding_id, author_id, clock.now(), board_id, author_id))
