"""The feature builder reads nothing dated on or after a row's origin."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import schema as s
from features.build import build_features, training_targets
from features.calendars import Calendars
from tests.toy_data import FAST
from training.pipeline import make_spec


def _scramble_future(
    table: pd.DataFrame, origin: dt.date, seed: int, columns: list[str]
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = table.copy()
    future = out[s.DATE] >= origin
    for column in columns:
        out.loc[future, column] = rng.uniform(0, 500, future.sum())
    return out


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(offset=st.integers(min_value=30, max_value=120), seed=st.integers(0, 10_000))
def test_features_ignore_everything_after_the_origin(data, calendar, offset, seed):
    origin = data.start + dt.timedelta(days=offset)
    spec = make_spec(data, FAST, data.end)
    targets = training_targets(data.hourly, [origin], 14)
    assert len(targets) > 0
    before = build_features(
        targets, data.hourly, Calendars(calendar), data.offices, spec, data.bookings
    )
    scrambled = _scramble_future(
        data.hourly,
        origin,
        seed,
        [s.WAIT_P10, s.WAIT_P50, s.WAIT_P90, s.ARRIVALS, s.NEVER_CALLED_SHARE],
    )
    bookings = data.bookings.copy()
    late = bookings[s.BOOKED_DATE] >= origin
    bookings.loc[late, s.BOOKED_DATE] = origin  # bookings made on/after the origin, reshuffled
    after = build_features(targets, scrambled, Calendars(calendar), data.offices, spec, bookings)
    pd.testing.assert_frame_equal(before, after)


def test_scrambling_the_past_does_change_features(data, calendar):
    """The no-leak test above could fail: changing the past changes the features."""
    origin = data.start + dt.timedelta(days=60)
    spec = make_spec(data, FAST, data.end)
    targets = training_targets(data.hourly, [origin], 14)
    before = build_features(
        targets, data.hourly, Calendars(calendar), data.offices, spec, data.bookings
    )
    past = data.hourly.copy()
    past.loc[past[s.DATE] < origin, s.WAIT_P50] *= 3
    after = build_features(targets, past, Calendars(calendar), data.offices, spec, data.bookings)
    assert not before.equals(after)


def test_booked_counts_only_bookings_made_before_the_origin(data, calendar):
    origin = data.start + dt.timedelta(days=60)
    spec = make_spec(data, FAST, data.end)
    assert spec.use_bookings
    targets = training_targets(data.hourly, [origin], 14)
    X = build_features(targets, data.hourly, Calendars(calendar), data.offices, spec, data.bookings)
    appointment = (targets[s.CHANNEL] == s.Channel.APPOINTMENT.value).to_numpy()
    assert np.isnan(X.loc[~appointment, s.BOOKED]).all()
    book = data.bookings
    slot_keys = [s.OFFICE_ID, s.DATE, s.HOUR]
    booked_before = book[book[s.BOOKED_DATE] < origin].groupby(slot_keys).size()
    booked_in_all = book.groupby(slot_keys).size()
    rows = targets[appointment]
    slots = pd.MultiIndex.from_frame(rows[slot_keys])
    before = booked_before.reindex(slots, fill_value=0).to_numpy()
    in_all = booked_in_all.reindex(slots, fill_value=0).to_numpy()
    # the rows' slots hold bookings made on or after the origin too: they must not count
    late = in_all > before
    assert late.sum() >= 10
    np.testing.assert_array_equal(X.loc[rows.index, s.BOOKED].to_numpy(), before)


def test_each_level_covers_exactly_its_window(data, calendar):
    """Every trailing level is the mean over its own window, however long (a 13-week
    window is not cut to the 8-week cell window; the long cell is its own weeks)."""
    spec = dataclasses.replace(
        make_spec(data, FAST, data.end), level_windows=(7, 91), long_cell_weeks=12
    )
    origin = data.start + dt.timedelta(days=130)
    targets = training_targets(data.hourly, [origin], 7)
    X = build_features(targets, data.hourly, Calendars(calendar), data.offices, spec, data.bookings)
    row = targets.iloc[0]
    hourly = data.hourly
    queue = (hourly[s.OFFICE_ID] == row[s.OFFICE_ID]) & (hourly[s.CHANNEL] == row[s.CHANNEL])
    same_hour = queue & (hourly[s.HOUR] == row[s.HOUR])
    weekday = np.array([d.weekday() for d in hourly[s.DATE]]) == row[s.DATE].weekday()

    def mean_since(mask: pd.Series, days: int) -> float:
        inside = mask & (hourly[s.DATE] < origin)
        inside &= hourly[s.DATE] >= origin - dt.timedelta(days=days)
        return float(hourly.loc[inside, s.WAIT_P50].mean())

    first = X.iloc[0]
    assert first["lvl91d_hour_wait_p50"] == pytest.approx(mean_since(same_hour, 91))
    assert first["lvl91d_wait_p50"] == pytest.approx(mean_since(queue, 91))
    assert first["lvl7d_hour_wait_p50"] == pytest.approx(mean_since(same_hour, 7))
    assert first["cell12w_wait_p50"] == pytest.approx(mean_since(same_hour & weekday, 84))
    assert first["cell8w_wait_p50"] == pytest.approx(mean_since(same_hour & weekday, 56))
    assert mean_since(same_hour, 91) != pytest.approx(mean_since(same_hour, 56))


def test_an_older_spec_builds_its_columns_and_a_break_counts_only_near_its_holiday(data, calendar):
    days = calendar.frame(data.start + dt.timedelta(days=40), data.end)
    origin = days.loc[days["holiday"], "date"].iloc[0] - dt.timedelta(days=10)
    spec = make_spec(data, FAST, data.end)
    assert spec.holiday_breaks
    targets = training_targets(data.hourly, [origin], 28)
    X = build_features(targets, data.hourly, Calendars(calendar), data.offices, spec)
    near = X["days_to_holiday"] < spec.holiday_reach_days  # the distance is capped at reach
    assert near.any() and (X.loc[near, "break_ahead"] >= 1).all()
    assert (X.loc[X["days_to_holiday"] > spec.holiday_reach_days, "break_ahead"] == 0).all()
    assert (X.loc[X["break_ahead"] > 0, "days_to_holiday"] <= spec.holiday_reach_days).all()
    assert (X["break_ahead"] == 0).any()
    older = dataclasses.replace(spec, holiday_breaks=False)  # a model stored before the feature
    columns = build_features(targets, data.hourly, Calendars(calendar), data.offices, older)
    assert list(columns.columns) == older.feature_names
    assert "break_ahead" not in columns
