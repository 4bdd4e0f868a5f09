"""The middleware that turns every error into a French (or English) page or a JSON error."""
from __future__ import annotations

import errno
import logging
import sqlite3

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Handler

from forum import keys, templating
from forum.errors import (
    BadRequest,
    Conflict,
    Contradiction,
    Forbidden,
    ForumError,
    Invalid,
    NotFound,
    TooLarge,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    UnknownReference,
)
from forum.i18n import N_, gettext

# Storage faults that are no bug: the disk is full or failing. SQLite reports them with these
# primary codes (extended I/O codes share SQLITE_IOERR's low byte); file writes with these errnos.
STORAGE_SQLITE_CODES = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR}
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS}
# PostgreSQL's SQLSTATEs for the same: its disk full, out of memory, too many connections or
# files (class 53), an I/O error, read-only (a standby), and a server shutting down or starting.
STORAGE_SQLSTATES = {"53000", "53100", "53200", "53300", "53400", "58030", "25006",
                     "57P01", "57P02", "57P03"}


def storage_fault(error: BaseException) -> bool:
    """Whether `error` says the data folder or the database server cannot be written (full,
    read-only or failing)."""
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and (code & 0xFF) in STORAGE_SQLITE_CODES
    if isinstance(error, asyncpg.PostgresError):
        return error.sqlstate in STORAGE_SQLSTATES
    return isinstance(error, OSError) and error.errno in STORAGE_ERRNOS


log = logging.getLogger("forum")

HTTP_MESSAGES = {
    400: N_("The request is not valid."),
    401: N_("You need to log in."),
    403: N_("You may not do this."),
    404: N_("This page does not exist, or is not visible to you."),
    405: N_("This method is not allowed here."),
    409: N_("This conflicts with what already exists."),
    413: N_("This is too large."),
    422: N_("Some fields are not valid."),
    429: N_("Too many attempts. Please wait a little and try again."),
    500: N_("Something went wrong on our side. Nothing was saved; please try again."),
    503: N_("The site cannot save anything right now (its storage is full or failing)."
            " Nothing was saved; please try again later."),
}


# Short page titles; the message above or the error's own says what happened.
HTTP_TITLES = {
    400: N_("Invalid request"),
    401: N_("Login needed"),
    403: N_("Not allowed"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("Please check the form"),
    429: N_("Too many attempts"),
    500: N_("Server error"),
    503: N_("Temporarily unavailable"),
}


# aiohttp's own errors speak with the same codes as ours.
HTTP_CODES = {400: BadRequest.code, 401: Unauthorized.code, 403: Forbidden.code,
              404: NotFound.code, 409: Conflict.code, 413: TooLarge.code, 422: Invalid.code,
              429: TooManyRequests.code}


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def error_response(request: web.Request, status: int, code: str, message: str,
                   field: str | None = None) -> web.Response:
    text = message
    if _is_api(request):
        error: dict[str, object] = {"code": code, "message": text}
        if field:
            error["field"] = field
        response = web.json_response({"error": error}, status=status)
        # Kept by no cache: it may be about its caller (a sanction, a missing right), and the
        # same address may answer 200 to someone else. The auth middleware does the same for
        # answers a handler returns; this one was raised past it.
        caller = request.get(keys.USER) is not None
        response.headers["Cache-Control"] = "private, no-store" if caller else "no-store"
        response.headers["Vary"] = "Authorization, Cookie"
        return response
    title = gettext(HTTP_TITLES[status]) if status in HTTP_TITLES else str(status)
    return templating.render(request, "error.html",
                             {"status": status, "message": text, "title": title}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ForumError as error:
        message = gettext(error.message or HTTP_MESSAGES.get(error.status, ""), **error.params)
        status, code = error.status, error.code
        if isinstance(error, UnknownReference | Contradiction) and _is_api(request):
            status, code = error.api_status, error.api_code
        response = error_response(request, status, code, message, error.field)
        if isinstance(error, TooManyRequests | Unavailable):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    except web.HTTPException as error:
        if error.status < 400 or error.empty_body:
            raise
        code = HTTP_CODES.get(error.status) or error.reason.lower().replace(" ", "_")
        response = error_response(request, error.status, code,
                                  gettext(HTTP_MESSAGES.get(error.status, error.reason)))
        if error.status == 405:
            response.headers["Allow"] = error.headers.get("Allow", "")
        return response
    except Exception as error:
        if storage_fault(error):  # the transaction was rolled back: nothing half-written
            log.error("storage fault on %s %s: %s", request.method, request.path, error)
            response = error_response(request, 503, Unavailable.code,
                                      gettext(HTTP_MESSAGES[503]))
            response.headers["Retry-After"] = str(Unavailable.retry_after)
            return response
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(request, 500, "internal_error", gettext(HTTP_MESSAGES[500]))
