"""Kinds of equipment a finding may have: listed, found by slug, added (renamed and merged
ones are in models/finding_kinds.py)."""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock
from forum.db import Conn, Transaction
from forum.errors import Conflict, Invalid
from forum.i18n import N_
from forum.text import required_line, slugify

# The built-in kinds (migration 0008): their labels are msgids, translated on display.
BUILTIN_KIND_LABELS = (
    N_("Video-surveillance cameras"), N_("Thermal cameras"), N_("Sound sensors"), N_("Drones"),
    N_("Facial recognition"), N_("Automated video analysis"), N_("Licence-plate readers"),
    N_("Body cameras"), N_("Supervision centre"), N_("Data platform"), N_("Other"),
    N_("Population"),
)
KIND_LABEL_MAX = 80


@dataclass(frozen=True)
class Kind:
    id: int
    slug: str
    label: str  # shown through gettext: built-in labels are msgids


async def kinds(conn: Conn, merged: bool = False) -> list[Kind]:
    """The kinds a finding may have, in their order; `merged`: those merged into another too
    (old versions and the journal still name them)."""
    where = "" if merged else " where merged_into is null"
    rows = await conn.all(
        f"select id, slug, label from finding_kinds{where} order by position, label")
    return [Kind(*row) for row in rows]


async def kind_by_slug(conn: Conn, slug: str) -> Kind | None:
    """The kind with this slug; a kind merged into another answers with the one it went
    into (old links, filters and API clients keep working)."""
    row = await conn.one(
        "select coalesce(target.id, kind.id), coalesce(target.slug, kind.slug),"
        " coalesce(target.label, kind.label) from finding_kinds as kind"
        " left join finding_kinds as target on target.id = kind.merged_into"
        " where kind.slug = ?", (slug,))
    return Kind(*row) if row else None


async def findings_per_kind(conn: Conn) -> dict[int, int]:
    """How many findings each kind has (deleted ones too: they keep their kind)."""
    rows = await conn.all("select kind_id, count(*) from findings group by kind_id")
    return {row[0]: row[1] for row in rows}


def checked_label(label: str) -> str:
    """A kind's name as typed, cleaned; 422 when it is empty or too long."""
    return required_line(label, "label", KIND_LABEL_MAX,
                         N_("Give the kind of equipment a name."),
                         N_("This name is too long (at most %(max)s characters)."))


async def add_kind(tx: Transaction, label: str) -> Kind:
    """A new kind of equipment, listed after the built-in ones (before 'Other')."""
    label = checked_label(label)
    slug = slugify(label)[:60].strip("-")
    if not slug:
        raise Invalid("This name needs at least one letter or digit.", field="label")
    if await tx.value("select 1 from finding_kinds where slug = ? or lower(label) = lower(?)",
                      (slug, label)):
        raise Conflict("This kind of equipment already exists.", field="label")
    kind_id = await tx.insert(
        "insert into finding_kinds (slug, label, position, created_at) values (?, ?,"
        " (select max(position) from finding_kinds where slug <> 'other') + 10, ?) returning id",
        (slug, label, clock.now()))
    tx.changed("watch", None)
    return Kind(kind_id, slug, label)
