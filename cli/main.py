"""The ``waitcast`` command: a thin edge that parses flags, does file I/O and calls the core.

Every command exits 0 on success and 1 on a user error, printing one line that names
what to fix (never a traceback).
"""

from __future__ import annotations

import importlib
import sys

import typer
from typer import exceptions as typer_exceptions

try:  # typer >= 0.20 ships its own click; older ones use click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from cli import common, hints
from features.errors import WaitcastError

# Command name → the module that registers it (``register(app)``); keep this sorted by
# the order ``--help`` lists them. Only the module of the command being run is imported,
# so `waitcast forecast` does not pay for matplotlib, scipy or the simulator.
COMMANDS = {
    "simulate": "cli.simulate",
    "validate": "cli.validate",
    "ingest": "cli.ingest",
    "train": "cli.train",
    "retrain": "cli.retrain",
    "monitor": "cli.monitor",
    "forecast": "cli.forecast",
    "evaluate": "cli.evaluate",
    "advise": "cli.advise",
    "models": "cli.models",
    "serve": "cli.serve",
    "keys": "cli.keys",
}


def _root() -> None:
    """Predict waits at citizen service offices and advise whether to book or walk in."""


def build_app(argv: list[str] | None = None) -> typer.Typer:
    """The command line, with the command named in ``argv`` (or every command, for help
    and for anything unknown, so that the error lists the real choices)."""
    app = typer.Typer(
        name="waitcast",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    # The callback (its docstring is the help text) keeps this a command group even with
    # one command registered: Typer would otherwise run a lone command without its name.
    app.callback()(_root)
    args = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args if not a.startswith("-")), None)
    names = [first] if first in COMMANDS else list(COMMANDS)
    for name in names:
        importlib.import_module(COMMANDS[name]).register(app)
    return app


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 user error)."""
    args = list(sys.argv[1:] if argv is None else argv)
    app = None
    try:
        app = build_app(argv)
        code = app(args=argv, prog_name="waitcast", standalone_mode=False)
    except typer_exceptions.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except typer_exceptions.Abort:
        common.fail("aborted")
        return 1
    except click_exceptions.NoArgsIsHelpError:
        return 0  # the help was printed
    except click_exceptions.ClickException as exc:
        common.fail(exc.format_message())
        return 1
    except WaitcastError as exc:
        common.fail(hints.message(exc, app, args) if app is not None else str(exc))
        return 1
    except KeyboardInterrupt:
        common.fail("interrupted")
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
