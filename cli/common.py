"""Helpers shared by the command modules: messages, progress bars and common options."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from features.errors import ParameterError

err_console = Console(stderr=True)
console = Console()

DEFAULT_REGISTRY_DIR = Path(".waitcast") / "registry"


def fail(message: str) -> None:
    """Print a one-line error to stderr."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


def registry_dir(option: Path | None) -> Path:
    """``--registry``, else ``$WAITCAST_REGISTRY``, else ``.waitcast/registry``."""
    if option is not None:
        return option
    env = os.environ.get("WAITCAST_REGISTRY")
    return Path(env) if env else DEFAULT_REGISTRY_DIR


def parse_date(value: str, option: str) -> dt.date:
    """A YYYY-MM-DD date, or a ParameterError naming the option."""
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ParameterError(option, f"expected a date YYYY-MM-DD, got {value!r}") from None


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Progress]:
    """A rich progress bar shown only when stderr is a terminal."""
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        disable=not sys.stderr.isatty(),
        transient=True,
    )
    with bar:
        bar.add_task(description, total=total)
        yield bar
