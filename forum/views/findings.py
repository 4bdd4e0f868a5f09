"""A finding's page; proposing, correcting and deleting one; the moderators' decisions on it.

The rules of input live in models/finding_drafts.py: a refused field shows the form again,
filled in as sent, with the message beside that field (views/finding_forms.py reads and fills
the form; views/finding_history.py shows the versions).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from forum import keys
from forum.db import Conn
from forum.errors import Forbidden, Invalid, NotFound
from forum.models import (
    boards,
    finding_actions,
    finding_drafts,
    findings,
    moderation,
    uploads,
)
from forum.models.findings import Finding, Revision
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
    publication_status,
    require_writer,
    see_other,
    text_field,
    url_for,
)
from forum.views.finding_forms import (
    DEFAULTS,
    FIELDS,
    FindingForm,
    form_context,
    form_of,
    offered_sources,
    raw_finding,
    sent_form,
    source_post,
)
from forum.views.finding_history import as_waiting_of, versions
from forum.views.requests import document_source

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
        source = await source_post(conn, request.query.get("post", ""))
        offered_posts = [source[0].id] if source else []
        offered_files = ([upload.id for upload in await uploads.for_post(conn, source[0].id)]
                         if source else [])
        if sent is None:
            form = FindingForm(dict.fromkeys(FIELDS, "") | DEFAULTS,
                               await offered_sources(conn, offered_posts, offered_files),
                               set(offered_posts))
            # A document obtained through a records request (?document=ID): its address.
            form.links = await document_source(conn, config.base_url,
                                               request.query.get("document", ""))
        else:
            form = await sent_form(conn, sent, offered_posts, offered_files)
        context = await form_context(conn, form)
    review = publication_status(request, user, board.id, board.moderation_mode)
    context.update(board=board, will_wait=review == "pending",
                   source=source[0] if source else None, source_title=source[1] if source else "",
                   action=url_for(request, "propose_finding",
                                  {"post": source[0].id} if source else None, slug=board.slug))
    if sent is None:
        return render(request, "findings/new.html", context, form=True)
    try:
        async with request.app[keys.DB].transaction() as tx:
            draft = await finding_drafts.check(tx, board, raw_finding(sent), date.today())
            await check_rate(request, f"finding:{user.id}", config.posts_per_minute, 60,
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




async def edit(request: web.Request) -> web.Response:
    """Correct a finding: a new version, kept beside the earlier ones with its reason."""
    user = require_writer(request)
    finding = await named_in_url(request, finding_actions.visible, user)
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
            form = form_of(current, await offered_sources(conn, offered_posts, offered_files))
        else:
            form = await sent_form(conn, sent, offered_posts, offered_files)
        context = await form_context(conn, form)
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
            await finding_actions.correct(tx, finding.id, user, raw_finding(sent),
                                          context["reason"],
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
    finding = await named_in_url(request, finding_actions.visible, user)
    if not can(user, "delete_finding", finding):
        raise Forbidden("You may not delete this finding.")
    context: dict[str, Any] = {"finding": finding, "reason": "", "errors": {},
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

async def show(request: web.Request) -> web.Response:
    viewer = request.get(keys.USER)
    finding = await named_in_url(request, finding_actions.visible, viewer)
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
        "candidate": as_waiting_of(finding, waiting) if doubts else finding})


# Moderators' decisions -------------------------------------------------------------------------

async def _to_moderate(request: web.Request) -> tuple[User, Finding, MultiMapping[object]]:
    """The finding named in the URL, if this moderator may act on it (404 if they may not see
    it), and the form sent."""
    user = require_writer(request)
    finding = await named_in_url(request, finding_actions.to_moderate, user)
    return user, finding, await request.post()


async def approve(request: web.Request) -> web.Response:
    user, finding, form = await _to_moderate(request)
    async with request.app[keys.DB].transaction() as tx:
        # Read again in the transaction: another moderator may have decided meanwhile.
        await finding_actions.approve(tx, finding.id, user, form.get("confirm") == "1")
    raise back_to_next(form, url_for(request, "finding", id=finding.id))


async def reject(request: web.Request) -> web.Response:
    user, finding, form = await _to_moderate(request)
    async with request.app[keys.DB].transaction() as tx:
        await finding_actions.reject(tx, finding.id, user, decision_reason(form),
                                     bool(form.get("private")))
    raise back_to_next(form, url_for(request, "finding", id=finding.id))


async def restore(request: web.Request) -> web.Response:
    user, finding, form = await _to_moderate(request)
    async with request.app[keys.DB].transaction() as tx:
        await finding_actions.restore(tx, finding.id, user, text_field(form, "reason"))
    raise back_to_next(form, url_for(request, "finding", id=finding.id))


async def purge(request: web.Request) -> web.Response:
    """Erase a version of a finding that must disappear; 404 for whoever may not purge it."""
    user = require_writer(request)
    finding_id, revision_id = int_param(request, "id"), int_param(request, "revision")
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await finding_actions.purge_version(tx, finding_id, user, revision_id)
    raise back_to_next(form, url_for(request, "finding", id=finding_id))
