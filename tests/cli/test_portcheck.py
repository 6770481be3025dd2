"""``make run`` on a taken port says so in one line, before training anything."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from cli.portcheck import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port() -> object:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_a_taken_port_is_one_line_naming_how_to_pick_another(
    taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["127.0.0.1", str(taken_port)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f"port {taken_port}" in lines[0]
    assert f"make run PORT={taken_port + 1}" in lines[0]


def test_a_free_port_passes() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["127.0.0.1", str(port)]) == 0


def test_make_run_checks_the_port_before_training(taken_port: int) -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    [run] = [line for line in makefile.splitlines() if line.startswith("run:")]
    assert run.split(":", 1)[1].split()[:2] == ["port-free", "default-model"]  # in this order
    done = subprocess.run(
        ["make", "--no-print-directory", "port-free", f"PORT={taken_port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and f"make run PORT={taken_port + 1}" in done.stderr
