"""A real ``waitcast serve`` (uvicorn, one worker or more) on loopback, for the fault tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from features.offices import WEEKDAYS, OfficeRegistry, Session
from models.forecaster import Forecaster
from tests.serving.support import TOKEN

REPO = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL_DAY = (Session(open=dt.time(0, 0), close=dt.time(23, 59)),)


@dataclass(frozen=True)
class Server:
    """A running server: its base URL, process and log file."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        """What the server wrote to stdout and stderr so far."""
        return self.log.read_text("utf-8", "replace")


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    registry: Path,
    log: Path,
    args: Sequence[str] = (),
    port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """``waitcast serve`` on 127.0.0.1 with the test token (production settings), until ready.

    Extra ``WAITCAST_*`` settings come in ``env`` (the rate limit is off unless given),
    extra options of ``waitcast serve`` (``--workers 2``) as ``args``.
    """
    port = port or free_port()
    environment = {
        **os.environ,
        "WAITCAST_ENV": "production",
        "WAITCAST_ADMIN_TOKEN": TOKEN,
        "WAITCAST_RATE_LIMIT_PER_MINUTE": "0",
        **(env or {}),
    }
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--registry",
                str(registry),
                *args,
            ],
            cwd=REPO,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_ready(server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited: {server.log_text()[-2000:]}")
        try:
            if httpx.get(server.url + "/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not become ready: {server.log_text()[-2000:]}")


def always_open(forecaster: Forecaster) -> Forecaster:
    """The forecaster, with every office open 00:00-23:59 every day: a real server runs on
    the real clock, and a queue state is taken only while its office is open."""
    offices = [
        o.model_copy(update={"sessions": dict.fromkeys(WEEKDAYS, ALL_DAY)})
        for o in forecaster.offices
    ]
    return dataclasses.replace(forecaster, offices=OfficeRegistry(offices))


def calendar_without_holiday_today(folder: Path) -> Path:
    """A calendar override (``WAITCAST_CALENDAR_FILE``) whose only holiday this year is not
    today, so that today is a working day whatever the date of the run."""
    today = dt.datetime.now(SHANGHAI).date()
    other = today.replace(month=1 if today.month > 1 else 12, day=15)
    path = folder / "calendar.csv"
    path.write_text(f"date,kind,name\n{other.isoformat()},holiday,Test day\n")
    return path


def hangzhou_now() -> dt.datetime:
    """Now in Hangzhou, after waiting out 23:59 (the one closed minute of ALL_DAY)."""
    now = dt.datetime.now(SHANGHAI)
    if now.hour == 23 and now.minute == 59:
        time.sleep(61 - now.second)
        now = dt.datetime.now(SHANGHAI)
    return now
