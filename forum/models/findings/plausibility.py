"""Whether a total about to be published fits the public record of its city (issue: a 148
that becomes 1 is a part or a typo far more often than a fact)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from forum.db import Conn
from forum.models.findings.reads import from_rows
from forum.models.findings.records import SELECT, TOTAL, Finding, Revision
from forum.permissions import PUBLIC_FINDING

# A total that moves by more than this share of the previous total of its kind asks the
# moderator to confirm it (148 -> 1 is a part or a typo far more often than a fact).
PLAUSIBLE_MOVE = 0.5


@dataclass(frozen=True)
class Doubt:
    """Why a moderator should look twice at a total before publishing it, and the public
    finding it is compared with."""
    reason: str  # 'moves' (by more than half), 'older' (than the latest), 'contradicts'
    other: Finding


def year_fraction(observed: str) -> float:
    """2014-11 -> the middle of November 2014 as a fractional year; 2008 -> mid-2008."""
    parts = [int(part) for part in observed.split("-")]
    if len(parts) == 1:
        return parts[0] + 0.5
    if len(parts) == 2:
        return parts[0] + (parts[1] - 0.5) / 12
    day = date(*parts)
    return parts[0] + (day.timetuple().tm_yday - 0.5) / 366


def doubts(candidate: Finding, record: list[Finding]) -> list[Doubt]:
    """What a total about to be published contradicts in the public record of its city,
    kind and unit: a move by more than half from the previous total, a date older than the
    latest total, another total of the same date that says otherwise."""
    if candidate.scope != TOTAL or candidate.quantity is None:
        return []
    totals = sorted((f for f in record if f.id != candidate.id and f.is_public
                     and f.scope == TOTAL and f.kind_id == candidate.kind_id
                     and f.unit == candidate.unit and f.quantity is not None),
                    key=lambda f: (year_fraction(f.observed), f.id))
    when = year_fraction(candidate.observed)
    found = [Doubt("contradicts", f) for f in totals
             if f.observed == candidate.observed and f.quantity != candidate.quantity]
    before = [f for f in totals if year_fraction(f.observed) < when]
    if before:
        previous = before[-1].quantity or 0.0
        if abs(candidate.quantity - previous) > PLAUSIBLE_MOVE * previous:
            found.append(Doubt("moves", before[-1]))
    if totals and year_fraction(totals[-1].observed) > when:
        found.append(Doubt("older", totals[-1]))
    return found


async def doubts_about(conn: Conn, finding: Finding, waiting: Revision | None = None
                       ) -> list[Doubt]:
    """The doubts on a pending finding, or on the correction waiting on a public one."""
    if waiting is not None:
        draft = waiting.draft()
        finding = replace(finding, kind_id=draft.kind_id, quantity=draft.quantity,
                          unit=draft.unit, scope=draft.scope, observed=draft.observed)
    if finding.scope != TOTAL:
        return []
    rows = await conn.all(
        f"{SELECT} where {PUBLIC_FINDING} and findings.board_id = ? and findings.kind_id = ?"
        " and scope = 'total' and unit = ?", (finding.board_id, finding.kind_id, finding.unit))
    return doubts(finding, await from_rows(conn, rows, read=False))
