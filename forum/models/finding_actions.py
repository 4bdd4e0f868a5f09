"""What a member or moderator does to an existing finding — correct it, withdraw it, approve,
refuse or restore it, purge a version — with the checks the pages and the API share: one
implementation of each action, taking the transaction it runs in."""
from __future__ import annotations

from datetime import date

from forum.db import Conn, Transaction
from forum.errors import Forbidden, NotFound
from forum.models import boards, finding_drafts, findings
from forum.models.findings import Finding
from forum.models.users import User
from forum.permissions import can, publication_status


async def visible(conn: Conn, finding_id: int, viewer: User | None) -> Finding:
    """The finding as it is now; 404 for whoever may not see it."""
    finding = await findings.get(conn, finding_id)
    if not can(viewer, "see_finding", finding):
        raise NotFound()
    return finding


async def correct(tx: Transaction, finding_id: int, editor: User,
                  raw: finding_drafts.RawFinding, reason: str, trust_threshold: int) -> bool:
    """A new version of a finding, with its reason; where a new finding would wait, the
    correction of a public one waits too (False: it waits)."""
    finding = await visible(tx, finding_id, editor)
    if not can(editor, "edit_finding", finding):
        raise Forbidden("You may not correct this finding.")
    board = await boards.get(tx, finding.board_id)
    wait = publication_status(editor, board.id, board.moderation_mode,
                              trust_threshold) == "pending"
    draft = await finding_drafts.check(tx, board, raw, date.today())
    return await findings.edit(tx, finding, editor, draft, reason, wait=wait)


async def withdraw(tx: Transaction, finding_id: int, by: User, reason: str) -> Finding:
    """Leave a tombstone (a moderator withdrawing another's finding gives a reason)."""
    finding = await visible(tx, finding_id, by)
    if not can(by, "delete_finding", finding):
        raise Forbidden("You may not delete this finding.")
    await findings.delete(tx, finding, by, reason)
    return finding


async def to_moderate(conn: Conn, finding_id: int, moderator: User) -> Finding:
    """The finding as it is now, if this moderator may decide on it (404 if they may not
    see it, 403 if it is not of their city)."""
    finding = await visible(conn, finding_id, moderator)
    if not can(moderator, "moderate", finding):
        raise Forbidden("You do not moderate this board.")
    return finding


async def restore(tx: Transaction, finding_id: int, moderator: User, reason: str) -> None:
    """A withdrawn finding back (409 if it is not withdrawn)."""
    await findings.restore(tx, await to_moderate(tx, finding_id, moderator), moderator, reason)


async def approve(tx: Transaction, finding_id: int, moderator: User, confirmed: bool) -> None:
    """Publish a pending finding or the correction waiting on it (409 when already decided;
    422 for a doubtful total not `confirmed`)."""
    await findings.approve(tx, await to_moderate(tx, finding_id, moderator), moderator,
                           confirmed=confirmed)


async def reject(tx: Transaction, finding_id: int, moderator: User, reason: str,
                 private: bool) -> None:
    """Refuse a pending finding or the correction waiting on it; its author is told."""
    await findings.reject(tx, await to_moderate(tx, finding_id, moderator), moderator, reason,
                          private)


async def purge_version(tx: Transaction, finding_id: int, moderator: User,
                        revision_id: int) -> None:
    """Erase a version of a finding; 404 for whoever may not purge it."""
    finding = await findings.get(tx, finding_id)
    if not can(moderator, "purge", finding):
        raise NotFound()
    await findings.purge_version(tx, finding, moderator, revision_id)
