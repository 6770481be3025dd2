"""Answer on the event loop when the cube has what a request reads; else in the thread pool.

Most advice and best-times requests read hours prepared with the cube (about a
millisecond); handing each to a worker thread costs more than that, in queue hand-offs
and in the event loop waiting for the GIL. A request that needs forecasts computed (a
date beyond the cube, a replayed ``today``, an office not yet prepared) is refused by
its ``compute=False`` source (:class:`serving.cube_source.NeedsComputing`) before any
work, and runs again in the thread pool, so the event loop never waits on the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi.concurrency import run_in_threadpool

from serving.cube_source import NeedsComputing

T = TypeVar("T")


async def on_loop_or_thread(work: Callable[[bool], T]) -> T:
    """``work(False)`` on the loop; ``work(True)`` in the thread pool when it needs to
    compute. ``work`` must be pure up to its ``NeedsComputing`` (it may run twice)."""
    try:
        return work(False)
    except NeedsComputing:
        return await run_in_threadpool(work, True)
