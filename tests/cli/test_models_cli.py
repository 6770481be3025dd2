"""``waitcast models list / show / promote / rollback`` through the real entry point."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import main
from models.registry import ModelRegistry

CREATED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def publish(registry: ModelRegistry, seed: int, mae_p50: float) -> str:
    """Store a version with seeded bytes and the metadata training writes."""
    payload = random.Random(seed).randbytes(512)
    metadata = {
        "data": {"start": "2024-01-01", "end": f"2024-0{seed + 1}-28", "files": ["a.csv"]},
        "metrics": {"summary": {"mae_p50": mae_p50, "coverage": 0.8, "pinball": None}},
    }

    def write(folder: Path) -> None:
        (folder / "model.bin").write_bytes(payload)

    return registry.publish(write, metadata)


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "registry", clock=lambda: CREATED)


def run(
    capsys: pytest.CaptureFixture[str], registry: ModelRegistry, *argv: str
) -> tuple[int, str, str]:
    code = main(["models", *argv, "--registry", str(registry.root)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def test_list_shows_versions_ranges_metrics_and_the_current_marker(
    capsys: pytest.CaptureFixture[str], registry: ModelRegistry
) -> None:
    v1 = publish(registry, 1, 4.25)
    v2 = publish(registry, 2, 3.5)
    registry.promote(v2)

    code, out, err = run(capsys, registry, "list")

    assert (code, err) == (0, "")
    assert v1 in out and v2 in out
    assert "mae_p50=4.25" in out and "mae_p50=3.5" in out
    assert "2024-01-01" in out
    current_rows = [line for line in out.splitlines() if "*" in line and "v0" in line]
    assert len(current_rows) == 1 and v2 in current_rows[0]


def test_list_as_json(capsys: pytest.CaptureFixture[str], registry: ModelRegistry) -> None:
    v1 = publish(registry, 1, 4.0)
    registry.promote(v1)

    code, out, _ = run(capsys, registry, "list", "--format", "json")

    assert code == 0
    [row] = json.loads(out)
    assert row["version"] == v1
    assert row["current"] is True
    assert row["created_at"] == CREATED.isoformat()
    assert row["data_range"] == "2024-01-01 … 2024-02-28"
    assert row["metrics"] == {"mae_p50": 4.0, "coverage": 0.8}


def test_list_of_an_empty_registry_says_how_to_fill_it(
    capsys: pytest.CaptureFixture[str], registry: ModelRegistry
) -> None:
    code, out, _ = run(capsys, registry, "list")
    assert code == 0
    assert "waitcast train" in out
    assert not registry.root.exists()


def test_registry_defaults_to_the_environment_variable(
    capsys: pytest.CaptureFixture[str], registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(registry, 1, 4.0)
    monkeypatch.setenv("WAITCAST_REGISTRY", str(registry.root))
    assert main(["models", "list", "--format", "json"]) == 0
    assert [row["version"] for row in json.loads(capsys.readouterr().out)] == ["v0001"]


def test_show_prints_metadata_and_manifest(
    capsys: pytest.CaptureFixture[str], registry: ModelRegistry
) -> None:
    v1 = publish(registry, 1, 4.0)

    code, out, _ = run(capsys, registry, "show", v1)

    assert code == 0
    shown = json.loads(out)
    assert shown["version"] == v1
    assert shown["current"] is False
    assert shown["metadata"]["metrics"]["summary"]["mae_p50"] == 4.0
    assert set(shown["manifest"]["files"]) == {"model.bin", "metadata.json"}


def test_promote_and_rollback(capsys: pytest.CaptureFixture[str], registry: ModelRegistry) -> None:
    v1 = publish(registry, 1, 4.0)
    v2 = publish(registry, 2, 3.0)

    assert run(capsys, registry, "promote", v1)[0] == 0
    code, out, _ = run(capsys, registry, "promote", v2)
    assert code == 0 and f"{v2} is now the current model (was {v1})" in out
    code, out, _ = run(capsys, registry, "show", "current")
    assert code == 0 and json.loads(out)["version"] == v2

    code, out, _ = run(capsys, registry, "rollback")
    assert code == 0 and f"rolled back to {v1} (was {v2})" in out
    assert registry.current_version() == v1

    code, _, err = run(capsys, registry, "rollback")
    assert code == 1
    assert_one_line_error(err, "no previous model")
    assert registry.current_version() == v1


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["show", "v0042"], "no model version v0042"),
        (["show", "../../etc/passwd"], "is not a model version"),
        (["promote", "v0042"], "no model version v0042"),
        (["show", "current"], "no current model"),
        (["rollback"], "no previous model"),
    ],
)
def test_user_errors_exit_1_with_one_line(
    capsys: pytest.CaptureFixture[str], registry: ModelRegistry, argv: list[str], fragment: str
) -> None:
    publish(registry, 1, 4.0)
    code, _, err = run(capsys, registry, *argv)
    assert code == 1
    assert_one_line_error(err, fragment)


def test_promoting_a_tampered_version_is_refused(
    capsys: pytest.CaptureFixture[str], registry: ModelRegistry
) -> None:
    v1 = publish(registry, 1, 4.0)
    model = registry.root / "versions" / v1 / "model.bin"
    os.chmod(model.parent, 0o755)
    os.chmod(model, 0o644)
    model.write_bytes(b"tampered")

    code, _, err = run(capsys, registry, "promote", v1)

    assert code == 1
    assert_one_line_error(err, "model.bin")
    assert registry.current_version() is None


def test_a_registry_under_a_file_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("x")
    code = main(["models", "list", "--registry", str(tmp_path / "a-file")])
    assert code == 1
    assert_one_line_error(capsys.readouterr().err, "is not a folder")


def test_train_refuses_an_unwritable_registry_before_training(tmp_path, capsys):
    from cli.main import main

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    data = tmp_path / "missing.csv"  # never read: the registry is checked first
    assert main(["train", str(data), "--registry", str(not_a_folder / "reg")]) == 1
    err = capsys.readouterr().err
    assert "registry" in err and "Traceback" not in err
