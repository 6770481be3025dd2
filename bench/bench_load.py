"""Load benchmark: one uvicorn worker under a mixed load; errors, latency, memory growth.

In one run, on loopback only:

1. the model: ``--registry DIR``'s current one, or the 15 Hangzhou offices trained on
   simulated tickets up to yesterday (shared with ``bench_serving.py``, kept between runs);
2. one uvicorn worker started by this script (production settings, a throwaway admin
   token, no ``Server`` header; the per-client rate limit off, since every request comes
   from one address);
3. a mix of requests built from what the server forecasts, each checked once to answer
   200: 40 % ``GET …/forecast`` (every office, 90 dates: in the 60-day cube and beyond it,
   each channel filter), 20 % ``GET …/now``, 20 % ``POST /v1/advice`` (offices, travel
   dates, residencies), 20 % best times (one office, and across offices near a point);
4. a warm-up (``--warmup`` seconds), the server's RSS, then ``--connections`` keep-alive
   connections for ``--seconds`` (at most ``--requests`` requests), the RSS again.

Prints requests, throughput, p50/p99 latency, errors (socket errors, timeouts and any
answer other than 2xx/3xx) and the RSS growth; targets: 0 errors, growth under 10 %. Also
the share of advice and best-times answers the server sent as kept ones
(:mod:`serving.answer_cache`; ``WAITCAST_RESPONSE_CACHE_MB=0`` in the environment turns
the cache off, to measure the computing path alone).
``--strict`` exits 1 when a target is missed. The load generator is ``wrk`` with a Lua
script when installed (``apt-get install wrk``), else a small asyncio HTTP/1.1 client.

``--workers N`` runs the server as ``waitcast serve --workers N`` does. ``--compare DIR``
first measures the code in DIR (a tree of an older commit) the same way, on the same
model, and prints the throughput ratio against it (issue 15.6: at least 5x, p99 at most
250 ms).

    .venv/bin/python bench/bench_load.py [--seconds 60] [--connections 100] [--registry DIR]
        [--workers N] [--compare DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from bench_serving import BENCH_REGISTRY, cached_registry, free_port, wait_ready
from loadgen import LoadResult, Request, run_asyncio, run_wrk
from pydantic import SecretStr

from serving.settings import Settings

TARGET_GROWTH, TARGET_ERRORS = 0.10, 0
TARGET_RATIO, TARGET_P99_MS = 5.0, 250.0  # issue 15.6: against the code before it
PATTERN = "FFNAFBFNBA"  # 4 forecast, 2 now, 2 advice, 2 best-times in every 10 requests


def serve(registry: Path, port: int, workers: int = 1) -> None:
    """The server process: the app as ``waitcast serve`` runs it, ``workers`` uvicorn
    workers (several: each builds its app from the environment, as `--workers N` does)."""
    import uvicorn

    from cli.serve import EVENT_LOOP
    from serving.app import create_app
    from serving.logging import configure

    configure(stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    token = secrets.token_hex(16)
    if workers > 1:
        from cli.serve import APP_FACTORY, EVENT_LOOP

        os.environ.update(
            {
                "WAITCAST_REGISTRY": str(registry),
                "WAITCAST_ENV": "production",
                "WAITCAST_ADMIN_TOKEN": token,
                "WAITCAST_RATE_LIMIT_PER_MINUTE": "0",
            }
        )
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host="127.0.0.1",
            port=port,
            workers=workers,
            loop=EVENT_LOOP,
            access_log=False,
            log_level="warning",
            server_header=False,
        )
        return
    settings = Settings(
        registry=registry, env="production", admin_token=SecretStr(token), rate_limit_per_minute=0
    )
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        workers=1,
        loop=EVENT_LOOP,
        access_log=False,
        log_level="warning",
        server_header=False,
    )


def request_mix(base: str) -> list[Request]:
    """The mix, built from the offices and dates the server forecasts; each answers 200."""
    ready = httpx.get(base + "/health/ready", timeout=10).json()
    today = dt.date.fromisoformat(ready["cube_start"])
    offices = [
        o
        for o in httpx.get(base + "/v1/offices", timeout=10).json()["offices"]
        if o["forecast_available"]
    ]
    kinds: dict[str, list[Request]] = {"F": [], "N": [], "A": [], "B": []}
    for k, office in enumerate(offices):
        oid = office["id"]
        for offset in range(0, 90, 3):
            date = today + dt.timedelta(days=offset + k % 3)
            channel = ("", "&channel=walk_in", "&channel=appointment")[offset % 3]
            if channel.endswith("appointment") and "appointment" not in office["channels"]:
                channel = ""
            kinds["F"].append(
                Request("forecast", "GET", f"/v1/offices/{oid}/forecast?date={date}{channel}")
            )
        kinds["N"].append(Request("now", "GET", f"/v1/offices/{oid}/now"))
        for days, residency in (
            (10, "in_province"),
            (25, "out_of_province"),
            (45, "in_province"),
            (None, "in_province"),
        ):
            body = {"office_id": oid, "residency": residency, "expedited": days == 10}
            if days is not None:
                body["travel_date"] = str(today + dt.timedelta(days=days))
            kinds["A"].append(Request("advice", "POST", "/v1/advice", json.dumps(body)))
        start = today + dt.timedelta(days=1 + k % 5)
        kinds["B"].append(
            Request("best-times", "GET", f"/v1/offices/{oid}/best-times?from={start}&limit=10")
        )
        if office["lat"] is not None:
            kinds["B"].append(
                Request(
                    "best-times",
                    "GET",
                    f"/v1/best-times?from={start}&near={office['lat']},{office['lon']}&limit=10",
                )
            )
    with httpx.Client(base_url=base, timeout=60) as client:
        for requests in kinds.values():
            requests[:] = [r for r in requests if _answers_200(client, r)]
    length = len(PATTERN) * max(len(v) for v in kinds.values())
    position = dict.fromkeys(kinds, 0)
    mix = []
    for i in range(length):
        kind = PATTERN[i % len(PATTERN)]
        mix.append(kinds[kind][position[kind] % len(kinds[kind])])
        position[kind] += 1
    return mix


def _answers_200(client: httpx.Client, request: Request) -> bool:
    answer = client.request(
        request.method,
        request.path,
        content=request.body or None,
        headers={"Content-Type": "application/json"} if request.body else {},
    )
    if answer.status_code != 200:
        print(
            f"left out of the mix ({answer.status_code}): {request.method} {request.path} "
            f"{request.body}"
        )
    return answer.status_code == 200


def rss_bytes(pid: int) -> int:
    """The resident set size of a process and its children (the workers)."""
    import psutil

    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


def main() -> int:
    """Run the benchmark; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="The measured run.")
    parser.add_argument("--warmup", type=float, default=10.0, help="Before the first RSS.")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--requests", type=int, default=2_000_000, help="At most, measured run.")
    parser.add_argument("--registry", type=Path, help="Use this registry's current model.")
    parser.add_argument("--client", choices=("auto", "wrk", "asyncio"), default="auto")
    parser.add_argument("--strict", action="store_true", help="Exit 1 when a target is missed.")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1).")
    parser.add_argument(
        "--compare",
        type=Path,
        help="A tree of the old code (e.g. `git archive "
        "43e097b | tar -x -C DIR`): measured first, the ratio printed.",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # internal: server mode
    args = parser.parse_args()
    if args.serve:
        serve(args.registry, args.serve, args.workers)
        return 0
    tool = (
        "wrk"
        if args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
        else "asyncio"
    )
    load = run_wrk if tool == "wrk" else run_asyncio
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {os.getloadavg()[0]:.1f}")
    registry = args.registry or cached_registry(BENCH_REGISTRY, 150, False)
    baseline = None
    if args.compare:  # the old code first, on the same model, in the same run
        print(f"baseline: the code in {args.compare}, 1 worker")
        script = args.compare / "bench" / "bench_load.py"
        baseline = measure([sys.executable, str(script)], registry, 1, args, load)
        report(tool, args, *baseline, workers=1)
        print(f"\nthis code, {args.workers} worker(s)")
    counts, warm, result, rss, alive, kept = measure(
        [sys.executable, __file__, "--workers", str(args.workers)],
        registry,
        args.workers,
        args,
        load,
    )
    code = report(tool, args, counts, warm, result, rss, alive, kept, workers=args.workers)
    if baseline is not None:
        ratio = result.rps / max(baseline[2].rps, 1e-9)
        print(
            f"throughput          : {ratio:.1f}x the baseline's (target >= "
            f"{TARGET_RATIO:.0f}x)  {'PASS' if ratio >= TARGET_RATIO else 'FAIL'}; p99 "
            f"{result.p99_ms:.0f} ms (target <= {TARGET_P99_MS:.0f} ms)  "
            f"{'PASS' if result.p99_ms <= TARGET_P99_MS else 'FAIL'}"
        )
    return code


def measure(
    command: list[str],
    registry: Path,
    workers: int,
    args: argparse.Namespace,
    load: Callable[..., LoadResult],
) -> tuple[
    dict[str, int], LoadResult, LoadResult, tuple[int, int, int], bool, tuple[int, int] | None
]:
    """Start a server (``command`` + ``--serve PORT --registry R``), load it; its figures."""
    port = free_port()
    quiet = subprocess.DEVNULL if workers > 1 else None  # the workers' JSON logs
    server = subprocess.Popen(
        [*command, "--serve", str(port), "--registry", str(registry)], stdout=quiet, stderr=quiet
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        rss_loaded = rss_bytes(server.pid)
        mix = request_mix(base)
        warm = load(port, mix, args.warmup, args.requests, args.connections)
        rss_before = rss_bytes(server.pid)
        result = load(port, mix, args.seconds, args.requests, args.connections)
        rss_after = rss_bytes(server.pid)
        alive = httpx.get(base + "/health/live", timeout=10).status_code == 200
        kept = kept_answers(httpx.get(base + "/metrics", timeout=10).text)
    finally:
        server.terminate()
        server.wait(timeout=30)
    distinct = set(mix)
    counts = {
        kind: sum(r.kind == kind for r in distinct) for kind in dict.fromkeys(r.kind for r in mix)
    }
    return counts, warm, result, (rss_loaded, rss_before, rss_after), alive, kept


def kept_answers(metrics: str) -> tuple[int, int] | None:
    """Advice and best-times answers sent as kept and computed (hits, misses) since the
    worker started, from its ``/metrics``; None for code without the answer cache."""
    found = dict(re.findall(r"^waitcast_answer_cache_(hits|misses)_total (\S+)$", metrics, re.M))
    if len(found) < 2:
        return None
    return int(float(found["hits"])), int(float(found["misses"]))


def report(
    tool: str,
    args: argparse.Namespace,
    counts: dict[str, int],
    warm: LoadResult,
    result: LoadResult,
    rss: tuple[int, int, int],
    alive: bool,
    kept: tuple[int, int] | None,
    workers: int = 1,
) -> int:
    """Print the figures against their targets; the exit code."""
    loaded, before, after = rss
    growth = (after - before) / before
    checks = [result.errors <= TARGET_ERRORS and warm.errors == 0 and alive, growth < TARGET_GROWTH]
    mix = ", ".join(f"{kind} {n}" for kind, n in counts.items())
    label = f"{workers} uvicorn worker{'s' if workers > 1 else ''}"
    print(
        f"load generator: {tool}, {args.connections} connections, {label}, loopback; rate limit off"
    )
    print(
        f"request mix (rotated): {mix} distinct requests, in the pattern {PATTERN} "
        "(F forecast, N now, A advice, B best times)"
    )
    print(
        f"warm-up             : {warm.seconds:5.1f} s, {warm.requests} requests, "
        f"errors {warm.errors}"
    )
    print(
        f"measured run        : {result.seconds:5.1f} s, {result.requests} requests, "
        f"{result.rps:7.0f} req/s"
    )
    print(f"latency             : p50 {result.p50_ms:7.2f} ms   p99 {result.p99_ms:7.2f} ms")
    print(
        f"errors              : {result.errors} (target {TARGET_ERRORS})  "
        f"{'PASS' if checks[0] else 'FAIL'}"
    )
    print(
        f"server RSS          : {loaded / 2**20:6.1f} MiB loaded, {before / 2**20:6.1f} MiB "
        f"after warm-up, {after / 2**20:6.1f} MiB after the run: growth {growth:+.1%} "
        f"(target < {TARGET_GROWTH:.0%})  {'PASS' if checks[1] else 'FAIL'}"
    )
    if kept is not None:
        hits, misses = kept
        print(
            f"kept answers        : {hits / max(hits + misses, 1):.1%} of the advice and "
            f"best-times answers of {'one worker' if workers > 1 else 'the worker'} "
            f"(warm-up and run: {hits} kept, {misses} computed; WAITCAST_RESPONSE_CACHE_MB)"
        )
    return 1 if args.strict and not all(checks) else 0


if __name__ == "__main__":
    sys.exit(main())
