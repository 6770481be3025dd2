"""The command line loads only the command being run; help lists every command."""

from __future__ import annotations

import subprocess
import sys

from cli.main import COMMANDS, build_app, main

PROBE = """
import sys
from cli.main import build_app
build_app({argv!r})
print(sorted(m for m in ("matplotlib", "training.simulate", "training.backtest", "cli.evaluate")
             if m in sys.modules))
"""


def _loaded(argv: list[str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_forecast_does_not_load_the_training_side():
    assert _loaded(["forecast", "--days", "3"]) == "[]"


def test_help_and_unknown_commands_load_everything():
    assert "cli.evaluate" in _loaded(["--help"])
    assert "cli.evaluate" in _loaded(["bogus"])


def test_every_command_is_listed_in_help(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_one_command_app_still_needs_the_command_name(capsys):
    app = build_app(["models", "list"])
    assert [g.name for g in app.registered_groups] == ["models"]
    assert main(["models", "--help"]) == 0
    assert "promote" in capsys.readouterr().out
