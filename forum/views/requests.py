"""Records requests in pages: a city's list, the national list with outcomes per administration,
one request's timeline, recording one (with a ready letter to copy), its status changes, the
moderators' decisions, the exports, and the periodic job telling deadlines that passed.

Input rules live in models/requests.py: a refused field shows the form again, filled in as
sent, with the message beside that field (422), and nothing is stored.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from aiohttp import web

from forum import keys, periodic
from forum.clock import today
from forum.db import Conn
from forum.errors import Forbidden, Invalid, NotFound
from forum.i18n import gettext
from forum.models import boards, drops, moderation, request_drafts, uploads
from forum.models import requests as records
from forum.models.boards import Board
from forum.models.requests import Filters, Request
from forum.models.users import User
from forum.permissions import can
from forum.templating import render
from forum.views import (
    back_to_next,
    check_rate,
    decision_reason,
    form_error,
    int_param,
    named_in_url,
    page_number,
    publication_status,
    require_writer,
    see_other,
    text_field,
    url_for,
)
from forum.views.uploads import read_post_form

log = logging.getLogger("forum")
NEW_FIELDS = ("administration", "documents", "channel", "sent_on", "received_on")
STATUS_FIELDS = ("status", "happened_on", "note")
CHECK_INTERVAL = 600  # seconds between two rounds of the deadline job


# Lists -----------------------------------------------------------------------------------------

async def city_of(conn: Conn, request: web.Request, route: str) -> Board:
    """The city of the path; a former address redirects, a board that is no city is 404."""
    slug = request.match_info["slug"]
    board = await boards.get_by_slug(conn, slug)
    if not board.is_city:
        raise NotFound()
    if board.slug != slug:
        moved = request.app.router[route].url_for(**{**request.match_info, "slug": board.slug})
        raise web.HTTPMovedPermanently(str(moved))
    return board


def _status_filter(request: web.Request) -> str | None:
    raw = request.query.get("status", "")
    if not raw:
        return None
    if raw not in records.SHOWN_STATUSES:
        raise NotFound()
    return raw


async def city(request: web.Request) -> web.Response:
    """GET /b/{slug}/requests: the city's requests, newest first, with their outcomes."""
    viewer = request.get(keys.USER)
    page, status, day = page_number(request), _status_filter(request), today()
    async with request.app[keys.DB].read() as conn:
        board = await city_of(conn, request, "city_requests")
        found = await records.page_of(conn, viewer, Filters(board_id=board.id, status=status),
                                      day, page)
        outcomes = await records.outcomes(conn, day, board.id)
    if viewer is None:
        request[keys.CACHE_TAGS] = {("requests", board.id), ("board_meta", board.id)}
    return render(request, "requests/city.html", {
        "board": board, "outcomes": outcomes, "status": status, **_listed(found, day),
        "may_record": can(viewer, "record_request", board)})


async def national(request: web.Request) -> web.Response:
    """GET /requests: every city's requests, and how each administration answered."""
    viewer = request.get(keys.USER)
    page, status, day = page_number(request), _status_filter(request), today()
    async with request.app[keys.DB].read() as conn:
        found = await records.page_of(conn, viewer, Filters(status=status), day, page)
        outcomes = await records.outcomes(conn, day)
    if viewer is None:
        request[keys.CACHE_TAGS] = {("requests", None), ("boards", None)}
    return render(request, "requests/national.html", {
        "outcomes": outcomes, "status": status, **_listed(found, day)})


def _listed(found: records.Page, day: date) -> dict[str, Any]:
    return {"items": found.items, "page": found.page, "pages": found.pages,
            "total": found.total, **_labels(day)}


def _labels(day: date) -> dict[str, Any]:
    return {"today": day, "status_labels": records.STATUS_LABELS,
            "channel_labels": records.CHANNEL_LABELS, "statuses": records.SHOWN_STATUSES}


# One request -----------------------------------------------------------------------------------

async def show(request: web.Request) -> web.Response:
    """GET /r/{id}: the request, its timeline, its deadlines, its files, its letter."""
    viewer = request.get(keys.USER)
    found = await named_in_url(request, records.visible, viewer)
    return await _show(request, viewer, found, {}, {})


async def _show(request: web.Request, viewer: User | None, found: Request,
                fields: dict[str, str], errors: dict[str, str],
                status: int = 200) -> web.Response:
    async with request.app[keys.DB].read() as conn:
        timeline = await records.events(conn, found.id)
        files = await records.files(conn, found.id)
        board = await boards.get(conn, found.board_id)
    may_update = can(viewer, "update_request", found)
    if viewer is None and found.is_public:
        request[keys.CACHE_TAGS] = {("request", found.id), ("board_meta", found.board_id)}
    day = today()
    return render(request, "requests/show.html", {
        "item": found, "board": board, "events": timeline, "files": files,
        "deadlines": found.deadlines(), "shown_status": found.shown_status(day),
        "letter": letter(board, found.administration, found.documents),
        "may_update": may_update, "may_moderate": can(viewer, "moderate", found)
        and found.review == "pending", "reasons": moderation.REJECT_REASONS,
        "fields": fields or {"status": "", "happened_on": day.isoformat(), "note": ""},
        "errors": errors, "record_statuses": records.STATUSES,
        "base_url": request.app[keys.CONFIG].base_url, **_labels(day)},
        status=status, form=may_update)


async def change_status(request: web.Request) -> web.Response:
    """POST /r/{id}/status: a new status with its date, a note, the documents received."""
    user = require_writer(request)
    found = await named_in_url(request, records.visible, user)
    if not can(user, "update_request", found):
        raise Forbidden("You may not update this request.")
    form = await read_post_form(request, user)
    fields = {name: _field(form.fields, name) for name in STATUS_FIELDS}
    await check_rate(request, f"request:{user.id}", request.app[keys.CONFIG].posts_per_minute, 60,
                     "You are recording requests too fast. Please wait a minute.")
    if form.errors:
        return await _show(request, user, found, fields, {"files": "\n".join(form.errors)}, 422)
    try:
        async with request.app[keys.DB].transaction() as tx:
            current = await records.get(tx, found.id)
            status, day, note = request_drafts.check_change(current, fields["status"],
                                                     fields["happened_on"], fields["note"],
                                                     today())
            await records.change_status(tx, current, user, status, day, note,
                                        form.attachment_ids)
    except Invalid as error:
        message = _message(error)
        return await _show(request, user, found, fields, {error.field or "form": message}, 422)
    raise see_other(url_for(request, "request", id=found.id))


def _field(fields: Any, name: str) -> str:
    return text_field(fields, name)


def _message(error: Invalid) -> str:
    return gettext(error.message, **error.params)


# Recording a request ---------------------------------------------------------------------------

async def new(request: web.Request) -> web.Response:
    """GET: the form; POST with `letter`: the same form with the letter to copy; POST: store."""
    user = require_writer(request)
    async with request.app[keys.DB].read() as conn:
        board = await city_of(conn, request, "new_request")
    if not can(user, "record_request", board):
        raise Forbidden()
    review = publication_status(request, user, board.id, board.moderation_mode)
    context: dict[str, Any] = {
        "board": board, "errors": {}, "will_wait": review == "pending", "letter": "",
        "fields": dict.fromkeys(NEW_FIELDS, "") | {"channel": "mail",
                                                   "sent_on": today().isoformat()},
        "kept_files": [], "channels": records.CHANNELS, "channel_labels": records.CHANNEL_LABELS,
        "limits": {"administration": records.ADMINISTRATION_MAX,
                   "documents": records.DOCUMENTS_MAX}}
    if request.method != "POST":
        context["letter"] = letter(board, "", "")
        return render(request, "requests/new.html", context, form=True)
    form = await read_post_form(request, user)
    context["fields"] = {name: _field(form.fields, name) for name in NEW_FIELDS}
    context["kept_files"] = await _kept(request, user, form.attachment_ids)
    if form.errors:
        context["errors"] = {"files": "\n".join(form.errors)}
        return render(request, "requests/new.html", context, status=422, form=True)
    if form.fields.get("letter"):  # "Prepare the letter": nothing stored
        fields = context["fields"]
        context["letter"] = letter(board, fields["administration"], fields["documents"])
        return render(request, "requests/new.html", context, form=True)
    try:
        async with request.app[keys.DB].transaction() as tx:
            checked = request_drafts.check_new(context["fields"], today())
            await check_rate(request, f"request:{user.id}",
                             request.app[keys.CONFIG].posts_per_minute, 60,
                             "You are recording requests too fast. Please wait a minute.")
            request_id = await records.create(tx, board, user, checked, review,
                                              [f.id for f in context["kept_files"]])
    except Invalid as error:
        context["letter"] = letter(board, context["fields"]["administration"],
                                   context["fields"]["documents"])
        return form_error(request, "requests/new.html", context, error)
    raise see_other(url_for(request, "request", id=request_id))


async def _kept(request: web.Request, user: User, ids: list[int]) -> list[Any]:
    """The files this form carries that are the member's and attached to nothing."""
    async with request.app[keys.DB].read() as conn:
        return await uploads.attachable(conn, user.id, ids)


# The letter: French, whatever the interface's language (it goes to a French administration).
LETTER = """{administration}
{city}

Objet : demande de communication de documents administratifs

Madame, Monsieur,

En application des articles L. 300-1 et L. 311-1 et suivants du code des relations entre le
public et l'administration (CRPA), je vous demande de bien vouloir me communiquer les documents
suivants :

{documents}

Je souhaite les recevoir par courrier électronique, sous forme de fichiers, lorsqu'ils existent
sous cette forme (article L. 311-9 du CRPA). Si certains contiennent des mentions qui ne peuvent
être communiquées, je vous remercie de les occulter et de me transmettre le reste
(article L. 311-7).

Sans réponse de votre part dans le délai d'un mois à compter de la réception de cette demande,
votre silence vaudra refus (articles R. 311-12 et R. 311-13 du CRPA) ; je pourrai alors saisir
la Commission d'accès aux documents administratifs (CADA) dans les deux mois (article R. 343-1).

Je vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées.

[Vos nom, adresse et adresse électronique]
[Date et signature]
"""


def letter(board: Board, administration: str, documents: str) -> str:
    """The ready letter for this request, to copy: text, not a service that sends it."""
    lines = [line.strip(" -•*\t") for line in documents.splitlines()]
    listed = "\n".join(f"- {line}" for line in lines if line) or "- [les documents demandés]"
    return LETTER.format(administration=administration or f"Mairie de {board.name}",
                         city=board.name, documents=listed)


# A document received as a finding's source -----------------------------------------------------

async def document_source(conn: Conn, base_url: str, raw: str) -> list[tuple[str, str]]:
    """?document=ID on the finding form: a public request's document, as the (address, label)
    of a source link; nothing for any other id. The finding cites it by its address, so
    models/findings/ needs no new kind of source."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        return []
    request_id = await records.request_of_file(conn, int(raw))
    if request_id is None or not (await records.get(conn, request_id)).is_public:
        return []
    found = next((f for f in await records.files(conn, request_id)
                  if f.upload_id == int(raw) and f.role == "document"), None)
    if found is None:
        return []
    return [(f"{base_url}/files/{found.upload_id}/{found.filename}",
             f"{found.filename} (/r/{request_id})")]


# Moderation ------------------------------------------------------------------------------------

async def queue(request: web.Request) -> web.Response:
    """GET /moderation/requests: requests waiting in this moderator's cities."""
    user = require_writer(request)
    if not can(user, "moderate_any"):
        raise NotFound()
    async with request.app[keys.DB].read() as conn:
        waiting = await records.pending(conn, user)
        drops_waiting = await drops.awaiting_count(conn, drops.scope_of(user))  # the tabs
    return render(request, "requests/queue.html", {
        "items": waiting, "reasons": moderation.REJECT_REASONS, "drops_waiting": drops_waiting,
        **_labels(today())}, form=True)


async def approve(request: web.Request) -> web.Response:
    """POST /moderation/requests/{id}/approve (the API's twin: api/requests.py)."""
    user, request_id = require_writer(request), int_param(request, "id")
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await records.approve(tx, await records.to_moderate(tx, request_id, user), user)
    raise back_to_next(form, url_for(request, "moderation_requests"))


async def reject(request: web.Request) -> web.Response:
    """POST /moderation/requests/{id}/reject: a reason picked or written; the author is told."""
    user, request_id = require_writer(request), int_param(request, "id")
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await records.reject(tx, await records.to_moderate(tx, request_id, user), user,
                             decision_reason(form), private=bool(form.get("private")))
    raise back_to_next(form, url_for(request, "moderation_requests"))


# The deadline job ------------------------------------------------------------------------------

async def tell_deadlines(app: web.Application) -> int:
    """One round: every deadline over since the last, told once (see models/requests.py)."""
    async with app[keys.DB].transaction() as tx:
        return await records.notify_deadlines(tx, today())


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(periodic.every(CHECK_INTERVAL, tell_deadlines,
                                          "telling records requests' deadlines"))
