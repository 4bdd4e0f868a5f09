"""Every web.AppKey, and the names of what middlewares put on a request.

Always `app[keys.CONFIG]` / `request[keys.USER]`, never a string: the key carries the type, so
mypy knows what comes out (a new key is declared here, with its type, and nowhere else).
The types are imported for the checker only, since their modules import this one.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from forum.auth import KnownSession, SessionCache
    from forum.cache import PageCache, Tags
    from forum.config import Config
    from forum.db import Database
    from forum.fragments import FragmentCache
    from forum.mail import Mailer
    from forum.models.users import Session, User
    from forum.ratelimit import RateLimiter
    from forum.reads import KeptUnread, ReadLog
    from forum.uploads.pipeline import Uploader
    from forum.uploads.storage import Store

CONFIG: web.AppKey[Config] = web.AppKey("config")
DB: web.AppKey[Database] = web.AppKey("db")
PAGE_CACHE: web.AppKey[PageCache] = web.AppKey("page_cache")
SESSIONS: web.AppKey[SessionCache] = web.AppKey("sessions")  # forum/auth.py: sessions in memory
FRAGMENTS: web.AppKey[FragmentCache] = web.AppKey("fragments")  # forum/fragments.py
LIMITER: web.AppKey[RateLimiter] = web.AppKey("limiter")
VIEWS: web.AppKey[Counter[int]] = web.AppKey("views")  # thread id -> page views not yet written
UPLOADER: web.AppKey[Uploader] = web.AppKey("uploader")  # forum.uploads.pipeline: files, workers
DROP_STORE: web.AppKey[Store] = web.AppKey("drop_store")  # forum.views.drops: the files of drops
MAIL: web.AppKey[Mailer] = web.AppKey("mail")  # forum.mail: the sender's wake-up call, signing key
READS: web.AppKey[ReadLog] = web.AppKey("reads")  # forum/reads.py: reads not yet written
UNREAD: web.AppKey[KeptUnread] = web.AppKey("unread")  # forum/reads.py: floors and counts kept
# forum.account_export: set when a member asks for their data, so the maker starts at once.
EXPORT_WAKE: web.AppKey[asyncio.Event] = web.AppKey("account_exports_wake")

# Request keys, set by middlewares and handlers.
USER: web.RequestKey[User | None] = web.RequestKey("user")
SESSION: web.RequestKey[Session | None] = web.RequestKey("session")
KNOWN_SESSION: web.RequestKey[KnownSession] = web.RequestKey("known_session")  # forum/auth.py
VIA_TOKEN = web.RequestKey("via_token", bool)  # authenticated by an API bearer token
LOCALE = web.RequestKey("locale", str)  # "fr" | "en"
CSRF_TOKEN = web.RequestKey("csrf_token", str)  # the token forms must send back
NEW_CSRF_COOKIE = web.RequestKey("new_csrf_cookie", str)  # a visitor's token to set
# Set by a handler whose page visitors share: what a write must touch to drop the page.
CACHE_TAGS: web.RequestKey[Tags] = web.RequestKey("cache_tags")
VIEWED_THREAD = web.RequestKey("viewed_thread", int)
# A multipart form whose CSRF token the handler checks as it streams it (forum/csrf.py).
CSRF_IN_STREAM = web.RequestKey("csrf_in_stream", bool)
COOKIES: web.RequestKey[Mapping[str, str]] = web.RequestKey("cookies")  # forum/cookies.py
