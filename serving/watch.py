"""Each worker's watch: every ``WAITCAST_WATCH_SECONDS``, follow the registry and the date.

:meth:`serving.state.ServingState.refresh` does the work in the thread pool (a load or a
cube build is CPU-bound); this loop only times it and never dies of an error.
"""

from __future__ import annotations

import logging

import anyio
from fastapi.concurrency import run_in_threadpool

from serving.state import ServingState

log = logging.getLogger("waitcast.serving")


async def follow_registry(state: ServingState, every: float) -> None:
    """Refresh ``state`` every ``every`` seconds until cancelled."""
    while True:
        await anyio.sleep(every)
        try:
            await run_in_threadpool(state.refresh)
        except Exception:  # the watch must outlive any one failure
            log.exception("the registry watch failed; trying again in %.1f s", every)
