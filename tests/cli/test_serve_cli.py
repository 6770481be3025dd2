"""``waitcast serve``: several workers from one factory, and one-line refusals before start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn

import serving.app
from cli.main import main
from tests.serving.redisserver import free_port
from tests.serving.support import TOKEN


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Production settings with a good token; the registry folder to serve."""
    monkeypatch.setenv("WAITCAST_ENV", "production")
    monkeypatch.setenv("WAITCAST_ADMIN_TOKEN", TOKEN)
    monkeypatch.delenv("WAITCAST_STATE_URL", raising=False)
    monkeypatch.delenv("WAITCAST_REGISTRY", raising=False)
    return tmp_path / "registry"


def one_line(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err, err
    assert all(f in lines[0] for f in fragments), err


def test_workers_run_the_app_factory_with_the_registry_in_the_environment(
    production: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(app=app, **options))
    assert main(["serve", "--port", "8123", "--workers", "3", "--registry", str(production)]) == 0
    assert started["app"] == "serving.app:app_from_env" and started["factory"] is True
    assert started["workers"] == 3 and started["server_header"] is False
    assert os.environ["WAITCAST_REGISTRY"] == str(production)  # what each worker reads
    assert "with 3 workers" in capsys.readouterr().out
    assert (production.parent / "registry-state.sqlite3").is_file()  # opened before start
    logs: list[bool] = []
    monkeypatch.setattr(serving.app, "configure", lambda: logs.append(True))
    app = serving.app.app_from_env()  # what each worker then builds, JSON logs on
    assert app.state.serving.settings.registry == production and logs == [True]
    monkeypatch.setenv("WAITCAST_WORKERS", "2")
    assert main(["serve", "--registry", str(production)]) == 0 and started["workers"] == 2


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        ("mysql://db/waitcast", ("WAITCAST_STATE_URL", "sqlite:///PATH or redis://HOST:PORT/DB")),
        ("redis://127.0.0.1:{port}/0", ("does not answer", "start Redis")),
    ],
)
def test_a_bad_or_absent_state_store_is_one_line_before_start(
    production: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    fragments: tuple[str, ...],
) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **_k: pytest.fail("must not start"))
    monkeypatch.setenv("WAITCAST_STATE_URL", url.format(port=free_port()))
    assert main(["serve", "--registry", str(production)]) == 1
    one_line(capsys.readouterr().err, *fragments)


def test_workers_are_counted(production: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "0", "--registry", str(production)]) == 1
    assert "--workers" in capsys.readouterr().err
