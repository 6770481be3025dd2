"""A short run of the load bench (``bench/bench_load.py``) against the small model.

The 60-second, 100-connection run is the bench's (``make bench``); here 3 seconds at 20
connections check that the mix of forecast, now, advice and best-times requests on a real
uvicorn worker fails no request and that the bench reports its figures.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.realserver import REPO


@pytest.mark.slow
def test_a_short_mixed_load_fails_no_request(base_registry: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "bench/bench_load.py",
            "--registry",
            str(base_registry),
            "--seconds",
            "3",
            "--warmup",
            "1",
            "--connections",
            "20",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "left out of the mix" not in run.stdout
    assert re.search(r"^errors\s+: 0 \(target 0\)  PASS$", run.stdout, re.MULTILINE), run.stdout
    measured = re.search(r"measured run\s+:\s+[\d.]+ s, (\d+) requests", run.stdout)
    assert measured, run.stdout
    requests = int(measured[1])
    assert requests > 100
    assert re.search(r"latency\s+: p50 +[\d.]+ ms   p99 +[\d.]+ ms", run.stdout)
    assert "server RSS" in run.stdout
    print("\n" + run.stdout)


def test_the_app_caps_the_threads_of_cpu_bound_requests(base_registry: Path) -> None:
    """40 threads (anyio's default) held 490 MiB under the bench's load, 4 hold 310 MiB."""
    from anyio import to_thread
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from tests.serving.support import settings_for

    with TestClient(create_app(settings_for(base_registry, worker_threads=3))) as client:
        assert client.portal is not None
        limiter = client.portal.call(to_thread.current_default_thread_limiter)
        assert limiter.total_tokens == 3
        assert client.post("/v1/advice", json={"office_id": "hz-city"}).status_code == 200
    assert settings_for(base_registry).worker_threads == 4
