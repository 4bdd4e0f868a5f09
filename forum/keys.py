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
LIMITER = web.AppKey("limiter", "RateLimiter")
VIEWS = web.AppKey("views", Counter)  # thread id -> page views not yet written

# Request keys (plain strings, set by middlewares).
USER = "user"  # models.users.User | None
SESSION = "session"  # models.users.Session | None
VIA_TOKEN = "via_token"  # True when authenticated by an API bearer token
LOCALE = "locale"  # "fr" | "en"
CSRF_TOKEN = "csrf_token"  # str, the token forms must send back
CACHE_TAGS = "cache_tags"  # set by a handler whose anonymous page may be cached
CACHE_EPOCH = "cache_epoch"
VIEWED_THREAD = "viewed_thread"
