"""Refusing bad input cheaply, and not for long: bounds checked before anything is parsed, and
a client that keeps sending what is refused is turned away before its requests are read.

A flood of invalid requests costs the server little each (a 422 from a length check), but a
client that waits for nothing sends the next one at once, and the readers' requests queue
behind them on the event loop. So requests refused as invalid (400, 413, 422) count against
their client (the real one, as every rate limit: forum/ratelimit.py, shared by the workers);
past `Config.invalid_requests_per_minute`, its requests that carry input (a body or a query)
get a 429, after a pause, until the minute has passed. Plain page reads still pass: a reader
behind the same address as a flooder can still read. Forms are read here, before the session
and CSRF checks, so that a malformed one counts too; forms with files are streamed by their
handlers (forum/multipart.py), whose refusals count the same way.
"""
from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler

from forum import keys
from forum.config import Config
from forum.csrf import STREAMED_FORM_ROUTES
from forum.errors import (
    BadRequest,
    Contradiction,
    ForumError,
    Invalid,
    TooLarge,
    TooManyRequests,
    UnknownReference,
)
from forum.multipart import NOT_READABLE, UNREADABLE

WINDOW = 60.0  # seconds over which invalid requests are counted
INVALID_STATUSES = frozenset({400, 413, 422})
# Answered at once, a client that ignores Retry-After would get refusals as fast as the loop
# can write them, and readers would wait behind those; a sleeping request costs no CPU.
PAUSE_SECONDS = 1.0
# No form or link of the site sends more; a thousand is someone measuring the parser.
QUERY_PARAMETERS_MAX = 100
# One character takes up to 12 bytes in a JSON body ("\ud83d\ude00") or a form (four UTF-8
# bytes, each "%F0"); the rest of a body (names, numbers, ids, spacing) fits in this.
BODY_SLACK_BYTES = 64 * 1024
FORM = "application/x-www-form-urlencoded"
FORM_TYPES = frozenset({FORM, "multipart/form-data"})  # what aiohttp's request.post() reads
# Methods whose body nothing reads (aiohttp's request.post() is empty for them): a page read
# skips the body checks, a tenth of a member's page (which no cache answers before this).
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


def body_bytes_max(config: Config) -> int:
    """The largest JSON body or form any input can need: the longest text, every character
    escaped, and room for the other fields. Past it, 413 before the body is read (files come
    as multipart forms, streamed against their own limits)."""
    return 12 * config.body_max + BODY_SLACK_BYTES


def _refused_as_invalid(error: BaseException) -> bool:
    if isinstance(error, UnknownReference | Contradiction):
        return False  # well-formed: it names something gone, or contradicts what is recorded
    if isinstance(error, ForumError):
        return isinstance(error, BadRequest | TooLarge | Invalid)
    return isinstance(error, web.HTTPException) and error.status in INVALID_STATUSES


def _carries_input(request: web.Request) -> bool:
    return request.method not in ("GET", "HEAD") or bool(request.rel_url.raw_query_string)


def _reads_whole_form(request: web.Request) -> bool:
    """A form its route reads at once: any urlencoded one, a multipart one unless the route
    streams its files (forum/multipart.py)."""
    if request.content_type not in FORM_TYPES or request.match_info.http_exception is not None:
        return False
    return request.content_type == FORM or (
        request.match_info.route.name not in STREAMED_FORM_ROUTES)


async def _read_form(request: web.Request) -> None:
    """The form, read once here (aiohttp keeps it for the CSRF check and the handler): a
    malformed one (a multipart body cut short, without its boundary...) is the client's
    error, a 400 counted against it, not a ValueError deep in a handler."""
    try:
        await request.post()
    except (*UNREADABLE, RuntimeError):  # aiohttp: "unknown content transfer encoding"
        raise BadRequest(NOT_READABLE) from None


async def _pause() -> None:
    await asyncio.sleep(PAUSE_SECONDS)


@web.middleware
async def input_limits_middleware(request: web.Request,
                                  handler: Handler) -> web.StreamResponse:
    limiter = request.app[keys.LIMITER]
    key = None  # the client's, worked out only when needed (not for a plain page read)
    if _carries_input(request):
        key = _client_key(request)
        wait = await limiter.retry_after(
            key, request.app[keys.CONFIG].invalid_requests_per_minute, WINDOW)
        if wait:
            await _pause()
            raise TooManyRequests("Too many invalid requests from your address. Please wait"
                                  " a minute and try again.", retry_after=wait)
    try:
        # Counting "&" first: a thousand parameters are not parsed to be refused.
        if request.rel_url.raw_query_string.count("&") >= QUERY_PARAMETERS_MAX:
            raise BadRequest("This address has too many parameters (at most %(max)s).",
                             max=QUERY_PARAMETERS_MAX)
        if request.method not in _BODILESS:  # (aiohttp reads no form for these)
            limit = body_bytes_max(request.app[keys.CONFIG])
            if request.content_type == FORM and (request.content_length or 0) > limit:
                raise TooLarge("The request body is too large (at most %(max)s bytes).",
                               max=limit)
            if _reads_whole_form(request):
                await _read_form(request)
        response = await handler(request)
    except (ForumError, web.HTTPException) as error:
        if _refused_as_invalid(error):
            await limiter.hit(key or _client_key(request), WINDOW)
        raise
    if response.status in INVALID_STATUSES:  # a form shown again with its errors
        await limiter.hit(key or _client_key(request), WINDOW)
    return response


def _client_key(request: web.Request) -> str:
    """The key invalid requests are counted under: the real client's (forum/ratelimit.py)."""
    return "invalid:" + request.app[keys.LIMITER].client(
        request.remote, request.headers.getall("X-Forwarded-For", []))
