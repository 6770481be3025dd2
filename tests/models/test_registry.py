"""The model registry: immutable checksummed versions, atomic publish, promote and rollback."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from features.errors import (
    ModelError,
    ModelIntegrityError,
    ModelNotFoundError,
    NoCurrentModelError,
    RegistryError,
)
from models.registry import ModelRegistry

FIXED_NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def model_writer(seed: int = 0, size: int = 4096) -> Callable[[Path], None]:
    """A write() that stores seeded random model bytes and a small config in a sub-folder."""
    payload = random.Random(seed).randbytes(size)

    def write(folder: Path) -> None:
        (folder / "model.bin").write_bytes(payload)
        (folder / "params").mkdir()
        (folder / "params" / "config.json").write_text(json.dumps({"seed": seed}))

    return write


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "registry", clock=lambda: FIXED_NOW)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- publish, list, show ------------------------------------------------------------------


def test_constructing_a_registry_creates_nothing(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    assert registry.versions() == []
    assert registry.current_version() is None
    assert not (tmp_path / "registry").exists()


def test_publish_stores_files_metadata_and_a_manifest_of_every_file(
    registry: ModelRegistry,
) -> None:
    version = registry.publish(model_writer(1), {"metrics": {"summary": {"mae_p50": 4.2}}})

    assert version == "v0001"
    folder = registry.verified_path(version)
    assert folder == registry.root / "versions" / "v0001"
    meta = registry.metadata(version)
    assert meta["version"] == "v0001"
    assert meta["created_at"] == FIXED_NOW.isoformat()
    assert meta["metrics"]["summary"]["mae_p50"] == 4.2
    manifest = registry.manifest(version)
    assert manifest["algorithm"] == "sha256"
    assert set(manifest["files"]) == {"model.bin", "params/config.json", "metadata.json"}
    for name, digest in manifest["files"].items():
        assert sha256(folder / name) == digest
    [info] = registry.versions()
    assert (info.version, info.created_at, info.is_current) == (
        "v0001",
        FIXED_NOW.isoformat(),
        False,
    )


def test_published_files_are_read_only_and_a_second_publish_gets_a_new_id(
    registry: ModelRegistry,
) -> None:
    first = registry.publish(model_writer(1), {})
    before = {p: sha256(p) for p in (registry.root / "versions" / first).rglob("*") if p.is_file()}

    second = registry.publish(model_writer(2), {})

    assert (first, second) == ("v0001", "v0002")
    after = {p: sha256(p) for p in (registry.root / "versions" / first).rglob("*") if p.is_file()}
    assert after == before
    for path in before:
        assert path.stat().st_mode & 0o222 == 0, f"{path} is writable"
    assert [v.version for v in registry.versions()] == ["v0001", "v0002"]


def test_metadata_with_numpy_numbers_and_dates_is_stored_as_json(registry: ModelRegistry) -> None:
    version = registry.publish(
        model_writer(), {"metrics": {"mae": np.float32(1.5), "n": np.int64(3)}, "day": FIXED_NOW}
    )
    meta = registry.metadata(version)
    assert meta["metrics"] == {"mae": 1.5, "n": 3}
    assert meta["day"] == FIXED_NOW.isoformat()


def test_listing_skips_staging_and_malformed_folders_and_numbers_past_them(
    registry: ModelRegistry,
) -> None:
    registry.publish(model_writer(), {})
    (registry.root / "versions" / "v0007").mkdir()  # no metadata: malformed
    (registry.root / "versions" / "notes").mkdir()
    (registry.root / ".staging" / "half-written").mkdir(parents=True)

    assert [v.version for v in registry.versions()] == ["v0001"]
    assert registry.publish(model_writer(), {}) == "v0008"


def test_a_writer_may_not_create_the_registry_files(registry: ModelRegistry) -> None:
    def write(folder: Path) -> None:
        (folder / "manifest.json").write_text("{}")

    with pytest.raises(ModelError, match=r"manifest\.json"):
        registry.publish(write, {})
    assert registry.versions() == []


# ---- integrity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda f: (f / "model.bin").write_bytes(b"tampered"), "model.bin"),
        (lambda f: os.truncate(f / "model.bin", 100), "model.bin"),
        (lambda f: (f / "params" / "config.json").write_text('{"seed": 9}'), "params/config.json"),
        (lambda f: (f / "metadata.json").write_text('{"version": "v0001"}'), "metadata.json"),
        (lambda f: (f / "params" / "extra.pkl").write_bytes(b"x"), "params/extra.pkl"),
        (lambda f: (f / "model.bin").unlink(), "model.bin"),
        (lambda f: (f / "manifest.json").unlink(), "manifest.json"),
        (lambda f: (f / "manifest.json").write_text("{not json"), "manifest.json"),
    ],
    ids=[
        "tampered",
        "truncated",
        "tampered-nested",
        "metadata",
        "extra",
        "missing",
        "no-manifest",
        "bad-manifest",
    ],
)
def test_a_damaged_version_is_refused_naming_the_file(
    registry: ModelRegistry, damage: Callable[[Path], object], named: str
) -> None:
    version = registry.publish(model_writer(3), {})
    folder = registry.root / "versions" / version
    for path in [folder, folder / "params", *folder.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    damage(folder)

    with pytest.raises(ModelIntegrityError, match=named.replace(".", r"\.")):
        registry.verified_path(version)
    with pytest.raises(ModelIntegrityError):
        registry.promote(version)
    assert registry.current_version() is None


def test_verified_path_of_the_current_model(registry: ModelRegistry) -> None:
    with pytest.raises(NoCurrentModelError, match="no current model"):
        registry.verified_path()
    version = registry.publish(model_writer(), {})
    registry.promote(version)
    assert registry.verified_path() == registry.root / "versions" / version


@pytest.mark.parametrize(
    "bad", ["../x", "..", "v0001/../../etc", "/etc/passwd", "", "v1", "V0001", "v0001\n", "v0001 "]
)
def test_invalid_version_ids_are_not_found_and_never_joined_to_paths(
    registry: ModelRegistry, bad: str
) -> None:
    registry.publish(model_writer(), {})
    for call in (registry.metadata, registry.manifest, registry.verified_path, registry.promote):
        with pytest.raises(ModelNotFoundError, match="not a model version"):
            call(bad)


def test_unknown_version_is_not_found(registry: ModelRegistry) -> None:
    registry.publish(model_writer(), {})
    with pytest.raises(ModelNotFoundError, match="no model version v0002"):
        registry.metadata("v0002")


def test_a_corrupt_current_pointer_is_reported(registry: ModelRegistry) -> None:
    registry.publish(model_writer(), {})
    (registry.root / "CURRENT").write_text("../../etc\n")
    with pytest.raises(ModelIntegrityError, match="CURRENT"):
        registry.current_version()


# ---- atomic writes ------------------------------------------------------------------------


def test_a_writer_failing_midway_leaves_no_version_and_current_untouched(
    registry: ModelRegistry,
) -> None:
    good = registry.publish(model_writer(), {})
    registry.promote(good)

    def crash(folder: Path) -> None:
        (folder / "model.bin").write_bytes(b"half")
        raise RuntimeError("disk pulled")

    with pytest.raises(RuntimeError, match="disk pulled"):
        registry.publish(crash, {})
    assert [v.version for v in registry.versions()] == [good]
    assert registry.current_version() == good
    assert list((registry.root / ".staging").iterdir()) == []


def test_a_killed_writer_leaves_only_staging_which_a_later_publish_cleans_when_stale(
    registry: ModelRegistry,
) -> None:
    good = registry.publish(model_writer(), {})
    registry.promote(good)
    script = (
        "import sys, time\nfrom pathlib import Path\nfrom models.registry import ModelRegistry\n"
        "def write(folder):\n"
        "    (folder / 'model.bin').write_bytes(b'x' * 1000)\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "ModelRegistry(Path(sys.argv[1])).publish(write, {})\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(registry.root)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.kill()
        child.wait()

    [leftover] = list((registry.root / ".staging").iterdir())
    assert [v.version for v in registry.versions()] == [good]
    assert registry.current_version() == good

    registry.publish(model_writer(1), {})  # fresh leftovers are kept: the writer may be alive
    assert leftover.exists()
    hours_ago = time.time() - 2 * 3600
    os.utime(leftover, (hours_ago, hours_ago))
    ModelRegistry(registry.root).publish(model_writer(2), {})
    assert not leftover.exists()


def test_concurrent_publishes_get_distinct_ids(registry: ModelRegistry) -> None:
    threads_n = 6
    barrier = threading.Barrier(threads_n)
    results: list[str] = []
    errors: list[BaseException] = []

    def publish(seed: int) -> None:
        def write(folder: Path) -> None:
            model_writer(seed)(folder)
            barrier.wait(timeout=10)  # everyone picks the next id at the same moment

        try:
            results.append(registry.publish(write, {"seed": seed}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == [f"v{i:04d}" for i in range(1, threads_n + 1)]
    for version in results:
        registry.verified_path(version)
        assert registry.metadata(version)["version"] == version


# ---- promote and rollback -----------------------------------------------------------------


def test_promote_and_rollback_walk_back_through_history(registry: ModelRegistry) -> None:
    v1, v2, v3 = (registry.publish(model_writer(i), {}) for i in range(3))
    for version in (v1, v2, v3):
        registry.promote(version)
    assert registry.current_version() == v3
    assert [v.version for v in registry.versions() if v.is_current] == [v3]

    assert registry.rollback() == v2
    assert registry.current_version() == v2
    assert registry.rollback() == v1
    with pytest.raises(ModelNotFoundError, match="no previous model"):
        registry.rollback()
    assert registry.current_version() == v1

    registry.promote(v3)
    assert registry.rollback() == v1
    entries = [
        json.loads(line) for line in (registry.root / "history.jsonl").read_text().splitlines()
    ]
    assert entries[0] == {
        "version": v1,
        "previous": None,
        "at": FIXED_NOW.isoformat(),
        "rollback": False,
    }
    assert [e["version"] for e in entries] == [v1, v2, v3, v2, v1, v3, v1]
    assert not list(registry.root.glob(".CURRENT.tmp-*"))


def test_rollback_without_a_previous_model_is_an_error(registry: ModelRegistry) -> None:
    with pytest.raises(ModelNotFoundError, match="no previous model"):
        registry.rollback()
    version = registry.publish(model_writer(), {})
    registry.promote(version)
    registry.promote(version)  # promoting the current one again changes nothing
    with pytest.raises(ModelNotFoundError, match="no previous model"):
        registry.rollback()
    assert registry.current_version() == version


def test_promote_unknown_version_leaves_current(registry: ModelRegistry) -> None:
    version = registry.publish(model_writer(), {})
    registry.promote(version)
    with pytest.raises(ModelNotFoundError, match="v0009"):
        registry.promote("v0009")
    assert registry.current_version() == version


# ---- an unwritable registry ---------------------------------------------------------------


def _root_under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("not a folder")
    return tmp_path / "a-file" / "registry"


def _read_only_folder(tmp_path: Path) -> Path:
    if os.geteuid() == 0:
        pytest.skip("root ignores permission bits; covered by the root-under-a-file case")
    root = tmp_path / "registry"
    root.mkdir()
    os.chmod(root, 0o555)
    return root


@pytest.mark.parametrize("make_root", [_root_under_a_file, _read_only_folder])
def test_an_unwritable_registry_raises_registry_error_naming_it(
    tmp_path: Path, make_root: Callable[[Path], Path]
) -> None:
    registry = ModelRegistry(make_root(tmp_path))
    with pytest.raises(RegistryError, match="is not writable") as caught:
        registry.publish(model_writer(), {})
    assert str(registry.root) in str(caught.value)
    assert isinstance(caught.value, OSError)


def test_a_registry_path_that_is_a_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "registry").write_text("oops")
    with pytest.raises(RegistryError, match="is not a folder"):
        ModelRegistry(tmp_path / "registry").versions()
