"""HTTP load generators for the benches: ``wrk`` when installed, else asyncio keep-alive.

Both keep ``connections`` HTTP/1.1 connections busy against 127.0.0.1 (loopback only),
rotating through ``paths``, for at most ``seconds`` (and, for asyncio, ``requests``), and
return throughput, p50/p99 latency and errors (connection errors and non-2xx/3xx).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)
_WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter %% #paths + 1
  return wrk.format("GET", paths[counter])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "us": %%d, "p50": %%d, "p99": %%d, '
    .. '"errors": %%d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """One load phase's figures."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(port: int, paths: list[str], seconds: float, connections: int) -> LoadResult:
    """Run ``wrk`` (one thread) with a Lua script rotating through ``paths``."""
    quoted = ", ".join(json.dumps(p) for p in paths)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(_WRK_SCRIPT % quoted)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(int(seconds), 1)}s", "--timeout", "5s",
             "-s", str(script), f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    return LoadResult(data["requests"], data["us"] / 1e6, data["p50"] / 1000,
                      data["p99"] / 1000, data["errors"])


def run_asyncio(port: int, paths: list[str], seconds: float, requests: int,
                connections: int) -> LoadResult:
    """A small asyncio HTTP/1.1 keep-alive client (when wrk is not installed)."""
    return asyncio.run(_run(port, paths, seconds, requests, connections))


async def _run(port: int, paths: list[str], seconds: float, requests: int,
               connections: int) -> LoadResult:
    raw = [f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() for p in paths]
    latencies: list[float] = []
    errors = [0]
    budget = [requests]
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(offset: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            request = raw[i % len(raw)]
            i += 1
            t0 = time.perf_counter()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                match = _LENGTH.search(head)
                await reader.readexactly(int(match.group(1)) if match else 0)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                errors[0] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies.append(time.perf_counter() - t0)
            if head[9:10] not in (b"2", b"3"):
                errors[0] += 1
        writer.close()

    await asyncio.gather(*(worker(k * 7) for k in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(int(q * len(latencies)), len(latencies) - 1)] * 1000 \
            if latencies else 0.0

    return LoadResult(len(latencies), elapsed, pct(0.50), pct(0.99), errors[0])
