"""A finding's history as the pages show it: each version with the fields it changed, the
corrections waiting for moderators, and the doubts on figures that do not fit the record."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from forum import watch
from forum.db import Conn
from forum.i18n import N_, gettext, ngettext
from forum.models import findings
from forum.models.findings import Finding, Revision
from forum.models.posts import PURGED
from forum.models.users import User


@dataclass(frozen=True)
class Change:
    label: str  # msgid of the field
    before: str
    after: str


@dataclass(frozen=True)
class Version:
    number: int
    revision: Revision
    changes: tuple[Change, ...]  # from the version before; none for the first


def as_waiting_of(finding: Finding, waiting: Revision | None) -> Finding:
    """The figure the moderator decides on: the correction's, when one waits."""
    if waiting is None:
        return finding
    draft = waiting.draft()
    return replace(finding, quantity=draft.quantity, unit=draft.unit, scope=draft.scope,
                   observed=draft.observed)


async def finding_doubts(conn: Conn, pending: list[Finding]) -> dict[int, list[findings.Doubt]]:
    """The queue's pending findings that do not fit the record, with what they contradict."""
    found = {}
    for finding in pending:
        if doubts := await findings.doubts_about(conn, finding):
            found[finding.id] = doubts
    return found



@dataclass(frozen=True)
class WaitingCorrection:
    """A public finding's correction waiting in the queue, with the fields it would change."""
    finding: Finding
    revision: Revision
    changes: tuple[Change, ...]
    doubts: tuple[findings.Doubt, ...] = ()
    candidate: Finding | None = None  # the figure as the correction would make it


async def waiting_corrections(conn: Conn, moderator: User,
                              board_id: int | None = None) -> list[WaitingCorrection]:
    """The corrections of public findings that wait for this moderator, oldest first."""
    kind_labels = {kind.id: kind.label for kind in await findings.kinds(conn, merged=True)}
    found = []
    for finding, waiting in await findings.pending_edits(conn, moderator, board_id):
        public = await findings.revisions(conn, finding.id)
        found.append(WaitingCorrection(finding, waiting, versions(
            [*public[-1:], waiting], kind_labels)[-1].changes,
            tuple(await findings.doubts_about(conn, finding, waiting)),
            as_waiting_of(finding, waiting)))
    return found


def versions(history: list[Revision], kind_labels: dict[int, str]) -> list[Version]:
    """Each version of a finding with the fields it changed, oldest first."""
    found: list[Version] = []
    before: dict[str, str] | None = None
    for number, revision in enumerate(history, start=1):
        if revision.state == PURGED:  # nothing left to compare
            found.append(Version(number, revision, ()))
            continue
        after = _readable(revision.data, kind_labels)
        changes = () if before is None else tuple(
            Change(label, before[label], value) for label, value in after.items()
            if before[label] != value)
        found.append(Version(number, revision, changes))
        before = after
    return found


def _readable(data: dict[str, Any], kind_labels: dict[int, str]) -> dict[str, str]:
    """A version's fields as the page shows them, by the msgid of their label."""
    latitude, longitude = data.get("latitude"), data.get("longitude")
    sources = data.get("sources", [])
    return {
        N_("Kind of equipment"): gettext(kind_labels.get(data.get("kind_id", 0), "?")),
        N_("Quantity"): watch.format_quantity(data.get("quantity"), data.get("unit")),
        N_("What it counts"): watch.scope_label(
            data.get("scope", "total" if data.get("quantity") is not None else None)),
        N_("Date"): watch.format_observed(data["observed"]),
        N_("Status"): watch.status_label(data["status"]),
        N_("Place"): data.get("place") or "",
        N_("Coordinates"): "" if latitude is None else f"{latitude}, {longitude}",
        N_("Note"): data.get("note") or "",
        N_("Sources"): ngettext("%(num)s source", "%(num)s sources", len(sources),
                                num=len(sources))
        + " (" + ", ".join(_source_name(source) for source in sources) + ")",
    }


def _source_name(source: dict[str, Any]) -> str:
    if source.get("kind") == "post":
        return gettext("message #%(id)s", id=source.get("post_id"))
    if source.get("kind") == "file":
        return gettext("file #%(id)s", id=source.get("upload_id"))
    return str(source.get("label") or source.get("url") or "")
