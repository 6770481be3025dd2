"""The pure advice: deadlines on the China calendar, the decision rules, no herding, reasons."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import schema as s
from features.calendar_cn import default_calendar
from features.calendars import Calendars
from features.errors import ParameterError, UnknownOfficeError
from features.offices import load_offices
from serving.advice import (
    Advice,
    AdviceContext,
    AdviceKind,
    AdviceRequest,
    AdviceSettings,
    RowsSource,
    advise,
    best_times,
)
from serving.advice.deadline import (
    ISSUING_TIMES,
    IssuingRule,
    Residency,
    deadline_for,
    issuing_time,
    ready_date,
)

CAL = default_calendar()
OFFICES = load_offices()
TODAY = dt.date(2025, 6, 2)  # a Monday
Wait = Callable[[str, dt.date, int], float]


def rows_for(
    start: dt.date,
    days: int,
    walk_in: Wait | float = 40.0,
    appointment: float = 8.0,
    called: Wait | float = 0.99,
    office_ids: tuple[str, ...] | None = None,
    arrivals: Wait | float = 10.0,
) -> pd.DataFrame:
    """Forecast rows as ``Forecaster.forecast`` returns them: p90 = 2.2 × p50."""
    records = []
    for office in OFFICES:
        if office_ids is not None and office.id not in office_ids:
            continue
        for k in range(days):
            date = start + dt.timedelta(days=k)
            for hour in office.open_hours(office.sessions_for(CAL.day(date))):
                for channel in office.channels:
                    walk = channel is s.Channel.WALK_IN
                    p50 = (
                        (walk_in(office.id, date, hour) if callable(walk_in) else walk_in)
                        if walk
                        else appointment
                    )
                    p_called = (
                        (called(office.id, date, hour) if callable(called) else called)
                        if walk
                        else np.nan
                    )
                    records.append(
                        {
                            s.OFFICE_ID: office.id,
                            s.DATE: date,
                            s.HOUR: hour,
                            s.CHANNEL: channel.value,
                            s.SERVICE: "general",
                            s.P10: 0.3 * p50,
                            s.P50: p50,
                            s.P90: 2.2 * p50,
                            s.EXPECTED_ARRIVALS: arrivals(office.id, date, hour)
                            if callable(arrivals)
                            else arrivals,
                            s.P_CALLED: p_called,
                            "calendar_estimated": CAL.is_estimated(date),
                        }
                    )
    return pd.DataFrame(records)


def context(
    leads: dict[str, float] | None = None, knobs: AdviceSettings | None = None
) -> AdviceContext:
    return AdviceContext(Calendars(CAL), OFFICES, leads or {}, knobs or AdviceSettings())


def ask(
    rows: pd.DataFrame, lead: float = 3.0, knobs: AdviceSettings | None = None, **request: object
) -> Advice:
    values: dict[str, Any] = {"office_id": "hz-city", "today": TODAY, **request}
    leads = {o.id: lead for o in OFFICES if o.takes_appointments}
    return advise(
        AdviceRequest(**values),
        context(leads, knobs),
        RowsSource(rows),
    )


ROWS = rows_for(TODAY, 70)
NO_TRAVEL = AdviceSettings(urban_speed_kmh=1e9)  # to test the ranking without travel times


# --- deadlines ------------------------------------------------------------------------


def test_an_estimated_calendar_is_flagged_in_the_deadline_and_the_reasons() -> None:
    year = CAL.last_official_year + 1
    deadline = deadline_for(dt.date(year, 3, 2), ISSUING_TIMES[IssuingRule.IN_PROVINCE], CAL)
    assert deadline.calendar_estimated
    today = dt.date(year, 1, 5)
    advice = ask(rows_for(today, 60), today=today, travel_date=dt.date(year, 3, 2))
    assert advice.calendar_estimated
    assert any(str(year) in r.en and "estimated" in r.en and "估算" in r.zh for r in advice.reasons)
    assert not ask(ROWS).calendar_estimated


def test_the_last_day_to_apply_is_a_day_the_office_opens() -> None:
    # Spring Festival 2027 (estimated): 5-10 Feb closed; by the rule, apply by Wed 10 Feb
    today, travel = dt.date(2027, 1, 20), dt.date(2027, 2, 20)
    advice = ask(
        rows_for(today, 40), lead=30.0, office_id="hz-binjiang", today=today, travel_date=travel
    )
    assert advice.deadline is not None and advice.deadline.by_rule == dt.date(2027, 2, 10)
    assert advice.last_day_to_apply == dt.date(2027, 2, 4)
    moved = next(r for r in advice.reasons if "closed" in r.en)
    assert "Spring Festival" in moved.en and "2027-02-04" in moved.en
    assert "春节" in moved.zh and "2027-02-04" in moved.zh
    assert advice.walk_in
    for option in advice.walk_in:
        office = OFFICES.get(option.office_id)
        assert option.last_day_to_apply is not None
        assert option.date <= option.last_day_to_apply <= dt.date(2027, 2, 10)
        assert office.sessions_for(CAL.day(option.last_day_to_apply))
    later = ask(ROWS, lead=30.0, travel_date=TODAY + dt.timedelta(days=20)).deadline
    assert later is not None and later.moved is False


# --- the decision -------------------------------------------------------------------------


def test_a_walk_in_only_office_means_walk_in_without_an_appointment() -> None:
    advice = ask(ROWS, office_id="hz-linping")
    assert advice.advice is AdviceKind.WALK_IN and advice.appointment is None
    assert any("即来即办" in r.zh and "walk-in only" in r.en for r in advice.reasons)
    assert advice.walk_in and advice.document_ready == advice.walk_in[0].document_ready


def test_no_travel_date_and_long_walk_in_waits_means_book_as_the_bureau_advises() -> None:
    advice = ask(ROWS)
    assert advice.advice is AdviceKind.BOOK and advice.last_day_to_apply is None
    assert advice.appointment is not None and advice.appointment.source == "predicted"
    assert advice.appointment.date == TODAY + dt.timedelta(days=3)
    assert advice.appointment.wait is not None and advice.appointment.wait.p50 == 8.0
    assert advice.document_ready == ready_date(
        advice.appointment.date, issuing_time(Residency.IN_PROVINCE, False), CAL
    )
    assert any("bureau advises booking" in r.en and "预约" in r.zh for r in advice.reasons)


def test_a_short_walk_in_p90_at_a_good_hour_means_walk_in_even_far_from_travel() -> None:
    short = rows_for(TODAY, 70, walk_in=lambda o, d, h: 10.0 if h == 15 else 40.0)  # p90 22
    advice = ask(short, travel_date=TODAY + dt.timedelta(days=60))
    assert advice.advice is AdviceKind.WALK_IN
    assert all(o.hour == 15 for o in advice.walk_in if o.office_id == "hz-city")
    assert any("22 min" in r.en and "22 分钟" in r.zh and "30" in r.en for r in advice.reasons)
    strict = AdviceSettings(short_walk_in_p90_minutes=20)
    leads = {"hz-city": 3.0}
    booked = advise(AdviceRequest("hz-city", TODAY), context(leads, strict), RowsSource(short))
    assert booked.advice is AdviceKind.BOOK


def test_an_appointment_too_late_for_travel_means_walk_in_before_the_deadline() -> None:
    travel = TODAY + dt.timedelta(days=20)
    advice = ask(ROWS, lead=30.0, travel_date=travel)
    last = advice.last_day_to_apply
    assert last is not None and advice.appointment is not None
    assert not advice.appointment.in_time and advice.appointment.date > last
    assert advice.advice is AdviceKind.WALK_IN
    assert advice.walk_in and all(TODAY < o.date <= last for o in advice.walk_in)
    assert all(o.document_ready is not None and o.document_ready < travel for o in advice.walk_in)
    assert any("cannot be in time" in r.en and "来不及" in r.zh for r in advice.reasons)


def test_the_earliest_slot_the_caller_gives_wins_over_the_predicted_lead() -> None:
    travel = TODAY + dt.timedelta(days=20)
    advice = ask(
        ROWS, lead=30.0, travel_date=travel, earliest_appointment=TODAY + dt.timedelta(days=2)
    )
    assert advice.appointment is not None and advice.appointment.source == "caller"
    assert advice.appointment.in_time and advice.advice is AdviceKind.BOOK


def test_no_time_left_means_urgent_service() -> None:
    advice = ask(ROWS, travel_date=TODAY + dt.timedelta(days=4))
    assert advice.advice is AdviceKind.URGENT_SERVICE
    assert advice.document_ready is None and advice.walk_in == ()
    assert any("急事急办" in r.zh and "urgent service" in r.en for r in advice.reasons)
    walk_in_only = ask(ROWS, office_id="hz-linping", travel_date=TODAY + dt.timedelta(days=4))
    assert walk_in_only.advice is AdviceKind.URGENT_SERVICE


def test_no_reasonable_chance_of_being_called_in_time_means_urgent_service() -> None:
    hopeless = rows_for(TODAY, 70, called=0.5)
    advice = ask(hopeless, lead=30.0, travel_date=TODAY + dt.timedelta(days=20))
    assert advice.advice is AdviceKind.URGENT_SERVICE
    assert any("80%" in r.en and "80%" in r.zh for r in advice.reasons)


def test_the_last_open_day_before_the_deadline_needs_a_near_certain_hour() -> None:
    travel = TODAY + dt.timedelta(days=20)
    last = ask(ROWS, lead=30.0, travel_date=travel).last_day_to_apply
    risky = rows_for(
        TODAY,
        70,
        walk_in=lambda o, d, h: 5.0 if d == last else 40.0,
        called=lambda o, d, h: 0.9 if d == last else 0.99,
    )
    advice = ask(risky, lead=30.0, travel_date=travel)
    assert advice.walk_in and all(o.date != last for o in advice.walk_in)


def test_today_remaining_hours_count_only_when_the_time_is_given() -> None:
    today = TODAY + dt.timedelta(days=1)  # TODAY is the Dragon Boat holiday: closed
    assert CAL.is_working_day(today)

    def wait(office_id: str, date: dt.date, hour: int) -> float:
        # today's hours are the quickest, those already past (before 15:00) quickest of all
        return 40.0 if date != today else 1.0 if hour < 15 else 5.0

    rows = rows_for(TODAY, 70, walk_in=wait)
    advice = ask(rows, office_id="hz-linping", today=today, now=dt.time(14, 20))
    later = [o for o in advice.walk_in if o.date == today]
    assert later and all(o.hour >= 15 for o in later)
    assert advice.walk_in[0].date == today
    assert all(o.date > today for o in ask(rows, office_id="hz-linping", today=today).walk_in)


def test_bad_requests_name_the_parameter() -> None:
    with pytest.raises(ParameterError) as travel:
        ask(ROWS, travel_date=TODAY - dt.timedelta(days=1))
    assert travel.value.parameter == "travel_date"
    with pytest.raises(ParameterError) as slot:
        ask(ROWS, earliest_appointment=TODAY - dt.timedelta(days=1))
    assert slot.value.parameter == "earliest_appointment"
    with pytest.raises(ParameterError) as sunday:
        ask(ROWS, earliest_appointment=dt.date(2025, 6, 8))
    assert sunday.value.parameter == "earliest_appointment"
    with pytest.raises(ParameterError) as residency:
        ask(ROWS, residency="mars")
    assert residency.value.parameter == "residency"
    with pytest.raises(UnknownOfficeError):
        ask(ROWS, office_id="hz-nowhere")


# --- options: no herding, nearest first -------------------------------------------------


def test_many_equally_good_hours_give_a_spread_set_not_one_hour() -> None:
    advice = ask(
        rows_for(TODAY, 70, walk_in=12.0),
        lead=30.0,
        knobs=NO_TRAVEL,
        travel_date=TODAY + dt.timedelta(days=25),
    )
    own = [o for o in advice.walk_in if o.office_id == "hz-city"]
    assert len(advice.walk_in) >= 6 and len(own) == 4
    assert len({o.date for o in own}) == 4  # one hour per day first
    assert len({o.office_id for o in advice.walk_in}) >= 2
    assert any("about as good" in r.en and "差不多一样好" in r.zh for r in advice.reasons)


def test_only_near_best_hours_are_offered_and_nearest_first_among_them() -> None:
    def wait(office_id: str, date: dt.date, hour: int) -> float:
        chosen = office_id in ("hz-city", "hz-binjiang", "hz-xihu")
        return 10.0 if chosen and hour == 14 else 60.0

    knobs = replace(NO_TRAVEL, max_options_per_office=2)
    advice = ask(
        rows_for(TODAY, 70, walk_in=wait),
        lead=30.0,
        knobs=knobs,
        travel_date=TODAY + dt.timedelta(days=25),
    )
    assert len(advice.walk_in) == 6 and {o.hour for o in advice.walk_in} == {14}
    assert all(o.near_best for o in advice.walk_in)
    order = [o.office_id for o in advice.walk_in]
    assert order[0] == "hz-city" and order.index("hz-binjiang") < order.index("hz-xihu")
    distances = [o.distance_km or 0.0 for o in advice.walk_in]
    assert distances == sorted(distances) and distances[0] == 0.0


def test_a_quiet_far_office_is_not_worth_the_trip() -> None:
    # Linping (about 24 km from city hall) saves 10 minutes of waiting: not worth 2.5 hours
    def wait(office_id: str, date: dt.date, hour: int) -> float:
        return 30.0 if office_id == "hz-linping" else 40.0

    advice = ask(
        rows_for(TODAY, 70, walk_in=wait), lead=30.0, travel_date=TODAY + dt.timedelta(days=25)
    )
    assert advice.walk_in and advice.walk_in[0].office_id == "hz-city"
    assert "hz-linping" not in {o.office_id for o in advice.walk_in}
    for option in advice.walk_in:
        assert option.distance_km is not None and option.travel_minutes is not None
        missed, travel = 1 - (option.p_called or 1.0), option.travel_minutes
        assert option.cost_minutes == pytest.approx(
            option.expected_wait + travel + missed * (120 + travel)
        )
    linping = best_times(
        rows_for(TODAY, 7, walk_in=wait),
        context(),
        TODAY,
        TODAY + dt.timedelta(days=6),
        limit=3,
        near=(30.274, 120.155),
    )
    assert linping[0].office_id != "hz-linping"  # from near city hall, door to door
    assert linping[0].travel_minutes is not None


def test_the_trip_starts_where_the_citizen_is() -> None:
    binjiang = OFFICES.get("hz-binjiang")
    here = (float(binjiang.lat or 0), float(binjiang.lon or 0))
    advice = ask(
        rows_for(TODAY, 70, walk_in=40.0),
        lead=30.0,
        near=here,
        travel_date=TODAY + dt.timedelta(days=25),
    )
    assert advice.walk_in[0].office_id == "hz-binjiang"
    assert advice.walk_in[0].distance_km == pytest.approx(0.0, abs=0.01)
    city = [o for o in advice.walk_in if o.office_id == "hz-city"]
    assert city and all((o.distance_km or 0) > 1 for o in city)
    reason = next(r for r in advice.reasons if "Walking in at" in r.en)
    assert "Binjiang" in reason.en


def test_an_office_is_called_nearby_only_when_it_is() -> None:
    def wait(office_id: str, date: dt.date, hour: int) -> float:
        return 150.0 if office_id == "hz-city" else 10.0

    rows = rows_for(TODAY, 70, walk_in=wait)
    travel = TODAY + dt.timedelta(days=25)
    advice = ask(rows, lead=30.0, travel_date=travel)
    first = advice.walk_in[0]
    assert first.office_id != "hz-city" and 0 < (first.distance_km or 0) <= 5
    own = next(r for r in advice.reasons if "itself" in r.en)
    assert "nearby" in own.en and "附近" in own.zh
    strict = ask(rows, lead=30.0, travel_date=travel, knobs=AdviceSettings(nearby_label_km=1.0))
    own = next(r for r in strict.reasons if "itself" in r.en)
    assert "nearby" not in own.en and "附近" not in own.zh
    assert f"{first.distance_km:.0f} km" in own.en and "公里" in own.zh


def test_everyone_asking_at_once_is_spread_by_spare_capacity() -> None:
    # equally good hours at Linping; the expected arrivals leave more room in some
    def arrivals(office_id: str, date: dt.date, hour: int) -> float:
        return 5.0 if hour in (9, 10) else 15.0

    rows = rows_for(TODAY, 70, walk_in=12.0, arrivals=arrivals, office_ids=("hz-linping",))
    firsts: dict[tuple[dt.date, int], int] = {}
    kinds = set()
    n = 400
    for turn in range(n):
        advice = ask(
            rows, office_id="hz-linping", turn=turn, travel_date=TODAY + dt.timedelta(days=12)
        )
        kinds.add(advice.advice)
        key = (advice.walk_in[0].date, advice.walk_in[0].hour)
        firsts[key] = firsts.get(key, 0) + 1
    assert len(kinds) == 1  # the advice itself does not depend on the turn
    ctx = context()
    capacity = ctx.hour_capacity(OFFICES.get("hz-linping"))
    spare = {k: capacity - arrivals("hz-linping", k[0], k[1]) for k in firsts}
    total = sum(spare.values())
    near_best = next(r for r in advice.reasons if "about as good" in r.en)
    assert f"{len(firsts)} hours" in near_best.en  # every near-best hour is served to someone
    for key, count in firsts.items():
        assert abs(count - n * spare[key] / total) <= 2, (key, count)


def test_a_much_slower_own_office_is_still_shown_after_the_nearby_ones() -> None:
    def wait(office_id: str, date: dt.date, hour: int) -> float:
        return 80.0 if office_id == "hz-city" else 10.0

    advice = ask(
        rows_for(TODAY, 70, walk_in=wait),
        lead=30.0,
        knobs=NO_TRAVEL,
        travel_date=TODAY + dt.timedelta(days=25),
    )
    assert advice.walk_in[0].office_id != "hz-city"
    assert advice.walk_in[-1].office_id == "hz-city" and not advice.walk_in[-1].near_best
    assert any("offices are listed first" in r.en for r in advice.reasons)


def test_reasons_are_bilingual_and_carry_the_numbers() -> None:
    advice = ask(ROWS, lead=30.0, travel_date=TODAY + dt.timedelta(days=20))
    last = advice.last_day_to_apply
    assert last is not None
    deadline = advice.reasons[0]
    assert last.isoformat() in deadline.en and last.isoformat() in deadline.zh
    assert "7 working days" in deadline.en and "7 个工作日" in deadline.zh
    best = advice.walk_in[0]
    assert best.p_called is not None
    called = f"{100 * best.p_called:.0f}%"
    walk = next(r for r in advice.reasons if "Walking in" in r.en)
    for number in (f"{best.p50:.0f} min", f"{best.p90:.0f} min", called):
        assert number in walk.en
    assert f"{best.p90:.0f} 分钟" in walk.zh and called in walk.zh
    assert all(r.zh and r.en for r in advice.reasons)


class RecordingSource(RowsSource):
    """Rows, and the questions the advice asked for them."""

    def __init__(self, rows: pd.DataFrame) -> None:
        super().__init__(rows)
        object.__setattr__(self, "asked", [])

    def frame(self, start: dt.date, end: dt.date, office_ids: Sequence[str]) -> pd.DataFrame:
        self.asked.append((start, end, list(office_ids)))  # type: ignore[attr-defined]
        return super().frame(start, end, office_ids)


def test_the_advice_asks_its_source_once_for_what_it_reads() -> None:
    source = RecordingSource(ROWS)
    request = AdviceRequest("hz-city", TODAY, travel_date=TODAY + dt.timedelta(days=20))
    advice = advise(request, context({"hz-city": 30.0}), source)
    assert advice.appointment is not None
    [(start, end, ids)] = source.asked  # type: ignore[attr-defined]
    assert start == TODAY and end == advice.appointment.date and (end - start).days >= 30
    assert ids[0] == "hz-city" and "hz-binjiang" in ids
    assert "hz-chunan" not in ids  # 130 km away


def test_best_times_lists_near_best_open_hours_first_nearest_first() -> None:
    def wait(office_id: str, date: dt.date, hour: int) -> float:
        return 5.0 if hour == 9 else 50.0

    rows = rows_for(TODAY, 7, walk_in=wait, office_ids=("hz-city", "hz-xihu", "hz-gongshu"))
    xihu = OFFICES.get("hz-xihu")
    near = (float(xihu.lat or 0), float(xihu.lon or 0))
    times = best_times(
        rows, context(knobs=NO_TRAVEL), TODAY, TODAY + dt.timedelta(days=6), limit=5, near=near
    )
    assert len(times) == 5 and all(t.near_best and t.hour == 9 for t in times)
    assert times[0].office_id == "hz-xihu" and times[0].distance_km == 0.0
    everything = best_times(rows, context(), TODAY, TODAY + dt.timedelta(days=6), limit=500)
    flags = [t.near_best for t in everything]
    assert flags == sorted(flags, reverse=True) and not all(flags)


def test_best_times_never_put_an_hour_one_is_unlikely_to_be_called_first() -> None:
    rows = rows_for(
        TODAY,
        7,
        walk_in=lambda o, d, h: 2.0 if h == 16 else 30.0,
        called=lambda o, d, h: 0.1 if h == 16 else 0.97,
        office_ids=("hz-city",),
    )
    times = best_times(rows, context(), TODAY, TODAY + dt.timedelta(days=6), limit=500)
    assert times[0].hour != 16 and times[0].near_best
    late = [t for t in times if t.hour == 16]
    assert late and not any(t.near_best for t in late) and times[-1].hour == 16


# --- the property: never a closed hour, never after the deadline ---------------------------


def every_hour_rows(start: dt.date, days: int) -> pd.DataFrame:
    """Rows for every hour 07-19 of every day, closed or not (as a careless cube might send),
    with seeded waits: closed hours look best, so only the advice's own check keeps them out."""
    open_rows = rows_for(
        start,
        days,
        walk_in=lambda o, d, h: float(zlib.crc32(f"{o}{d}{h}".encode()) % 90 + 5),
        called=lambda o, d, h: 0.75 + (h % 4) * 0.08,
    )
    keys = pd.MultiIndex.from_product(
        [
            OFFICES.ids,
            [start + dt.timedelta(days=k) for k in range(days)],
            range(7, 20),
            list(s.CHANNELS),
        ],
        names=[s.OFFICE_ID, s.DATE, s.HOUR, s.CHANNEL],
    ).to_frame(index=False)
    closed = (
        keys.merge(open_rows[[s.OFFICE_ID, s.DATE, s.HOUR, s.CHANNEL]], how="left", indicator=True)
        .query("_merge == 'left_only'")
        .drop(columns="_merge")
    )
    closed = closed.assign(
        **{
            s.SERVICE: "general",
            s.P10: 0.0,
            s.P50: 0.5,
            s.P90: 1.0,
            s.EXPECTED_ARRIVALS: 0.0,
            s.P_CALLED: 1.0,
            "calendar_estimated": False,
        }
    )
    return pd.concat([open_rows, closed], ignore_index=True)


PROPERTY_SOURCE = RowsSource(every_hour_rows(dt.date(2024, 12, 20), 120))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    office=st.sampled_from(OFFICES.ids),
    offset=st.integers(0, 40),
    travel=st.one_of(st.none(), st.integers(0, 60)),
    residency=st.sampled_from(list(Residency)),
    expedited=st.booleans(),
    now=st.one_of(st.none(), st.times()),
)
def test_advice_never_suggests_a_closed_hour_or_a_date_after_the_deadline(
    office: str,
    offset: int,
    travel: int | None,
    residency: Residency,
    expedited: bool,
    now: dt.time | None,
) -> None:
    today = dt.date(2024, 12, 20) + dt.timedelta(days=offset)  # spans New Year 2025
    travel_date = today + dt.timedelta(days=travel) if travel is not None else None
    advice = advise(
        AdviceRequest(office, today, travel_date, residency, expedited, now=now),
        context({o: 12.0 for o in OFFICES.ids}),
        PROPERTY_SOURCE,
    )
    last = advice.last_day_to_apply
    for option in advice.walk_in:
        where = OFFICES.get(option.office_id)
        assert option.hour in where.open_hours(where.sessions_for(CAL.day(option.date)))
        assert option.date > today or (
            now is not None and option.date == today and option.hour > now.hour
        )
        # each office's own last open day (an alternative office may open later)
        own_last = option.last_day_to_apply or last
        assert own_last is None or option.date <= own_last
        assert last is None or own_last is None or option.office_id != office or own_last == last
    if advice.appointment is not None:
        assert OFFICES.get(office).sessions_for(CAL.day(advice.appointment.date))
    if advice.advice is AdviceKind.URGENT_SERVICE:
        assert last is not None and advice.document_ready is None
    elif last is not None and advice.document_ready is not None:
        assert advice.document_ready < travel_date  # type: ignore[operator]
