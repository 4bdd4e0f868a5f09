"""What a finding is: its vocabularies (statuses, units, scopes), its dataclasses, and the
SELECT that reads it with its city, kind, author and decider."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from forum.db import Row
from forum.i18n import N_
from forum.models.posts import PUBLIC

STATUSES = ("planned", "voted", "installed", "in-use", "abandoned", "removed", "forbidden")
STATUS_LABELS = {
    "planned": N_("planned"), "voted": N_("voted"), "installed": N_("installed"),
    "in-use": N_("in use"), "abandoned": N_("abandoned"), "removed": N_("removed"),
    "forbidden": N_("forbidden"),
}
UNITS = ("count", "eur", "eur-per-year", "km2", "agents", "days", "percent",
         "eur-per-device-per-year", "devices-per-10k")
# How a quantity reads ("148", "250 000 €") and how the unit is named in a form.
UNIT_SYMBOLS = {"count": "", "eur": "€", "eur-per-year": N_("€/year"), "km2": "km²",
                "agents": N_("agents"), "days": N_("days"), "percent": "%",
                "eur-per-device-per-year": N_("€/device/year"),
                "devices-per-10k": N_("per 10,000 inhabitants")}
UNIT_LABELS = {
    "count": N_("number (devices, sites…)"), "eur": N_("euros"),
    "eur-per-year": N_("euros per year"), "km2": N_("square kilometres"),
    "agents": N_("agents"), "days": N_("days"), "percent": N_("percent"),
    "eur-per-device-per-year": N_("euros per device per year"),
    "devices-per-10k": N_("devices per 10,000 inhabitants"),
}
# What a quantity counts (migration 0015). Only totals make headlines, timelines and tables;
# changes (signed) and parts are listed beside them, never summed into them.
TOTAL, CHANGE, PART = "total", "change", "part"
SCOPES = (TOTAL, CHANGE, PART)
SCOPE_LABELS = {TOTAL: N_("total for the city"), CHANGE: N_("change (added or removed)"),
                PART: N_("part (one place, district or contract)")}
# A city's population (migration 0020): a sourced total like the others, never a headline of
# equipment; it turns counts into figures per PER_INHABITANTS inhabitants.
POPULATION = "population"
PER_INHABITANTS = 10_000


@dataclass(frozen=True)
class Source:
    kind: str  # 'post', 'file' or 'link'
    post_id: int | None = None
    upload_id: int | None = None
    url: str | None = None
    label: str = ""
    # Filled when read: what a page shows of the source (only if the post is public).
    thread_id: int | None = None
    thread_title: str | None = None
    filename: str | None = None
    public: bool = True

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "post_id": self.post_id, "upload_id": self.upload_id,
                "url": self.url, "label": self.label}


@dataclass(frozen=True)
class Draft:
    """A finding's checked fields (models/finding_drafts.py makes them from a form or JSON)."""
    kind_id: int
    quantity: float | None
    unit: str | None
    observed: str  # 2008, 2014-11 or 2020-03-10
    status: str
    place: str = ""
    latitude: float | None = None
    longitude: float | None = None
    note: str = ""
    sources: tuple[Source, ...] = ()
    scope: str | None = None  # 'total', 'change' or 'part' when there is a quantity

    def as_json(self) -> str:
        data = asdict(self)
        data["sources"] = [source.as_json() for source in self.sources]
        return json.dumps(data, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Finding:
    id: int
    board_id: int
    board_slug: str
    board_name: str
    kind_id: int
    kind_slug: str
    kind_label: str
    quantity: float | None
    unit: str | None
    scope: str | None  # 'total', 'change' or 'part' when there is a quantity
    observed: str
    status: str
    place: str
    latitude: float | None
    longitude: float | None
    note: str
    author_id: int
    author_name: str
    review: str  # 'published', 'pending' or 'rejected'
    decided_by_name: str | None
    decided_at: str | None
    reject_reason: str | None
    created_at: str
    published_at: str | None
    edited_at: str | None
    deleted_at: str | None
    edit_pending: bool  # a public finding whose correction waits for a moderator
    board_closed: bool  # in a closed board: its members and moderators only
    sources: tuple[Source, ...] = field(default=())

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_public(self) -> bool:
        return self.review == "published" and self.deleted_at is None

    @classmethod
    def from_row(cls, row: Row, sources: tuple[Source, ...] = ()) -> Finding:
        # By position (SELECT lists _FIELDS in order): the national table reads thousands.
        # (mypy cannot count a row's slice, so it fears it fills `sources` too.)
        return cls(*tuple(row)[:len(_FIELDS)], sources=sources)  # type: ignore[misc]


@dataclass(frozen=True)
class Revision:
    id: int
    editor_name: str
    data: dict[str, Any]
    reason: str  # the editor's reason for a correction: public with the version
    created_at: str
    state: str = PUBLIC  # as a post's versions (models/posts.py, migration 0009)
    note: str = ""  # a refusal's reason or a moderator's word on a correction: private

    def draft(self) -> Draft:
        """The version's fields, to make them the finding's own again."""
        data = dict(self.data)
        if data.get("quantity") is not None:  # versions written before scopes were totals
            data.setdefault("scope", TOTAL)
        sources = tuple(Source(**source) for source in data.pop("sources", []))
        return Draft(**data, sources=sources)


_FIELDS = ("id", "board_id", "board_slug", "board_name", "kind_id", "kind_slug", "kind_label",
           "quantity", "unit", "scope", "observed", "status", "place", "latitude", "longitude",
           "note", "author_id", "author_name", "review", "decided_by_name", "decided_at",
           "reject_reason", "created_at", "published_at", "edited_at", "deleted_at",
           "edit_pending", "board_closed")
_COLUMNS = (
    "findings.id, findings.board_id, boards.slug as board_slug, boards.name as board_name,"
    " findings.kind_id, finding_kinds.slug as kind_slug, finding_kinds.label as kind_label,"
    " quantity, unit, scope, observed, findings.status, place, latitude, longitude, note,"
    " findings.author_id, authors.name as author_name, review,"
    " deciders.name as decided_by_name, findings.decided_at, findings.reject_reason,"
    " findings.created_at, findings.published_at, findings.edited_at, findings.deleted_at,"
    " (review = 'published' and exists (select 1 from finding_revisions as waiting"
    " where waiting.finding_id = findings.id and waiting.state = 'pending')) as edit_pending,"
    " boards.closed as board_closed"
)
_FROM = (
    " from findings join boards on boards.id = findings.board_id"
    " join finding_kinds on finding_kinds.id = findings.kind_id"
    " join users authors on authors.id = findings.author_id"
    " left join users deciders on deciders.id = findings.decided_by"
)
SELECT = f"select {_COLUMNS}{_FROM}"
