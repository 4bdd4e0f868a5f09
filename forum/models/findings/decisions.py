"""Moderators' decisions on findings: approve, refuse, delete, restore, purge a version."""
from __future__ import annotations

import json

from forum import clock
from forum.db import Transaction
from forum.errors import Conflict, Invalid
from forum.models import moderation, notifications
from forum.models.findings.changes import apply_draft, changed, tell_followers
from forum.models.findings.plausibility import doubts_about
from forum.models.findings.reads import pending_edit
from forum.models.findings.records import Finding
from forum.models.posts import PENDING, PUBLIC, PURGED, REFUSED, version_to_purge
from forum.models.users import User

REASON_MAX = moderation.REASON_MAX


async def approve(tx: Transaction, finding: Finding, moderator: User,
                  confirmed: bool = False) -> None:
    """Publish a pending finding, or the correction waiting on a public one; tells its
    author, counts towards their trust. A total that does not fit the public record
    (`doubts`) is published only once the moderator confirms they compared it."""
    if not confirmed and finding.review != "rejected" and not finding.is_deleted:
        waiting = await pending_edit(tx, finding.id) if finding.review == "published" else None
        if (finding.review == "pending" or waiting is not None) and await doubts_about(
                tx, finding, waiting):
            raise Invalid("This figure does not fit the published record (see the comparison):"
                          " confirm that you checked it to publish it.", field="confirm")
    if finding.review == "published":
        await _publish_edit(tx, finding, moderator)
        return
    at = clock.now()
    decided = await tx.update(
        "update findings set review = 'published', decided_by = ?, decided_at = ?,"
        " published_at = ? where id = ? and review = 'pending' and deleted_at is null",
        (moderator.id, at, at, finding.id))
    if not decided:
        raise Conflict("Another moderator has already decided on this finding.")
    await _decide_versions(tx, finding.id, PUBLIC)
    await tx.execute("update users set approved_count = approved_count + 1 where id = ?",
                     (finding.author_id,))
    await moderation.log(tx, moderator, "approve", "finding", finding.id, finding.board_id)
    await _tell_author(tx, finding, "finding_approved", moderator)
    await tell_followers(tx, finding.id, finding.board_id, finding.author_id)
    await changed(tx, finding.id, finding.board_id)


async def _publish_edit(tx: Transaction, finding: Finding, moderator: User) -> None:
    waiting = await pending_edit(tx, finding.id)
    if waiting is None or finding.is_deleted:
        raise Conflict("Another moderator has already decided on this finding.")
    await tx.execute("update finding_revisions set state = ? where id = ?",
                     (PUBLIC, waiting.id))
    await apply_draft(tx, finding, waiting.draft(), clock.now())
    await moderation.log(tx, moderator, "approve", "finding", finding.id, finding.board_id)
    await _tell_author(tx, finding, "finding_approved", moderator)


async def _decide_versions(tx: Transaction, finding_id: int, state: str,
                           note: str = "") -> None:
    await tx.execute("update finding_revisions set state = ?, note = ? where finding_id = ?"
                     " and state = ?", (state, note, finding_id, PENDING))


async def reject(tx: Transaction, finding: Finding, moderator: User, reason: str,
                 private: bool = False) -> None:
    """Refuse a pending finding, or the correction waiting on a public one (which keeps its
    fields); its author still sees it and may correct it."""
    reason = moderation.clean_reason(reason)
    if finding.review == "published":
        if finding.is_deleted or await pending_edit(tx, finding.id) is None:
            raise Conflict("Another moderator has already decided on this finding.")
        await _decide_versions(tx, finding.id, REFUSED, reason)
    else:
        decided = await tx.update(
            "update findings set review = 'rejected', decided_by = ?, decided_at = ?,"
            " reject_reason = ? where id = ? and review = 'pending' and deleted_at is null",
            (moderator.id, clock.now(), reason, finding.id))
        if not decided:
            raise Conflict("Another moderator has already decided on this finding.")
        await _decide_versions(tx, finding.id, REFUSED, reason)
        await tx.execute("update users set rejected_count = rejected_count + 1 where id = ?",
                         (finding.author_id,))
    await moderation.log(tx, moderator, "reject", "finding", finding.id, finding.board_id,
                         reason, private)
    await _tell_author(tx, finding, "finding_rejected", moderator, reason)
    await changed(tx, finding.id, finding.board_id)


async def delete(tx: Transaction, finding: Finding, by: User, reason: str) -> None:
    """A tombstone: gone from pages and exports, kept with its history for moderators."""
    reason = moderation.clean_reason(reason, required=by.id != finding.author_id)
    if not await tx.update(
            "update findings set deleted_at = ?, deleted_by = ?, delete_reason = ?"
            " where id = ? and deleted_at is null",
            (clock.now(), by.id, reason or None, finding.id)):
        raise Conflict("This finding is already deleted.")
    if by.id != finding.author_id:
        await moderation.log(tx, by, "delete", "finding", finding.id, finding.board_id, reason)
        await _tell_author(tx, finding, "finding_deleted", by, reason)
    await changed(tx, finding.id, finding.board_id)


async def restore(tx: Transaction, finding: Finding, moderator: User, reason: str = "") -> None:
    if not await tx.update(
            "update findings set deleted_at = null, deleted_by = null, delete_reason = null"
            " where id = ? and deleted_at is not null", (finding.id,)):
        raise Conflict("This finding is not deleted.")
    await moderation.log(tx, moderator, "restore", "finding", finding.id, finding.board_id,
                         moderation.clean_reason(reason, required=False))
    await changed(tx, finding.id, finding.board_id)


async def purge_version(tx: Transaction, finding: Finding, moderator: User,
                        revision_id: int) -> None:
    """Erase a version that must disappear (a home address, a name): its fields, reason and
    note, and their copies in notifications and mails. The journal says a version was
    purged, never what it held. The finding's current fields cannot be purged while it shows:
    correct it first (or delete it)."""
    row = version_to_purge(await tx.one(
        "select data, reason, note, state from finding_revisions where id = ? and finding_id = ?",
        (revision_id, finding.id)))
    data = json.loads(row["data"])
    if all(data.get(name) == getattr(finding, name) for name in _PURGEABLE):
        if not finding.is_deleted:
            raise Conflict("This is the finding's current version: correct the finding (or "
                           "delete it) first, then purge this version.")
        await tx.execute("update findings set place = '', note = '', latitude = null,"
                         " longitude = null where id = ?", (finding.id,))
    await tx.execute("update finding_revisions set data = '{}', reason = '', note = '',"
                     " state = ? where id = ?", (PURGED, revision_id))
    texts = [str(data.get(name) or "") for name in ("place", "note")]
    await moderation.erase_copies(
        tx, [text for text in (*texts, row["reason"], row["note"]) if text.strip()],
        finding_id=finding.id)
    # The findings' search index (migration 0020) keeps the words of replaced fields in its
    # segments until they merge: merge them now, as erase_copies does for the messages'.
    if tx.dialect == "sqlite":  # FTS5's (PostgreSQL's index is on the row itself)
        await tx.execute("insert into findings_text (findings_text) values ('optimize')")
    await moderation.log(tx, moderator, "purge", "finding", finding.id, finding.board_id)
    await changed(tx, finding.id, finding.board_id)


# What a purge of the current version would erase from the page: refused (correct it first).
_PURGEABLE = ("kind_id", "quantity", "unit", "scope", "observed", "status", "place", "latitude",
              "longitude", "note")



async def _tell_author(tx: Transaction, finding: Finding, kind: str, moderator: User,
                       reason: str = "") -> None:
    if moderator.id == finding.author_id:
        return
    await notifications.add(tx, finding.author_id, kind, actor_id=moderator.id, text=reason,
                            finding_id=finding.id)
