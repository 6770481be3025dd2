"""The page's "now" card in a real browser: live only while the office is open, cleared by
DELETE. Debian's chromium under Playwright, as in ``test_page_browser.py``; its own server
and clock, which the test moves."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from serving.app import create_app
from tests.serving.support import FakeClock, at, auth, settings_for
from tests.serving.test_page_browser import PAGE_TODAY, SCREENSHOTS, browser, open_page

__all__ = ["browser"]  # the fixture, shared with the page's other browser tests
pytestmark = pytest.mark.browser
STATE = "/v1/offices/hz-city/queue-state"


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    """The server's clock: Monday 28 December 2026, 10:30 in Hangzhou (open)."""
    return FakeClock(at(PAGE_TODAY, 10, 30))


@pytest.fixture(scope="module")
def base_url(base_registry: Path, clock: FakeClock) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, on the test's clock."""
    app = create_app(settings_for(base_registry), clock)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def now_card(browser: Any, base_url: str, selector: str) -> str:
    """The text of the page's "now" card once ``selector`` shows in it."""
    page, errors = open_page(browser, f"{base_url}/#office=hz-city")
    page.wait_for_selector(f"#now {selector}", timeout=15_000)
    text = page.inner_text("#now")
    if selector == ".now-closed":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#now").screenshot(path=str(SCREENSHOTS / "now-closed-at-lunch.png"))
    assert errors == []
    page.context.close()
    return text


def test_the_page_is_live_only_while_the_office_is_open_and_until_cleared(
    browser: Any, base_url: str, clock: FakeClock
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as api:
        too_many = {"waiting": {"walk_in": 20}, "windows_open": 400}
        assert api.put(STATE, json=too_many, headers=auth()).status_code == 422
        state = {"waiting": {"walk_in": 20, "appointment": 4}, "windows_open": 6}
        assert api.put(STATE, json=state, headers=auth()).status_code == 200
        live = now_card(browser, base_url, ".source-live")
        assert "Live" in live and "6 windows serving" in live and "24 people ahead" in live

        clock.at = at(PAGE_TODAY, 12, 5)  # the lunch break: the state is still fresh
        closed = now_card(browser, base_url, ".now-closed")
        assert "Closed now" in closed and "Live" not in closed and "windows serving" not in closed
        assert api.put(STATE, json=state, headers=auth()).status_code == 422  # closed: refused

        clock.at = at(PAGE_TODAY, 13, 31)  # open again: a new state is taken and shown
        assert api.put(STATE, json=state, headers=auth()).status_code == 200
        assert "Live" in now_card(browser, base_url, ".source-live")
        assert api.delete(STATE, headers=auth()).json()["cleared"] is True
        cleared = now_card(browser, base_url, ".source-forecast")
        assert "Live" not in cleared and "Forecast" in cleared
