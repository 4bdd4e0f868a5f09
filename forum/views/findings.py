"""A finding's page; proposing, correcting and deleting one; the moderators' decisions on it.

The rules of input live in models/finding_drafts.py: a refused field shows the form again,
filled in as sent, with the message beside that field.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from itertools import zip_longest
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from forum import keys, watch
from forum.db import Conn
from forum.errors import Forbidden, Invalid, NotFound
from forum.i18n import N_, gettext, ngettext
from forum.models import (
    boards,
    finding_actions,
    finding_drafts,
    findings,
    moderation,
    posts,
    threads,
    uploads,
)
from forum.models.finding_drafts import RawFinding
from forum.models.findings import Finding, Revision, Source
from forum.models.users import User
from forum.permissions import can
from forum.templating import render
from forum.views import (
    back_to_next,
    check_rate,
    decision_reason,
    form_error,
    int_param,
    publication_status,
    require_writer,
    see_other,
    text_field,
    url_for,
)
from forum.views.requests import document_source

FIELDS = ("kind", "quantity", "unit", "scope", "observed", "status", "place", "latitude",
          "longitude", "note")
DEFAULTS = {"unit": "count", "status": "in-use"}
LINK_ROWS = 3  # rows of web addresses a form offers at least
# The question of the form, answered in the members' words (findings.SCOPES' order).
SCOPE_CHOICES = (
    ("total", N_("Yes: the total for the whole city at that date")),
    ("change", N_("No: a change, equipment added or removed at that date (-3 for three"
                  " removed)")),
    ("part", N_("No: a part, one place, district or contract")),
)


@dataclass
class FindingForm:
    """What a finding form shows: the fields as typed, the sources offered and those ticked."""
    fields: dict[str, str]
    choices: list[Source]  # public messages and files that may be ticked as sources
    posts: set[int] = field(default_factory=set)
    files: set[int] = field(default_factory=set)
    links: list[tuple[str, str]] = field(default_factory=list)

    @property
    def link_rows(self) -> list[tuple[str, str]]:
        """The links given, then empty rows: always at least one to add a source."""
        return self.links + [("", "")] * max(LINK_ROWS - len(self.links), 1)


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


# Reading a form --------------------------------------------------------------------------------

def _strings(form: MultiDictProxy, name: str) -> list[str]:
    return [value for value in form.getall(name, []) if isinstance(value, str)]


def _ids(form: MultiDictProxy, name: str) -> list[int]:
    return [int(value) for value in _strings(form, name)
            if value.isascii() and value.isdigit() and len(value) <= 18]


def _links(form: MultiDictProxy) -> list[tuple[str, str]]:
    """The (address, label) rows of the form, empty ones left out."""
    rows = zip_longest(_strings(form, "source_url"), _strings(form, "source_label"),
                       fillvalue="")
    return [(url, label) for url, label in rows if url.strip() or label.strip()]


def _raw(form: MultiDictProxy) -> RawFinding:
    return RawFinding(**{name: text_field(form, name) for name in FIELDS},
                      posts=_strings(form, "posts"), files=_strings(form, "files"),
                      links=_links(form))


async def _public_post(conn: Conn, post_id: int) -> tuple[posts.Post, str] | None:
    """A message everyone may read, with its thread's title; None for any other."""
    try:
        post = await posts.get(conn, post_id)
    except NotFound:
        return None
    if not can(None, "see_post", post) or post.is_deleted:
        return None
    return post, (await threads.get(conn, post.thread_id)).title


async def _choices(conn: Conn, post_ids: list[int], file_ids: list[int]) -> list[Source]:
    """The messages and files a form offers as sources: only public ones, with their names."""
    offered = []
    for post_id in list(dict.fromkeys(post_ids))[:finding_drafts.SOURCES_MAX]:
        if found := await _public_post(conn, post_id):
            offered.append(Source("post", post_id=post_id, thread_title=found[1]))
    for upload_id in list(dict.fromkeys(file_ids))[:finding_drafts.SOURCES_MAX]:
        post_id = await uploads.post_of(conn, upload_id)
        found = await _public_post(conn, post_id) if post_id else None
        if found:
            upload = await uploads.get(conn, upload_id)
            offered.append(Source("file", post_id=post_id, upload_id=upload_id,
                                  thread_title=found[1], filename=upload.filename))
    return offered


async def _sent(conn: Conn, form: MultiDictProxy, posts_: list[int],
                files: list[int]) -> FindingForm:
    """The form as sent, to show again; `posts_` and `files` are offered whatever was ticked."""
    ticked_posts, ticked_files = _ids(form, "posts"), _ids(form, "files")
    return FindingForm({name: text_field(form, name) for name in FIELDS},
                       await _choices(conn, posts_ + ticked_posts, files + ticked_files),
                       set(ticked_posts), set(ticked_files), _links(form))


def _form_of(finding: Finding, choices: list[Source]) -> FindingForm:
    """A form filled from a finding, to correct it."""
    values = {"kind": finding.kind_slug, "quantity": watch.number_text(finding.quantity),
              "unit": finding.unit or DEFAULTS["unit"], "scope": finding.scope or "",
              "observed": finding.observed,
              "status": finding.status, "place": finding.place,
              "latitude": watch.number_text(finding.latitude),
              "longitude": watch.number_text(finding.longitude),
              "note": finding.note}
    return FindingForm(values, choices,
                       {s.post_id for s in finding.sources if s.kind == "post" and s.post_id},
                       {s.upload_id for s in finding.sources if s.kind == "file" and s.upload_id},
                       [(s.url or "", s.label) for s in finding.sources if s.kind == "link"])


async def _form_context(conn: Conn, form: FindingForm) -> dict[str, Any]:
    """What every finding form needs besides its values: the menus and the limits."""
    return {
        "form": form, "errors": {}, "kinds": await findings.kinds(conn),
        "statuses": [(status, findings.STATUS_LABELS[status]) for status in findings.STATUSES],
        "units": [(unit, findings.UNIT_LABELS[unit]) for unit in findings.UNITS],
        "scopes": SCOPE_CHOICES,
        "limits": {"place": finding_drafts.PLACE_MAX, "note": finding_drafts.NOTE_MAX,
                   "url": finding_drafts.URL_MAX, "label": finding_drafts.LABEL_MAX},
    }


# Proposing and correcting ----------------------------------------------------------------------

async def propose(request: web.Request) -> web.Response:
    """GET: the form, maybe drawn from a message (?post=12); POST: store the finding."""
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    sent = await request.post() if request.method == "POST" else None
    async with request.app[keys.DB].read() as conn:
        board = await boards.get_readable(conn, request.match_info["slug"], user)
        if not board.is_city:
            raise NotFound()
        if not can(user, "propose_finding", board):
            raise Forbidden()
        source = await _source_post(conn, request.query.get("post", ""))
        offered_posts = [source[0].id] if source else []
        offered_files = ([upload.id for upload in await uploads.for_post(conn, source[0].id)]
                         if source else [])
        if sent is None:
            form = FindingForm(dict.fromkeys(FIELDS, "") | DEFAULTS,
                               await _choices(conn, offered_posts, offered_files),
                               set(offered_posts))
            # A document obtained through a records request (?document=ID): its address.
            form.links = await document_source(conn, config.base_url,
                                               request.query.get("document", ""))
        else:
            form = await _sent(conn, sent, offered_posts, offered_files)
        context = await _form_context(conn, form)
    review = publication_status(request, user, board.id, board.moderation_mode)
    context.update(board=board, will_wait=review == "pending",
                   source=source[0] if source else None, source_title=source[1] if source else "",
                   action=url_for(request, "propose_finding",
                                  {"post": source[0].id} if source else None, slug=board.slug))
    if sent is None:
        return render(request, "findings/new.html", context, form=True)
    try:
        async with request.app[keys.DB].transaction() as tx:
            draft = await finding_drafts.check(tx, board, _raw(sent), date.today())
            check_rate(request, f"finding:{user.id}", config.posts_per_minute, 60,
                       "You are adding findings too fast. Please wait a minute.")
            finding_id = await findings.create(tx, board, user, draft, review)
    except Invalid as error:
        if error.field == "scope" and source and form.fields["place"].strip() \
                and not form.fields["scope"]:
            # Drawn from a message about one place: most likely a part of the city's
            # equipment. Suggested, not stored: the member confirms by sending again.
            form.fields["scope"] = findings.PART
            error = Invalid("You gave a place: is this figure only for that place? “Part”"
                            " is now chosen; check it and send the form again.",
                            field="scope")
        return form_error(request, "findings/new.html", context, error)
    raise see_other(url_for(request, "finding", id=finding_id))


async def _source_post(conn: Conn, raw: str) -> tuple[posts.Post, str] | None:
    """?post=12: the message a finding is drawn from, if it is public."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        return None
    return await _public_post(conn, int(raw))


async def edit(request: web.Request) -> web.Response:
    """Correct a finding: a new version, kept beside the earlier ones with its reason."""
    user = require_writer(request)
    finding = await _visible_finding(request, user)
    if not can(user, "edit_finding", finding):
        raise Forbidden("You may not correct this finding.")
    sent = await request.post() if request.method == "POST" else None
    async with request.app[keys.DB].read() as conn:
        # The member goes on from their correction that waits, if there is one.
        current, waiting = await _as_waiting(conn, finding)
        offered_posts = [s.post_id for s in current.sources if s.kind == "post" and s.post_id]
        offered_files = [s.upload_id for s in current.sources
                         if s.kind == "file" and s.upload_id]
        if sent is None:
            form = _form_of(current, await _choices(conn, offered_posts, offered_files))
        else:
            form = await _sent(conn, sent, offered_posts, offered_files)
        context = await _form_context(conn, form)
    context.update(finding=finding, edit_pending=waiting is not None,
                   reason=text_field(sent, "reason") if sent else (
                       waiting.reason if waiting else ""),
                   # Sources no longer public cannot be kept: the member is told they go.
                   dropped=sum(1 for s in finding.sources if not s.public))
    if sent is None:
        return render(request, "findings/edit.html", context, form=True)
    try:
        async with request.app[keys.DB].transaction() as tx:
            # Where a new finding would wait, so does a correction of a public one.
            await finding_actions.correct(tx, finding.id, user, _raw(sent), context["reason"],
                                          request.app[keys.CONFIG].trust_threshold)
    except Invalid as error:
        return form_error(request, "findings/edit.html", context, error)
    raise see_other(url_for(request, "finding", id=finding.id))


async def _as_waiting(conn: Conn, finding: Finding) -> tuple[Finding, Revision | None]:
    """The finding as the correction that waits on it would make it, and that correction."""
    waiting = await findings.pending_edit(conn, finding.id)
    if waiting is None:
        return finding, None
    draft = waiting.draft()
    slugs = {kind.id: kind.slug for kind in await findings.kinds(conn, merged=True)}
    return replace(finding, kind_id=draft.kind_id,
                   kind_slug=slugs.get(draft.kind_id, finding.kind_slug),
                   quantity=draft.quantity, unit=draft.unit, scope=draft.scope,
                   observed=draft.observed,
                   status=draft.status, place=draft.place, latitude=draft.latitude,
                   longitude=draft.longitude, note=draft.note, sources=draft.sources), waiting


async def delete(request: web.Request) -> web.Response:
    """GET: ask for confirmation (and a reason from a moderator); POST: leave a tombstone."""
    user = require_writer(request)
    finding = await _visible_finding(request, user)
    if not can(user, "delete_finding", finding):
        raise Forbidden("You may not delete this finding.")
    context = {"finding": finding, "reason": "", "errors": {},
               "reason_required": user.id != finding.author_id}
    if request.method != "POST":
        return render(request, "findings/delete.html", context, form=True)
    form = await request.post()
    context["reason"] = text_field(form, "reason")
    try:
        async with request.app[keys.DB].transaction() as tx:
            await finding_actions.withdraw(tx, finding.id, user, context["reason"])
    except Invalid as error:
        return form_error(request, "findings/delete.html", context, error)
    raise see_other(url_for(request, "city_watch", slug=finding.board_slug))


# The finding's page ----------------------------------------------------------------------------

async def _visible_finding(request: web.Request, viewer: User | None) -> Finding:
    """The finding named in the URL; 404 for whoever may not see it."""
    async with request.app[keys.DB].read() as conn:
        finding = await findings.get(conn, int_param(request, "id"))
    if not can(viewer, "see_finding", finding):
        raise NotFound()
    return finding


async def show(request: web.Request) -> web.Response:
    viewer = request.get(keys.USER)
    finding = await _visible_finding(request, viewer)
    # Versions never public (waiting, refused, corrected) only for its author and moderators.
    private = can(viewer, "see_private_versions", finding)
    async with request.app[keys.DB].read() as conn:
        history = await findings.revisions(conn, finding.id, private=private)
        kind_labels = {kind.id: kind.label for kind in await findings.kinds(conn, merged=True)}
        waiting = await findings.pending_edit(conn, finding.id) if private else None
        doubts = (await findings.doubts_about(conn, finding, waiting)
                  if can(viewer, "moderate", finding) and not finding.is_deleted
                  and (finding.review == "pending" or waiting) else [])
    if viewer is None and finding.is_public:
        # The sources show their threads' titles: a thread renamed or hidden drops the page.
        request[keys.CACHE_TAGS] = {("finding", finding.id), ("board_meta", finding.board_id),
                                    *(("thread", source.thread_id) for source in finding.sources
                                      if source.thread_id)}
    return render(request, "findings/show.html", {
        "finding": finding, "versions": versions(history, kind_labels), "private": private,
        "pending_edit": waiting, "reasons": moderation.REJECT_REASONS, "doubts": doubts,
        "candidate": _as_waiting_of(finding, waiting) if doubts else finding})


def _as_waiting_of(finding: Finding, waiting: Revision | None) -> Finding:
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
            _as_waiting_of(finding, waiting)))
    return found


def versions(history: list[Revision], kind_labels: dict[int, str]) -> list[Version]:
    """Each version of a finding with the fields it changed, oldest first."""
    found: list[Version] = []
    before: dict[str, str] | None = None
    for number, revision in enumerate(history, start=1):
        if revision.state == findings.PURGED:  # nothing left to compare
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


# Moderators' decisions -------------------------------------------------------------------------

async def _to_moderate(request: web.Request) -> tuple[User, Finding, MultiDictProxy]:
    """The finding named in the URL, if this moderator may act on it (404 if they may not see
    it), and the form sent."""
    user = require_writer(request)
    finding = await _visible_finding(request, user)
    if not can(user, "moderate", finding):
        raise Forbidden("You do not moderate this board.")
    return user, finding, await request.post()


async def approve(request: web.Request) -> web.Response:
    user, finding, form = await _to_moderate(request)
    async with request.app[keys.DB].transaction() as tx:
        # Read again in the transaction: another moderator may have decided meanwhile.
        await findings.approve(tx, await findings.get(tx, finding.id), user,
                               confirmed=form.get("confirm") == "1")
    raise back_to_next(form, url_for(request, "finding", id=finding.id))


async def reject(request: web.Request) -> web.Response:
    user, finding, form = await _to_moderate(request)
    async with request.app[keys.DB].transaction() as tx:
        await findings.reject(tx, await findings.get(tx, finding.id), user,
                              decision_reason(form), private=bool(form.get("private")))
    raise back_to_next(form, url_for(request, "finding", id=finding.id))


async def restore(request: web.Request) -> web.Response:
    user, finding, form = await _to_moderate(request)
    async with request.app[keys.DB].transaction() as tx:
        await finding_actions.restore(tx, finding.id, user, text_field(form, "reason"))
    raise back_to_next(form, url_for(request, "finding", id=finding.id))


async def purge(request: web.Request) -> web.Response:
    """Erase a version of a finding that must disappear; 404 for whoever may not purge it."""
    user = require_writer(request)
    revision_id = int_param(request, "revision")
    finding = await _visible_finding(request, user)
    if not can(user, "purge", finding):
        raise NotFound()
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await findings.purge_version(tx, await findings.get(tx, finding.id), user, revision_id)
    raise back_to_next(form, url_for(request, "finding", id=finding.id))
