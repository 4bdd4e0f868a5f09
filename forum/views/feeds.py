"""Atom feeds of the site, of each board and of each thread: public posts, newest first."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from forum import i18n, keys
from forum.errors import NotFound
from forum.models import boards, feeds, threads
from forum.permissions import can
from forum.views import int_param, url_for

# Feed ids are tag URIs (RFC 4151) made of numeric ids, so that a renamed board keeps its feed.
# The date belongs to the id: changing it would make every reader see new feeds.
TAG_DATE = "2026"
# The date of a feed with no entry and nothing else to date it by (RFC 3339, as stored).
EMPTY_FEED_UPDATED = "2026-01-01T00:00:00.000Z"
# Characters XML 1.0 refuses: one of them in a post would make the whole feed unreadable.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


async def site(request: web.Request) -> web.Response:
    async with request.app[keys.DB].read() as conn:
        entries = await feeds.latest_for_site(conn)
    request[keys.CACHE_TAGS] = {("boards", None)}
    return _atom(request, entries, EMPTY_FEED_UPDATED, tag="site",
                 self_url=url_for(request, "feed_site"), page_url=url_for(request, "index"))


async def board(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    async with request.app[keys.DB].read() as conn:
        found = await boards.get_readable(conn, slug, None)  # feeds: public posts only
        if found.slug != slug:
            raise web.HTTPMovedPermanently(url_for(request, "feed_board", slug=found.slug))
        entries = await feeds.latest_for_board(conn, found.id)
        created_at = await feeds.board_created_at(conn, found.id)
    # "board": its posts and threads; "board_meta": its name (a rename marks both).
    request[keys.CACHE_TAGS] = {("board", found.id), ("board_meta", found.id)}
    return _atom(request, entries, created_at, tag=f"board:{found.id}", board=found,
                 self_url=url_for(request, "feed_board", slug=found.slug),
                 page_url=url_for(request, "board", slug=found.slug))


async def thread(request: web.Request) -> web.Response:
    async with request.app[keys.DB].read() as conn:
        found = await threads.get(conn, int_param(request, "id"))
        # Anonymous, whoever asks: a pending thread's feed does not exist, even for its author.
        if not can(None, "see_thread", found):
            raise NotFound()
        entries = await feeds.latest_for_thread(conn, found.id)
    # Entries name the thread's board: its rename reaches them through "board_meta".
    request[keys.CACHE_TAGS] = {("thread", found.id), ("board_meta", found.board_id)}
    return _atom(request, entries, found.created_at, tag=f"thread:{found.id}", thread=found,
                 self_url=url_for(request, "feed_thread", id=found.id),
                 page_url=url_for(request, "thread", id=found.id))


def _atom(request: web.Request, entries: list[feeds.FeedPost], updated_if_empty: str,
          tag: str, self_url: str, page_url: str, **context: Any) -> web.Response:
    """Render the feed as an anonymous reader's (no user, no session, no token)."""
    context.setdefault("board", None)
    context.setdefault("thread", None)
    updated = max((entry.updated_at for entry in entries), default=updated_if_empty)
    return atom(request, "feeds/posts.atom.xml", updated, tag, self_url, page_url,
                entries=entries, **context)


def atom(request: web.Request, template: str, updated: str, tag: str, self_url: str,
         page_url: str, **context: Any) -> web.Response:
    """An Atom feed from `template`: its id, addresses and language (posts', findings')."""
    config = request.app[keys.CONFIG]
    locale = request.get(keys.LOCALE, i18n.current_locale.get())
    host = urlsplit(config.base_url).hostname or "localhost"
    context.update(
        locale=locale, base=config.base_url, feed_id=f"tag:{host},{TAG_DATE}:{tag}",
        self_url=config.base_url + self_url, page_url=config.base_url + page_url,
        updated=updated)
    body = aiohttp_jinja2.render_string(template, request, context)
    response = web.Response(text=NOT_XML.sub("\ufffd", body),
                            content_type="application/atom+xml", charset="utf-8")
    # Titles are in the reader's language (the page cache keys on it too).
    response.headers["Content-Language"] = locale
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
