"""Jobs that a server process runs in the background, round after round: telling records
requests' deadlines, erasing old drops, preparing and removing exports of one's own data.

One way to run them (app.cleanup_ctx): a round at start, then one every `seconds` (sooner when
the job's wake-up event is set); a round that fails is logged and tried again at the next."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

log = logging.getLogger("forum")
Job = Callable[[web.Application], Awaitable[object]]
Context = Callable[[web.Application], AsyncIterator[None]]


def every(seconds: float, job: Job, what: str,
          wake: web.AppKey[asyncio.Event] | None = None) -> Context:
    """A cleanup context running `job(app)` round after round; `what` names it in the log."""

    async def rounds(app: web.Application) -> None:
        while True:
            try:
                await job(app)
            except Exception:
                log.exception("%s failed; will try again", what)
            if wake is None:
                await asyncio.sleep(seconds)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(app[wake].wait(), seconds)
            app[wake].clear()

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(rounds(app))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context
