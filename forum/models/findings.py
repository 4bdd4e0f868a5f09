"""Findings: sourced facts about a city's equipment, moderated like posts, every version kept.

Input is checked by models/finding_drafts.py; what the pages and exports compute from the
findings (latest figure per kind, timelines, the national table) lives in forum/watch.py.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import date

from forum import clock, permissions
from forum.db import Conn, Row, Transaction
from forum.errors import Conflict, Invalid, NotFound
from forum.i18n import N_
from forum.models import moderation, notifications
from forum.models.boards import Board
from forum.models.posts import CORRECTED, PENDING, PUBLIC, PURGED, REFUSED, SUPERSEDED
from forum.models.users import User
from forum.permissions import PUBLIC_FINDING, READABLE_POST
from forum.text import clean_line, slugify

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
# The built-in kinds (migration 0008): their labels are msgids, translated on display.
BUILTIN_KIND_LABELS = (
    N_("Video-surveillance cameras"), N_("Thermal cameras"), N_("Sound sensors"), N_("Drones"),
    N_("Facial recognition"), N_("Automated video analysis"), N_("Licence-plate readers"),
    N_("Body cameras"), N_("Supervision centre"), N_("Data platform"), N_("Other"),
    N_("Population"),
)
# A city's population (migration 0020): a sourced total like the others, never a headline of
# equipment; it turns counts into figures per PER_INHABITANTS inhabitants.
POPULATION = "population"
PER_INHABITANTS = 10_000
# A total that moves by more than this share of the previous total of its kind asks the
# moderator to confirm it (148 -> 1 is a part or a typo far more often than a fact).
PLAUSIBLE_MOVE = 0.5
KIND_LABEL_MAX = 80
REASON_MAX = moderation.REASON_MAX
SLICE = 500  # findings whose sources one query reads


@dataclass(frozen=True)
class Kind:
    id: int
    slug: str
    label: str  # shown through gettext: built-in labels are msgids


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
        return cls(*tuple(row)[:len(_FIELDS)], sources=sources)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Revision:
    id: int
    editor_name: str
    data: dict
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

@dataclass(frozen=True)
class Filters:
    """What a list, an export or the API asks for; dates compare at their own precision."""
    board_id: int | None = None
    kind_id: int | None = None
    status: str | None = None
    since: str | None = None  # 2014, 2014-11 or 2014-11-05: findings observed from then on
    until: str | None = None  # findings observed up to then (2019 takes in all of 2019)
    located: bool = False  # only those with coordinates (a map, a GeoJSON file)
    scope: str | None = None  # 'total', 'change' or 'part'

    def sql(self) -> tuple[str, tuple]:
        parts, params = [], []
        for column, value in (("findings.board_id", self.board_id),
                              ("findings.kind_id", self.kind_id),
                              ("findings.status", self.status),
                              ("findings.scope", self.scope)):
            if value is not None:
                parts.append(f"{column} = ?")
                params.append(value)
        if self.since:
            parts.append("substr(observed, 1, length(?)) >= ?")
            params += [self.since, self.since]
        if self.until:
            parts.append("substr(observed, 1, length(?)) <= ?")
            params += [self.until, self.until]
        if self.located:
            parts.append("findings.latitude is not null")
        return " and ".join(parts) or "1", tuple(params)


# Kinds of equipment ----------------------------------------------------------------------------

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


async def add_kind(tx: Transaction, label: str) -> Kind:
    """A new kind of equipment, listed after the built-in ones (before 'Other')."""
    label = clean_line(label)
    if not label:
        raise Invalid("Give the kind of equipment a name.", field="label")
    if len(label) > KIND_LABEL_MAX:
        raise Invalid("This name is too long (at most %(max)s characters).", field="label",
                      max=KIND_LABEL_MAX)
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


# Reading ---------------------------------------------------------------------------------------

async def get(conn: Conn, finding_id: int) -> Finding:
    row = await conn.one(f"{SELECT} where findings.id = ?", (finding_id,))
    if row is None:
        raise NotFound("This finding does not exist.")
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
        found.setdefault(row[0], []).append(Source(*tuple(row)[1:9], public=bool(row[9])))


async def _with_sources(conn: Conn, rows: list[Row], read: bool = True) -> list[Finding]:
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
    return await _with_sources(conn, rows, with_sources)


async def by_author(conn: Conn, author_id: int, viewer: User | None,
                    limit: int = 20) -> list[Finding]:
    """A member's latest findings that this viewer may see, newest first (their profile)."""
    visible, params = permissions.finding_filter(viewer)
    rows = await conn.all(
        f"{SELECT} where findings.author_id = ? and {visible} order by findings.id desc limit ?",
        (author_id, *params, limit))
    return await _with_sources(conn, rows, read=False)


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
    return await _with_sources(conn, rows)


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
    return await _with_sources(conn, rows)


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
    for finding in await _with_sources(conn, rows):
        waiting = await pending_edit(conn, finding.id)
        if waiting is not None:
            found.append((finding, waiting))
    return found


# Plausibility ----------------------------------------------------------------------------------

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
    return doubts(finding, await _with_sources(conn, rows, read=False))


# Writing ---------------------------------------------------------------------------------------

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
        await _tell_followers(tx, finding_id, board.id, author.id)
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
    await _apply(tx, finding, draft, at)
    if finding.review == "rejected" and editor.id == finding.author_id:
        await tx.execute("update findings set review = 'pending' where id = ?", (finding.id,))
    if editor.id != finding.author_id:
        await moderation.log(tx, editor, "edit", "finding", finding.id, finding.board_id, reason,
                             private)
    return True


async def _apply(tx: Transaction, finding: Finding, draft: Draft, at: str) -> None:
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
    await _tell_followers(tx, finding.id, finding.board_id, finding.author_id)
    await changed(tx, finding.id, finding.board_id)


async def _publish_edit(tx: Transaction, finding: Finding, moderator: User) -> None:
    waiting = await pending_edit(tx, finding.id)
    if waiting is None or finding.is_deleted:
        raise Conflict("Another moderator has already decided on this finding.")
    await tx.execute("update finding_revisions set state = ? where id = ?",
                     (PUBLIC, waiting.id))
    await _apply(tx, finding, waiting.draft(), clock.now())
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
    row = await tx.one("select data, reason, note, state from finding_revisions"
                       " where id = ? and finding_id = ?", (revision_id, finding.id))
    if row is None:
        raise NotFound("This version does not exist.")
    if row["state"] == PURGED:
        raise Conflict("This version is already purged.")
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
    await tx.execute("insert into findings_text (findings_text) values ('optimize')")
    await moderation.log(tx, moderator, "purge", "finding", finding.id, finding.board_id)
    await changed(tx, finding.id, finding.board_id)


# What a purge of the current version would erase from the page: refused (correct it first).
_PURGEABLE = ("kind_id", "quantity", "unit", "scope", "observed", "status", "place", "latitude",
              "longitude", "note")


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


async def _tell_followers(tx: Transaction, finding_id: int, board_id: int,
                          author_id: int) -> int:
    """Members who follow the city hear of a finding once it is public (never before)."""
    return await tx.update(
        "insert into notifications (user_id, kind, finding_id, actor_id, created_at)"
        " select user_id, 'new_finding', ?, ?, ? from follows where target_kind = 'board'"
        " and target_id = ? and mode = 'follow' and user_id <> ?"
        # A closed city: its group only (the id is an integer from the database).
        f" and {permissions.member_reads_board('follows.user_id', str(int(board_id)))}",
        (finding_id, author_id, clock.now(), board_id, author_id))


async def _tell_author(tx: Transaction, finding: Finding, kind: str, moderator: User,
                       reason: str = "") -> None:
    if moderator.id == finding.author_id:
        return
    await notifications.add(tx, finding.author_id, kind, actor_id=moderator.id, text=reason,
                            finding_id=finding.id)
