"""Moderators' pages: the queue, decisions, thread tools, sanctions, and the public journal.

Decisions on findings are in views/findings.py; the queue lists them beside the posts.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from forum import keys
from forum.db import Conn
from forum.errors import Conflict, Forbidden, ForumError, Invalid, NotFound
from forum.i18n import gettext
from forum.models import (
    boards,
    drops,
    findings,
    moderation,
    posts,
    targets,
    threads,
    uploads,
    users,
)
from forum.permissions import can
from forum.templating import page_by_value, render
from forum.views import (
    back_to_next,
    decision_reason,
    form_error,
    int_param,
    local_path,
    named_in_url,
    page_count,
    page_number,
    preview,
    require_writer,
    see_other,
    text_field,
    url_for,
)
from forum.views.finding_history import finding_doubts, waiting_corrections

Target = TypeVar("Target", posts.Post, threads.Thread)


async def _named(request: web.Request,
                 check: Callable[[Conn, int, users.User], Awaitable[Target]]
                 ) -> tuple[users.User, Target]:
    """The member acting and the post or thread named in the URL, as `check` (a function of
    models/targets.py) lets them act on it: 404 if they may not see it, 403 if they may not."""
    user = require_writer(request)
    return user, await named_in_url(request, check, user)


async def queue(request: web.Request) -> web.Response:
    """Pending and flagged posts, then pending findings, of this moderator's boards."""
    user = require_writer(request)
    if not can(user, "moderate_any"):
        raise NotFound()
    board = None
    epoch = request.app[keys.FRAGMENTS].pages.epoch
    async with request.app[keys.DB].read() as conn:
        all_boards = [b for b in await boards.list_all(conn) if user.moderates(b.id)]
        if request.query.get("board"):
            board = await boards.get_by_slug(conn, request.query["board"])
        items = await moderation.queue(conn, user, board.id if board else None)
        # The files are part of what is decided on: moderators see them in the queue.
        files = await uploads.for_posts(conn, [item.post.id for item in items])
        pending_findings = await findings.pending(conn, user, board.id if board else None)
        corrections = await waiting_corrections(conn, user, board.id if board else None)
        # How many of each proposer's contributions were approved and refused: a hint of trust.
        proposers = await users.decision_counts(conn, {f.author_id for f in pending_findings})
        doubts = await finding_doubts(conn, pending_findings)
        drops_waiting = await drops.awaiting_count(conn, drops.scope_of(user))
    context = {
        "items": items, "boards": all_boards, "board": board, "files": files,
        "findings": pending_findings, "proposers": proposers, "corrections": corrections,
        "doubts": doubts, "reasons": moderation.REJECT_REASONS, "drops_waiting": drops_waiting}
    if request.get(keys.KNOWN_SESSION) is None or request.method != "GET":
        return render(request, "moderation/queue.html", context, form=True)
    # Kept by value, for the moderators of the same boards: their page is the same but for
    # a note on the files they own (macros/attachments.html). A purge drops it by its tags.
    own = any(file.owner_id == user.id for listed in files.values() for file in listed)
    tags = {("post", item.post.id) for item in items} | {
        ("finding", finding.id) for finding in
        [*pending_findings, *(waiting.finding for waiting in corrections)]}
    return page_by_value(request, "moderation/queue.html", context, tags, epoch, own)


async def approve(request: web.Request) -> web.Response:
    user, post = await _named(request, targets.post_to_moderate)
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await moderation.approve(tx, post, user)
    raise back_to_next(form, url_for(request, "moderation_queue"))


async def reject(request: web.Request) -> web.Response:
    user, post = await _named(request, targets.post_to_moderate)
    form = await request.post()
    try:
        async with request.app[keys.DB].transaction() as tx:
            await moderation.reject(tx, post, user, decision_reason(form),
                                    private=bool(form.get("private")))
    except (Invalid, Conflict) as error:
        # The refusal again, with what was typed and the message beside the reason; a
        # conflict says who decided first and what (issue 16).
        async with request.app[keys.DB].read() as conn:
            thread = await threads.get(conn, post.thread_id)
        message = gettext(error.message, **error.params)
        typed = {name: text_field(form, name) for name in ("reason_choice", "reason", "private")}
        return render(request, "moderation/refuse.html", {
            "post": post, "thread": thread, "reasons": moderation.REJECT_REASONS,
            "typed": typed, "next": local_path(text_field(form, "next"),
                                               url_for(request, "moderation_queue")),
            "error": message if isinstance(error, Invalid) else "",
            "conflict": message if isinstance(error, Conflict) else ""},
            status=error.status, form=True)
    raise back_to_next(form, url_for(request, "moderation_queue"))


async def edit_and_approve(request: web.Request) -> web.Response:
    """Correct a pending post or edit (the version corrected is kept, private), then publish."""
    user, post = await _named(request, targets.post_to_moderate)
    config = request.app[keys.CONFIG]
    async with request.app[keys.DB].read() as conn:
        thread = await threads.get(conn, post.thread_id)
        waiting = await posts.pending_edit(conn, post.id)
    context: dict[str, Any] = {
        "post": post, "thread": thread, "preview": None, "errors": {}, "note": "",
        "body": waiting.body_source if waiting else post.body_source,
        "edit_pending": waiting is not None}
    if request.method == "POST":
        form = await request.post()
        context["body"] = text_field(form, "body")
        context["note"] = text_field(form, "note")
        if form.get("action") == "preview":
            context["preview"] = await preview(request, context["body"])
        else:
            try:
                async with request.app[keys.DB].transaction() as tx:
                    await moderation.correct_and_approve(
                        tx, post.id, user, context["body"], config.body_max,
                        config.mentions_max, note=context["note"])
            except ForumError as error:
                return form_error(request, "moderation/edit.html", context, error)
            raise see_other(url_for(request, "moderation_queue"))
    return render(request, "moderation/edit.html", context, form=True)


async def dismiss_flags(request: web.Request) -> web.Response:
    user, post = await _named(request, targets.post_to_moderate)
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await moderation.dismiss_flags(tx, post, user, text_field(form, "reason"))
    raise back_to_next(form, url_for(request, "moderation_queue"))


async def restore(request: web.Request) -> web.Response:
    user, post = await _named(request, targets.post_to_moderate)
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await moderation.restore_post(tx, post, user, text_field(form, "reason"))
    raise back_to_next(form, url_for(request, "post", id=post.id))


async def purge(request: web.Request) -> web.Response:
    """Erase a version of a post that must disappear; 404 for whoever may not purge it."""
    user, post = await _named(request, targets.post_to_purge)
    revision_id = int_param(request, "revision")
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await moderation.purge_post_version(tx, await posts.get(tx, post.id), user,
                                            revision_id)
    raise back_to_next(form, url_for(request, "post_revisions", id=post.id))


async def thread_state(request: web.Request) -> web.Response:
    """Lock, unlock, pin, unpin, hide or show a thread."""
    user, thread = await _named(request, targets.thread_to_moderate)
    form = await request.post()
    action = text_field(form, "action")
    if action not in ("lock", "unlock", "pin", "unpin", "hide", "show"):
        raise Invalid("Unknown action.", field="action")
    async with request.app[keys.DB].transaction() as tx:
        await moderation.set_thread_state(tx, thread, user, action, text_field(form, "reason"))
    raise see_other(url_for(request, "thread", id=thread.id))


async def move(request: web.Request) -> web.Response:
    user, thread = await _named(request, targets.thread_to_moderate)
    form = await request.post()
    async with request.app[keys.DB].read() as conn:
        target = await boards.get_by_slug(conn, text_field(form, "board"))
    if not can(user, "moderate", target):
        raise Forbidden("You do not moderate this board.")
    if thread.board_closed and not target.closed and form.get("confirmed") != "1":
        # Out of a closed board: first what everyone will read, then the move.
        async with request.app[keys.DB].read() as conn:
            shown = await boards.exposure(conn, thread.id, thread.board_id)
        return render(request, "moderation/move_confirm.html", {
            "thread": thread, "target": target, "reason": text_field(form, "reason"),
            "exposure": shown}, form=True)
    async with request.app[keys.DB].transaction() as tx:
        # Out of a closed board, the confirmation page above was seen.
        await moderation.move_thread_to(tx, thread, text_field(form, "board"), user,
                                        text_field(form, "reason"), exposure_seen=True)
    raise see_other(url_for(request, "thread", id=thread.id))


async def flag(request: web.Request) -> web.Response:
    """GET: why flag this post; POST: flag it for the moderators."""
    user, post = await _named(request, targets.post_to_flag)
    config = request.app[keys.CONFIG]
    context: dict[str, Any] = {"post": post, "reason": "", "errors": {}}
    if request.method == "POST":
        form = await request.post()
        context["reason"] = text_field(form, "reason")
        try:
            async with request.app[keys.DB].transaction() as tx:
                await moderation.flag(tx, post, user, context["reason"],
                                      config.flags_to_hide, config.trust_threshold)
        except ForumError as error:
            return form_error(request, "moderation/flag.html", context, error)
        raise see_other(url_for(request, "post", id=post.id))
    return render(request, "moderation/flag.html", context, form=True)


async def sanction(request: web.Request) -> web.Response:
    """Warn, suspend until a date, ban, lift; or grant or withdraw trust."""
    user = require_writer(request)
    async with request.app[keys.DB].read() as conn:
        member = await users.get_by_name(conn, request.match_info["name"])
    form = await request.post()
    async with request.app[keys.DB].transaction() as tx:
        await moderation.decide_on_member(tx, member, user, text_field(form, "kind"),
                                          text_field(form, "reason"), text_field(form, "until"),
                                          private=bool(form.get("private")))
    raise see_other(url_for(request, "profile", name=member.name))


async def journal(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    page = page_number(request)
    async with request.app[keys.DB].read() as conn:
        pages = page_count(await moderation.journal_size(conn), config.journal_per_page)
        if page > pages:
            raise NotFound()
        entries = await moderation.journal(conn, page, config.journal_per_page)
    if request.get(keys.USER) is None:
        request[keys.CACHE_TAGS] = {("journal", None)}
    return render(request, "moderation/journal.html",
                  {"entries": entries, "page": page, "pages": pages})


async def journal_feed(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    async with request.app[keys.DB].read() as conn:
        entries = await moderation.journal(conn, 1, config.journal_per_page)
    if request.get(keys.USER) is None:
        request[keys.CACHE_TAGS] = {("journal", None)}
    response = render(request, "moderation/journal.atom.xml", {"entries": entries})
    response.content_type = "application/atom+xml"
    return response
