"""Helpers shared by the command modules: messages, progress bars and common options."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from features.errors import ParameterError
from features.schema import DEFAULT_TIMEZONE

err_console = Console(stderr=True)
console = Console()

DEFAULT_REGISTRY_DIR = Path(".waitcast") / "registry"
HORIZON_ENV = "WAITCAST_HORIZON_DAYS"  # the server's setting; the CLI keeps to the same


def fail(message: str) -> None:
    """Print a one-line error to stderr."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


def registry_dir(option: Path | None) -> Path:
    """``--registry``, else ``$WAITCAST_REGISTRY``, else ``.waitcast/registry``."""
    if option is not None:
        return option
    env = os.environ.get("WAITCAST_REGISTRY")
    return Path(env) if env else DEFAULT_REGISTRY_DIR


def horizon_days() -> int:
    """The forecast horizon in days: ``$WAITCAST_HORIZON_DAYS``, else the server's default."""
    from serving.settings import Settings  # the one place the default is spelled

    text = os.environ.get(HORIZON_ENV)
    default = int(Settings.model_fields["horizon_days"].default)
    try:
        return int(text) if text else default
    except ValueError:
        raise ParameterError(HORIZON_ENV, f"expected a number of days, got {text!r}") from None


def local_today(timezone: str = DEFAULT_TIMEZONE) -> dt.date:
    """Today in ``timezone`` (the clock is read here, at the edge)."""
    return dt.datetime.now(ZoneInfo(timezone)).date()


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
