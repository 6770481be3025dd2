"""Benchmark: the forecast route against a bare FastAPI JSON route, one uvicorn worker.

In one run, on loopback only:

1. a model for the 15 Hangzhou offices (trained here on simulated tickets with the default
   training settings, or ``--registry DIR``'s current one);
2. model load including the 60-day forecast cube, timed (target ≤ 10 s);
3. one uvicorn worker started by this script serving the app, plus a bare JSON route
   mounted on that same app object (``/bench/bare``, only here, never in production);
4. 50 concurrent keep-alive connections against the bare route, then against
   ``GET /v1/offices/{id}/forecast`` (rotating offices, dates in the cube and channels),
   each phase bounded by ``--seconds`` and ``--requests``, alternating for ``--rounds``
   rounds; the median round (by ratio) is reported. The load generator is ``wrk``
   when installed (``apt-get install wrk``), else a small asyncio HTTP/1.1 client.

Prints throughput (ratio to the bare route, target ≥ 0.70), p50/p99 latency (target p99
≤ 20 ms) and errors (target 0). ``--strict`` exits 1 when a target is missed.

    .venv/bin/python bench/bench_serving.py [--seconds 10] [--requests 200000] [--registry DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import LoadResult, get, run_asyncio, run_wrk
from pydantic import SecretStr

from features.calendar_cn import default_calendar
from features.calendars import Calendars
from features.offices import load_offices
from features.schema import DEFAULT_TIMEZONE
from serving.settings import Settings

TARGET_RATIO, TARGET_P99_MS, TARGET_LOAD_S = 0.70, 20.0, 10.0
CONNECTIONS = 50
BARE_PATH = "/bench/bare"
BENCH_REGISTRY = Path(".waitcast") / "bench" / "registry"


def office_today() -> dt.date:
    """Today in Hangzhou, as the server counts days."""
    return dt.datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()


def cached_registry(root: Path, history_days: int, retrain: bool) -> Path:
    """A registry whose current model was trained on data up to yesterday (kept between runs)."""
    from features.errors import ModelError
    from models.bundle import load_from_registry
    from models.registry import ModelRegistry

    end = office_today() - dt.timedelta(days=1)
    try:
        meta = load_from_registry(ModelRegistry(root)).metadata
    except ModelError:  # none yet, or one an older code version wrote
        meta = {}
    if (
        retrain
        or meta.get("bench_data_end") != str(end)
        or meta.get("bench_history_days") != history_days
    ):
        started = time.perf_counter()
        version = train_registry(root, end, history_days)
        print(
            f"trained {version} on {history_days} simulated days up to {end} "
            f"({time.perf_counter() - started:.0f} s; not a target; kept in {root})"
        )
    return root


def train_registry(root: Path, end: dt.date, history_days: int) -> str:
    """Simulate the 15 offices up to ``end``, train with default settings, publish."""
    from features.dataset import prepare_data
    from models.bundle import save_bundle
    from models.registry import ModelRegistry
    from training.pipeline import TrainConfig, fit_forecaster
    from training.simulate import simulate

    offices, calendar = load_offices(), default_calendar()
    tickets = simulate(offices, calendar, end - dt.timedelta(days=history_days), end, seed=1)
    data = prepare_data(tickets.drop(columns=["documents"]), None, offices, Calendars(calendar))
    forecaster = fit_forecaster(data, TrainConfig(n_jobs=1)).forecaster
    registry = ModelRegistry(root)
    meta = {"bench_data_end": str(end), "bench_history_days": history_days}
    version = registry.publish(lambda folder: save_bundle(forecaster, folder), meta)
    registry.promote(version)
    return version


def settings(registry: Path) -> Settings:
    """Production settings with a throwaway token; no rate limit (one client, loopback)."""
    return Settings(
        registry=registry,
        env="production",
        admin_token=SecretStr(secrets.token_hex(16)),
        rate_limit_per_minute=0,
    )


def time_model_load(registry: Path) -> tuple[float, float, int]:
    """Seconds to load and verify the model, seconds to build its cube, office count."""
    from serving.state import ServingState
    from serving.statestore import open_store

    chosen = settings(registry)
    state = ServingState(
        chosen,
        lambda: dt.datetime.now(dt.UTC),
        default_calendar(),
        load_offices(),
        open_store(chosen.state_store_url),
    )
    model = state.load()
    return model.load_seconds, model.cube_seconds, len(model.cube.offices)


def serve(registry: Path, port: int) -> None:
    """The server process: the app plus a bare route, one uvicorn worker."""
    import uvicorn

    from serving.app import create_app
    from serving.logging import configure

    configure(stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    app = create_app(settings(registry))

    @app.get(BARE_PATH)
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, access_log=False, log_level="warning")


def server_kind() -> str:
    """Which HTTP parser and event loop uvicorn picks here."""
    import importlib.util

    fast = [m for m in ("httptools", "uvloop") if importlib.util.find_spec(m)]
    return (
        ", ".join(fast)
        if len(fast) == 2
        else "h11, asyncio: install uvicorn[standard] for production speed"
    )


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, timeout: float = 120.0) -> None:
    """Block until /health/ready answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/health/ready", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def forecast_paths() -> list[str]:
    """Forecast requests over every office, 30 dates in the cube and each channel filter."""
    today = office_today()
    paths = []
    for office in load_offices():
        for offset in range(30):
            date = today + dt.timedelta(days=offset)
            for channel in ("", "&channel=walk_in"):
                paths.append(f"/v1/offices/{office.id}/forecast?date={date}{channel}")
    return paths


def load(port: int, paths: list[str], seconds: float, requests: int, tool: str) -> LoadResult:
    """Run one load phase."""
    run = run_wrk if tool == "wrk" else run_asyncio
    return run(port, get(paths), seconds, requests, CONNECTIONS)


def main() -> int:
    """Run the benchmark; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="Per load phase.")
    parser.add_argument("--rounds", type=int, default=3, help="Bare/forecast phase pairs.")
    parser.add_argument("--requests", type=int, default=200_000, help="Per load phase, at most.")
    parser.add_argument("--registry", type=Path, help="Use this registry's current model.")
    parser.add_argument("--history-days", type=int, default=150)
    parser.add_argument("--retrain", action="store_true", help="Retrain the cached model.")
    parser.add_argument("--client", choices=("auto", "wrk", "asyncio"), default="auto")
    parser.add_argument("--strict", action="store_true", help="Exit 1 when a target is missed.")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # internal: server mode
    args = parser.parse_args()
    if args.serve:
        serve(args.registry, args.serve)
        return 0
    tool = (
        "wrk"
        if args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
        else "asyncio"
    )
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {os.getloadavg()[0]:.1f}")
    registry = args.registry or cached_registry(BENCH_REGISTRY, args.history_days, args.retrain)
    load_s, cube_s, n_offices = time_model_load(registry)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--registry", str(registry)]
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        paths = forecast_paths()
        load(port, [BARE_PATH], 2, 5000, tool)  # warm-up
        load(port, paths, 2, 5000, tool)
        rounds: list[tuple[LoadResult, LoadResult]] = []
        for _ in range(args.rounds):  # alternate, so both routes see the same machine
            rounds.append(
                (
                    load(port, [BARE_PATH], args.seconds, args.requests, tool),
                    load(port, paths, args.seconds, args.requests, tool),
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    for i, (bare, fc) in enumerate(rounds, 1):
        print(
            f"round {i}: bare {bare.rps:7.0f} req/s p99 {bare.p99_ms:6.2f} ms | forecast "
            f"{fc.rps:7.0f} req/s p99 {fc.p99_ms:6.2f} ms | ratio {fc.rps / bare.rps:.2f}"
        )
    bare, fc = sorted(rounds, key=lambda r: r[1].rps / r[0].rps)[len(rounds) // 2]
    errors = sum(b.errors + f.errors for b, f in rounds)
    return report(load_s, cube_s, n_offices, bare, fc, errors, tool, args.strict)


def report(
    load_s: float,
    cube_s: float,
    n_offices: int,
    bare: LoadResult,
    fc: LoadResult,
    errors: int,
    tool: str,
    strict: bool,
) -> int:
    """Print the figures against their targets; the exit code."""
    ratio = fc.rps / bare.rps if bare.rps else 0.0
    total = load_s + cube_s
    checks = [
        ratio >= TARGET_RATIO,
        fc.p99_ms <= TARGET_P99_MS,
        errors == 0,
        total <= TARGET_LOAD_S,
    ]
    print(
        f"load generator: {tool}, {CONNECTIONS} connections, 1 uvicorn worker ({server_kind()})"
        ", loopback; figures of the median round by ratio"
    )
    print(
        f"bare JSON route     : {bare.rps:9.0f} req/s  p50 {bare.p50_ms:6.2f} ms  "
        f"p99 {bare.p99_ms:6.2f} ms  errors {bare.errors}  ({bare.requests} requests)"
    )
    print(
        f"forecast route      : {fc.rps:9.0f} req/s  p50 {fc.p50_ms:6.2f} ms  "
        f"p99 {fc.p99_ms:6.2f} ms  errors {fc.errors}  ({fc.requests} requests)"
    )
    print(
        f"throughput ratio    : {ratio:.2f} of the bare route (target >= {TARGET_RATIO:.2f})"
        f"  {'PASS' if checks[0] else 'FAIL'}"
    )
    print(
        f"forecast p99        : {fc.p99_ms:.2f} ms (target <= {TARGET_P99_MS:.0f} ms)  "
        f"{'PASS' if checks[1] else 'FAIL'}"
    )
    print(f"errors, all rounds  : {errors} (target 0)  {'PASS' if checks[2] else 'FAIL'}")
    print(
        f"model load + cube   : {total:.2f} s = load {load_s:.2f} s + 60-day cube {cube_s:.2f} s "
        f"for {n_offices} offices (target <= {TARGET_LOAD_S:.0f} s)  "
        f"{'PASS' if checks[3] else 'FAIL'}"
    )
    return 1 if strict and not all(checks) else 0


if __name__ == "__main__":
    sys.exit(main())
