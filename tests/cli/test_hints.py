"""Edges own their hints: the core says what is wrong, the command line and the API say how
to fix it in their own words (flags and commands, routes)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cli.main import main
from features.errors import NoCurrentModelError, RegistryError, TooManyRejectsError
from serving.errors import response_for

ROOT = Path(__file__).resolve().parents[2]
CORE = ("features", "models", "store", "training", "serving")
EDGES = ("serving/errors.py", "serving/routes/")  # the API's own wording lives here
HINT = re.compile(r"--[a-z]|`waitcast|\bwaitcast (train|ingest|models|keys)\b|\b(GET|POST|PUT) /")


def _raised_texts(path: Path) -> list[tuple[int, str]]:
    """The string pieces of every ``raise`` statement's exception in a module."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for piece in ast.walk(node.exc):
                if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                    texts.append((node.lineno, piece.value))
    return texts


def test_core_errors_name_no_flag_command_or_route() -> None:
    found = []
    for package in CORE:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(EDGES):
                continue
            found += [f"{relative}:{n}: {t}" for n, t in _raised_texts(path) if HINT.search(t)]
    assert found == []


def test_the_scan_would_see_a_hint(tmp_path: Path) -> None:
    """The test above can fail: a raise naming a flag is found."""
    module = tmp_path / "probe.py"
    module.write_text('raise StoreError(f"no store at {root}: pass --store DIR")\n')
    assert [text for _, text in _raised_texts(module) if HINT.search(text)]


def test_the_command_line_adds_its_own_hints(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["models", "show", "current", "--registry", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert "no current model" in err and "train one with `waitcast train`" in err
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["models", "list", "--registry", str(blocker)]) == 1
    err = capsys.readouterr().err
    assert "is not a folder" in err and "--registry DIR" in err


def test_the_command_line_names_its_flag_for_a_core_parameter(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """store.duck says ``memory_limit``; `waitcast ingest` says ``--memory-limit``."""
    data = tmp_path / "x.csv"
    data.write_text("office_id\n")
    argv = ["ingest", str(data), "--store", str(tmp_path / "st"), "--memory-limit", "lots"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "--memory-limit: expected a size" in err and "memory_limit" not in err


def test_the_api_adds_its_own_hints() -> None:
    body = response_for(NoCurrentModelError("no current model in the registry")).body
    assert b"POST /v1/admin/reload" in bytes(body)
    assert b"--registry" not in bytes(response_for(RegistryError("registry x: gone")).body)
    assert b"--max-reject-share" not in bytes(response_for(TooManyRejectsError("80%")).body)
