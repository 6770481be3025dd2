"""Several workers, one truth: real ``waitcast serve`` processes on loopback.

- A queue state survives a restart (the SQLite store beside the registry).
- With ``--workers 2``: both workers answer a state posted to either, share one rate
  limit per address, and serve a version within 30 s of ``waitcast models promote`` (and
  of ``rollback``) by watching the registry's pointer.

These servers run on the real clock, so the model's offices are made open around the
clock and the calendar (``WAITCAST_CALENDAR_FILE``) has no holiday today: a queue state
can be posted whatever the time of the run. Each figure is printed.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from models.forecaster import Forecaster
from tests.reliability.realserver import (
    REPO,
    Server,
    always_open,
    calendar_without_holiday_today,
    hangzhou_now,
    running_server,
)
from tests.serving.support import auth, publish

pytestmark = pytest.mark.slow
PROMISED_SECONDS = 30.0


@pytest.fixture
def open_registry(tmp_path: Path, forecaster: Forecaster) -> Path:
    """A registry whose v0001 (current) and v0002 (stored) forecast always-open offices."""
    root = tmp_path / "registry"
    model = always_open(forecaster)
    publish(root, model)
    publish(root, model, promote=False)
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A calendar in which today is a working day; a week's cube (quicker loads); the
    registry watched every second (``bench/bench_ops.py`` measures the default 5 s)."""
    return {
        "WAITCAST_CALENDAR_FILE": str(calendar_without_holiday_today(tmp_path)),
        "WAITCAST_CUBE_DAYS": "7",
        "WAITCAST_WATCH_SECONDS": "1",
    }


def post_state(server: Server, headers: dict[str, str] | None = None) -> dict:
    body = {
        "waiting": {"walk_in": 12, "appointment": 3},
        "windows_open": 2,
        "observed_at": hangzhou_now().isoformat(timespec="seconds"),
    }
    answer = httpx.put(
        f"{server.url}/v1/offices/hz-city/queue-state",
        json=body,
        headers={**auth(), **(headers or {})},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def fresh_get(server: Server, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """A GET on a new connection (so that any worker may take it)."""
    with httpx.Client(timeout=10) as client:
        return client.get(server.url + path, headers=headers)


def from_every_worker(
    server: Server,
    path: str,
    workers: int,
    check: Callable[[httpx.Response], bool],
    seconds: float = 60.0,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    """Ask ``path`` on new connections until each of ``workers`` workers has answered so
    that ``check`` holds; the seconds at which each did, first time."""
    started, seen = time.monotonic(), dict[str, float]()
    lock = threading.Lock()

    def poll() -> None:
        while len(seen) < workers and time.monotonic() - started < seconds:
            answer = fresh_get(server, path, headers)
            if check(answer):
                with lock:
                    seen.setdefault(answer.headers["x-worker"], time.monotonic() - started)
            time.sleep(0.02)

    threads = [threading.Thread(target=poll) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == workers, f"only {len(seen)} of {workers} workers in {seconds} s: {seen}"
    return seen


def waitcast(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_queue_state_survives_a_restart(
    open_registry: Path, tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "server.log"
    with running_server(open_registry, log, env=env) as server:
        posted = post_state(server)
        assert fresh_get(server, "/v1/offices/hz-city/now").json()["source"] == "live"
        port = server.port
    stopped = time.monotonic()
    with running_server(open_registry, log, port=port, env=env) as server:
        back = time.monotonic() - stopped
        now = fresh_get(server, "/v1/offices/hz-city/now").json()
    assert now["source"] == "live", now
    assert now["live"]["observed_at"] == posted["observed_at"] and now["live"]["windows_open"] == 2
    assert (tmp_path / "registry-state.sqlite3").is_file()
    with capsys.disabled():
        print(f"\nrestart: the queue state survived; serving again {back:.1f} s after the stop")


def test_two_workers_share_state_and_limits_and_follow_promotions(
    open_registry: Path, tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    limits = {"WAITCAST_RATE_LIMIT_PER_MINUTE": "1", "WAITCAST_RATE_LIMIT_BURST": "10"}
    key = waitcast(
        "keys", "add", "tester", "--per-minute", "1000000", "--registry", str(open_registry)
    ).split()[-1]
    partner = {"X-API-Key": key}  # the partner's own bucket: anonymous ones stay unspent
    with running_server(
        open_registry,
        tmp_path / "server.log",
        args=("--workers", "2"),
        env={**env, **limits},
    ) as server:
        from_every_worker(server, "/health/ready", 2, lambda a: a.status_code == 200)
        # one queue state, answered live by both workers
        post_state(server, partner)
        from_every_worker(
            server,
            "/v1/offices/hz-city/now",
            2,
            lambda a: a.status_code == 200 and a.json()["source"] == "live",
            headers=partner,
        )
        # one bucket per address for both workers: 10 at once, then 429 from either
        answers = [fresh_get(server, "/v1/offices") for _ in range(40)]
        codes = [a.status_code for a in answers]
        assert codes == [200] * 10 + [429] * 30, codes
        assert len({a.headers["x-worker"] for a in answers}) == 2
        # a promotion, then a rollback, reach both workers by the watch alone
        started = time.monotonic()
        waitcast("models", "promote", "v0002", "--registry", str(open_registry))
        promoted = from_every_worker(
            server, "/health/ready", 2, lambda a: a.json().get("model_version") == "v0002"
        )
        promote_seconds = time.monotonic() - started
        started = time.monotonic()
        waitcast("models", "rollback", "--registry", str(open_registry))
        from_every_worker(
            server, "/health/ready", 2, lambda a: a.json().get("model_version") == "v0001"
        )
        rollback_seconds = time.monotonic() - started
    assert promote_seconds <= PROMISED_SECONDS and rollback_seconds <= PROMISED_SECONDS
    with capsys.disabled():
        print(
            f"\n2 workers: every worker served v0002 {promote_seconds:.1f} s after "
            f"`waitcast models promote` (first at {min(promoted.values()):.1f} s), and "
            f"v0001 again {rollback_seconds:.1f} s after `rollback`"
        )
