"""An office abroad on a public holiday its data have not shown: forecast, never recommended."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from features import schema as s
from features.calendars import Calendars, LearnedDays
from features.offices import OfficeRegistry
from serving.advice import AdviceContext, AdviceRequest, RowsSource, advise
from serving.advice import best_times as best_times_of_rows
from tests.toy_data import californian_office

OFFICE = californian_office()
MONDAY = dt.date(2024, 11, 25)  # Thanksgiving is Thursday 28 November, the day after too
THANKSGIVING = dt.date(2024, 11, 28)
FRIDAY = THANKSGIVING + dt.timedelta(days=1)  # "Day After Thanksgiving", a Californian one
KEY = "US-CA"


def context(seen_closed: frozenset[str] | None) -> AdviceContext:
    """Calendars that saw these holidays closed in the data (None: older model, no record)."""
    learned = LearnedDays(closed_holidays={KEY: seen_closed} if seen_closed is not None else {})
    return AdviceContext(Calendars(learned=learned), OfficeRegistry([OFFICE]))


def rows(ctx: AdviceContext, days: int = 14) -> pd.DataFrame:
    """Forecast rows for every hour the calendar opens, the holiday's hours looking best."""
    records = []
    for k in range(days):
        date = MONDAY + dt.timedelta(days=k)
        day = ctx.day(OFFICE, date)
        for hour in ctx.open_hours(OFFICE, date):
            for channel in OFFICE.channels:
                p50 = 1.0 if day.unconfirmed else 30.0
                records.append(
                    {
                        s.OFFICE_ID: OFFICE.id,
                        s.DATE: date,
                        s.HOUR: hour,
                        s.CHANNEL: channel.value,
                        s.SERVICE: "general",
                        s.P10: 0.5 * p50,
                        s.P50: p50,
                        s.P90: 2.0 * p50,
                        s.EXPECTED_ARRIVALS: 5.0,
                        s.P_CALLED: 0.99 if channel is s.Channel.WALK_IN else float("nan"),
                        "calendar_estimated": day.estimated,
                    }
                )
    return pd.DataFrame(records)


def test_an_unconfirmed_holiday_is_forecast_but_never_recommended() -> None:
    ctx = context(frozenset({"Labor Day"}))  # the data saw Labor Day closed, not Thanksgiving
    day = ctx.day(OFFICE, THANKSGIVING)
    assert day.unconfirmed and day.estimated and day.working and day.holiday_en
    forecast = rows(ctx)
    assert (pd.to_datetime(forecast[s.DATE]).dt.date == THANKSGIVING).any()  # still forecast
    times = best_times_of_rows(forecast, ctx, MONDAY, MONDAY + dt.timedelta(days=13), limit=500)
    offered = {t.date for t in times}
    assert THANKSGIVING not in offered and FRIDAY not in offered
    assert offered  # the other days are offered
    # a booking lead of three days lands on Thanksgiving: the slot predicted is the next
    # sure day (a slot the caller names on the day is the caller's to know)
    booking = AdviceContext(ctx.calendars, ctx.offices, lead_days={OFFICE.id: 3.0})
    advice = advise(AdviceRequest(OFFICE.id, MONDAY), booking, RowsSource(forecast))
    assert advice.walk_in and all(o.date not in (THANKSGIVING, FRIDAY) for o in advice.walk_in)
    assert advice.appointment is not None and advice.appointment.date == dt.date(2024, 12, 2)
    named = advise(
        AdviceRequest(OFFICE.id, MONDAY, earliest_appointment=THANKSGIVING),
        booking,
        RowsSource(forecast),
    )
    assert named.appointment is not None and named.appointment.date == THANKSGIVING


def test_a_holiday_the_data_showed_open_is_recommended_like_any_day() -> None:
    learned = LearnedDays(
        open_holidays={KEY: frozenset({"Thanksgiving Day"})},
        closed_holidays={KEY: frozenset({"Labor Day"})},
    )
    ctx = AdviceContext(Calendars(learned=learned), OfficeRegistry([OFFICE]))
    assert not ctx.day(OFFICE, THANKSGIVING).unconfirmed
    cheap = rows(ctx).assign(**{s.P10: 15.0, s.P50: 30.0, s.P90: 60.0})
    on_the_day = pd.to_datetime(cheap[s.DATE]).dt.date == THANKSGIVING
    cheap.loc[on_the_day, [s.P10, s.P50, s.P90]] = [0.5, 1.0, 2.0]
    times = best_times_of_rows(cheap, ctx, MONDAY, MONDAY + dt.timedelta(days=13), limit=3)
    assert times[0].date == THANKSGIVING


def test_a_holiday_seen_closed_is_neither_forecast_nor_recommended() -> None:
    ctx = context(frozenset({"Thanksgiving Day", "Labor Day"}))
    assert not ctx.open_hours(OFFICE, THANKSGIVING)
    assert not ctx.day(OFFICE, THANKSGIVING).unconfirmed
    # the day after (a California holiday the data have not shown) may be closed too
    assert ctx.day(OFFICE, FRIDAY).unconfirmed
    assert ctx.next_open_day(OFFICE, THANKSGIVING) == dt.date(2024, 12, 2)
    assert ctx.last_open_day(OFFICE, dt.date(2024, 12, 1)) == dt.date(2024, 11, 27)
