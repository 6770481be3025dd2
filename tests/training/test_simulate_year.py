"""Year-long behaviour of the simulator against the article's facts.

One simulated 2023 of all 15 offices, one 2024 of the walk-in-only offices and one 2025
of all 15 offices (the steady state the models train on) are shared by the tests (a few
seconds each).
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.offices import OfficeRegistry
from training.simulate import SimConfig, simulate
from training.simulate.demand import regime, surge_excess

pytestmark = pytest.mark.slow

D = dt.date
WALK_IN = s.Channel.WALK_IN.value
APPOINTMENT = s.Channel.APPOINTMENT.value
ARTICLE_DOCUMENTS = 472_000  # 9 January - 7 June 2023, all Hangzhou offices
CHANGE = pd.Timestamp("2023-06-08")


@pytest.fixture(scope="module")
def year_2023(offices: OfficeRegistry, calendar: ChinaCalendar) -> pd.DataFrame:
    log = simulate(offices, calendar, D(2023, 1, 2), D(2023, 12, 31), seed=7)
    dual = {o.id for o in offices if o.takes_appointments}
    log["dual"] = log[s.OFFICE_ID].isin(dual)
    log["wait"] = _wait_minutes(log)
    return log


@pytest.fixture(scope="module")
def walk_in_only_2024(offices: OfficeRegistry, calendar: ChinaCalendar) -> pd.DataFrame:
    walk_in_only = OfficeRegistry([o for o in offices if not o.takes_appointments])
    return simulate(walk_in_only, calendar, D(2024, 1, 1), D(2024, 12, 31), seed=7)


@pytest.fixture(scope="module")
def year_2025(offices: OfficeRegistry, calendar: ChinaCalendar) -> pd.DataFrame:
    # 60 warm-up days fill the appointment book (the booking horizon).
    log = simulate(offices, calendar, D(2025, 1, 1), D(2025, 12, 31), seed=7, warmup_days=60)
    dual = {o.id for o in offices if o.takes_appointments}
    log["dual"] = log[s.OFFICE_ID].isin(dual)
    log["wait"] = _wait_minutes(log)
    return log


def _wait_minutes(log: pd.DataFrame) -> pd.Series:
    """The data contract's wait: from the ticket (or the slot, if later) to the call."""
    start = log[s.ISSUED_AT].where(
        log[s.CHANNEL] == WALK_IN, np.maximum(log[s.ISSUED_AT], log[s.APPOINTMENT_AT])
    )
    return (log[s.CALLED_AT] - start).dt.total_seconds() / 60


def _daily(log: pd.DataFrame) -> pd.Series:
    """Tickets per open day (all offices of the log together)."""
    return log.groupby(log[s.ISSUED_AT].dt.date).size()


def _days(daily: pd.Series, first: dt.date, last: dt.date) -> pd.Series:
    return daily[[d for d in daily.index if first <= d <= last]]


def test_documents_9_january_to_7_june_match_the_article(year_2023: pd.DataFrame) -> None:
    issued = year_2023[year_2023[s.ISSUED_AT].between("2023-01-09", "2023-06-08", "left")]
    served = issued[issued[s.CALLED_AT].notna()]
    assert abs(issued[s.DOCUMENTS].sum() / ARTICLE_DOCUMENTS - 1) < 0.10
    assert abs(served[s.DOCUMENTS].sum() / ARTICLE_DOCUMENTS - 1) < 0.10
    assert 1.25 < issued[s.DOCUMENTS].mean() < 1.45
    per_working_day = _days(_daily(issued), D(2023, 3, 1), D(2023, 5, 31))
    assert 3000 < per_working_day[per_working_day > 2000].mean() < 4000  # full power


def test_booking_lead_is_about_a_month_at_the_spring_peak_and_lower_later(
    year_2023: pd.DataFrame,
) -> None:
    appt = year_2023[year_2023[s.CHANNEL] == APPOINTMENT]
    lead = (appt[s.APPOINTMENT_AT].dt.normalize() - appt[s.BOOKED_AT].dt.normalize()).dt.days
    booked = appt[s.BOOKED_AT]
    peak = booked.between("2023-05-20", "2023-06-08", "left")
    by_office = lead[peak].groupby(appt.loc[peak, s.OFFICE_ID]).median()
    assert 25 <= lead[peak].median() <= 35
    assert (by_office >= 20).all()
    assert by_office.max() >= 33  # some district offices book out to mid-July
    january = booked.between("2023-01-09", "2023-02-01", "left")
    november = booked.between("2023-11-01", "2023-12-01", "left")
    assert lead[january].median() < 15  # the backlog builds up from the reopening
    assert lead[november].median() < 0.5 * lead[peak].median()  # and drains after the change


def test_walk_ins_wait_longer_than_appointment_holders_after_the_change(
    year_2023: pd.DataFrame,
) -> None:
    summer = year_2023[
        year_2023["dual"] & year_2023[s.ISSUED_AT].between(CHANGE, "2023-09-01", "left")
    ]
    walk = summer.loc[summer[s.CHANNEL] == WALK_IN, "wait"].dropna()
    appt = summer.loc[summer[s.CHANNEL] == APPOINTMENT, "wait"].dropna()
    assert walk.median() > 3 * appt.median()
    assert (appt < 15).mean() > 0.7  # appointment waits mostly under a quarter of an hour
    walk_hour = summer.loc[summer[s.CHANNEL] == WALK_IN, s.ISSUED_AT].dt.hour
    busy = summer.loc[(summer[s.CHANNEL] == WALK_IN) & walk_hour.between(9, 10), "wait"]
    assert busy.quantile(0.75) > 30  # walk-ins at busy hours wait half an hour and more


def test_some_walk_ins_are_never_called(year_2023: pd.DataFrame) -> None:
    after = year_2023[year_2023[s.ISSUED_AT] >= CHANGE]
    never = after[s.CALLED_AT].isna()
    walk = after[s.CHANNEL] == WALK_IN
    assert 0.02 < never[walk & after["dual"]].mean() < 0.4
    assert never[~walk].mean() < 0.01  # appointment holders are nearly always called
    # a censored ticket is a real one: issued within the day, just never called
    assert (after.loc[never, s.ISSUED_AT].dt.hour < 17).all()


def test_dual_track_offices_ran_on_appointments_before_the_change(
    year_2023: pd.DataFrame,
) -> None:
    dual = year_2023[year_2023["dual"]]
    before = dual[dual[s.ISSUED_AT].between("2023-01-09", CHANGE, "left")]
    after = dual[dual[s.ISSUED_AT] >= CHANGE]
    assert (before[s.CHANNEL] == APPOINTMENT).mean() > 0.8
    assert (after[s.CHANNEL] == WALK_IN).mean() > 0.2
    assert (year_2023.loc[~year_2023["dual"], s.CHANNEL] == WALK_IN).all()


def test_demand_surges_at_the_reopening_and_decays(
    year_2023: pd.DataFrame, walk_in_only_2024: pd.DataFrame
) -> None:
    walk_in_only = _daily(year_2023[~year_2023["dual"]])
    pandemic = _days(walk_in_only, D(2023, 1, 3), D(2023, 1, 6)).mean()
    reopened = _days(walk_in_only, D(2023, 1, 9), D(2023, 1, 13)).mean()
    assert reopened > 5 * pandemic
    first_half_2023 = _days(walk_in_only, D(2023, 1, 9), D(2023, 6, 30)).mean()
    second_half_2024 = _days(_daily(walk_in_only_2024), D(2024, 7, 1), D(2024, 12, 31)).mean()
    assert first_half_2023 > 1.3 * second_half_2024


def test_mondays_busier_than_mid_week(walk_in_only_2024: pd.DataFrame) -> None:
    daily = _daily(walk_in_only_2024)
    weekday = pd.Series([d.weekday() for d in daily.index], index=daily.index)
    assert daily[weekday == 0].mean() > 1.12 * daily[weekday == 2].mean()
    assert daily[weekday == 4].mean() < daily[weekday == 2].mean()  # Friday a bit lower


def test_summer_break_busier_than_may(walk_in_only_2024: pd.DataFrame) -> None:
    daily = _daily(walk_in_only_2024)
    summer = _days(daily, D(2024, 7, 8), D(2024, 8, 30)).mean()
    may = _days(daily, D(2024, 5, 6), D(2024, 5, 31)).mean()
    assert summer > 1.1 * may


def test_rush_before_national_day_and_labour_day(walk_in_only_2024: pd.DataFrame) -> None:
    daily = _daily(walk_in_only_2024)
    # the last three working days before each holiday (with its make-up Sunday) ...
    rush = daily[[D(2024, 9, 27), D(2024, 9, 29), D(2024, 9, 30)]].mean()
    rush_may = daily[[D(2024, 4, 28), D(2024, 4, 29), D(2024, 4, 30)]].mean()
    # ... against ordinary working days a few weeks before
    usual = _days(daily, D(2024, 9, 9), D(2024, 9, 20)).mean()
    usual_april = _days(daily, D(2024, 4, 8), D(2024, 4, 19)).mean()
    assert rush > 1.15 * usual
    assert rush_may > 1.15 * usual_april


def test_daily_counts_are_over_dispersed(walk_in_only_2024: pd.DataFrame) -> None:
    office = walk_in_only_2024[walk_in_only_2024[s.OFFICE_ID] == "hz-linping"]
    daily = _daily(office)
    comparable = [
        d
        for d in daily.index
        if d.weekday() in (1, 2, 3) and d.month in (3, 4, 5, 6, 9, 10, 11) and d.day > 7
    ]
    counts = daily[comparable]
    assert len(counts) > 60
    assert counts.var() / counts.mean() > 1.5


# --- the steady state (2025): what the models are trained and judged on --------------------


def test_steady_state_walk_ins_wait_longer_than_appointment_holders(
    year_2025: pd.DataFrame,
) -> None:
    dual = year_2025[year_2025["dual"]]
    walk = dual.loc[dual[s.CHANNEL] == WALK_IN, "wait"].dropna()
    appt = dual.loc[dual[s.CHANNEL] == APPOINTMENT, "wait"].dropna()
    assert walk.median() > 2.5 * appt.median()  # near saturation, appointments called first
    assert 12 < walk.median() < 40  # queues, not a toy: ~15-35 min on working days
    assert 60 < walk.quantile(0.9) < 150
    assert 3 < appt.median() < 12  # appointment holders wait a few minutes on the day
    walk_in_only = year_2025.loc[~year_2025["dual"], "wait"].dropna()
    assert 5 < walk_in_only.median() < 18  # walk-in-only offices: moderate


def test_steady_state_some_walk_ins_are_never_called(year_2025: pd.DataFrame) -> None:
    never = year_2025[s.CALLED_AT].isna()
    walk = year_2025[s.CHANNEL] == WALK_IN
    assert 0.01 < never[walk & year_2025["dual"]].mean() < 0.12
    assert 0.005 < never[walk & ~year_2025["dual"]].mean() < 0.08
    assert never[~walk].mean() < 0.01


def test_steady_state_busy_hours_and_days(year_2025: pd.DataFrame) -> None:
    walk = year_2025[year_2025["dual"] & (year_2025[s.CHANNEL] == WALK_IN)]
    issued = walk[s.ISSUED_AT]
    weekday = issued.dt.day_of_week
    monday = walk.loc[weekday == 0, "wait"].median()
    wednesday = walk.loc[weekday == 2, "wait"].median()
    assert monday > 1.3 * wednesday  # Monday queues are longer
    morning = walk.loc[issued.dt.hour == 10, "wait"].median()
    late = walk.loc[issued.dt.hour == 16, "wait"].median()
    assert morning > 2 * late  # the opening-hour peak backs up into the morning
    summer = walk.loc[issued.between("2025-07-07", "2025-08-30"), "wait"].median()
    may = walk.loc[issued.between("2025-05-06", "2025-05-30"), "wait"].median()
    assert summer > 1.2 * may


def test_steady_state_booking_lead_is_days_and_grows_in_summer(
    year_2025: pd.DataFrame,
) -> None:
    appt = year_2025[year_2025[s.CHANNEL] == APPOINTMENT]
    lead = (appt[s.APPOINTMENT_AT].dt.normalize() - appt[s.BOOKED_AT].dt.normalize()).dt.days
    booked = appt[s.BOOKED_AT]
    summer = booked.between("2025-07-01", "2025-09-01", "left")
    spring = booked.between("2025-03-01", "2025-05-01", "left")
    assert lead[summer].median() > 1
    assert 2 <= lead[spring].median() <= 21  # a few days to ~2 weeks, not zero
    assert lead[summer].median() >= lead[spring].median()


def test_steady_state_demand_grows_mildly() -> None:
    config = SimConfig()
    years = [regime(D(year, 6, 1), config) for year in (2025, 2026, 2027)]
    assert all(1.01 < later / earlier < 1.06 for earlier, later in itertools.pairwise(years))
    # the surge has faded: the long-run level, not a decline towards a low one
    assert surge_excess(D(2025, 6, 1), config) < 0.05
    assert regime(D(2023, 3, 1), config) > 1.4 * regime(D(2025, 3, 1), config)
