"""The citizens' page in a real browser: Debian's chromium driven by Python Playwright.

The app runs under uvicorn on a free loopback port with the session's small model and a
fixed clock: Monday 28 December 2026, 10:30 in Hangzhou, so that the 14-day heatmap holds
New Year's Day (closed, with its name). Screenshots land in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
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

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_TODAY = dt.date(2026, 12, 28)  # a Monday; New Year's Day 2027 is 4 days later
NEW_YEAR = dt.date(2027, 1, 1)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
NO_MODEL = '{"error": "no_model", "message": "no model is loaded yet"}'
CELL = "#heatmap td.cell"


def day(offset: int) -> str:
    """The ISO date ``offset`` days after the page's today."""
    return (PAGE_TODAY + dt.timedelta(days=offset)).isoformat()


def shown(minutes: float) -> str:
    """A wait as the page rounds it (JavaScript's Math.round: halves up)."""
    return str(math.floor(minutes + 0.5))


@pytest.fixture(scope="module")
def base_url(base_registry: Path) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, serving the small model."""
    app = create_app(settings_for(base_registry), FakeClock(at(PAGE_TODAY, 10, 30)))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def api(base_url: str) -> Iterator[httpx.Client]:
    """An HTTP client of the same server, to compare the page with the API."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium under Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(
    browser: Any,
    url: str,
    locale: str = "en-US",
    width: int = 1280,
    height: int = 900,
    **context: Any,
) -> tuple[Any, list[str]]:
    """A new page in a fresh context at ``url``; returns it and its console errors."""
    ctx = browser.new_context(locale=locale, viewport={"width": width, "height": height}, **context)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


def ready(page: Any) -> None:
    """Wait until the heatmap is drawn."""
    page.wait_for_selector(CELL, timeout=15_000)


def rows_of(api: httpx.Client, office: str, date: str, channel: str) -> dict[int, dict]:
    body = api.get(f"/v1/offices/{office}/forecast", params={"date": date}).json()
    return {
        r["hour"]: r for r in body["hours"] if r["channel"] == channel and r["service"] == "general"
    }


def cells_of(page: Any, date: str) -> dict[int, dict]:
    return {
        int(c["hour"]): c
        for c in page.eval_on_selector_all(
            f'#heatmap tr[data-date="{date}"] td.cell:not(.closed):not(.empty)',
            "cells => cells.map(c => ({hour: c.dataset.hour, text: c.textContent, "
            "p10: c.dataset.p10, p50: c.dataset.p50, p90: c.dataset.p90}))",
        )
    }


def test_page_loads_without_console_errors_and_an_office_is_picked(
    browser: Any, base_url: str, api: httpx.Client
) -> None:
    page, errors = open_page(browser, base_url)
    ready(page)
    assert page.eval_on_selector("#office", "s => s.value") == "hz-city"
    assert "Forecast" in page.inner_text("#now")
    assert page.locator("#office option[value=hz-fuyang]").is_disabled()  # no forecast
    state = {"waiting": {"walk_in": 12, "appointment": 0}, "windows_open": 3}
    assert (
        api.put("/v1/offices/hz-qiantang/queue-state", json=state, headers=auth()).status_code
        == 200
    )
    page.select_option("#office", "hz-qiantang")
    page.wait_for_selector("#now .source-live")
    page.wait_for_selector("#heatmap[data-office=hz-qiantang]")
    now = page.inner_text("#now")
    assert "Live" in now and "12 people ahead" in now
    assert page.locator("#channel-switch").is_hidden()  # walk-in only
    assert "Walk-in only" in page.inner_text("#office-info")
    assert errors == []
    page.context.close()


def test_heatmap_numbers_are_the_apis_p50(browser: Any, base_url: str, api: httpx.Client) -> None:
    page, errors = open_page(browser, f"{base_url}/#office=hz-xihu")
    ready(page)
    assert page.eval_on_selector("#office", "s => s.value") == "hz-xihu"
    assert page.locator("#heatmap tbody tr").count() == 14
    for channel in ("walk_in", "appointment"):
        if channel == "appointment":
            page.check("input[name=channel][value=appointment]")
        for date in (day(0), day(1), day(7)):
            expected, cells = rows_of(api, "hz-xihu", date, channel), cells_of(page, date)
            assert expected and sorted(cells) == sorted(expected)
            for hour, row in expected.items():
                assert cells[hour]["text"] == shown(row["p50"]), (channel, date, hour)
                assert float(cells[hour]["p50"]) == row["p50"]
                assert float(cells[hour]["p90"]) == row["p90"]
    assert errors == []
    page.context.close()


def test_closed_day_names_its_holiday_and_cells_show_their_range_by_keyboard(
    browser: Any, base_url: str, api: httpx.Client
) -> None:
    page, _ = open_page(browser, base_url)
    ready(page)
    closed = page.locator(f'#heatmap tr[data-date="{NEW_YEAR}"] td.closed')
    assert closed.inner_text() == "Closed · New Year's Day"
    page.focus('#heatmap td[tabindex="0"]')
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate(
        "[document.activeElement.dataset.date, document.activeElement.dataset.hour]"
    )
    first_hours = sorted(rows_of(api, "hz-city", day(1), "walk_in"))
    assert focused == [day(1), str(first_hours[1])]
    row = rows_of(api, "hz-city", day(1), "walk_in")[first_hours[1]]
    detail = page.inner_text("#cell-detail")
    assert f"{shown(row['p10'])}–{shown(row['p90'])} min" in detail
    page.hover(f'#heatmap tr[data-date="{day(2)}"] td[data-hour="{first_hours[0]}"]')
    assert page.inner_text("#cell-detail").startswith("Wed 30 Dec 2026")
    page.click("#lang-switch")
    assert closed.inner_text() == "不开放 · 元旦"
    page.context.close()


def test_a_holiday_the_data_have_not_confirmed_is_drawn_open_and_said_to_maybe_be_closed(
    browser: Any, base_url: str
) -> None:
    # An office abroad on a public holiday its data have not shown (see
    # features/calendars.py): the API answers open, with the holiday's name and the
    # estimate flag. The small model is Hangzhou's, so one answer is made so in transit.
    target, makeup = day(3), day(2)

    def unconfirmed(route: Any) -> None:
        body = route.fetch().json()
        body.update(holiday_en="Thanksgiving Day", holiday_zh="感恩节", calendar_estimated=True)
        route.fulfill(json=body)

    def makeup_day(route: Any) -> None:  # the other note of a date row, for contrast
        body = route.fetch().json()
        body.update(holiday_en="New Year's Day", holiday_zh="元旦", makeup_day=True)
        route.fulfill(json=body)

    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.route(lambda url: "/forecast" in url and f"date={target}" in url, unconfirmed)
    page.route(lambda url: "/forecast" in url and f"date={makeup}" in url, makeup_day)
    page.goto(base_url)
    ready(page)
    row = page.locator(f'#heatmap tr[data-date="{target}"]')
    assert row.locator("th .unconfirmed").inner_text() == (
        "Thanksgiving Day: may be closed (not seen in the data yet)"
    )
    assert row.locator("td.closed").count() == 0  # still forecast
    assert page.locator(f'#heatmap tr[data-date="{day(1)}"] th .makeup').count() == 0
    note = page.locator(f'#heatmap tr[data-date="{makeup}"] th .makeup')
    assert note.inner_text() == "Make-up working day: New Year's Day"
    assert "unconfirmed" not in (note.get_attribute("class") or "")
    page.click("#lang-switch")
    assert "感恩节" in row.locator("th .unconfirmed").inner_text()
    ctx.close()


def test_advice_answers_with_reasons_and_links_to_heatmap_cells(
    browser: Any, base_url: str, api: httpx.Client
) -> None:
    page, errors = open_page(browser, base_url)
    ready(page)
    page.fill("#travel-date", day(23))
    with page.expect_response("**/v1/advice") as sent:
        page.click("#advice-form button[type=submit]")
    answer = sent.value.json()  # the page's own answer (each request has its turn)
    page.wait_for_selector("#advice-result .reasons li")
    verdict = {
        "book": "Book an appointment",
        "walk_in": "Walk in and take a number",
        "urgent_service": "Ask for the urgent service",
    }[answer["advice"]]
    assert verdict in page.inner_text("#advice-result .verdict")
    reasons = page.locator("#advice-result .reasons li").all_inner_texts()
    assert reasons == [r["en"] for r in answer["reasons"]]
    options = answer["walk_in"]
    assert options and page.locator("#advice-result .suggestion").count() == len(options) + (
        1 if answer["appointment"] else 0
    )
    walk_ins = page.locator("#advice-result .suggestions-walk_in .suggestion")
    other = next((i for i, o in enumerate(options) if o["office_id"] != "hz-city"), 0)
    for index in dict.fromkeys([0, other]):
        option = options[index]
        walk_ins.nth(index).click()
        page.wait_for_function(
            "([d, h]) => { const c = document.activeElement; return c && c.matches("
            "'td.target') && c.dataset.date === d && c.dataset.hour === h; }",
            arg=[option["date"], str(option["hour"])],
        )
        assert page.eval_on_selector("#office", "s => s.value") == option["office_id"]
        assert page.inner_text("#cell-detail").endswith("before closing.")
    page.click("#lang-switch")
    zh_reasons = page.locator("#advice-result .reasons li").all_inner_texts()
    assert zh_reasons == [r["zh"] for r in answer["reasons"]]
    assert errors == []
    page.context.close()


def test_a_later_appointment_extends_the_heatmap_to_its_cell(browser: Any, base_url: str) -> None:
    page, errors = open_page(browser, base_url, width=360, height=740)
    ready(page)
    page.fill("#earliest", day(30))
    page.click("#advice-form button[type=submit]")
    page.wait_for_selector("#advice-result .reasons li")
    page.locator("#advice-result .suggestions-appointment .suggestion").click()
    page.wait_for_function(
        f"document.activeElement.matches('tr[data-date=\"{day(30)}\"] td.target')"
    )
    assert page.locator("#heatmap tbody tr").count() == 31
    assert page.inner_text("#heatmap-title") == "Predicted waits, next 31 days"
    assert page.is_checked("input[name=channel][value=appointment]")
    assert "Appointment" in page.inner_text("#cell-detail")
    assert errors == []
    page.context.close()


def test_language_follows_the_browser_and_the_switch_is_remembered(
    browser: Any, base_url: str
) -> None:
    page, _ = open_page(browser, base_url, locale="zh-CN")
    ready(page)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.inner_text("#advice-heading") == "要不要预约？"
    assert "市本级" in page.inner_text("#office")
    page.click("#lang-switch")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("#advice-heading") == "Should I book?"
    assert "City level" in page.inner_text("#office")
    page.reload()
    ready(page)
    assert page.inner_text("#advice-heading") == "Should I book?"
    page.click("#lang-switch")
    assert page.inner_text("#heatmap-title") == "未来 14 天各时段预计等候"
    page.context.close()


@pytest.mark.parametrize(
    ("locale", "failure", "message"),
    [
        ("en-US", "no_model", "Forecasts are not available right now"),
        ("zh-CN", "no_model", "预测服务暂时不可用"),
        ("en-US", "network", "Cannot reach the server"),
    ],
)
def test_a_failing_api_shows_a_clear_message(
    browser: Any, base_url: str, locale: str, failure: str, message: str
) -> None:
    ctx = browser.new_context(locale=locale)
    if failure == "no_model":
        ctx.route(
            "**/v1/**",
            lambda route: route.fulfill(status=503, content_type="application/json", body=NO_MODEL),
        )
    else:
        ctx.route("**/v1/**", lambda route: route.abort("connectionrefused"))
    page = ctx.new_page()
    page.goto(base_url)
    banner = page.locator("#error")
    banner.wait_for(state="visible")
    assert message in banner.inner_text()
    ctx.unroute("**/v1/**")
    page.click("#error-retry")
    ready(page)
    assert banner.is_hidden()
    ctx.close()


def test_a_refused_advice_says_what_to_fix(browser: Any, base_url: str) -> None:
    page, _ = open_page(browser, base_url)
    ready(page)
    page.route(
        "**/v1/advice",
        lambda route: route.fulfill(
            status=422,
            content_type="application/json",
            body='{"error": "invalid_parameter", "message": "travel_date: not a date"}',
        ),
    )
    page.click("#advice-form button[type=submit]")
    error = page.locator("#advice-result .error-inline")
    error.wait_for()
    assert error.inner_text() == "Please check your entries: travel_date: not a date"
    page.context.close()


def test_nearest_office_first_when_the_browser_shares_its_location(
    browser: Any, base_url: str
) -> None:
    linping = {"latitude": 30.42, "longitude": 120.30}
    page, _ = open_page(browser, base_url, geolocation=linping, permissions=["geolocation"])
    page.wait_for_function("document.querySelector('#office').value === 'hz-linping'")
    first = page.eval_on_selector("#office", "s => s.options[0].value")
    assert first == "hz-linping"
    assert "km" in page.inner_text("#office option:first-child")
    page.context.close()


def contrast_failures(page: Any) -> list[str]:
    """Heatmap cells and texts whose colour contrast is below WCAG AA (4.5:1)."""
    return page.evaluate("""() => {
      const lum = (s) => { const [r, g, b] = s.match(/[\\d.]+/g).slice(0, 3).map(Number)
        .map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const bg = (el) => { for (let e = el; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (!c.endsWith(", 0)") && c !== "transparent") return c; } return "rgb(255,255,255)"; };
      const bad = [];
      for (const el of document.querySelectorAll("td.cell, p, label, h2, h3, button, th")) {
        if (!el.offsetParent) continue;
        const a = lum(getComputedStyle(el).color), b = lum(bg(el));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) bad.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)}`);
      }
      return bad; }""")


@pytest.mark.parametrize(
    ("name", "locale", "width", "height"),
    [
        ("phone-360x740-zh", "zh-CN", 360, 740),
        ("desktop-1280x900-en", "en-US", 1280, 900),
    ],
)
def test_phone_and_desktop_layouts_are_readable_and_saved(
    browser: Any, base_url: str, name: str, locale: str, width: int, height: int
) -> None:
    page, errors = open_page(browser, base_url, locale=locale, width=width, height=height)
    ready(page)
    page.fill("#travel-date", day(23))
    page.click("#advice-form button[type=submit]")
    page.wait_for_selector("#advice-result .reasons li")
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page
    assert contrast_failures(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"page-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    assert errors == []
    page.context.close()


def book_answer(api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    """A request and a real answer of the small model, made a "book" advice (the page's
    order is under test here, not the model: its answer may or may not be "book")."""
    body: dict[str, Any] = {"office_id": "hz-city", "travel_date": day(40)}
    answer = api.post("/v1/advice", json=body).json()
    assert answer["appointment"] is not None and answer["walk_in"], answer
    return body, {**answer, "advice": "book"}


def test_the_headlines_choice_comes_first_and_the_rest_under_alternatives(
    browser: Any, base_url: str, api: httpx.Client
) -> None:
    body, answer = book_answer(api)
    ctx = browser.new_context(locale="en-US")
    ctx.route(
        "**/v1/advice",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(answer)
        ),
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base_url}/#office={body['office_id']}")
    ready(page)
    page.fill("#travel-date", body["travel_date"])
    page.click("#advice-form button[type=submit]")
    page.wait_for_selector("#advice-result .reasons li")
    assert "Book an appointment" in page.inner_text("#advice-result .verdict")
    first = page.locator("#advice-result .suggestion").first
    assert first.evaluate(
        "b => b.closest('.suggestions').classList.contains('suggestions-appointment')"
    )
    assert not first.evaluate("b => Boolean(b.closest('.alternatives'))")
    heading = page.locator("#advice-result .alternatives .alternatives-heading")
    assert heading.inner_text() == "Alternatives"
    walk_ins = page.locator("#advice-result .alternatives .suggestions-walk_in .suggestion")
    assert walk_ins.count() >= 1
    assert page.locator("#advice-result > .suggestions-walk_in").count() == 0
    assert errors == []
    page.context.close()


def test_risky_hours_are_marked_and_coloured_by_their_cost(
    browser: Any, base_url: str, api: httpx.Client
) -> None:
    date = day(1)
    real = api.get("/v1/offices/hz-city/forecast", params={"date": date}).json()
    walk = [r for r in real["hours"] if r["channel"] == "walk_in"]
    risky, safe = walk[-1], walk[0]
    risky.update(p50=2.0, p_called=0.6, cost_minutes=95.0)  # short for the few who are called
    safe.update(p50=2.0, p_called=0.99, cost_minutes=3.0)
    ctx = browser.new_context(locale="en-US")
    ctx.route(
        f"**/v1/offices/hz-city/forecast?date={date}",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(real)
        ),
    )
    page = ctx.new_page()
    page.goto(base_url)
    ready(page)
    cell = page.locator(f'#heatmap tr[data-date="{date}"] td[data-hour="{risky["hour"]}"]')
    calm = page.locator(f'#heatmap tr[data-date="{date}"] td[data-hour="{safe["hour"]}"]')
    assert cell.inner_text() == calm.inner_text() == "2"
    assert "risky" in cell.get_attribute("class") and "b7" in cell.get_attribute("class")
    assert "risky" not in calm.get_attribute("class") and "b0" in calm.get_attribute("class")
    assert "high risk of not being called" in cell.get_attribute("aria-label")
    cell.click()
    assert "High risk of not being called" in page.inner_text("#cell-detail")
    ctx.close()


def test_the_shared_location_is_where_the_advice_starts(browser: Any, base_url: str) -> None:
    here = {"latitude": 30.21, "longitude": 120.21}
    page, _ = open_page(browser, base_url, geolocation=here, permissions=["geolocation"])
    page.wait_for_function("document.querySelector('#locate-status').textContent.length > 0")
    ready(page)
    with page.expect_request("**/v1/advice") as sent:
        page.click("#advice-form button[type=submit]")
    assert json.loads(sent.value.post_data or "{}")["near"] == "30.21000,120.21000"
    page.wait_for_selector("#advice-result .reasons li")
    page.context.close()


def test_the_api_docs_render_with_the_network_cut_off(browser: Any, base_url: str) -> None:
    ctx = browser.new_context(locale="en-US")
    elsewhere: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    ctx.route("**/*", only_this_server)
    page = ctx.new_page()
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/v1/advice" in p for p in paths) and any("/forecast" in p for p in paths)
    assert elsewhere == []
    ctx.close()
