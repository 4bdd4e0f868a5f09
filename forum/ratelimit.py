"""In-memory sliding-window rate limits; keys (addresses) live only as long as their window."""
from __future__ import annotations

import time
from collections import deque


class RateLimiter:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._last_sweep = time.monotonic()

    def retry_after(self, key: str, limit: int, window: float) -> int:
        """Seconds to wait before `key` may act again (0: it may act now). Does not count."""
        hits = self._recent(key, window)
        if len(hits) < limit:
            return 0
        return max(1, int(hits[0] + window - time.monotonic()) + 1)

    def hit(self, key: str, window: float) -> None:
        self._recent(key, window).append(time.monotonic())
        self._sweep(window)

    def clear(self, key: str) -> None:
        self._hits.pop(key, None)

    def _recent(self, key: str, window: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        cutoff = time.monotonic() - window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        return hits

    def _sweep(self, window: float) -> None:
        # Forget idle keys so that no address is kept longer than needed against abuse.
        now = time.monotonic()
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        horizon = max(window, 3600)
        for key in [k for k, v in self._hits.items() if not v or v[-1] < now - horizon]:
            del self._hits[key]
