"""GET /healthz for the reverse proxy and monitors: 200 when the site can serve and write.

It says only which check failed, never a count, an address or a time: anyone may call it.
"""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp import web

from forum import clock, db, keys
from forum.models import outbox

CHECK_SECONDS = 2.0  # a database or writer that does not answer within this is not healthy
OUTBOX_STUCK = timedelta(hours=1)  # mail waiting longer than this, with SMTP set: not sent


async def healthz(request: web.Request) -> web.Response:
    checks = {"database": await _database(request), "writer": await _writer(request)}
    if request.app[keys.CONFIG].smtp_host:
        checks["outbox"] = await _outbox(request) if checks["database"] == "ok" else "unknown"
    healthy = all(state == "ok" for state in checks.values())
    response = web.json_response({"status": "ok" if healthy else "unavailable",
                                  "checks": checks}, status=200 if healthy else 503)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _database(request: web.Request) -> str:
    async def ask() -> None:
        async with request.app[keys.DB].read() as conn:
            await db.read_schema(conn)

    try:
        await asyncio.wait_for(ask(), CHECK_SECONDS)
    except Exception:  # a timeout or any database error: the answer is the same
        return "failing"
    return "ok"


async def _writer(request: web.Request) -> str:
    return "ok" if await request.app[keys.DB].writer_free(CHECK_SECONDS) else "busy"


async def _outbox(request: web.Request) -> str:
    async with request.app[keys.DB].read() as conn:
        oldest = await outbox.oldest_waiting(conn)
    if oldest is not None and clock.parse(oldest) < datetime.now(UTC) - OUTBOX_STUCK:
        return "stuck"
    return "ok"
