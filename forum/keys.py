"""Every web.AppKey, and the names of what middlewares put on a request."""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    pass

CONFIG = web.AppKey("config", "Config")
DB = web.AppKey("db", "Database")
PAGE_CACHE = web.AppKey("page_cache", "PageCache")
SESSIONS = web.AppKey("sessions", "SessionCache")  # forum/auth.py: sessions kept in memory
FRAGMENTS = web.AppKey("fragments", "FragmentCache")  # forum/fragments.py
LIMITER = web.AppKey("limiter", "RateLimiter")
VIEWS = web.AppKey("views", Counter)  # thread id -> page views not yet written
READS = web.AppKey("reads", "ReadLog")  # forum/reads.py: members' reads not yet written
UPLOADER = web.AppKey("uploader", "Uploader")  # forum.uploads.pipeline: files, workers
DROP_STORE = web.AppKey("drop_store", "Store")  # forum.views.drops: the files of drops
MAIL = web.AppKey("mail", "Mailer")  # forum.mail: the sender's wake-up call, signing key

# Request keys, set by middlewares and handlers.
USER = web.RequestKey("user", object)  # models.users.User | None
SESSION = web.RequestKey("session", object)  # models.users.Session | None
KNOWN_SESSION = web.RequestKey("known_session", object)  # forum/auth.py: KnownSession
VIA_TOKEN = web.RequestKey("via_token", bool)  # authenticated by an API bearer token
LOCALE = web.RequestKey("locale", str)  # "fr" | "en"
CSRF_TOKEN = web.RequestKey("csrf_token", str)  # the token forms must send back
NEW_CSRF_COOKIE = web.RequestKey("new_csrf_cookie", str)  # a visitor's token to set
CACHE_TAGS = web.RequestKey("cache_tags", set)  # set by a handler whose page visitors share
VIEWED_THREAD = web.RequestKey("viewed_thread", int)
# A multipart form whose CSRF token the handler checks as it streams it (forum/csrf.py).
CSRF_IN_STREAM = web.RequestKey("csrf_in_stream", bool)
