"""Properties (hypothesis) of the trained forecaster and the advice, through the real paths.

What the feature and advice tests already cover is not repeated: the feature builder's
no-leak property (``tests/training/test_features_no_leak.py``), the calendar invariants
(``tests/features/test_calendar_cn.py``) and the pure advice on synthetic forecasts
(``tests/serving/test_advice.py``). Here the same promises are checked where a user meets
them: the trained model's answers for any date, office or feature row; the serving
forecast with history dated after its origin; the advice and best times over HTTP.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import schema as s
from features.build import ORIGIN, build_features
from features.calendar_cn import ChinaCalendar
from features.calendars import Calendars
from features.hourly import open_grid
from features.offices import load_offices
from models.forecaster import Forecaster
from serving.app import create_app
from tests.serving.support import MODEL_OFFICES, TODAY, FakeClock, at, settings_for

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
OFFICES = load_offices()
JUNK = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -1.0, 1e9, -1e9, float("nan")]),
)
CATEGORICAL = (s.OFFICE_ID, s.CHANNEL, s.SERVICE)


def assert_sane(frame: pd.DataFrame) -> None:
    """p10 <= p50 <= p90, all finite and >= 0; arrivals >= 0; p_called in [0, 1] or null."""
    q = frame[[s.P10, s.P50, s.P90]].to_numpy(float)
    assert np.isfinite(q).all() and (q >= 0).all()
    assert (q[:, 0] <= q[:, 1]).all() and (q[:, 1] <= q[:, 2]).all()
    assert (frame[s.EXPECTED_ARRIVALS] >= 0).all()
    called = frame[s.P_CALLED].dropna()
    assert called.between(0, 1).all()
    walk_in = frame[s.CHANNEL].astype(str) == s.Channel.WALK_IN.value
    assert frame.loc[walk_in, s.P_CALLED].notna().all()


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURES)
@given(
    start=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
    days=st.integers(1, 7),
    offices=st.sets(st.sampled_from(MODEL_OFFICES), min_size=1),
    channel=st.sampled_from([None, *s.CHANNELS]),
)
def test_forecasts_never_cross_for_any_date_and_office(
    forecaster: Forecaster,
    calendar: ChinaCalendar,
    start: dt.date,
    days: int,
    offices: set[str],
    channel: str | None,
) -> None:
    frame = forecaster.forecast(start, days, sorted(offices), channel)
    assert_sane(frame)
    if len(frame):
        assert set(frame[s.OFFICE_ID]) <= offices
        assert frame[s.DATE].between(start, start + dt.timedelta(days=days - 1)).all()


@pytest.fixture(scope="module")
def feature_rows(forecaster: Forecaster, calendar: ChinaCalendar) -> pd.DataFrame:
    """Real feature rows of the model's queues over two weeks."""
    grid = open_grid(
        forecaster.queues,
        forecaster.offices,
        Calendars(calendar),
        forecaster.origin,
        forecaster.origin + dt.timedelta(days=13),
    )
    grid[ORIGIN] = forecaster.origin
    features = build_features(
        grid, forecaster.history, Calendars(calendar), forecaster.offices, forecaster.spec, None
    )
    return features[forecaster.wait.feature_names_in_]


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(data=st.data(), n=st.integers(1, 8), pick=st.integers(0, 10_000))
def test_the_estimators_never_cross_for_any_feature_row(
    forecaster: Forecaster, feature_rows: pd.DataFrame, data: st.DataObject, n: int, pick: int
) -> None:
    """Any numbers in any feature (NaN, ±inf, huge, negative) give sane quantiles."""
    rows = feature_rows.sample(n=n, replace=True, random_state=pick).reset_index(drop=True)
    for column in rows.columns:
        if column not in CATEGORICAL and data.draw(st.booleans(), label=f"junk {column}"):
            rows[column] = data.draw(st.lists(JUNK, min_size=n, max_size=n), label=column)
    q = forecaster.wait.predict(rows)
    assert np.isfinite(q).all() and (q >= 0).all()
    assert (q[:, 0] <= q[:, 1]).all() and (q[:, 1] <= q[:, 2]).all()
    assert forecaster.arrivals is not None and forecaster.called is not None
    assert (forecaster.arrivals.predict(rows) >= 0).all()
    assert ((p := forecaster.called.predict(rows)) >= 0).all() and (p <= 1).all()


def _with_history_after_origin(forecaster: Forecaster, seed: int, shift_days: int) -> Forecaster:
    """The forecaster with junk hourly rows dated on and after its origin added."""
    rng = np.random.default_rng(seed)
    history = forecaster.history
    dates = pd.to_datetime(pd.Series(history[s.DATE]))
    tail = history[dates >= dates.max() - pd.Timedelta(days=13)].copy()
    tail[s.DATE] = (
        pd.to_datetime(pd.Series(tail[s.DATE])) + pd.Timedelta(days=14 + shift_days)
    ).dt.date.to_numpy()
    for column in (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90, s.ARRIVALS, s.NEVER_CALLED_SHARE):
        tail[column] = rng.uniform(0, 500, len(tail))
    assert (pd.to_datetime(pd.Series(tail[s.DATE])).dt.date >= forecaster.origin).all()
    return dataclasses.replace(forecaster, history=pd.concat([history, tail], ignore_index=True))


@settings(max_examples=6, deadline=None, suppress_health_check=FIXTURES)
@given(seed=st.integers(0, 10_000), shift=st.integers(0, 30), offset=st.integers(0, 40))
def test_serving_forecasts_ignore_history_dated_after_their_origin(
    forecaster: Forecaster, calendar: ChinaCalendar, seed: int, shift: int, offset: int
) -> None:
    """Extends the feature no-leak test to the serving path (grid, origin, predict)."""
    start = forecaster.origin + dt.timedelta(days=offset)
    leaky = _with_history_after_origin(forecaster, seed, shift)
    pd.testing.assert_frame_equal(forecaster.forecast(start, 3), leaky.forecast(start, 3))


def test_changing_history_before_the_origin_does_change_forecasts(
    forecaster: Forecaster, calendar: ChinaCalendar
) -> None:
    """The property above could fail: the forecast does read the history it is given."""
    history = forecaster.history.copy()
    history[s.WAIT_P50] = history[s.WAIT_P50] * 4 + 30
    history[s.WAIT_P90] = history[s.WAIT_P90] * 4 + 60
    changed = dataclasses.replace(forecaster, history=history)
    before = forecaster.forecast(forecaster.origin, 3)
    after = changed.forecast(forecaster.origin, 3)
    assert not np.allclose(before[s.P50], after[s.P50])


# --- advice and best times over HTTP ----------------------------------------------------

NOW = at(TODAY, 10, 30)


@pytest.fixture(scope="module")
def advice_client(base_registry: Path) -> Iterator[TestClient]:
    app = create_app(settings_for(base_registry), FakeClock(NOW))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _open(office_id: str, date: dt.date, hour: int, calendar: ChinaCalendar) -> bool:
    office = OFFICES.get(office_id)
    return hour in office.open_hours(office.sessions_for(calendar.day(date)))


def _offset(days: int | None) -> str | None:
    return None if days is None else str(TODAY + dt.timedelta(days=days))


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(
    office=st.sampled_from(MODEL_OFFICES),
    travel=st.one_of(st.none(), st.integers(0, 90)),
    residency=st.sampled_from(["in_province", "out_of_province"]),
    expedited=st.booleans(),
    earliest=st.one_of(st.none(), st.integers(0, 60)),
)
def test_advice_over_http_never_suggests_a_closed_hour_or_a_date_after_the_deadline(
    advice_client: TestClient,
    calendar: ChinaCalendar,
    office: str,
    travel: int | None,
    residency: str,
    expedited: bool,
    earliest: int | None,
) -> None:
    body = {
        "office_id": office,
        "travel_date": _offset(travel),
        "residency": residency,
        "expedited": expedited,
        "earliest_appointment": _offset(earliest),
    }
    answer = advice_client.post("/v1/advice", json=body)
    assert answer.status_code in (200, 422), answer.text
    if answer.status_code == 422:  # an appointment date the office is closed on, say
        assert answer.json()["message"].startswith(("earliest_appointment", "travel_date"))
        return
    advice = answer.json()
    last = advice["last_day_to_apply"]
    for option in advice["walk_in"]:
        date = dt.date.fromisoformat(option["date"])
        assert _open(option["office_id"], date, option["hour"], calendar), option
        assert date > TODAY or (date == TODAY and option["hour"] > NOW.hour), option
        assert last is None or option["date"] <= last, (option, last)
    appointment = advice["appointment"]
    if appointment is not None:
        assert OFFICES.get(office).sessions_for(
            calendar.day(dt.date.fromisoformat(appointment["date"]))
        )
        assert appointment["in_time"] == (last is None or appointment["date"] <= last)
    if advice["advice"] == "book":
        assert appointment is not None and appointment["in_time"]
    if advice["advice"] == "urgent_service":
        assert last is not None and advice["document_ready"] is None


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES)
@given(
    start=st.integers(0, 30),
    length=st.integers(0, 20),
    limit=st.integers(1, 50),
    office=st.one_of(st.none(), st.sampled_from(MODEL_OFFICES)),
)
def test_best_times_are_open_hours_within_the_range(
    advice_client: TestClient,
    calendar: ChinaCalendar,
    start: int,
    length: int,
    limit: int,
    office: str | None,
) -> None:
    first, last = TODAY + dt.timedelta(days=start), TODAY + dt.timedelta(days=start + length)
    path = f"/v1/offices/{office}/best-times" if office else "/v1/best-times"
    answer = advice_client.get(path, params={"from": str(first), "to": str(last), "limit": limit})
    assert answer.status_code == 200, answer.text
    times = answer.json()["hours"]
    assert len(times) <= limit
    for option in times:
        date = dt.date.fromisoformat(option["date"])
        assert first <= date <= last and _open(
            option["office_id"], date, option["hour"], calendar
        ), option
        assert date > TODAY or option["hour"] > NOW.hour, option
        assert option["p10"] <= option["p50"] <= option["p90"]
