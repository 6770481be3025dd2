"""The app factory: assembles settings, state, routers, error handlers and middleware.

Nothing else happens here. The lifespan loads the registry's current model (a missing
or broken one is reported by readiness, never fatal), in a worker thread, then starts
the watch that follows the registry and the date (:mod:`serving.watch`).
:func:`app_from_env` is the factory each uvicorn worker calls (``waitcast serve
--workers N``): settings from ``WAITCAST_*``, logs as JSON lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import metadata

from anyio import to_thread
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from features.calendar_cn import load_calendar
from features.offices import load_offices
from serving import docs, errors, openapi
from serving.answer_cache import AnswerCache
from serving.deps import Turns
from serving.logging import configure
from serving.metrics import Metrics
from serving.middleware import JsonCORSMiddleware, RequestMiddleware
from serving.ratelimit import RateLimitMiddleware
from serving.routes import admin, advice, best_times, forecast, health, live, offices, pages
from serving.settings import Settings
from serving.state import ServingState
from serving.statestore import StateStore, open_store
from serving.watch import follow_registry

DESCRIPTION = """Predicted waits at Hangzhou's exit-entry offices, per open hour and channel,
from the serving model; live waits from the offices' queue states; the model's health.

Partners send their key as `X-API-Key: KEY` (or `Authorization: Bearer KEY`) and get its
quota; other callers get the per-address limit. Errors are JSON
`{"error": CODE, "message": TEXT}`."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _version() -> str:
    try:
        return metadata.version("waitcast")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    store: StateStore | None = None,
    rate_clock: Callable[[], float] | None = None,
) -> FastAPI:
    """Build the app.

    Args:
        settings: the server's settings (default: read from ``WAITCAST_*``; refuses unsafe
            ones outside development).
        clock: returns the current time (aware); tests inject a fixed one.
        store: the state store (default: opened from ``settings.state_store_url``).
        rate_clock: seconds since the epoch for the rate limits (default: the real time,
            whatever ``clock`` says, so that buckets refill in tests that fix the date).

    Raises:
        serving.errors.StateStoreError: the state store cannot be opened.
    """
    settings = settings or Settings()
    store = store or open_store(settings.state_store_url)
    state = ServingState(
        settings, clock or _utc_now, load_calendar(settings.calendar_file), load_offices(), store
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # One worker has one core for Python: a few threads answer as fast as anyio's 40,
        # without 40 requests' worth of pandas temporaries in memory at once.
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        await run_in_threadpool(state.load_quietly)
        watch = (
            asyncio.create_task(follow_registry(state, settings.watch_seconds))
            if settings.watch_seconds
            else None
        )
        yield
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch

    app = FastAPI(
        title="waitcast",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.serving = state
    app.state.answers = AnswerCache(settings.response_cache_mb * 2**20)
    app.state.metrics = Metrics(state, app.state.answers)
    app.state.advice_turns = Turns()
    errors.register(app)
    for module in (offices, forecast, live, admin, health, pages, advice, best_times):
        app.include_router(module.router)
    docs.install(app)  # before /static: its assets live under /static/swagger-ui
    if pages.STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    openapi.install(app, rate_limited=settings.rate_limit_per_minute > 0)
    # Innermost first: the rate limit answers inside CORS (a 429 a page can read) and
    # inside the request middleware (counted and logged).
    app.add_middleware(
        RateLimitMiddleware,
        store=store,
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
        clock=rate_clock or time.time,
    )
    if settings.cors_origins:
        app.add_middleware(
            JsonCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "PUT", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match", "X-API-Key"],
            expose_headers=["ETag", "X-Request-ID"],
        )
    app.add_middleware(
        RequestMiddleware, metrics=app.state.metrics, max_body_bytes=settings.max_body_bytes
    )
    return app


def app_from_env() -> FastAPI:
    """The app of one ``waitcast serve`` worker: settings from ``WAITCAST_*``, JSON logs."""
    configure()
    return create_app()
