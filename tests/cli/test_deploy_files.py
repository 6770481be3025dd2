"""compose.yaml and the systemd units: parsed (no Docker engine or systemd runs here)."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest
import yaml

from cli.main import build_app

ROOT = Path(__file__).resolve().parents[2]


def _waitcast_commands(text: str) -> list[list[str]]:
    """Every `waitcast ...` command line in a shell text, as argv lists."""
    found = []
    for part in text.replace(";", "\n").splitlines():
        words = shlex.split(part.strip())
        if words and Path(words[0]).name == "waitcast":
            found.append(words[1:])
    return found


def _check_cli(argv: list[str]) -> None:
    """The command and its options exist (parsed by the real CLI, not run)."""
    app = build_app(argv)
    import typer.main

    command = typer.main.get_command(app)
    ctx = command.make_context("waitcast", list(argv), resilient_parsing=False)
    sub = command.get_command(ctx, argv[0])  # type: ignore[attr-defined]
    assert sub is not None, argv
    sub.make_context(argv[0], argv[1:])  # raises on an unknown option


def test_compose_runs_the_server_and_the_nightly_job_from_one_image() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    server, nightly = compose["services"]["server"], compose["services"]["nightly"]
    assert server["image"] == nightly["image"] and server["build"] == "."
    assert server["volumes"] == nightly["volumes"]
    assert server["command"][:2] == ["waitcast", "serve"]
    assert "8000:8000" in server["ports"]
    assert server["environment"]["WAITCAST_REGISTRY"] == nightly["environment"]["WAITCAST_REGISTRY"]
    script = " ".join(nightly["command"]).replace("$$", "$")
    commands = _waitcast_commands(script)
    assert [c[0] for c in commands] == ["retrain", "monitor"]
    for argv in [server["command"][1:], *commands]:
        _check_cli(argv)


def test_the_systemd_timer_runs_the_service_nightly() -> None:
    service, timer = configparser.ConfigParser(strict=False), configparser.ConfigParser()
    service.optionxform = timer.optionxform = str  # type: ignore[assignment,method-assign]
    service.read(ROOT / "deploy/systemd/waitcast-retrain.service")
    timer.read(ROOT / "deploy/systemd/waitcast-retrain.timer")
    assert service["Service"]["Type"] == "oneshot"
    assert timer["Timer"]["OnCalendar"].startswith("*-*-* ")
    assert timer["Install"]["WantedBy"] == "timers.target"
    commands = _waitcast_commands(
        service["Service"]["ExecStart"] + "\n" + service["Service"]["ExecStopPost"]
    )
    assert [c[0] for c in commands] == ["retrain", "monitor"]
    for argv in commands:
        _check_cli(argv)


def test_a_wrong_option_in_a_deploy_file_would_be_caught() -> None:
    with pytest.raises(Exception, match="No such option"):
        _check_cli(["retrain", "--store", "s", "--inbox", "i", "--no-such-option"])
