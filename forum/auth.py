"""Who is asking: the session cookie or an API bearer token; logging in and out."""
from __future__ import annotations

import logging
import sqlite3
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from forum import clock, i18n, keys, mail
from forum.config import Config
from forum.cookies import cookies
from forum.db import Transaction
from forum.errors import Forbidden, Unauthorized
from forum.models import moderation, outbox, sessions, two_factor, users

log = logging.getLogger(__name__)

SESSION_COOKIE = "vigie_session"
# What a member whose role requires two-factor login may still reach before setting it up.
SETUP_ROUTES = frozenset({"two_factor", "two_factor_start", "two_factor_enable", "logout",
                          "language", "static"})


class KnownSession:
    """A session as a request finds it in memory, with what pages show of its member."""

    __slots__ = ("memo", "session", "two_factor")

    def __init__(self, session: users.Session | None) -> None:
        self.session = session  # None: no such session (a stale or made-up cookie)
        self.two_factor: bool | None = None  # whether 2FA is on, once asked
        # Per-reader bits of pages (forum/fragments.py: follow states, the header's links).
        self.memo: dict[object, Any] = {}


class SessionCache:
    """Sessions by token digest, with their counters and per-reader page bits, kept in memory.

    Exact by construction: everything is dropped at every commit of this process (PageCache.
    listeners: a log-out, a password change, a ban, a role or name change, a new notification,
    a post waiting in a queue...) and at any write of another process the page cache notices
    (db.catch_up(), before a kept session is used). A session loaded while a write
    committed is not kept (`epoch`), and an entry past its session's end is never used.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self.epoch = 0
        self._entries: OrderedDict[str, KnownSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str, now: str) -> KnownSession | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        session = entry.session
        if session is not None and (session.expires_at or "") <= now:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry

    def put(self, digest: str, session: users.Session | None, epoch: int) -> KnownSession:
        entry = KnownSession(session)
        if epoch == self.epoch and self.max_entries > 0:
            self._entries[digest] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return entry

    def drop(self, _tags: object = None) -> None:
        self.epoch += 1
        self._entries.clear()


BEARER_PATHS = ("/api/", "/files/")


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[keys.USER] = None
    request[keys.SESSION] = None
    request[keys.VIA_TOKEN] = False
    db = request.app[keys.DB]
    token = cookies(request).get(SESSION_COOKIE)
    # Files too, so that a client that read a post through the API can fetch its attachments
    # (only GETs: their responses are private, and no form takes a token).
    bearer = _bearer(request) if request.path.startswith(BEARER_PATHS) else None
    stale_cookie = False
    if bearer:
        async with db.read() as conn:
            found = await users.user_for_token(conn, bearer)
        if found is None:
            raise Unauthorized("This API token is not valid.")
        request[keys.USER], token_id, last_used_on = found
        request[keys.VIA_TOKEN] = True
        today = clock.now()[:10]
        if last_used_on != today:  # at most one write per token and day
            async with db.transaction() as tx:
                await users.mark_token_used(tx, token_id, today)
    elif token:
        now = clock.now()
        known = await _known_session(request, token, now)
        session = known.session
        if session is None:
            stale_cookie = True
        else:
            request[keys.SESSION] = session
            request[keys.USER] = session.user
            request[keys.KNOWN_SESSION] = known
            today = now[:10]
            if session.last_used_on != today:  # at most one write per session and day
                async with db.transaction() as tx:
                    await sessions.mark_session_used(tx, session.token_hash, today)
            await _require_two_factor(request, session.user, known)
    response = await handler(request)
    if stale_cookie and not response.prepared:
        response.del_cookie(SESSION_COOKIE, path="/")
    if request.path.startswith("/api/") and not response.prepared:
        _api_cache_headers(request, response)
    return response


async def _known_session(request: web.Request, token: str, now: str) -> KnownSession:
    """The session of this cookie from memory, or read (with the header's counters) and kept."""
    cache = request.app[keys.SESSIONS]
    db = request.app[keys.DB]
    try:
        db.catch_up()  # another process's writes (a log-out, a ban) drop the kept sessions
    except sqlite3.Error:  # not knowing what changed, trust nothing kept
        log.exception("cannot read other processes' writes")
        cache.drop()
    digest = users.token_hash(token)
    known = cache.get(digest, now)
    if known is not None:
        return known
    epoch = cache.epoch
    async with db.read() as conn:
        session = await users.load_session(conn, token)
        if session is not None and session.user.moderates_any:
            # The header's badge, from the queue's own conditions.
            session = replace(session, waiting=await moderation.queue_size(conn, session.user))
    return cache.put(digest, session, epoch)


def _api_cache_headers(request: web.Request, response: web.StreamResponse) -> None:
    """An API answer made for one caller is kept by no shared cache (nor by the browser once
    the caller logs out); one for visitors still varies with who asks."""
    if request[keys.USER] is not None:
        response.headers["Cache-Control"] = "private, no-store"
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Authorization, Cookie" if vary else "Authorization, Cookie"


def requires_two_factor(config: Config, user: users.User) -> bool:
    """FORUM_REQUIRE_2FA_FOR: whether this member's role must log in with a code."""
    if config.require_2fa_for == "admins":
        return user.role == "admin"
    if config.require_2fa_for == "moderators":
        return user.holds_moderator_role or bool(user.moderated_boards)
    return False


async def _require_two_factor(request: web.Request, user: users.User,
                              known: KnownSession) -> None:
    """A member whose role requires 2FA and who has none can only set it up (or log out)."""
    if not requires_two_factor(request.app[keys.CONFIG], user):
        return
    route = request.match_info.route.name
    if route in SETUP_ROUTES:
        return
    if known.two_factor is None:
        async with request.app[keys.DB].read() as conn:
            known.two_factor = await two_factor.is_enabled(conn, user.id)
    if known.two_factor:
        return
    if request.method in ("GET", "HEAD") and not request.path.startswith("/api/"):
        raise web.HTTPSeeOther(str(request.app.router["two_factor"].url_for()))
    raise Forbidden("Your role requires two-factor login: set it up in your settings first.")


# Browser families and systems, in the order they must be tested (Edge and Opera say "Chrome",
# Chrome says "Safari", Android says "Linux", iOS says "like Mac OS X"). Only these words are
# ever stored: the agent itself would be a fingerprint.
BROWSERS = (("Edg/", "Edge"), ("EdgiOS", "Edge"), ("OPR/", "Opera"), ("Opera", "Opera"),
            ("SamsungBrowser", "Samsung Internet"), ("Firefox/", "Firefox"),
            ("FxiOS", "Firefox"), ("Chrome/", "Chrome"), ("CriOS", "Chrome"),
            ("Chromium", "Chromium"), ("Safari/", "Safari"), ("curl/", "curl"))
SYSTEMS = (("Windows", "Windows"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Android", "Android"),
           ("CrOS", "ChromeOS"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"),
           ("Linux", "Linux"), ("BSD", "BSD"))
AGENT_MAX = 512  # longer agents are cut before looking: the work stays bounded


def device_summary(agent: str) -> tuple[str, str]:
    """(browser family, system) of a User-Agent, '' for what is not recognised."""
    agent = agent[:AGENT_MAX]
    browser = next((name for word, name in BROWSERS if word in agent), "")
    system = next((name for word, name in SYSTEMS if word in agent), "")
    return browser, system


async def log_in(request: web.Request, response: web.StreamResponse, user: users.User,
                 notice: bool = True) -> None:
    """Start a new session (a new id every time) and end the one the browser had, if any.

    `notice`: a new log-in, mailed to members who asked for it (not the fresh session that a
    password change opens on the same device).
    """
    config = request.app[keys.CONFIG]
    device = device_summary(request.headers.get("User-Agent", ""))
    async with request.app[keys.DB].transaction() as tx:
        old = request.get(keys.SESSION)
        if old is not None:
            await users.close_session(tx, old.token_hash)
        token = await users.open_session(tx, user.id, config.session_days, device)
        if notice:
            await _queue_login_notice(tx, request, user.id, device)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=config.session_days * 86400, path="/", httponly=True,
        samesite="Lax", secure=config.secure_cookies)


async def log_out(request: web.Request, response: web.StreamResponse) -> None:
    session = request.get(keys.SESSION)
    if session is not None:
        async with request.app[keys.DB].transaction() as tx:
            await users.close_session(tx, session.token_hash)
    response.del_cookie(SESSION_COOKIE, path="/")


async def _queue_login_notice(tx: Transaction, request: web.Request, user_id: int,
                              device: tuple[str, str]) -> None:
    """The mail of a new log-in: the device summary and the day, never the address."""
    row = await tx.one("select name, email, locale, login_notices from users where id = ?",
                       (user_id,))
    if row is None or not row["login_notices"] or not outbox.valid_address(row["email"]):
        return
    app, config = request.app, request.app[keys.CONFIG]
    locale = row["locale"] if row["locale"] in i18n.LOCALES else config.default_locale
    subject, text, html = mail.render_mail(
        app, "login_notice", locale, name=mail.mail_text(row["name"]), browser=device[0],
        os=device[1], day=clock.now()[:10],
        settings_url=config.base_url + str(app.router["settings"].url_for()))
    await outbox.enqueue(tx, row["email"], subject, text, html, {"Content-Language": locale})
