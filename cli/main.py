"""The ``waitcast`` command: a thin edge that parses flags, does file I/O and calls the core.

Every command exits 0 on success and 1 on a user error, printing one line that names
what to fix (never a traceback).
"""

from __future__ import annotations

import sys

import click
import typer

from cli import common
from features.errors import WaitcastError

app = typer.Typer(
    name="waitcast",
    help="Predict waits at citizen service offices and advise whether to book or walk in.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each command module registers itself on ``app``; keep this list sorted.
from cli import simulate as _simulate  # noqa: E402
from cli import validate as _validate  # noqa: E402

_COMMAND_MODULES = (_simulate, _validate)
for _module in _COMMAND_MODULES:
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 user error)."""
    try:
        app(args=argv, prog_name="waitcast", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.exceptions.Abort:
        common.fail("aborted")
        return 1
    except click.ClickException as exc:
        common.fail(exc.format_message())
        return 1
    except WaitcastError as exc:
        common.fail(str(exc))
        return 1
    except KeyboardInterrupt:
        common.fail("interrupted")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
