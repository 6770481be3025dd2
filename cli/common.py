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


class Phases:
    """The phases of a long command, told as they happen.

    Each phase is one line, whatever the output is (a log file, a pipe, CI), so that a
    first ``make run`` is never silent: on stdout, beside the command's result (stderr keeps
    to the one-line error); in a terminal the lines go above a rich progress bar (on stderr)
    that shows the current phase and its steps. Use as a context manager::

        with common.Phases("train") as phases:
            phases.start("reading the inputs")
            phases.start("backtest", total=4)
            phases.step(1, 4, "backtest fold")
    """

    def __init__(self, command: str) -> None:
        self.command = command
        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err_console,
            disable=not sys.stderr.isatty(),
            transient=True,
        )
        self._task = self._bar.add_task(command, total=None)

    def __enter__(self) -> Phases:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def start(self, name: str, total: int | None = None) -> None:
        """A new phase: a line now, and the bar's description (and steps, when counted)."""
        self._say(f"{self.command}: {name}")
        self._bar.update(self._task, description=name, total=total, completed=0)

    def step(self, done: int, total: int, what: str) -> None:
        """``done`` of ``total`` steps of the phase are done."""
        self._say(f"{self.command}: {what} {done} of {total} done")
        self._bar.update(self._task, total=total, completed=done)

    def _say(self, line: str) -> None:
        out = self._bar.console if sys.stderr.isatty() else console
        out.print(line, highlight=False, markup=False, soft_wrap=True)
