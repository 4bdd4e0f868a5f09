"""Records requests (demandes CADA): what a member asked an administration, and what became of
it, status by status; moderated like posts. The deadlines are in models/request_deadlines.py.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from forum import clock, permissions
from forum.db import Conn, Row, Transaction
from forum.errors import Conflict, Invalid, NotFound, UnknownReference
from forum.i18n import N_
from forum.models import existing, moderation, notifications
from forum.models import request_deadlines as rules
from forum.models.boards import Board
from forum.models.users import User

# The statuses a member records, in the order a request runs: a status of a lower rank than
# the current one goes back, and needs a reason. The implicit refusal is not recorded: it is
# computed (IMPLICIT_REFUSAL), a request still 'sent' once its month of silence is over.
STATUSES = ("sent", "answered", "answered_part", "refused", "cada_referral", "cada_favourable",
            "cada_unfavourable", "obtained", "abandoned")
IMPLICIT_REFUSAL = "implicit_refusal"
SHOWN_STATUSES = (*STATUSES, IMPLICIT_REFUSAL)
RANK = {"sent": 0, "implicit_refusal": 1, "answered_part": 1, "refused": 1, "answered": 2,
        "cada_referral": 3, "cada_favourable": 4, "cada_unfavourable": 4, "obtained": 5,
        "abandoned": 5}
STATUS_LABELS = {
    "sent": N_("sent"), "answered": N_("answered in full"), "answered_part": N_("answered in part"),
    "refused": N_("refused"), "implicit_refusal": N_("implicit refusal"),
    "cada_referral": N_("referred to the CADA"), "cada_favourable": N_("CADA: favourable opinion"),
    "cada_unfavourable": N_("CADA: unfavourable opinion"), "obtained": N_("documents obtained"),
    "abandoned": N_("abandoned"),
}
CHANNELS = ("mail", "email", "online", "hand")
CHANNEL_LABELS = {"mail": N_("postal mail"), "email": N_("e-mail"), "online": N_("online form"),
                  "hand": N_("delivered by hand")}
ANSWERS = ("answered", "answered_part", "obtained")  # what counts as answered in the outcomes
ADMINISTRATION_MAX, DOCUMENTS_MAX, NOTE_MAX = 200, 2000, 500
FILES_MAX = 10  # files per request or per status change
PAGE_SIZE = 50


@dataclass(frozen=True)
class Request:
    id: int
    board_id: int
    board_slug: str
    board_name: str
    author_id: int
    author_name: str
    administration: str
    documents: str
    channel: str
    sent_on: str
    received_on: str | None
    status: str  # the latest recorded status
    status_on: str
    refusal_on: str
    review: str  # 'published', 'pending' or 'rejected'
    reject_reason: str | None
    created_at: str
    published_at: str | None
    board_closed: bool = False  # a closed board's requests: its group only (permissions.py)

    @property
    def is_public(self) -> bool:
        return self.review == "published"

    @property
    def is_deleted(self) -> bool:  # the rules in permissions.py ask (requests are not deleted)
        return False

    def shown_status(self, today: date) -> str:
        """The status as readers see it: a request unanswered past its month is refused."""
        if self.status == "sent" and today > date.fromisoformat(self.refusal_on):
            return IMPLICIT_REFUSAL
        return self.status

    def deadlines(self) -> rules.Deadlines:
        return rules.deadlines(date.fromisoformat(self.sent_on), _day(self.received_on),
                               self.status, date.fromisoformat(self.status_on))


@dataclass(frozen=True)
class Event:
    id: int
    status: str
    happened_on: str
    note: str
    author_name: str
    created_at: str


@dataclass(frozen=True)
class RequestFile:
    upload_id: int
    filename: str
    role: str  # 'letter' or 'document'
    event_id: int | None
    size: int
    kind: str


@dataclass(frozen=True)
class NewRequest:
    """A request's checked fields (check_new makes them from a form or JSON)."""
    administration: str
    documents: str
    channel: str
    sent_on: date
    received_on: date | None


@dataclass(frozen=True)
class Filters:
    board_id: int | None = None
    status: str | None = None  # one of SHOWN_STATUSES
    administration: str | None = None  # compared without case


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# Reading ---------------------------------------------------------------------------------------

_COLUMNS = (
    "r.id, r.board_id, boards.slug, boards.name, r.author_id, authors.name, r.administration,"
    " r.documents, r.channel, r.sent_on, r.received_on, r.status, r.status_on, r.refusal_on,"
    " r.review, r.reject_reason, r.created_at, r.published_at, boards.closed")
_FROM = (" from records_requests as r join boards on boards.id = r.board_id"
         " join users as authors on authors.id = r.author_id")
SELECT = f"select {_COLUMNS}{_FROM}"
# The status readers see, in SQL (Request.shown_status): needs today's date as a parameter.
SHOWN_STATUS = ("(case when r.status = 'sent' and r.refusal_on < ? then 'implicit_refusal'"
                " else r.status end)")


def _request(row: Row) -> Request:
    return Request(*tuple(row))


async def get(conn: Conn, request_id: int) -> Request:
    row = await conn.one(f"{SELECT} where r.id = ?", (request_id,))
    return _request(existing(row, NotFound()))


def _where(viewer: User | None, filters: Filters, today: date) -> tuple[str, list[Any]]:
    visible, params = permissions.request_filter(viewer, "r")
    where, values = [visible], list(params)
    if filters.board_id is not None:
        where.append("r.board_id = ?")
        values.append(filters.board_id)
    if filters.status is not None:
        where.append(f"{SHOWN_STATUS} = ?")
        values += [today.isoformat(), filters.status]
    if filters.administration:
        where.append("r.administration = ? collate nocase")
        values.append(filters.administration)
    return " and ".join(where), values


async def search(conn: Conn, viewer: User | None, filters: Filters, today: date,
                 limit: int = PAGE_SIZE, offset: int = 0) -> list[Request]:
    """Newest sent first; a negative limit is all."""
    where, values = _where(viewer, filters, today)
    rows = await conn.all(f"{SELECT} where {where} order by r.sent_on desc, r.id desc"
                          " limit ? offset ?", (*values, limit, offset))
    return [_request(row) for row in rows]


async def count(conn: Conn, viewer: User | None, filters: Filters, today: date) -> int:
    where, values = _where(viewer, filters, today)
    return int(await conn.value(f"select count(*) from records_requests as r where {where}",
                                values))


@dataclass(frozen=True)
class Page:
    """One page of a list of requests, for the pages and the API alike."""
    items: list[Request]
    total: int
    page: int
    pages: int


async def page_of(conn: Conn, viewer: User | None, filters: Filters, today: date,
                  page: int) -> Page:
    """The requests this viewer may see, page `page` (404 past the last one)."""
    total = await count(conn, viewer, filters, today)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise NotFound()
    found = await search(conn, viewer, filters, today, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return Page(found, total, page, pages)


async def visible(conn: Conn, request_id: int, viewer: User | None) -> Request:
    """The request, if this viewer may see it (404 otherwise: a pending request exists only
    for its author and its city's moderators)."""
    found = await get(conn, request_id)
    if not permissions.can(viewer, "see_request", found):
        raise NotFound()
    return found


async def to_moderate(conn: Conn, request_id: int, moderator: User) -> Request:
    """The request as it is now, if this moderator decides on it: 404 otherwise, as on the
    moderators' page (whoever does not moderate its city is not told it waits)."""
    found = await visible(conn, request_id, moderator)
    if not permissions.can(moderator, "moderate", found):
        raise NotFound()
    return found


async def events(conn: Conn, request_id: int) -> list[Event]:
    rows = await conn.all(
        "select e.id, e.status, e.happened_on, e.note, users.name, e.created_at"
        " from request_events as e join users on users.id = e.author_id"
        " where e.request_id = ? order by e.happened_on, e.id", (request_id,))
    return [Event(*tuple(row)) for row in rows]


async def files(conn: Conn, request_id: int) -> list[RequestFile]:
    rows = await conn.all(
        "select uploads.id, uploads.filename, f.role, f.event_id, uploads.size, uploads.kind"
        " from request_files as f join uploads on uploads.id = f.upload_id"
        " where f.request_id = ? order by f.position", (request_id,))
    return [RequestFile(*tuple(row)) for row in rows]


async def request_of_file(conn: Conn, upload_id: int) -> int | None:
    """The request a file belongs to, None if none."""
    return await conn.value("select request_id from request_files where upload_id = ?",
                            (upload_id,))


async def pending(conn: Conn, moderator: User, board_id: int | None = None) -> list[Request]:
    """Requests waiting for this moderator's decision, oldest first."""
    scope, params = permissions.request_queue_filter(moderator, "r")
    extra, values = ("", []) if board_id is None else (" and r.board_id = ?", [board_id])
    rows = await conn.all(f"{SELECT} where {scope}{extra} order by r.id",
                          (*params, *values))
    return [_request(row) for row in rows]


@dataclass(frozen=True)
class Outcome:
    """How one administration answered the public requests recorded about it."""
    administration: str
    requests: int
    answered: int  # answered in full or in part, or documents obtained
    late: int  # of those, answered after the month
    refused: int  # refused, or still silent past the month (implicit)
    average_days: float | None  # from receipt (else sending) to the first answer


async def outcomes(conn: Conn, today: date, board_id: int | None = None) -> list[Outcome]:
    """Per administration (names compared without case), most asked first."""
    answers = ", ".join(f"'{status}'" for status in ANSWERS)
    extra, values = ("", []) if board_id is None else (" and r.board_id = ?", [board_id])
    rows = await conn.all(
        "select min(r.administration), count(*), count(a.first_on),"
        # count(case ... then 1 end): PostgreSQL does not sum truth values as SQLite does.
        " count(case when a.first_on > r.refusal_on then 1 end),"
        f" count(case when r.status = 'refused' or {SHOWN_STATUS} = 'implicit_refusal'"
        " then 1 end),"
        " avg(julianday(a.first_on) - julianday(coalesce(r.received_on, r.sent_on)))"
        " from records_requests as r left join (select request_id, min(happened_on) as first_on"
        f" from request_events where status in ({answers}) group by request_id) as a"
        f" on a.request_id = r.id where {permissions.public_request('r')}{extra}"
        " group by r.administration collate nocase order by count(*) desc, 1 limit 200",
        (today.isoformat(), *values))
    return [Outcome(row[0], row[1], row[2], row[3] or 0, row[4] or 0, row[5]) for row in rows]


# Writing ---------------------------------------------------------------------------------------

async def create(tx: Transaction, board: Board, author: User, new: NewRequest, review: str,
                 file_ids: Sequence[int] = ()) -> int:
    """Store a request (published or pending), its first event and its letter's copy."""
    now = clock.now()
    refusal_on, _counted = rules.implicit_refusal_on(new.sent_on, new.received_on)
    request_id = await tx.insert(
        "insert into records_requests (board_id, author_id, administration, documents,"
        " channel, sent_on, received_on, status, status_on, refusal_on, review, created_at,"
        " published_at) values (?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?, ?) returning id",
        (board.id, author.id, new.administration, new.documents, new.channel,
         new.sent_on.isoformat(), _iso(new.received_on), new.sent_on.isoformat(),
         refusal_on.isoformat(), review, now, now if review == "published" else None))
    event_id = await tx.insert(
        "insert into request_events (request_id, status, happened_on, author_id, created_at)"
        " values (?, 'sent', ?, ?, ?) returning id",
        (request_id, new.sent_on.isoformat(), author.id, now))
    await attach(tx, request_id, author, list(file_ids), "letter", event_id)
    changed(tx, request_id, board.id)
    return request_id


async def change_status(tx: Transaction, request: Request, actor: User, status: str,
                        day: date, note: str, file_ids: Sequence[int] = ()
                        ) -> int:
    """Record a status (checked by check_change) and the documents received with it."""
    now = clock.now()
    event_id = await tx.insert(
        "insert into request_events (request_id, status, happened_on, note, author_id,"
        " created_at) values (?, ?, ?, ?, ?, ?) returning id",
        (request.id, status, day.isoformat(), note, actor.id, now))
    # The latest status by date (then by entry) is the request's own.
    latest = await tx.one("select status, happened_on from request_events where request_id = ?"
                          " order by happened_on desc, id desc limit 1", (request.id,))
    assert latest is not None
    await tx.execute("update records_requests set status = ?, status_on = ? where id = ?",
                     (latest["status"], latest["happened_on"], request.id))
    await attach(tx, request.id, actor, list(file_ids), "document", event_id)
    changed(tx, request.id, request.board_id)
    return event_id


async def attach(tx: Transaction, request_id: int, actor: User, file_ids: list[int],
                 role: str, event_id: int | None) -> None:
    """Give the request these files of the actor's, not attached to anything yet."""
    ids = list(dict.fromkeys(file_ids))
    if not ids:
        return
    if len(ids) > FILES_MAX:
        raise Invalid("At most %(max)s files at once.", field="files", max=FILES_MAX)
    marks = ", ".join("?" * len(ids))
    free = await tx.value(
        f"select count(*) from uploads where id in ({marks}) and owner_id = ?"
        " and not exists (select 1 from post_attachments where upload_id = uploads.id)"
        " and not exists (select 1 from request_files where upload_id = uploads.id)",
        (*ids, actor.id))
    if free != len(ids):
        raise UnknownReference("Some of these files do not exist or are not yours to attach.",
                               field="files")
    position = int(await tx.value("select count(*) from request_files where request_id = ?",
                                  (request_id,)))
    for offset, upload_id in enumerate(ids):
        await tx.execute("insert into request_files (request_id, upload_id, role, event_id,"
                         " position) values (?, ?, ?, ?, ?)",
                         (request_id, upload_id, role, event_id, position + offset))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def changed(tx: Transaction, request_id: int, board_id: int) -> None:
    """The cached pages showing this request: its own, its city's list, the national one."""
    tx.changed("request", request_id)
    tx.changed("requests", board_id)
    tx.changed("requests", None)


async def approve(tx: Transaction, request: Request, moderator: User) -> None:
    decided = await tx.update(
        "update records_requests set review = 'published', decided_by = ?, decided_at = ?,"
        " published_at = ? where id = ? and review = 'pending'",
        (moderator.id, clock.now(), clock.now(), request.id))
    if not decided:
        raise Conflict("This request is not awaiting moderation.")
    await moderation.log(tx, moderator, "approve", "request", request.id, request.board_id)
    await notifications.add(tx, request.author_id, "request_approved", actor_id=moderator.id,
                            request_id=request.id)
    changed(tx, request.id, request.board_id)


async def reject(tx: Transaction, request: Request, moderator: User, reason: str,
                 private: bool = False) -> None:
    reason = moderation.clean_reason(reason)
    decided = await tx.update(
        "update records_requests set review = 'rejected', decided_by = ?, decided_at = ?,"
        " reject_reason = ? where id = ? and review = 'pending'",
        (moderator.id, clock.now(), reason, request.id))
    if not decided:
        raise Conflict("This request is not awaiting moderation.")
    await moderation.log(tx, moderator, "reject", "request", request.id, request.board_id,
                         reason, private=private)
    await notifications.add(tx, request.author_id, "request_rejected", actor_id=moderator.id,
                            text=reason, request_id=request.id)
    changed(tx, request.id, request.board_id)


# Deadlines passing: the periodic job (views/requests.py runs it) ------------------------------

DEADLINE_KINDS = ("implicit_refusal", "cada_referral", "cada_opinion", "administration_reply")
OPEN_STATUSES = ("sent", "refused", "answered_part", "cada_referral", "cada_favourable",
                 "cada_unfavourable")


async def notify_deadlines(tx: Transaction, today: date) -> int:
    """Tell the requester, and the city's followers if the request is public, of every
    deadline now over; each deadline once (request_deadline_notices). How many were told."""
    marks = ", ".join("?" * len(OPEN_STATUSES))
    rows = await tx.all(f"{SELECT} where r.status in ({marks}) and r.review <> 'rejected'"
                        " and r.refusal_on < ?", (*OPEN_STATUSES, today.isoformat()))
    told = 0
    for request in map(_request, rows):
        for name, day in rules.passed(request.deadlines(), request.status, today):
            new = await tx.update(
                "insert or ignore into request_deadline_notices (request_id, deadline, due_on,"
                " notified_at) values (?, ?, ?, ?)",
                (request.id, name, day.isoformat(), clock.now()))
            if new:
                told += await _tell_deadline(tx, request, name)
                changed(tx, request.id, request.board_id)  # its shown status may change too
    return told


async def _tell_deadline(tx: Transaction, request: Request, name: str) -> int:
    now = clock.now()
    kind, text = f"request_{name}", request.administration  # NOTIFICATION_LINES' kinds
    told = await tx.update(
        "insert into notifications (user_id, kind, request_id, text, created_at)"
        " values (?, ?, ?, ?, ?)", (request.author_id, kind, request.id, text, now))
    if request.is_public:
        told += await tx.update(
            "insert into notifications (user_id, kind, request_id, text, created_at)"
            " select user_id, ?, ?, ?, ? from follows where target_kind ="
            " 'board' and target_id = ? and mode = 'follow' and user_id <> ?",
            (kind, request.id, text, now, request.board_id, request.author_id))
    return told
