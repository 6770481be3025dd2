"""The ``waitcast`` command: a thin edge that parses flags, does file I/O and calls the core.

Every command exits 0 on success and 1 on a user error, printing one line that names
what to fix (never a traceback).
"""

from __future__ import annotations

import sys

import typer
from typer import exceptions as typer_exceptions

try:  # typer >= 0.20 ships its own click; older ones use click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

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
from cli import advise as _advise  # noqa: E402
from cli import evaluate as _evaluate  # noqa: E402
from cli import forecast as _forecast  # noqa: E402
from cli import models as _models  # noqa: E402
from cli import serve as _serve  # noqa: E402
from cli import simulate as _simulate  # noqa: E402
from cli import train as _train  # noqa: E402
from cli import validate as _validate  # noqa: E402

_COMMAND_MODULES = (_simulate, _validate, _train, _forecast, _evaluate, _advise, _models, _serve)
for _module in _COMMAND_MODULES:
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 user error)."""
    try:
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
        common.fail(str(exc))
        return 1
    except KeyboardInterrupt:
        common.fail("interrupted")
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
