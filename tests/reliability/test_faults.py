"""Faults: broken model files, a training run killed midway, reloads under load, and a
registry on a read-only disk.

The kill, load and read-only tests run real processes (``waitcast train``, ``waitcast
serve``) and are marked ``slow``; ``make test`` runs them.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cli.main import main
from features.errors import ModelIntegrityError
from models.bundle import load_from_registry
from models.forecaster import Forecaster
from models.registry import ModelRegistry
from serving.app import create_app
from tests.reliability.corpus import base_tickets, csv_bytes
from tests.reliability.realserver import REPO, Server, running_server
from tests.serving.support import TODAY, TOKEN, FakeClock, at, auth, publish, settings_for

FORECAST = "/v1/offices/hz-city/forecast"


def _writable(path: Path) -> Path:
    os.chmod(path.parent, 0o755)
    if path.exists() and not path.is_symlink():
        os.chmod(path, 0o644)
    return path


def _truncate(folder: Path) -> None:
    path = _writable(folder / "wait_p50.txt")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_byte(folder: Path) -> None:
    path = _writable(folder / "history.parquet")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _delete(folder: Path) -> None:
    _writable(folder / "calibration.json").unlink()


def _add_a_file(folder: Path) -> None:
    _writable(folder / "evil.txt").write_text("import os\n")


def _swap_for_a_symlink(folder: Path) -> None:
    path = _writable(folder / "spec.json")
    target = folder.parent / "spec-elsewhere.json"
    target.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(target)


def _forge_the_manifest(folder: Path) -> None:
    """Garbage in a model file, and a manifest rewritten to match it: checksums pass."""
    path = _writable(folder / "wait_p50.txt")
    path.write_text("tree\nversion=v4\nnot a model at all\n")
    manifest_path = _writable(folder / "manifest.json")
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["wait_p50.txt"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (_truncate, "model_integrity"),
    "a flipped byte": (_flip_a_byte, "model_integrity"),
    "a deleted file": (_delete, "model_integrity"),
    "an added file": (_add_a_file, "model_integrity"),
    "a symlink": (_swap_for_a_symlink, "model_integrity"),
    "a forged manifest": (_forge_the_manifest, "model_integrity"),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_a_broken_model_is_refused_and_the_old_one_keeps_serving(
    registry: Path, forecaster: Forecaster, breakage: str
) -> None:
    break_it, code = BREAKAGES[breakage]
    app = create_app(settings_for(registry), FakeClock(at(TODAY, 10, 30)))
    with TestClient(app, raise_server_exceptions=False) as client:
        before = client.get(FORECAST, params={"date": str(TODAY)})
        assert before.json()["model_version"] == "v0001"
        bad = publish(registry, forecaster)  # verified and promoted, then broken on disk
        break_it(registry / "versions" / bad)
        answer = client.post("/v1/admin/reload", headers=auth())
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["error"] == code and "still serving v0001" in body["message"]
        assert str(registry) not in answer.text and "Traceback" not in answer.text
        after = client.get(FORECAST, params={"date": str(TODAY)})
        assert after.status_code == 200 and after.content == before.content
        assert client.get("/health/ready").json()["model_version"] == "v0001"
    with pytest.raises(ModelIntegrityError, match=r"sha256|missing|not in manifest|symlink|load"):
        load_from_registry(ModelRegistry(registry), bad)


# --- a training run killed midway --------------------------------------------------------

# Runs `waitcast train`, pausing at one point (a marker file says it got there) so that the
# test can SIGKILL it there: mid-backtest, with a version half written in staging, or with
# the version stored but the current pointer not yet switched.
_PAUSING_TRAIN = """
import os, pathlib, sys, time
import cli.train as train
from models.registry import ModelRegistry
from training.pipeline import TrainConfig
marker, point = pathlib.Path(os.environ["MARKER"]), os.environ["POINT"]
# small models: what is killed is the run, whatever it fits
train.TrainConfig = lambda: TrainConfig(n_estimators=20, learning_rate=0.15, num_leaves=15)

def pause_after(original):
    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        marker.write_text(point)
        time.sleep(120)
        return result
    return paused

if point == "backtest":
    original_backtest = train.backtest_and_fit
    def started(*args, **kwargs):
        marker.write_text(point)
        return original_backtest(*args, **kwargs)
    train.backtest_and_fit = started
elif point == "writing":
    train.save_bundle = pause_after(train.save_bundle)
elif point == "promoting":
    ModelRegistry.promote = pause_after(lambda self, version: None)
from cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def small_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "tickets.csv"
    path.write_bytes(csv_bytes(base_tickets()))
    return path


def run_and_kill(registry: Path, data: Path, point: str, marker: Path) -> int:
    """Start a real `waitcast train`, SIGKILL it at ``point``; its return code."""
    env = {**os.environ, "MARKER": str(marker), "POINT": point}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _PAUSING_TRAIN,
            "train",
            str(data),
            "--registry",
            str(registry),
            "--origins",
            "1",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, "the training run ended before the kill point"
            assert time.monotonic() < deadline, "the training run never got to the kill point"
            time.sleep(0.01)
        time.sleep(0.3 if point == "backtest" else 0.05)
        process.send_signal(signal.SIGKILL)
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["backtest", "writing", "promoting"])
def test_a_training_run_killed_midway_leaves_no_half_version_and_the_pointer_intact(
    registry: Path,
    small_log: Path,
    tmp_path: Path,
    forecaster: Forecaster,
    capsys: pytest.CaptureFixture[str],
    point: str,
) -> None:
    store = ModelRegistry(registry)
    history = (registry / "history.jsonl").read_bytes()
    code = run_and_kill(registry, small_log, point, tmp_path / "marker")
    assert code == -signal.SIGKILL
    assert store.current_version() == "v0001"
    assert (registry / "history.jsonl").read_bytes() == history
    listed = [v.version for v in store.versions()]
    on_disk = sorted(p.name for p in (registry / "versions").iterdir())
    assert listed == on_disk == (["v0001", "v0002"] if point == "promoting" else ["v0001"])
    for version in listed:
        store.verified_path(version)  # every visible version is whole
    if point == "writing":
        assert any((registry / ".staging").iterdir())  # the half version, out of sight
    assert load_from_registry(store).metadata["version"] == "v0001"
    assert main(["models", "list", "--registry", str(registry)]) == 0
    assert "v0001" in capsys.readouterr().out
    after = publish(registry, forecaster)  # the registry goes on as before
    assert after == ("v0003" if point == "promoting" else "v0002")
    assert store.current_version() == after


# --- reloads under load, on a real server ---------------------------------------------------


def _hammer(
    server: Server,
    paths: list[tuple[str, str, dict | None]],
    stop: threading.Event,
    statuses: Counter[int],
    versions: Counter[str],
    errors: list[str],
) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        i = 0
        while not stop.is_set():
            method, path, body = paths[i % len(paths)]
            i += 1
            try:
                answer = client.request(method, path, json=body)
            except httpx.HTTPError as exc:
                errors.append(f"{method} {path}: {exc!r}")
                continue
            statuses[answer.status_code] += 1
            if answer.status_code != 200:
                errors.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
            elif path.startswith(FORECAST):
                versions[answer.json()["model_version"]] += 1


@pytest.fixture
def server(registry: Path, tmp_path: Path) -> Iterator[Server]:
    """A real server switched by the admin reload alone: no registry watch, which would
    load each published version itself (and make a reload meanwhile a 409)."""
    with running_server(
        registry, tmp_path / "server.log", env={"WAITCAST_WATCH_SECONDS": "0"}
    ) as running:
        yield running


@pytest.mark.slow
def test_reloading_under_load_fails_no_request(
    server: Server, registry: Path, forecaster: Forecaster
) -> None:
    start = httpx.get(server.url + "/health/ready").json()["cube_start"]
    paths = [
        ("GET", f"{FORECAST}?date={start}", None),
        ("GET", f"{FORECAST}?date={start}&channel=walk_in", None),
        ("GET", "/v1/offices/hz-xihu/now", None),
        ("GET", "/v1/offices", None),
        ("GET", f"/v1/best-times?from={start}", None),
        ("GET", f"/v1/offices/hz-city/best-times?from={start}", None),
        ("POST", "/v1/advice", {"office_id": "hz-city"}),
        ("GET", "/health/ready", None),
    ]
    errors: list[str] = []
    stop, statuses, versions = threading.Event(), Counter[int](), Counter[str]()
    threads = [
        threading.Thread(
            target=_hammer, args=(server, paths[k:] + paths[:k], stop, statuses, versions, errors)
        )
        for k in range(8)
    ]
    for thread in threads:
        thread.start()
    reloads = []
    try:
        time.sleep(0.5)
        for round_ in range(5):
            version = publish(registry, forecaster)
            if round_ == 3:  # a broken one among them: refused, the last good one serves on
                (registry / "versions" / version / "wait_p10.txt").chmod(0o644)
                (registry / "versions" / version).chmod(0o755)
                with (registry / "versions" / version / "wait_p10.txt").open("a") as handle:
                    handle.write("#")
            answer = httpx.post(server.url + "/v1/admin/reload", headers=auth(), timeout=60)
            reloads.append((version, answer.status_code))
            time.sleep(0.4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert reloads == [
        ("v0002", 200),
        ("v0003", 200),
        ("v0004", 200),
        ("v0005", 503),
        ("v0006", 200),
    ]
    assert errors == [] and set(statuses) == {200} and sum(statuses.values()) > 200
    assert {"v0001", "v0006"} <= set(versions) and "v0005" not in versions
    log = server.log_text()
    assert TOKEN not in log and "Traceback" not in log
    print(
        f"\nreload under load: {sum(statuses.values())} requests, 0 failed, "
        f"{len(reloads)} reloads, versions served {dict(versions)}"
    )


@pytest.mark.slow
def test_the_real_server_sends_no_server_details_and_limits_chunked_bodies(server: Server) -> None:
    answers = [
        httpx.get(server.url + "/nowhere"),
        httpx.get(server.url + "/v1/offices/hz-city/forecast?date=x"),
        httpx.post(server.url + "/v1/admin/reload"),
        httpx.post(
            server.url + "/v1/advice",
            content=b"{" * 70_000,
            headers={"Content-Type": "application/json"},
        ),
    ]
    assert [a.status_code for a in answers] == [404, 422, 401, 413]
    for answer in answers:
        assert set(answer.json()) == {"error", "message"}
        assert "server" not in answer.headers and "x-powered-by" not in answer.headers
        assert "uvicorn" not in str(answer.headers).lower()
    head, body = _chunked_post(server.port, "/v1/advice", [b"{" * 30_000] * 3)
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"\r\nserver:" not in head.lower()
    assert json.loads(body)["error"] == "payload_too_large"


def _chunked_post(port: int, path: str, chunks: list[bytes]) -> tuple[bytes, bytes]:
    """POST with Transfer-Encoding: chunked (no Content-Length); the answer's head and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            "application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            for chunk in chunks:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            part = sock.recv(65536)
            if not part:
                break
            data += part
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body[: _length(data)]


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


# --- a registry on a read-only disk -----------------------------------------------------


@pytest.fixture
def readonly_registry(
    registry: Path, forecaster: Forecaster, tmp_path: Path
) -> Iterator[tuple[Path, str]]:
    """The registry (v0001 current, v0002 stored) on a read-only bind mount.

    Where mounting is not allowed, a registry path under a regular file stands in (every
    write fails there too, with ENOTDIR instead of EROFS); the second value says which.
    """
    publish(registry, forecaster, promote=False)
    mount = tmp_path / "readonly"
    mount.mkdir()
    bind = subprocess.run(["mount", "--bind", str(registry), str(mount)], capture_output=True)
    if bind.returncode == 0:
        remount = subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(mount)], capture_output=True
        )
        try:
            if remount.returncode == 0:
                yield mount, "read-only bind mount"
                return
        finally:
            subprocess.run(["umount", str(mount)], check=True)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    yield blocker / "registry", "a path under a regular file"


@pytest.mark.slow
def test_a_read_only_registry_gives_a_clear_error_and_still_serves(
    readonly_registry: tuple[Path, str], small_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, kind = readonly_registry
    with capsys.disabled():
        print(f"\nread-only registry: {kind}")
    expected = "Read-only file system" if kind == "read-only bind mount" else "Not a directory"
    if kind == "read-only bind mount":
        with pytest.raises(OSError, match="Read-only"):
            (root / "probe").write_text("x")
        assert main(["models", "list", "--registry", str(root)]) == 0
        capsys.readouterr()
        app = create_app(settings_for(root), FakeClock(at(TODAY, 10, 30)))
        with TestClient(app) as client:  # serving only reads: it loads and reloads
            assert client.get("/health/ready").json()["model_version"] == "v0001"
            assert client.post("/v1/admin/reload", headers=auth()).status_code == 200
        assert main(["models", "promote", "v0002", "--registry", str(root)]) == 1
        _assert_one_line(capsys.readouterr().err, "is not writable", expected)
    assert main(["train", str(small_log), "--registry", str(root), "--origins", "1"]) == 1
    _assert_one_line(capsys.readouterr().err, "is not writable", expected)
    if kind == "read-only bind mount":
        assert ModelRegistry(root).current_version() == "v0001"
        assert not (root / ".staging").exists() or not any((root / ".staging").iterdir())


def _assert_one_line(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert all(f in lines[0] for f in fragments), lines[0]
    assert "Traceback" not in err
