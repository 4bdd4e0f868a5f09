"""Rendered-page cache for anonymous readers, invalidated exactly by the writes that commit.

A page is kept with the tags of everything it shows (set by its handler in keys.CACHE_TAGS);
a transaction names what it changed with tx.changed(kind, key), and its commit drops every page
carrying one of those tags. The tags, what carries them and what emits them:

  ("thread", id)      the thread's page and feed, and every watch page, export, feed and
                      finding page citing one of its messages or files (views/watch.py:
                      source_tags). Emitted by any change to its posts, title, state, board or
                      files (models/posts.changed, uploads.attach) and by a finding drawn from
                      one of its messages (models/findings.changed).
  ("board", id)       the board's thread list and feed: a thread added, counted, moved, seen
                      (models/posts.changed emits it with the thread's).
  ("boards", None)    the home page and the site feed: any post or board change.
  ("board_meta", id)  what names the board (thread, finding, watch pages): its rename.
  ("watch", id)       the city's watch page, exports and feed; ("watch", None) the national
                      ones and the compare page: findings, kinds, cities.
  ("finding", id)     the finding's page.
  ("journal", None)   the moderation journal and its feed: an action, a board renamed.
  ("reads", member)   no page: the member's unread floors kept in memory (forum/reads.py:
                      KeptUnread), emitted by models/reads.py's writes; ("follows", member)
                      likewise drops their follow states (fragments.FragmentCache).
  ALL                 everything: a write no narrower tag covers (every post re-rendered; a
                      change of a member's name, which many pages show, must emit it too).
Search and profiles are never cached. A member's page is kept per capability class with marks
where its reader's bits go (forum/fragments.py: ReaderPage), in this same cache under the same
tags (thread, board, home, notifications and watch pages). The moderation queue, which writes no
tag names change (a flag, a drop), is kept by value instead, in the fragment cache
(templating.page_by_value). Per-reader data (forum/auth.py: SessionCache) listens to
`invalidate`, which is called at every commit, tags or none: it is dropped whole at every write.
Another process's writes (another worker of `vigie serve --workers N`, the CLI's `board rename`
while the site runs) come with the same tags through the database's invalidations table: before
a cached page or a kept session is used, db.catch_up() applies what the others committed (a
check of SQLite's data_version when none did), so no process serves a page older than a write
another one acknowledged.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict, CIMultiDictProxy

from forum import i18n, keys
from forum.cookies import cookies
from forum.cookies import parse as parse_cookies

Tag = tuple[str, object]
# The tags of a page (what a write must touch to drop it): any set, {("board", 3)} as well.
Tags = AbstractSet[Tag]
ALL: Tag = ("all", None)  # forum.db.ALL_TAG
log = logging.getLogger("forum")


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    headers: tuple[tuple[str, str], ...]
    viewed_thread: int | None = None

    @functools.cached_property
    def response_headers(self) -> CIMultiDictProxy[str]:
        """All the headers it is served with, built once (a cached page costs little more than
        its headers: each one added per request showed in its profile)."""
        headers = CIMultiDict(self.headers)
        headers["ETag"] = self.etag
        headers["Cache-Control"] = "no-cache"
        return CIMultiDictProxy(headers)


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


class TaggedLRU:
    """Entries kept with the tags of what they show, least recently used dropped first.

    `epoch` grows at every invalidation: an entry computed under an older epoch (a render that
    began before a write) is never stored. The page cache and the post fragments both use it.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.epoch = 0
        # (value, tags): the tags as a plain tuple of plain tuples, which the garbage collector
        # stops tracking, unlike a frozenset: tens of thousands of entries otherwise lengthen
        # every full collection, a pause for every request in flight. For the same reason the
        # keys of a tag are a dict (untracked once it holds only untracked keys), not a set
        # (always tracked: a set per post kept was a seventh of a warm server's objects).
        self._entries: OrderedDict[object, tuple[Any, tuple[Tag, ...]]] = OrderedDict()
        self._by_tag: dict[Tag, dict[object, None]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: object) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: object, value: Any, tags: Tags, epoch: int) -> bool:
        """Keep `value` unless a write came since `epoch` was read; whether it was kept."""
        if epoch != self.epoch or self.max_entries <= 0:
            return False
        self._drop(key)
        distinct = tuple(set(tags))
        self._entries[key] = (value, distinct)
        for tag in distinct:
            self._by_tag.setdefault(tag, {})[key] = None
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))
        return True

    def clear(self) -> None:
        self._entries.clear()
        self._by_tag.clear()

    def reset(self) -> None:
        """Everything goes (a full invalidation), and renders begun before it are not kept."""
        self.epoch += 1
        self.clear()

    def forget(self, tags: Iterable[Tag]) -> None:
        """The entries of these tags go, and renders begun before it are not kept (none: no-op)."""
        tags = list(tags)
        if tags:
            self.epoch += 1
            for tag in tags:
                self.drop_tagged(tag)

    def drop_tagged(self, tag: Tag) -> None:
        for key in list(self._by_tag.get(tag, ())):
            self._drop(key)

    def _drop(self, key: object) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry[1]:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.pop(key, None)
                if not keys:
                    del self._by_tag[tag]


class PageCache(TaggedLRU):
    """Pages tagged with what they show; a committed write drops every page with its tags.

    A render that started before a write may finish after it: `epoch` grows at every
    invalidation, and a page rendered under an older epoch is never stored.
    """

    def __init__(self, max_entries: int = 2000) -> None:
        super().__init__(max_entries)
        # Pages being rendered: readers who miss the same page meanwhile wait for that render.
        self.rendering: dict[object, asyncio.Future[CachedPage | None]] = {}
        # The same for members' pages (forum/fragments.py: a class's kept page): its key while
        # one member renders it; the others of the class wait, then look in the cache again.
        self.reader_rendering: dict[object, asyncio.Future[None]] = {}
        # Called at every invalidation, even one with no tag (a commit that named nothing): the
        # per-reader data kept in memory (forum/auth.py) is dropped at every write.
        self.listeners: list[Callable[[set[Tag]], None]] = []

    def invalidate(self, tags: set[Tag]) -> None:
        for listener in self.listeners:
            listener(tags)
        if ALL in tags:
            self.reset()
        else:
            self.forget(tags)


# Middlewares: the cached fast path (outermost) and the locale. -------------------------------


# Headers a cached page is served with (set by the inner middlewares, kept from the first render).
_KEPT_HEADERS = ("Content-Type", "Content-Security-Policy", "X-Content-Type-Options",
                 "X-Frame-Options", "Referrer-Policy", "Permissions-Policy",
                 "Cross-Origin-Opener-Policy", "Content-Language", "Vary",
                 "Content-Disposition", "Link",  # exports: a file name, their licence,
                 "Access-Control-Allow-Origin")  # and that other sites may read them


def _cache_key(request: web.Request, locale: str,
               sent: Mapping[str, str]) -> tuple[str, str] | None:
    """The key of a page any visitor may share; None when this request must not share one."""
    if request.method != "GET" or "vigie_session" in sent:
        return None
    if request.path.startswith("/api/") or "Authorization" in request.headers:
        return None
    # The target as sent, not path_qs (a URL rebuilt as text for every cached page, a tenth of
    # this middleware's cost): the same bytes are the same request, so the same page; a target
    # written another way for the same page is only kept once more.
    return (request.raw_path, locale)


def _respond(request: web.Request, page: CachedPage) -> web.Response:
    if request.headers.get("If-None-Match") == page.etag:
        return web.Response(status=304, headers=page.response_headers)
    return web.Response(body=page.body, headers=page.response_headers)


@web.middleware
async def page_cache_middleware(request: web.Request,
                                handler: Handler) -> web.StreamResponse:
    # Requests on one kept-alive connection share a task, hence this context variable: set
    # it for each request before anything may need it (the locale middleware refines it).
    app = request.app  # (a property: read once on this path, run before every page)
    # The cookies, read here for every later step (forum/cookies.py): the first middleware.
    sent = request[keys.COOKIES] = parse_cookies(request)
    locale = i18n.negotiate(sent.get(i18n.LOCALE_COOKIE),
                            request.headers.get("Accept-Language", ""),
                            default=app[keys.CONFIG].default_locale)
    i18n.current_locale.set(locale)
    key = _cache_key(request, locale, sent)
    if key is None:
        return await handler(request)
    cache = app[keys.PAGE_CACHE]
    try:
        app[keys.DB].catch_up()  # what other processes wrote drops its pages first
    except sqlite3.Error:  # not knowing what changed, share nothing: render for this reader
        log.exception("cannot read other processes' writes")
        return await handler(request)
    page = cache.get(key)
    if page is not None:
        if page.viewed_thread is not None:
            app[keys.VIEWS][page.viewed_thread] += 1
        return _respond(request, page)
    rendering = cache.rendering.get(key)
    if rendering is not None:
        # After a write drops a busy page, one request renders it and the others wait for it
        # instead of rendering it too; if it could not be kept, each renders its own.
        page = await asyncio.shield(rendering)
        if page is not None:
            if page.viewed_thread is not None:
                request.app[keys.VIEWS][page.viewed_thread] += 1
            return _respond(request, page)
        return await handler(request)
    done: asyncio.Future[CachedPage | None] = asyncio.get_running_loop().create_future()
    cache.rendering[key] = done
    try:
        response, kept = await _render(request, handler, cache, key)
        done.set_result(kept)
    finally:
        if cache.rendering.get(key) is done:
            del cache.rendering[key]
        if not done.done():  # the render failed: the waiting readers try on their own
            done.set_result(None)
    return response


async def _render(request: web.Request, handler: Handler, cache: PageCache,
                  key: object) -> tuple[web.StreamResponse, CachedPage | None]:
    """The response to send, and the page if it was kept in the cache for other readers."""
    epoch = cache.epoch
    response = await handler(request)
    tags = request.get(keys.CACHE_TAGS)
    # Only a page held whole in memory is kept (a streamed body or payload is not).
    body = response.body if isinstance(response, web.Response) else None
    if (tags is None or response.status != 200 or not isinstance(body, (bytes, bytearray))
            or "Set-Cookie" in response.headers):
        return response, None
    body = bytes(body)
    kept = tuple((name, response.headers[name]) for name in _KEPT_HEADERS
                 if name in response.headers)
    page = CachedPage(body, etag_for(body), kept, request.get(keys.VIEWED_THREAD))
    stored = cache.put(key, page, tags, epoch)
    return _respond(request, page), page if stored else None


@web.middleware
async def locale_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    user = request.get(keys.USER)
    locale = i18n.negotiate(cookies(request).get(i18n.LOCALE_COOKIE),
                            request.headers.get("Accept-Language", ""),
                            user.locale if user is not None else None,
                            request.app[keys.CONFIG].default_locale)
    request[keys.LOCALE] = locale
    i18n.current_locale.set(locale)
    return await handler(request)
