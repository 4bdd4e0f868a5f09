"""The drop for sources: /deposer to send, /deposer/suivi to follow up with the code; erasing
drops, and what keeps them out of the logs. The moderators' side is views/drop_moderation.py.

A source may be someone inside a town hall. So: no account, no JavaScript, and nothing kept that
could name them — no address, no user agent, no time finer than the day (forum/models/drops.py),
no access-log line for these paths (NoDropLines), rate limits held in memory only. Their files go
through the same cleaning worker as attachments, and are kept apart, in data/drops/.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from multidict import MultiMapping

from forum import keys, periodic
from forum.config import MB, Config
from forum.errors import (
    ForumError,
    Invalid,
    NotFound,
    TooLarge,
    TooManyRequests,
    Unavailable,
)
from forum.i18n import gettext
from forum.models import boards, drops
from forum.models.drops import CleanFile
from forum.multipart import part_chunks, read_multipart
from forum.templating import render
from forum.uploads import names
from forum.uploads.kinds import KINDS
from forum.uploads.storage import Store, sha256_of
from forum.views import (
    check_rate,
    client_address,
    text_field,
)

log = logging.getLogger("forum")
FILES_FIELD = "files"
HOUR = 3600
EXPIRY_INTERVAL = 3600.0  # seconds between two sweeps of old drops
# Every answer of these pages: never stored by a browser or a proxy, never named to another site.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def private(response: web.Response) -> web.Response:
    response.headers.update(PRIVATE_HEADERS)
    return response


# Sending a drop. ------------------------------------------------------------------------------

@dataclass
class Received:
    """A file as sent, on disk in the drop store's temporary folder, not yet cleaned."""

    raw: Path
    name: str
    claimed: str
    size: int


async def send(request: web.Request) -> web.Response:
    """/deposer and /b/{slug}/deposer: the form, and a drop received (its code shown once)."""
    config = request.app[keys.CONFIG]
    async with request.app[keys.DB].read() as conn:
        cities = [board for board in await boards.list_readable(conn, None) if board.is_city]
        board = (await boards.get_readable(conn, request.match_info["slug"], None)
                 if "slug" in request.match_info else None)
    if board is not None and not board.is_city:
        raise NotFound()
    context: dict[str, Any] = {
        "cities": cities, "board": board, "message": "", "answer": "", "errors": {},
               "question": config.drop_question, "max_files": config.drop_max_files,
               "max_mb": config.drop_max_bytes // MB, "days": config.drop_days}
    if request.method != "POST":
        return private(render(request, "drops/new.html", context, form=True))
    await check_rate(request, f"drop:{client_address(request)}", config.drops_per_hour, HOUR,
                     "Too many drops from here. Please wait an hour and try again.")
    try:
        with contextlib.ExitStack() as temps:
            code, board = await _receive(request, context, temps)
    except ForumError as error:
        if isinstance(error, TooManyRequests | Unavailable):
            raise  # its own page, with Retry-After
        context["errors"] = {error.field or "form": gettext(error.message, **error.params)}
        return private(render(request, "drops/new.html", context, status=error.status,
                               form=True))
    return private(render(request, "drops/sent.html", {"code": code, "board": board}))


async def _receive(request: web.Request, context: dict[str, Any],
                   temps: contextlib.ExitStack) -> tuple[str, boards.Board]:
    """Read the form (files to temporary files), check it, clean the files, record the drop."""
    config = request.app[keys.CONFIG]
    store = request.app[keys.DROP_STORE]
    received: list[Received] = []

    async def on_file(part: BodyPartReader) -> None:
        if len(received) >= config.drop_max_files:
            raise Invalid("At most %(max)s files per drop.", field=FILES_FIELD,
                          max=config.drop_max_files)
        left = config.drop_max_bytes - sum(item.size for item in received)
        limit = max(0, min(config.upload_max_bytes, left))
        raw = temps.enter_context(store.temp_path())
        too_large = TooLarge("This file is too large (at most %(max)s MB).", field=FILES_FIELD,
                             max=max(1, limit // MB))
        size = await store.receive(part_chunks(part), raw, limit, too_large)
        if size:
            received.append(Received(raw, names.clean_filename(part.filename or ""),
                                     part.headers.get("Content-Type", ""), size))

    fields: MultiMapping[object]
    if request.content_type == "multipart/form-data":
        fields = await read_multipart(request, FILES_FIELD, on_file, config.drop_max_bytes)
    else:
        fields = await request.post()
    context["message"] = text_field(fields, "message")
    context["answer"] = text_field(fields, "answer")
    board = context["board"] or _chosen_city(context["cities"], text_field(fields, "city"))
    context["board"] = board
    message = drops.check_message(context["message"])
    if not answer_accepted(config, context["answer"]):
        raise Invalid("This is not the answer we expected. Please try again.", field="answer")
    if not message and not received:
        raise Invalid("Send a file or a message (or both).", field="message")
    cleaned = await _clean_all(request, received, temps)
    await asyncio.to_thread(store.sync, *[path for clean, thumb, _f in cleaned
                                          for path in (clean, thumb)])
    files: list[tuple[Path, str]] = []
    for clean, thumb, f in cleaned:
        files.append((clean, f.sha256))
        if thumb is not None and f.thumbnail_sha256:
            files.append((thumb, f.thumbnail_sha256))
    staged: set[str] = set()
    try:
        # To a bucket before the transaction: the writer's lock waits for no upload.
        await store.stage(files, staged)
        async with request.app[keys.DB].transaction() as tx:
            code = await drops.create(tx, board.id, message, [f for _c, _t, f in cleaned])
            # In the transaction, under the writer's lock: an erasure cannot slip in between
            # (a staged file it removed meanwhile is put again here).
            for path, sha in files:
                await store.place(path, sha)
    except BaseException:
        await _forget(request.app, staged)
        raise
    return code, board


async def _forget(app: web.Application, staged: set[str]) -> None:
    """Remove the files staged for a drop that was not recorded (unless another drop holds
    the same bytes by now)."""
    if not staged:
        return
    try:
        async with app[keys.DB].transaction() as tx:
            for sha in await drops.unused(tx, staged):
                await app[keys.DROP_STORE].remove(sha)
    except Exception:  # the bucket or the database failing again: `vigie check` finds them
        log.exception("could not remove the files of a drop that failed")


def _chosen_city(cities: list[boards.Board], slug: str) -> boards.Board:
    for city in cities:
        if city.slug == slug:
            return city
    raise Invalid("Choose the city whose moderators should receive this.", field="city")


async def _clean_all(request: web.Request, received: list[Received],
                     temps: contextlib.ExitStack) -> list[tuple[Path, Path | None, CleanFile]]:
    """Every file through the upload worker; one refused refuses the drop, saying why."""
    uploader, store = request.app[keys.UPLOADER], request.app[keys.DROP_STORE]
    cleaned, refused = [], []
    for item in received:
        clean = temps.enter_context(store.temp_path())
        thumb = temps.enter_context(store.temp_path())
        try:
            result = await uploader.clean(item.raw, clean, thumb, item.name, item.claimed,
                                          FILES_FIELD)
        except Invalid as error:
            refused.append(f"{item.name}: {gettext(error.message, **error.params)}")
            continue
        finally:
            item.raw.unlink(missing_ok=True)  # what was sent is never kept
        kind = KINDS[result["kind"]]
        thumb_sha = sha256_of(thumb) if result["thumbnail"] else None
        cleaned.append((clean, thumb if thumb_sha else None, CleanFile(
            result["sha256"], names.final_name(item.name, kind), kind.name, kind.content_type,
            result["size"], result["width"], result["height"], thumb_sha,
            tuple(result["removed"]))))
    if refused:
        raise Invalid("Nothing was sent. Refused files: %(files)s", field=FILES_FIELD,
                      files="; ".join(refused))
    return cleaned


def _fold(text: str) -> str:
    """An answer as compared: no case, no accents, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def answer_accepted(config: Config, answer: str) -> bool:
    """The admins' question (FORUM_DROP_QUESTION) answered; always true when there is none."""
    if not config.drop_question.strip():
        return True
    accepted = {_fold(choice) for choice in config.drop_answer.split("|")} - {""}
    return _fold(answer) in accepted


# The sender's follow-up: the code in a POST form, never in a URL. --------------------------------

async def follow_up(request: web.Request) -> web.Response:
    """/deposer/suivi: with the code, the moderators' answers, and a reply."""
    config = request.app[keys.CONFIG]
    context: dict[str, Any] = {"drop": None, "code": "", "message": "", "errors": {}, "sent": False}
    if request.method != "POST":
        return private(render(request, "drops/follow.html", context, form=True))
    form = await request.post()
    code = text_field(form, "code")[:100]
    limiter, key = request.app[keys.LIMITER], f"drop_code:{client_address(request)}"
    wait = await limiter.retry_after(key, config.drop_code_attempts, HOUR)
    if wait:
        raise TooManyRequests("Too many wrong codes from here. Please wait an hour.",
                              retry_after=wait)
    async with request.app[keys.DB].read() as conn:
        drop = await drops.by_code(conn, code)
    if drop is None:
        await limiter.hit(key, HOUR)
        context["errors"] = {"code": gettext("This code matches no drop. Check it and try "
                                             "again (drops are erased after %(days)s days).",
                                             days=config.drop_days)}
        return private(render(request, "drops/follow.html", context, status=422, form=True))
    context.update(drop=drop, code=code)
    status = 200
    if form.get("action") == "reply":
        context["message"] = text_field(form, "message")
        try:
            await check_rate(request, f"drop:{client_address(request)}", config.drops_per_hour,
                             HOUR,
                             "Too many messages from here. Please wait an hour and try again.")
            async with request.app[keys.DB].transaction() as tx:
                await drops.add_message(tx, drop.id, None, context["message"])
            context["message"], context["sent"] = "", True
        except (Invalid, TooManyRequests) as error:
            context["errors"] = {"message": gettext(error.message, **error.params)}
            status = error.status
    async with request.app[keys.DB].read() as conn:
        context["messages"] = await drops.messages(conn, drop.id)
        context["files"] = await drops.files(conn, drop.id)
    return private(render(request, "drops/follow.html", context, status=status, form=True))


# Erasing, the log filter, and the background sweep. ------------------------------------------

async def erase(app: web.Application, drop_ids: list[int]) -> None:
    """Delete drops and the files no other drop holds (under the writer's lock)."""
    store = app[keys.DROP_STORE]
    async with app[keys.DB].transaction() as tx:
        for sha in await drops.erase(tx, drop_ids):
            await store.remove(sha)


async def expire(app: web.Application) -> int:
    """Erase the drops older than FORUM_DROP_DAYS; returns how many."""
    async with app[keys.DB].read() as conn:
        old = await drops.expired(conn, app[keys.CONFIG].drop_days)
    if old:
        await erase(app, old)
    app[keys.DROP_STORE].sweep_temp()
    return len(old)


def is_drop_path(path: str) -> bool:
    """A path of the sender's pages (as requested: decoded, any case)."""
    return "/deposer" in unquote(path).lower()


class NoDropLines(logging.Filter):
    """No access-log line at all for the sender's pages: it would hold their address, their
    browser and the exact time. aiohttp's access logger gives the request line as
    `first_request_line` (format %r); the message itself is checked too. A request aiohttp
    could not read is logged as "UNKNOWN / HTTP/1.0": it may have been a drop, so no line."""

    def filter(self, record: logging.LogRecord) -> bool:
        line = str(getattr(record, "first_request_line", ""))
        message = record.getMessage()
        return not (is_drop_path(line) or is_drop_path(message) or line.startswith("UNKNOWN ")
                    or '"UNKNOWN ' in message)


class NoClientAddress(logging.Filter):
    """aiohttp's server logs a request it could not handle (a malformed one, before any route
    is known) "from" the client's address: the address is left out, whatever the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Error handling request from") and record.args:
            record.msg, record.args = "Error handling request (client address not logged)", ()
        return True


NO_DROP_LINES, NO_CLIENT_ADDRESS = NoDropLines(), NoClientAddress()


def setup(app: web.Application) -> None:
    app[keys.DROP_STORE] = Store.in_folder(app[keys.CONFIG].data_dir, "drops",
                                           app[keys.UPLOADER].storage)
    # Whatever runs the app (`vigie serve` has no access log; a test server or gunicorn does).
    for name, log_filter in (("aiohttp.access", NO_DROP_LINES),
                             ("aiohttp.server", NO_CLIENT_ADDRESS)):
        logger = logging.getLogger(name)
        if log_filter not in logger.filters:
            logger.addFilter(log_filter)
    app.cleanup_ctx.append(_expiry_loop)


async def _expiry_loop(app: web.Application) -> AsyncIterator[None]:
    app[keys.DROP_STORE].open()
    async for _ in periodic.every(EXPIRY_INTERVAL, expire, "erasing old drops")(app):
        yield
