"""`waitcast serve`: the HTTP API and the web page, one uvicorn worker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from cli import common
from features.errors import ParameterError


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    registry: Annotated[Path | None, typer.Option(
        "--registry", help="Model registry folder (default $WAITCAST_REGISTRY or "
                           ".waitcast/registry).")] = None,
) -> None:
    """Serve the HTTP API and the web page (settings from WAITCAST_* variables)."""
    import uvicorn

    from serving.app import create_app
    from serving.logging import configure
    from serving.settings import Settings

    try:
        settings = Settings(registry=common.registry_dir(registry))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        name = f"WAITCAST_{field.upper()}" if first["loc"] else "environment"
        raise ParameterError(name, str(first["msg"]).removeprefix("Value error, ")) from None
    configure()
    app = create_app(settings)
    common.console.print(f"waitcast serving on http://{host}:{port} "
                         f"(API docs: http://{host}:{port}/docs)", highlight=False,
                         soft_wrap=True)
    uvicorn.run(app, host=host, port=port, workers=1, access_log=False, log_level="warning",
                server_header=False)


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("serve")(serve)
