"""CPU priority for work whose cost a visitor chooses (costly searches, hostile Markdown).

With as many busy threads as cores, such work took its share of the CPU from the readers of
pages and ordinary searches (bench/hostile.py, 2 cores). Run at a higher nice value, it still
gets idle cores in full, and waits when readers need them.
"""
from __future__ import annotations

import contextlib
import os
import threading

BACKGROUND_NICE = 10


def lower(nice: int = BACKGROUND_NICE) -> None:
    """Lower the calling thread's CPU priority to `nice`, never raise it (Linux: the nice value
    is per thread). Where threads have none, or a sandbox refuses, nothing changes."""
    if not hasattr(os, "setpriority"):
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, thread,
                       max(os.getpriority(os.PRIO_PROCESS, thread), nice))
