"""The app factory: assembles settings, state, routers, error handlers and middleware.

Nothing else happens here. The lifespan loads the registry's current model (a missing
or broken one is reported by readiness, never fatal), in a worker thread.
"""

from __future__ import annotations

import datetime as dt
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
from serving.deps import Turns
from serving.metrics import Metrics
from serving.middleware import JsonCORSMiddleware, RequestMiddleware
from serving.ratelimit import RateLimitMiddleware
from serving.routes import admin, advice, best_times, forecast, health, live, offices, pages
from serving.settings import Settings
from serving.state import ServingState

DESCRIPTION = """Predicted waits at Hangzhou's exit-entry offices, per open hour and channel,
from the serving model; live waits from the offices' queue states; the model's health.

Errors are JSON `{"error": CODE, "message": TEXT}`."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _version() -> str:
    try:
        return metadata.version("waitcast")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def create_app(settings: Settings | None = None,
               clock: Callable[[], dt.datetime] | None = None) -> FastAPI:
    """Build the app.

    Args:
        settings: the server's settings (default: read from ``WAITCAST_*``; refuses unsafe
            ones outside development).
        clock: returns the current time (aware); tests inject a fixed one.
    """
    settings = settings or Settings()
    state = ServingState(settings, clock or _utc_now, load_calendar(settings.calendar_file),
                         load_offices())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # One worker has one core for Python: a few threads answer as fast as anyio's 40,
        # without 40 requests' worth of pandas temporaries in memory at once.
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        await run_in_threadpool(state.load_quietly)
        yield

    app = FastAPI(title="waitcast", version=_version(), description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.serving = state
    app.state.metrics = Metrics(state)
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
    app.add_middleware(RateLimitMiddleware, per_minute=settings.rate_limit_per_minute,
                       burst=settings.rate_limit_burst)
    if settings.cors_origins:
        app.add_middleware(JsonCORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "PUT", "POST"],
                           allow_headers=["Authorization", "Content-Type", "If-None-Match"],
                           expose_headers=["ETag", "X-Request-ID"])
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics,
                       max_body_bytes=settings.max_body_bytes)
    return app
