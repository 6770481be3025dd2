"""Operations benchmark: state that survives, partner keys, several workers, midnight.

On loopback, real ``waitcast serve`` processes serve ``bench_serving.py``'s model (the 15
offices), open around the clock with no holiday today (to post queue states any time):

1. **partner keys**: 50 threads from one address ask 40 forecasts each (2,000), first
   anonymously (the per-address default: 1,200 a minute, 200 at once), then with a
   partner key of the default quota (``waitcast keys add``): 429s of each;
2. **restart**: a queue state posted, the server stopped and started again: whether
   ``/now`` still answers from it, and the seconds from the stop to ready;
3. **promotion**: ``--workers 2``; ``waitcast models promote`` / ``rollback`` (``--trials``
   switches): seconds until every worker serves the new version, by its watch alone
   (``WAITCAST_WATCH_SECONDS``, default 5; target <= 30 s);
4. **midnight**: in-process, a clock moved past midnight: the cube's roll and its time.

The cost of the rate limits: ``bench_ratelimit.py``.

Targets: no partner request refused, the state kept, every worker within 30 s; ``--strict``
exits 1 when one is missed.

    .venv/bin/python bench/bench_ops.py [--trials 3] [--strict]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from bench_serving import BENCH_REGISTRY, cached_registry, forecast_paths, server_kind

from features.calendar_cn import default_calendar
from features.offices import load_offices
from models.bundle import load_from_registry, save_bundle
from models.registry import ModelRegistry
from serving.state import ServingState
from serving.statestore import open_store
from tests.reliability.realserver import (
    REPO,
    Server,
    always_open,
    calendar_without_holiday_today,
    hangzhou_now,
    running_server,
)
from tests.serving.support import FakeClock, auth, settings_for

TARGET_PROMOTION_S = 30.0
THREADS, PER_THREAD = 50, 40


def open_registry(source: Path, root: Path) -> Path:
    """``source``'s current model, always open, as v0001 (current) and v0002 in ``root``."""
    model = always_open(load_from_registry(ModelRegistry(source)))
    registry = ModelRegistry(root)
    for _ in range(2):
        registry.publish(lambda folder: save_bundle(model, folder), {"bench": "ops"})
    registry.promote("v0001")
    return root


def waitcast(*argv: str) -> str:
    """Run the real command; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise SystemExit(f"waitcast {' '.join(argv[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def burst_of_forecasts(server: Server, paths: list[str], headers: dict[str, str]) -> Counter:
    """THREADS threads, PER_THREAD forecasts each, keep-alive: the answers' statuses."""

    def ask(offset: int) -> Counter[int]:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            return Counter(
                client.get(paths[(offset * PER_THREAD + i) % len(paths)]).status_code
                for i in range(PER_THREAD)
            )

    with ThreadPoolExecutor(THREADS) as pool:
        return sum(pool.map(ask, range(THREADS)), Counter())


def partner_keys(registry: Path, folder: Path, env: dict[str, str]) -> bool:
    key = waitcast("keys", "add", "bench-partner", "--registry", str(registry)).split()[-1]
    paths = forecast_paths()
    with running_server(
        registry,
        folder / "keys.log",
        env={
            **env,
            "WAITCAST_RATE_LIMIT_PER_MINUTE": "1200",
            "WAITCAST_RATE_LIMIT_BURST": "200",
        },
    ) as server:
        for label, headers in (("anonymous", {}), ("partner key", {"X-API-Key": key})):
            started = time.monotonic()
            counts = burst_of_forecasts(server, paths, headers)
            print(
                f"  {label:12}: {counts[429]:5,} of {sum(counts.values()):,} answered 429, "
                f"{counts[200]:5,} 200 ({time.monotonic() - started:.1f} s)"
            )
    return counts[429] == 0  # the partner's run, the last


def restart(registry: Path, folder: Path, env: dict[str, str]) -> bool:
    log = folder / "restart.log"
    state = {
        "waiting": {"walk_in": 12, "appointment": 3},
        "windows_open": 2,
        "observed_at": hangzhou_now().isoformat(timespec="seconds"),
    }
    with running_server(registry, log, env=env) as server:
        put = httpx.put(
            f"{server.url}/v1/offices/hz-city/queue-state", json=state, headers=auth(), timeout=30
        )
        put.raise_for_status()
        port = server.port
    stopped = time.monotonic()
    with running_server(registry, log, port=port, env=env) as server:
        back = time.monotonic() - stopped
        now = httpx.get(f"{server.url}/v1/offices/hz-city/now", timeout=30).json()
    survived = now["source"] == "live" and now["live"]["observed_at"] == put.json()["observed_at"]
    print(
        f"  queue state after a restart: {'live, as posted' if survived else 'LOST'}; "
        f"serving again {back:.1f} s after the stop (model load and cube included)"
    )
    return survived


def ready_version(server: Server) -> tuple[str, str]:
    with httpx.Client(timeout=30) as client:  # a new connection: any worker may take it
        answer = client.get(server.url + "/health/ready")
    return answer.headers["x-worker"], answer.json().get("model_version", "")


def every_worker(server: Server, workers: int, version: str, limit: float = 120) -> float:
    """Seconds until ``workers`` distinct workers have answered ``version``."""
    started, seen = time.monotonic(), set[str]()
    while len(seen) < workers:
        if time.monotonic() - started > limit:
            raise SystemExit(f"not every worker served {version} within {limit:.0f} s")
        worker, served = ready_version(server)
        if served == version:
            seen.add(worker)
        time.sleep(0.02)
    return time.monotonic() - started


def promotion(registry: Path, folder: Path, env: dict[str, str], trials: int) -> bool:
    with running_server(
        registry, folder / "workers.log", args=("--workers", "2"), env=env
    ) as server:
        every_worker(server, 2, "v0001")
        timings = []
        for trial in range(trials):
            target = "v0002" if trial % 2 == 0 else "v0001"
            started = time.monotonic()
            if target == "v0002":
                waitcast("models", "promote", "v0002", "--registry", str(registry))
            else:
                waitcast("models", "rollback", "--registry", str(registry))
            every_worker(server, 2, target)
            timings.append(time.monotonic() - started)
            verb = "promote v0002" if target == "v0002" else "rollback to v0001"
            print(f"  {verb:17}: both workers serve it {timings[-1]:.1f} s after the command")
    worst = max(timings)
    print(
        f"  worst of {trials}: {worst:.1f} s (target <= {TARGET_PROMOTION_S:.0f} s)  "
        f"{'PASS' if worst <= TARGET_PROMOTION_S else 'FAIL'}"
    )
    return worst <= TARGET_PROMOTION_S


def midnight(registry: Path) -> None:
    """The registry's model (the offices' real hours) in-process, its clock at 23:59:58."""
    clock = FakeClock(
        dt.datetime.combine(
            hangzhou_now().date(), dt.time(23, 59, 58), tzinfo=hangzhou_now().tzinfo
        )
    )
    settings = settings_for(registry)
    state = ServingState(
        settings, clock, default_calendar(), load_offices(), open_store(settings.state_store_url)
    )
    before = state.load()
    assert state.refresh() is None
    clock.advance(seconds=5)
    started = time.perf_counter()
    done = state.refresh()
    seconds = time.perf_counter() - started
    after = state.require_model()
    print(
        f"  23:59:58 cube from {before.cube.start} ({before.cube.days} days, "
        f"{len(before.cube.offices)} offices, built in {before.cube_seconds:.2f} s at load); "
        f"at 00:00:03 refresh -> {done}: cube from {after.cube.start}, same model "
        f"{after.version}, rolled in {seconds:.2f} s"
    )


def main() -> int:
    """Run the benchmark; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="Promotions and rollbacks.")
    parser.add_argument("--registry", type=Path, help="Use this registry's current model.")
    parser.add_argument("--strict", action="store_true", help="Exit 1 when a target is missed.")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
        f"(1 min) at the start; uvicorn with {server_kind()}"
    )
    source = args.registry or cached_registry(BENCH_REGISTRY, 150, False)
    with tempfile.TemporaryDirectory(prefix="waitcast-bench-ops-") as tmp:
        folder = Path(tmp)
        registry = open_registry(source, folder / "registry")
        calendar_file = calendar_without_holiday_today(folder)
        env = {"WAITCAST_CALENDAR_FILE": str(calendar_file)}
        print(f"1. partner keys ({THREADS} threads x {PER_THREAD} forecasts, one address):")
        met = [partner_keys(registry, folder, env)]
        print("2. restart (1 worker, the SQLite store beside the registry):")
        met.append(restart(registry, folder, env))
        print("3. promotion (--workers 2, WAITCAST_WATCH_SECONDS default 5):")
        met.append(promotion(registry, folder, env, args.trials))
        print("4. midnight (in-process, clock injected, the offices' real hours):")
        midnight(source)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (1 min)")
    return 1 if args.strict and not all(met) else 0


if __name__ == "__main__":
    sys.exit(main())
