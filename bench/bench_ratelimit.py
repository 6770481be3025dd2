"""Rate-limit benchmark: what a limit check costs, in SQLite and in Redis.

Every rate-limited request makes one atomic bucket update in the state store. In one run,
on loopback only:

1. **the limiter alone**, in-process: ``RateLimitMiddleware`` around an empty app, 20,000
   requests from one address; CPU time a request with the limit off, on SQLite, and on a
   real ``redis-server`` (started here, when installed). CPU time is steady even while
   other jobs share the machine;
2. **a real server**: three ``waitcast serve`` processes side by side (limit off, SQLite,
   Redis) serving ``bench_serving.py``'s model, loaded in turn with forecasts at 50
   connections for ``--rounds`` rounds (the limit is set high, so nothing is refused):
   medians of the throughput ratio to "off", and of the server's CPU time a request.

    .venv/bin/python bench/bench_ratelimit.py [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_serving import BENCH_REGISTRY, cached_registry, forecast_paths, load, server_kind
from loadgen import LoadResult

from serving.ratelimit import RateLimitMiddleware
from serving.statestore import StateStore, open_store
from tests.reliability.realserver import running_server
from tests.serving.redisserver import redis_server

UNLIMITED = {"WAITCAST_RATE_LIMIT_PER_MINUTE": "1000000", "WAITCAST_RATE_LIMIT_BURST": "1000000"}
CALLS = 20_000
SCOPE = {
    "type": "http",
    "path": "/v1/offices/hz-city/forecast",
    "client": ("127.0.0.1", 5000),
    "headers": [(b"host", b"127.0.0.1"), (b"accept", b"*/*")],
}


async def _empty_app(scope: object, receive: object, send: object) -> None:
    return None


def limiter_cpu_us(store: StateStore | None) -> float:
    """CPU microseconds a request of the limiter alone (None: the limit off)."""
    # None only with the limit off (per_minute 0), when the middleware never reads its store
    limiter = RateLimitMiddleware(
        _empty_app,
        cast(StateStore, store),
        per_minute=1_000_000 if store else 0,
        burst=1_000_000,
    )

    async def run() -> None:
        for _ in range(CALLS):
            await limiter(SCOPE, _empty_app, _empty_app)  # type: ignore[arg-type]

    started = time.process_time()
    asyncio.run(run())
    return (time.process_time() - started) / CALLS * 1e6


def limiter_alone(folder: Path) -> None:
    print(f"  limit off        : {limiter_cpu_us(None):5.1f} µs CPU a request")
    sqlite = open_store(f"sqlite:///{folder}/alone.sqlite3")
    print(f"  limit on, SQLite : {limiter_cpu_us(sqlite):5.1f} µs CPU a request")
    if shutil.which("redis-server"):
        with redis_server(folder) as url:
            print(
                f"  limit on, Redis  : {limiter_cpu_us(open_store(url)):5.1f} µs CPU a "
                "request (this process's; Redis's own not counted)"
            )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def limit_cost(
    registry: Path, folder: Path, env: dict[str, str], seconds: float, rounds: int, tool: str
) -> None:
    """Three servers side by side (limit off, SQLite, Redis), loaded in turn each round;
    throughput, and the server's CPU per request (steadier than throughput on a shared
    machine; Redis's own CPU is not counted)."""
    paths = forecast_paths()
    phases = [
        ("limit off", {"WAITCAST_RATE_LIMIT_PER_MINUTE": "0"}, False),
        ("limit on, SQLite", UNLIMITED, False),
    ]
    if shutil.which("redis-server"):
        phases.append(("limit on, Redis", UNLIMITED, True))
    results: dict[str, list[tuple[LoadResult, float]]] = {label: [] for label, _, _ in phases}
    with ExitStack() as stack:
        servers = {}
        for label, limits, on_redis in phases:
            redis_url = stack.enter_context(redis_server(folder)) if on_redis else None
            store_env = {"WAITCAST_STATE_URL": redis_url} if redis_url else {}
            servers[label] = stack.enter_context(
                running_server(registry, folder / "cost.log", env={**env, **limits, **store_env})
            )
            load(servers[label].port, paths, 2, 200_000, tool)  # warm-up
        for _ in range(rounds):
            for label, server in servers.items():
                used = cpu_seconds(server.process.pid)
                result = load(server.port, paths, seconds, 2_000_000, tool)
                cpu_us = (cpu_seconds(server.process.pid) - used) / result.requests * 1e6
                results[label].append((result, cpu_us))
    off = results["limit off"]
    off_cpu = sorted(c for _, c in off)[rounds // 2]
    for label, runs in results.items():
        ratios = sorted(r.rps / o.rps for (r, _), (o, _) in zip(runs, off, strict=True))
        mid = sorted((r for r, _ in runs), key=lambda r: r.rps)[rounds // 2]
        cpu = sorted(c for _, c in runs)[rounds // 2]
        print(
            f"  {label:17}: {mid.rps:5.0f} req/s ({ratios[rounds // 2]:.2f} of off)  p99 "
            f"{mid.p99_ms:6.2f} ms  server CPU {cpu:4.0f} µs a request ({cpu - off_cpu:+4.0f})"
            f"  errors {sum(r.errors for r, _ in runs)}"
        )


def main() -> int:
    """Run the benchmark; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="Per load phase.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of the three servers.")
    parser.add_argument("--registry", type=Path, help="Use this registry's current model.")
    parser.add_argument("--client", choices=("auto", "wrk", "asyncio"), default="auto")
    args = parser.parse_args()
    tool = (
        "wrk"
        if args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
        else "asyncio"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (1 min) at "
        f"the start; uvicorn with {server_kind()}; load generator {tool}"
    )
    registry = args.registry or cached_registry(BENCH_REGISTRY, 150, False)
    with tempfile.TemporaryDirectory(prefix="waitcast-bench-ratelimit-") as tmp:
        print(f"1. the limiter alone (in-process, {CALLS:,} requests, one address):")
        limiter_alone(Path(tmp))
        print(
            f"2. a real server (forecasts, 50 connections, {args.seconds:.0f} s a phase, "
            f"{args.rounds} rounds):"
        )
        limit_cost(registry, Path(tmp), {}, args.seconds, args.rounds, tool)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (1 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
