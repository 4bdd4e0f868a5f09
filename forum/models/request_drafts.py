"""The input rules of records requests (models/requests.py): a new request's fields and a
status change, checked before anything is stored; Invalid names the field at fault."""
from __future__ import annotations

from datetime import date

from forum.errors import Contradiction, Invalid
from forum.models.requests import (
    ADMINISTRATION_MAX,
    CHANNELS,
    DOCUMENTS_MAX,
    IMPLICIT_REFUSAL,
    NOTE_MAX,
    RANK,
    STATUS_LABELS,
    STATUSES,
    NewRequest,
    Request,
)
from forum.text import clean_line


def check_date(raw: str, field: str, today: date, required: bool = True) -> date | None:
    """A day as YYYY-MM-DD, not in the future."""
    raw = (raw or "").strip()
    if not raw:
        if required:
            raise Invalid("Give the date (year-month-day).", field=field)
        return None
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None or day.year < 1900:
        raise Invalid("This is not a date: write it as 2026-03-31.", field=field)
    if day > today:
        # A contradiction with today, which no schema can know (409 in the API).
        raise Contradiction("This date is in the future: a request is recorded once it"
                            " happened.", field=field)
    return day


def _text(raw: str, field: str, limit: int, required_message: str) -> str:
    text = clean_line(raw or "")
    if not text:
        raise Invalid(required_message, field=field)
    if len(text) > limit:
        raise Invalid("This field is too long (at most %(max)s characters).", field=field,
                      max=limit)
    return text


def check_new(raw: dict[str, str], today: date) -> NewRequest:
    """The fields of a new request, or Invalid naming the first one at fault."""
    administration = _text(raw.get("administration", ""), "administration", ADMINISTRATION_MAX,
                           "Name the administration you asked (e.g. Mairie de Metz).")
    documents = (raw.get("documents") or "").strip()
    if not documents:
        raise Invalid("List the documents you asked for.", field="documents")
    if len(documents) > DOCUMENTS_MAX:
        raise Invalid("This field is too long (at most %(max)s characters).", field="documents",
                      max=DOCUMENTS_MAX)
    channel = raw.get("channel", "")
    if channel not in CHANNELS:
        raise Invalid("Choose how the request was sent.", field="channel")
    sent_on = check_date(raw.get("sent_on", ""), "sent_on", today)
    assert sent_on is not None
    received_on = check_date(raw.get("received_on", ""), "received_on", today, required=False)
    if received_on is not None and received_on < sent_on:
        raise Contradiction("The administration cannot have received it before it was sent.",
                            field="received_on")
    return NewRequest(administration, documents, channel, sent_on, received_on)


def check_change(request: Request, status: str, raw_day: str, note: str,
                 today: date) -> tuple[str, date, str]:
    """A status change: a known status, a past date not before the request was sent; going
    back (a lower step, or a date before the current status's) needs a reason."""
    if status == IMPLICIT_REFUSAL:
        raise Invalid("The implicit refusal is computed from the date sent: record the"
                      " administration's answer, a refusal or a referral instead.",
                      field="status")
    if status not in STATUSES:
        raise Invalid("Unknown status.", field="status")
    day = check_date(raw_day, "happened_on", today)
    assert day is not None
    if day < date.fromisoformat(request.sent_on):
        raise Contradiction("This date is before the request was sent.", field="happened_on")
    note = clean_line(note or "")
    if len(note) > NOTE_MAX:
        raise Invalid("This field is too long (at most %(max)s characters).", field="note",
                      max=NOTE_MAX)
    current = request.shown_status(today)
    backwards = (RANK[status] < RANK[current]
                 or day < date.fromisoformat(request.status_on))
    if backwards and not note:
        raise Contradiction("This status goes back from “%(current)s”: say why in the note (an"
                            " earlier record was wrong, a new request…).", field="note",
                            current=STATUS_LABELS[current])
    return status, day, note
