"""Command-line options about the data store, declared once for every command that takes them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

StoreDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Read a data store (filled by `waitcast ingest`) instead of files."
    ),
]
MemoryLimitOpt = Annotated[
    str,
    typer.Option(
        "--memory-limit", help="DuckDB's memory limit for the store; past it, work spills."
    ),
]
