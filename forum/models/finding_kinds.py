"""Kinds of equipment renamed or merged by an administrator, their history kept.

A rename changes the name shown everywhere; a merge moves every finding of a kind to another
(a kind entered twice: "Caméras piétons" and "Body cameras"). The merged kind stays in the
table, hidden from lists, so that old versions of findings and the journal still name it; each
change is a row of `finding_kind_changes` (migration 0020) and a line of the journal.
"""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock
from forum.db import Conn, Transaction
from forum.errors import Conflict, Invalid, NotFound
from forum.i18n import gettext
from forum.models import existing, moderation
from forum.models.findings import Kind, checked_label
from forum.models.users import User


@dataclass(frozen=True)
class KindChange:
    id: int
    kind_slug: str
    action: str  # 'rename' or 'merge'
    old_label: str
    new_label: str
    moved: int  # findings moved by a merge
    admin_name: str
    reason: str
    created_at: str


async def get(conn: Conn, slug: str) -> Kind:
    """A kind that is still listed (not merged), or NotFound."""
    row = await conn.one("select id, slug, label from finding_kinds where slug = ?"
                         " and merged_into is null", (slug,))
    return Kind(*existing(row, NotFound("This kind of equipment does not exist.")))


async def rename(tx: Transaction, kind: Kind, label: str, admin: User,
                 reason: str = "") -> Kind:
    """Give a kind a new name (its slug stays: links and exports keep working)."""
    label = checked_label(label)
    reason = moderation.clean_reason(reason, required=False)
    if label == kind.label:
        raise Invalid("This is already the kind's name.", field="label")
    if await tx.value("select 1 from finding_kinds where id <> ? and lower(label) = lower(?)",
                      (kind.id, label)):
        raise Conflict("This kind of equipment already exists.", field="label")
    await tx.execute("update finding_kinds set label = ? where id = ?", (label, kind.id))
    await _record(tx, kind, "rename", label, None, 0, admin, reason)
    return Kind(kind.id, kind.slug, label)


async def merge(tx: Transaction, kind: Kind, target: Kind, admin: User,
                reason: str = "") -> int:
    """Move every finding of `kind` to `target` and hide `kind`; returns how many moved.

    Versions already written keep the old kind and a new public version records the move
    (the finding's history reads "kind: old -> new"); a correction still waiting follows the
    merge, else publishing it would bring the old kind back.
    """
    reason = moderation.clean_reason(reason, required=False)
    if target.id == kind.id:
        raise Invalid("Choose another kind to merge this one into.", field="into")
    # Each public finding gets a version saying so: its history shows "kind: old -> new".
    said = reason or gettext("Kind “%(old)s” merged into “%(new)s”", old=gettext(kind.label),
                             new=gettext(target.label))
    await tx.execute(
        "insert into finding_revisions (finding_id, editor_id, data, reason, created_at, state)"
        " select latest.finding_id, ?, json_set(latest.data, '$.kind_id', ?), ?, ?, 'public'"
        " from finding_revisions as latest join findings on findings.id = latest.finding_id"
        " where findings.kind_id = ? and latest.id = (select max(id) from finding_revisions"
        " where finding_id = latest.finding_id and state = 'public')"
        " and json_extract(latest.data, '$.kind_id') = ?",
        (admin.id, target.id, said, clock.now(), kind.id, kind.id))
    moved = await tx.update("update findings set kind_id = ? where kind_id = ?",
                            (target.id, kind.id))
    await tx.execute(
        "update finding_revisions set data = json_set(data, '$.kind_id', ?)"
        " where state = 'pending' and json_extract(data, '$.kind_id') = ?",
        (target.id, kind.id))
    # Kinds merged earlier into this one now point to the target (no chains to follow).
    await tx.execute("update finding_kinds set merged_into = ? where id = ? or merged_into = ?",
                     (target.id, kind.id, kind.id))
    await _record(tx, kind, "merge", target.label, target.id, moved, admin, reason)
    return moved


async def history(conn: Conn, limit: int = 100) -> list[KindChange]:
    """Renames and merges, newest first."""
    rows = await conn.all(
        "select finding_kind_changes.id, finding_kinds.slug, action, old_label, new_label,"
        " moved, users.name, reason, finding_kind_changes.created_at"
        " from finding_kind_changes join finding_kinds on finding_kinds.id = kind_id"
        " join users on users.id = admin_id order by finding_kind_changes.id desc limit ?",
        (limit,))
    return [KindChange(*row) for row in rows]




async def _record(tx: Transaction, kind: Kind, action: str, new_label: str,
                  target_id: int | None, moved: int, admin: User, reason: str) -> None:
    """The history row and the journal line (which names the old and the new kind)."""
    at = clock.now()
    await tx.execute(
        "insert into finding_kind_changes (kind_id, action, old_label, new_label, target_id,"
        " moved, admin_id, reason, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind.id, action, kind.label, new_label, target_id, moved, admin.id, reason, at))
    # Built-in names are msgids: the journal shows them as the site's language says them.
    said = f"{gettext(kind.label)} → {gettext(new_label)}"
    await moderation.log(tx, admin, action, "kind", kind.id, None,
                         f"{said} · {reason}" if reason else said)
    # A kind's name is on every page that shows one of its findings (threads, cities, the
    # national table, finding pages): a rare change, every cached page dropped.
    tx.changed("all", None)  # cache.ALL
