"""HTTP load generators for the benches: ``wrk`` when installed, else asyncio keep-alive.

Both keep ``connections`` HTTP/1.1 connections busy against 127.0.0.1 (loopback only),
rotating through a mix of requests (GETs, or POSTs with a JSON body), for at most
``seconds`` and ``requests``, and return throughput, p50/p99 latency and errors
(socket errors, timeouts and any answer other than 2xx/3xx).
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
local requests = {%s}
local counter = 0
local answered = 0
local max_requests = %d
request = function()
  counter = counter %% #requests + 1
  local r = requests[counter]
  if r[3] ~= "" then
    return wrk.format(r[1], r[2], {["Content-Type"] = "application/json"}, r[3])
  end
  return wrk.format(r[1], r[2])
end
response = function(status, headers, body)
  answered = answered + 1
  if answered >= max_requests then wrk.thread:stop() end
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


@dataclass(frozen=True)
class Request:
    """One request of the mix; ``kind`` labels it in reports."""

    kind: str
    method: str
    path: str
    body: str = ""

    def raw(self) -> bytes:
        """The HTTP/1.1 request bytes."""
        head = f"{self.method} {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if self.body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n"
        return (head + "\r\n" + self.body).encode()


def get(paths: list[str]) -> list[Request]:
    """A mix of plain GETs."""
    return [Request("get", "GET", p) for p in paths]


def run_wrk(
    port: int, mix: list[Request], seconds: float, requests: int, connections: int
) -> LoadResult:
    """``wrk`` (one thread) over the mix, for ``seconds`` or ``requests``."""
    rows = ", ".join(
        f"{{{json.dumps(r.method)}, {json.dumps(r.path)}, {json.dumps(r.body)}}}" for r in mix
    )
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "mix.lua"
        script.write_text(_WRK_SCRIPT % (rows, requests))
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(int(seconds), 1)}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            check=True,
        ).stdout
    data = json.loads(next(x for x in out.splitlines() if x.startswith("RESULT "))[7:])
    return LoadResult(
        data["requests"], data["us"] / 1e6, data["p50"] / 1000, data["p99"] / 1000, data["errors"]
    )


def run_asyncio(
    port: int, mix: list[Request], seconds: float, requests: int, connections: int
) -> LoadResult:
    """The same with a small asyncio keep-alive client (when wrk is not installed)."""
    return asyncio.run(_asyncio_load(port, [r.raw() for r in mix], seconds, requests, connections))


async def _asyncio_load(
    port: int, raw: list[bytes], seconds: float, requests: int, connections: int
) -> LoadResult:
    latencies: list[float] = []
    errors, budget = [0], [requests]
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(offset: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            t0 = time.perf_counter()
            try:
                writer.write(raw[i % len(raw)])
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                match = _LENGTH.search(head)
                await reader.readexactly(int(match.group(1)) if match else 0)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                errors[0] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            finally:
                i += 1
            latencies.append(time.perf_counter() - t0)
            if head[9:10] not in (b"2", b"3"):
                errors[0] += 1
        writer.close()

    await asyncio.gather(*(worker(k * 7) for k in range(connections)))
    latencies.sort()

    def pct(q: float) -> float:
        return (
            latencies[min(int(q * len(latencies)), len(latencies) - 1)] * 1000 if latencies else 0.0
        )

    return LoadResult(len(latencies), time.perf_counter() - started, pct(0.5), pct(0.99), errors[0])
