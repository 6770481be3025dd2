"""`waitcast serve`: the HTTP API and the web page, in one or several uvicorn workers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from cli import common
from features.errors import ParameterError

APP_FACTORY = "serving.app:app_from_env"
# asyncio's own loop, not uvloop: the advice and best times answer on the loop, and with a
# loop kept busy uvloop left connections opened during a load unanswered for seconds
# (docs/operations.md, "advice at cube speed"); asyncio serves them in turn.
EVENT_LOOP = "asyncio"
MAX_WORKERS = 64


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    registry: Annotated[
        Path | None,
        typer.Option(
            "--registry",
            help="Model registry folder (default $WAITCAST_REGISTRY or .waitcast/registry).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=MAX_WORKERS,
            envvar="WAITCAST_WORKERS",
            help="Worker processes. Each loads the model and follows the registry; they share "
            "queue states, partner keys and rate limits through WAITCAST_STATE_URL.",
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API and the web page (settings from WAITCAST_* variables)."""
    import uvicorn

    from serving.settings import Settings
    from serving.statestore import open_store

    try:
        settings = Settings(registry=common.registry_dir(registry))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        name = f"WAITCAST_{field.upper()}" if first["loc"] else "environment"
        raise ParameterError(name, str(first["msg"]).removeprefix("Value error, ")) from None
    store = open_store(settings.state_store_url)  # fails here, in one line, not per worker
    try:
        store.ping()
    finally:
        store.close()
    # The workers are new processes that read their settings from the environment.
    os.environ["WAITCAST_REGISTRY"] = str(settings.registry)
    plural = "s" if workers > 1 else ""
    common.console.print(
        f"waitcast serving on http://{host}:{port} with {workers} worker{plural} "
        f"(API docs: http://{host}:{port}/docs)",
        highlight=False,
        soft_wrap=True,
    )
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop=EVENT_LOOP,
        access_log=False,
        log_level="warning",
        server_header=False,
    )


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("serve")(serve)
