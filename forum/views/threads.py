"""A thread page, starting a thread and replying, with a preview that needs no JavaScript."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from forum import csrf, fragments, i18n, keys
from forum.db import Transaction
from forum.errors import Forbidden, ForumError, NotFound
from forum.fragments import render_posts
from forum.i18n import N_
from forum.models import boards, findings, follows, moderation, posts, targets, threads, uploads
from forum.models.following import set_for_board, set_for_thread
from forum.models.users import User
from forum.permissions import can
from forum.templating import reader_response, render, render_string
from forum.views import (
    check_rate,
    drafts,
    form_error,
    int_param,
    page_number,
    preview,
    publication_status,
    quote_markdown,
    require_user,
    require_writer,
    see_other,
    text_field,
    unread,
    url_for,
)
from forum.views.uploads import attach_files, picker, picker_for, read_post_form, refused_files

REPLY_LABEL = N_("Publish the reply")


async def show(request: web.Request) -> web.Response:
    """A thread page. Visitors' pages are kept by the page cache; a member's page is kept for
    their capability class (or for them alone) with marks where their bits go, and assembled
    per request (forum/fragments.py: ReaderPage)."""
    viewer = request.get(keys.USER)
    page = page_number(request)
    thread_id = int_param(request, "id")
    if viewer is not None and request.method == "GET" and request.get(keys.KNOWN_SESSION):
        cache, locale = request.app[keys.PAGE_CACHE], request[keys.LOCALE]
        kept = fragments.kept_page(cache, request.path_qs, locale, viewer)
        if kept is None:
            # After a write drops a busy page, one member of a class renders it and the others
            # of the class wait for that render, then take the kept page as on any hit (or
            # render their own when it is not theirs to share: kept_page decides, as always).
            shared = fragments.reader_keys(request.path_qs, locale, viewer)[0]
            rendering = cache.reader_rendering.get(shared)
            if rendering is None:
                return await _render_first(request, viewer, page, thread_id, shared)
            await asyncio.shield(rendering)
            kept = fragments.kept_page(cache, request.path_qs, locale, viewer)
        if kept is not None:
            request.app[keys.VIEWS][thread_id] += 1
            following = await _following(request, viewer, thread_id)
            return await _reader_response(request, kept, thread_id, following)
    return await _render_show(request, viewer, page, thread_id)


async def _render_first(request: web.Request, viewer: User, page: int, thread_id: int,
                        shared: tuple[object, ...]) -> web.Response:
    """Render a member's page while the others of their class wait for it (show)."""
    waiting = request.app[keys.PAGE_CACHE].reader_rendering
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiting[shared] = done
    try:
        return await _render_show(request, viewer, page, thread_id)
    finally:
        if waiting.get(shared) is done:
            del waiting[shared]
        done.set_result(None)


async def _render_show(request: web.Request, viewer: User | None, page: int,
                       thread_id: int) -> web.Response:
    config = request.app[keys.CONFIG]
    cache = request.app[keys.FRAGMENTS]
    epoch = cache.epoch  # before reading: a write meanwhile keeps this render's posts out
    shell_epoch = cache.shells.epoch
    page_epoch = request.app[keys.PAGE_CACHE].epoch  # and this member's page
    known = request.get(keys.KNOWN_SESSION) if request.method == "GET" else None
    async with request.app[keys.DB].read() as conn:
        thread, (items, with_files, with_sources) = await threads.with_page(
            conn, thread_id, viewer, page, config.posts_per_page)
        if not can(viewer, "see_thread", thread):
            raise NotFound()
        pages = await threads.page_total(conn, thread, viewer, page, config.posts_per_page)
        attached = await uploads.for_posts(conn, with_files)
        drawn = await findings.for_posts(conn, with_sources, viewer)
        personal = (None if known is None
                    else await fragments.personal_readers(conn, thread, items, attached,
                                                          with_sources))
    request[keys.VIEWED_THREAD] = thread.id
    request.app[keys.VIEWS][thread.id] += 1
    tags = {("thread", thread.id), ("board_meta", thread.board_id)}
    if viewer is None:
        request[keys.CACHE_TAGS] = tags
    env = request.app[aiohttp_jinja2.APP_KEY]
    # Built once, not per post: "Ajouter au relevé" under each public post of a city.
    propose_url = (url_for(request, "propose_finding", slug=thread.board_slug)
                   if thread.board_is_city and viewer is not None else None)
    token = "" if viewer is None else (
        fragments.CSRF_MARK if known is not None else csrf.token_for(request))
    posts_html = render_posts(cache, env, request[keys.LOCALE], viewer, items, thread.title,
                              attached, drawn, propose_url, token, epoch,
                              marked=(known is not None and viewer is not None
                                      and config.unread_tracking))
    reply_editor = None
    if viewer is not None:
        files = picker(request, [])
        reply_editor = cache.editor(env, request[keys.LOCALE], i18n.gettext(REPLY_LABEL),
                                    files.accept, files.max_mb)
    context = {"thread": thread, "posts_html": Markup(fragments.POSTS_MARK), "page": page,
               "pages": pages, "reply_editor": reply_editor}
    if known is None and viewer is not None:  # a member's page with no session kept (HEAD)
        following = await _following(request, viewer, thread.id)
        unkept = fragments.Unkept(request[keys.SESSION])
        follow = fragments.follow_html(cache, env, unkept, request[keys.LOCALE], "thread",
                                       thread.id, following)
        wait = fragments.wait_html(cache, env, unkept, request[keys.LOCALE],
                                   _will_wait(request, viewer, (thread.board_id,
                                                                thread.board_mode)))
        body = render_string(request, "threads/show.html",
                             {**context, "follow_html": follow, "wait_html": wait})
        return _html(fragments.Shell.of(body).around(posts_html), private=True)
    # The shell around the posts, kept by all it shows (like the posts): a write that changes
    # only posts re-renders none of it. A member's holds marks for their bits (ReaderPage).
    locale = request[keys.LOCALE]
    shell_key = (thread, page, pages, request.path_qs, locale, i18n.CATALOGS[locale],
                 None if viewer is None else (fragments.reader_class(viewer),
                                              viewer.id == thread.author_id))
    shell = cache.shells.get(shell_key)
    if shell is None:
        member_bits = {} if viewer is None else {
            "slots": fragments.SLOT_MARKUP, "csrf_token": fragments.CSRF_MARK,
            "follow_html": fragments.SLOT_MARKUP["follow"],
            "wait_html": fragments.SLOT_MARKUP["wait"], "keyed_slot": fragments.keyed_slot}
        shell = fragments.Shell.of(render_string(request, "threads/show.html",
                                                 {**context, **member_bits}))
        cache.shells.put(shell_key, shell, tags, shell_epoch)
    body = shell.around(posts_html)
    if viewer is None or personal is None:  # (personal: None without a kept session)
        return _html(body, private=False)
    # Its subject: the board's id and rule, which say with the reader's trust whether their
    # reply will wait (the board's rule changes with its board_meta tag, which drops the page).
    kept = fragments.ReaderPage.of(body, personal, thread.id,
                                   (thread.board_id, thread.board_mode), last_page=page == pages)
    fragments.keep_page(request.app[keys.PAGE_CACHE], request.path_qs, locale, viewer, kept,
                        tags, page_epoch)
    return await _reader_response(request, kept, thread.id,
                                  await _following(request, viewer, thread.id))


def _html(body: str, private: bool) -> web.Response:
    response = web.Response(text=body, content_type="text/html", charset="utf-8")
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response


async def _following(request: web.Request, viewer: User, thread_id: int) -> str | None:
    """The member's follow state of a thread, kept until they follow or mute something
    (fragments.FragmentCache.follow_states): a member reading many threads between others'
    writes would otherwise ask the database for each."""
    kept = request.app[keys.FRAGMENTS].follow_states
    key = (viewer.id, thread_id)
    entry = kept.get(key)
    if entry is not None:
        return entry[0]
    epoch = kept.epoch  # before reading: a follow written meanwhile keeps this one out
    async with request.app[keys.DB].read() as conn:
        state = await follows.state(conn, viewer.id, "thread", thread_id)
    kept.put(key, (state,), {("follows", viewer.id)}, epoch)
    return state


async def _reader_response(request: web.Request, kept: fragments.ReaderPage, thread_id: int,
                           following: str | None) -> web.Response:
    env = request.app[aiohttp_jinja2.APP_KEY]
    known = request[keys.KNOWN_SESSION]
    cache = request.app[keys.FRAGMENTS]
    locale = request[keys.LOCALE]
    viewer = request[keys.USER]
    if viewer is None:  # a kept page is a member's: not reached
        raise NotFound()
    marker = await unread.marker_bits(request, viewer, thread_id, kept.keyed_ids("before"),
                                      kept.last_page)
    bits = fragments.reader_bits(cache, env, known, locale, (
        ("follow", fragments.follow_html(cache, env, known, locale, "thread", thread_id,
                                         following)),
        ("wait", fragments.wait_html(cache, env, known, locale,
                                     _will_wait(request, viewer, kept.subject))),
        *marker.items()))
    body, etag = kept.assemble(bits, known.memo)
    return reader_response(request, body, etag)


def _will_wait(request: web.Request, viewer: User, board: tuple[int, str]) -> bool:
    """Whether this member's reply in this board (its id and rule) waits for a moderator."""
    return publication_status(request, viewer, *board) == "pending"


async def new_thread(request: web.Request) -> web.Response:
    """GET: the form; POST: preview it or publish it."""
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    async with request.app[keys.DB].read() as conn:
        board = await boards.get_readable(conn, request.match_info["slug"], user)
    if not can(user, "start_thread", board):
        raise Forbidden()
    context: dict[str, Any] = {"board": board, "title": "", "body": "", "preview": None,
                               "errors": {},
               "files": picker(request, [])}

    async def create(tx: Transaction, status: str) -> int:
        _thread_id, post_id = await threads.create(
            tx, board, user, context["title"], context["body"], config.title_max,
            config.body_max, status=status, mentions_max=config.mentions_max)
        return post_id

    return await _compose(request, user, "threads/new.html", context,
                          (board.id, board.moderation_mode), create)


async def reply(request: web.Request) -> web.Response:
    """GET: a reply form on its own page; POST: preview it or publish it."""
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    thread_id = int_param(request, "id")
    async with request.app[keys.DB].read() as conn:
        thread = await threads.get(conn, thread_id)
    if not can(user, "see_thread", thread):
        raise NotFound()
    if not can(user, "reply", thread):
        raise Forbidden("This thread is locked: no new replies." if thread.locked else "")
    context: dict[str, Any] = {"thread": thread, "body": await _quoted(request, user),
                               "preview": None,
               "errors": {}, "files": picker(request, [])}

    async def create(tx: Transaction, status: str) -> int:
        return await posts.create(tx, thread.id, thread.board_id, user, context["body"],
                                  config.body_max, status=status,
                                  mentions_max=config.mentions_max)

    return await _compose(request, user, "threads/reply.html", context,
                          (thread.board_id, thread.board_mode), create)


async def _compose(request: web.Request, user: User, template: str, context: dict[str, Any],
                   board: tuple[int, str],
                   create: Callable[[Transaction, str], Awaitable[int]]) -> web.Response:
    """The writing form of a thread or a reply: show it, preview it, or publish it with its
    files in one transaction (pending when the board's moderation says so)."""
    # Said before sending: the message will wait for a moderator (issue 16).
    context["will_wait"] = publication_status(request, user, *board) == "pending"
    if request.method != "POST":
        await drafts.restore(request, user, context)
        return render(request, template, context, form=True)
    config = request.app[keys.CONFIG]
    sent = await read_post_form(request, user)
    context["files"] = await picker_for(request, user, sent.attachment_ids)
    for field in ("title", "body"):
        if field in context:
            context[field] = text_field(sent.fields, field)
    if sent.errors:
        return refused_files(request, template, context, sent)
    if sent.fields.get("action") == "preview":
        context["preview"] = await preview(request, context["body"])
        return render(request, template, context, form=True)
    try:
        if sent.fields.get("action") == "draft":  # "Save the draft", without JavaScript
            await drafts.keep(request, user, context, sent.attachment_ids)
            return render(request, template, context, form=True)
        # Inside the try: past the limit, the form comes back with its text (issue 16).
        await check_rate(request, f"post:{user.id}", config.posts_per_minute, 60,
                         "You are posting too fast. Please wait a minute.")
        status = publication_status(request, user, *board)
        async with request.app[keys.DB].transaction() as tx:
            post_id = await create(tx, status)
            await attach_files(tx, request, post_id, user, sent)
            await drafts.erase(tx, user, context)
    except ForumError as error:
        return form_error(request, template, context, error)
    raise see_other(url_for(request, "post", id=post_id))

async def _quoted(request: web.Request, user: User) -> str:
    """?quote=123: the reply starts with that post quoted (any post the member may see)."""
    raw = request.query.get("quote", "")
    if request.method != "GET" or not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        return ""
    async with request.app[keys.DB].read() as conn:
        try:
            post = await posts.get(conn, int(raw))
            if not can(user, "see_post", post) or post.is_deleted:
                raise NotFound()
            title = (await threads.get(conn, post.thread_id)).title
        except NotFound:
            return ""
    return quote_markdown(post, title)


async def rename(request: web.Request) -> web.Response:
    """GET: the title form (with the earlier titles, for moderators); POST: rename the thread.

    It does not depend on the first post: once that is deleted, the title still shows.
    """
    user = require_writer(request)
    config = request.app[keys.CONFIG]
    async with request.app[keys.DB].read() as conn:
        thread = await targets.thread_to_rename(conn, int_param(request, "id"), user)
        moderator = can(user, "moderate", thread)
        earlier = await threads.title_revisions(conn, thread.id) if moderator else []
    context: dict[str, Any] = {"thread": thread, "title": thread.title, "reason": "",
                               "earlier": earlier,
               "errors": {}}
    if request.method != "POST":
        return render(request, "threads/rename.html", context, form=True)
    form = await request.post()
    context.update(title=text_field(form, "title"), reason=text_field(form, "reason"))
    try:
        async with request.app[keys.DB].transaction() as tx:
            # Read again in the transaction: the title kept is the one being replaced.
            thread = await targets.thread_to_rename(tx, thread.id, user)
            await moderation.rename_thread(tx, thread, user, context["title"], config.title_max,
                                           context["reason"])
    except ForumError as error:
        return form_error(request, "threads/rename.html", context, error)
    raise see_other(url_for(request, "thread", id=thread.id))


async def follow(request: web.Request) -> web.Response:
    """Follow, mute or stop following a thread (kind 'thread') or a board (kind 'board')."""
    user = require_user(request)
    kind = request.match_info["kind"]
    form = await request.post()
    mode = text_field(form, "mode") or None
    async with request.app[keys.DB].transaction() as tx:
        if kind == "thread":
            thread = await set_for_thread(tx, user, int_param(request, "id"), mode)
            back = url_for(request, "thread", id=thread.id)
        else:
            board = await set_for_board(tx, user, request.match_info["id"], mode)
            back = url_for(request, "board", slug=board.slug)
    raise see_other(back)
