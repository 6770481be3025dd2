"""Book or walk in: the advice for one traveller, from forecasts and the issuing deadline.

Pure: forecasts, calendar, offices, booking leads and ``today`` come in as arguments; no
HTTP, no I/O, no clock. The decision, in order:

1. A travel date gives the last day to apply (:mod:`serving.advice_deadline`).
2. Walk-in candidates: open hours from ``today`` (remaining hours, when ``now`` is given)
   or tomorrow up to that day, at the office and the others within ``nearby_km``, with at
   least ``min_p_called`` chance of being called before closing. The near-best set of them
   is offered, spread over days and offices (no herding).
3. The appointment (dual-track offices only): the earliest slot the caller gives, else
   today + the office's predicted booking lead; its best hour's wait that day.
4. Walk-in-only office → ``walk_in``. An appointment after the last day to apply →
   ``walk_in``. Whenever walking in is needed but no candidate exists before the last
   day → ``urgent_service``. Otherwise → ``book`` (the bureau's advice), unless a good
   walk-in hour *at the office itself* has a p90 of at most ``short_walk_in_p90_minutes``
   → ``walk_in`` (a booking is not traded for a trip to another district).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from enum import StrEnum

import pandas as pd

from features import schema as s
from features.calendar_cn import ChinaCalendar
from features.errors import ParameterError
from features.offices import Office, OfficeRegistry
from serving import advice_reasons as say
from serving.advice_deadline import Deadline, IssuingTime, Residency, deadline_for, issuing_time
from serving.advice_deadline import ready_date as issued_on
from serving.advice_options import (
    EXPECTED,
    AdviceSettings,
    HourOption,
    nearby_offices,
    open_hour_rows,
    to_options,
)
from serving.advice_reasons import Reason
from serving.advice_walk_in import good_hour, walk_in_candidates, walk_in_options

__all__ = ["Advice", "AdviceKind", "AdviceRequest", "AdviceSettings", "AppointmentOption",
           "HourOption", "Reason", "Residency", "advise", "forecast_span"]


class AdviceKind(StrEnum):
    """What to do."""

    BOOK = "book"
    WALK_IN = "walk_in"
    URGENT_SERVICE = "urgent_service"


@dataclass(frozen=True, slots=True)
class AdviceRequest:
    """What the traveller tells us; ``now`` (local time) adds today's remaining hours."""

    office_id: str
    today: dt.date
    travel_date: dt.date | None = None
    residency: Residency = Residency.IN_PROVINCE
    expedited: bool = False
    earliest_appointment: dt.date | None = None
    now: dt.time | None = None


@dataclass(frozen=True, slots=True)
class AppointmentOption:
    """The appointment: its date, where the date comes from, its wait, and if it is in time."""

    office_id: str
    date: dt.date
    lead_days: float | None
    source: str  # caller / predicted / assumed
    wait: HourOption | None  # the best appointment hour that day, when forecast
    in_time: bool
    document_ready: dt.date


@dataclass(frozen=True, slots=True)
class Advice:
    """The answer: what to do, by when, the options and why."""

    advice: AdviceKind
    office_id: str
    today: dt.date
    deadline: Deadline | None
    issuing: IssuingTime
    document_ready: dt.date | None
    appointment: AppointmentOption | None
    walk_in: tuple[HourOption, ...]
    reasons: tuple[Reason, ...]
    calendar_estimated: bool

    @property
    def last_day_to_apply(self) -> dt.date | None:
        """The last day to apply, when a travel date was given."""
        return self.deadline.last_day_to_apply if self.deadline else None


def forecast_span(request: AdviceRequest, offices: OfficeRegistry, lead_days: dict[str, float],
                  calendar: ChinaCalendar, settings: AdviceSettings | None = None,
                  ) -> tuple[dt.date, int, list[str]]:
    """The first date, number of days and offices whose forecasts :func:`advise` reads.

    Raises the same errors as :func:`advise` for a bad request, before any forecasting.
    """
    settings = settings or AdviceSettings()
    office = offices.get(request.office_id)
    _check(request, office, calendar, settings)
    _, last = _search_window(request, calendar, settings)
    end = max(last, request.today)
    if office.takes_appointments:
        end = max(end, _appointment_date(request, office, lead_days, calendar, settings)[0])
    ids = [o.id for o in nearby_offices(office, offices, settings.nearby_km)]
    return request.today, (end - request.today).days + 1, ids


def advise(request: AdviceRequest, rows: pd.DataFrame, calendar: ChinaCalendar,
           offices: OfficeRegistry, lead_days: dict[str, float],
           settings: AdviceSettings | None = None) -> Advice:
    """The advice for one traveller.

    Args:
        request: the traveller's office, dates, residency and ``today``.
        rows: forecast rows (as ``Forecaster.forecast`` returns) covering
            :func:`forecast_span`.
        calendar: the working-day calendar.
        offices: the office registry.
        lead_days: office id → predicted booking lead in days.
        settings: the knobs (defaults documented in :class:`AdviceSettings`).

    Raises:
        UnknownOfficeError: the office is not in ``offices``.
        ParameterError: a date before ``today``, or an appointment on a closed day.
    """
    settings = settings or AdviceSettings()
    office = offices.get(request.office_id)
    _check(request, office, calendar, settings)
    issuing = issuing_time(request.residency, request.expedited)
    deadline = deadline_for(request.travel_date, issuing, calendar) if request.travel_date else None
    first, last = _search_window(request, calendar, settings)
    reasons: list[Reason] = []
    if deadline is not None:
        reasons.append(say.deadline_reason(deadline))
        if deadline.last_day_to_apply < first:
            reasons.append(say.too_late_reason(deadline, first))
    from_hour = request.now.hour + 1 if request.now is not None else 0
    likely = walk_in_candidates(rows, office, offices, calendar, first, last, from_hour,
                                deadline is not None, settings)
    found, n_near, n_days = walk_in_options(likely, office, offices, settings)
    walk_in = tuple(replace(o, document_ready=issued_on(o.date, issuing, calendar))
                    for o in found)
    appointment = None
    if office.takes_appointments:
        appointment = _appointment(request, office, rows, calendar, lead_days, deadline,
                                   issuing, settings)
        reasons.append(say.appointment_reason(office, appointment.date, appointment.lead_days,
                                              appointment.source, appointment.wait))
        if not appointment.in_time and deadline is not None:
            reasons.append(say.not_in_time_reason(appointment.date, deadline))
    else:
        reasons.append(say.walk_in_only_reason(office))
    good = good_hour(walk_in, office, settings)
    kind = _decide(office, deadline, appointment, walk_in, good, settings)
    if walk_in:
        reasons.append(say.walk_in_reason(walk_in[0], offices.get(walk_in[0].office_id),
                                          n_near, n_days))
        if walk_in[0].office_id != office.id and walk_in[-1].office_id == office.id:
            reasons.append(say.own_office_reason(office, walk_in[-1], walk_in[0]))
    elif kind is not AdviceKind.BOOK and deadline is not None and last >= first:
        reasons.append(say.no_walk_in_reason(last, settings.min_p_called))
    ready = _ready(kind, appointment, walk_in)
    reasons.append(say.decision_reason(kind.value, settings.short_walk_in_p90_minutes,
                                       good if kind is AdviceKind.WALK_IN else None, ready))
    estimated = _estimated(deadline, appointment, walk_in, calendar, request.today)
    if estimated:
        reasons.append(say.estimated_reason(_first_estimated_year(calendar, request.today)))
    return Advice(kind, office.id, request.today, deadline, issuing, ready, appointment, walk_in,
                  tuple(reasons), estimated)


def _check(request: AdviceRequest, office: Office, calendar: ChinaCalendar,
           settings: AdviceSettings) -> None:
    travel = request.travel_date
    if travel is not None and travel < request.today:
        raise ParameterError("travel_date", f"{travel} is before today ({request.today})")
    if travel is not None and (travel - request.today).days > settings.max_travel_days:
        raise ParameterError("travel_date", f"{travel} is more than "
                             f"{settings.max_travel_days} days ahead")
    slot = request.earliest_appointment
    if slot is not None:
        if slot < request.today:
            raise ParameterError("earliest_appointment", f"{slot} is before today "
                                 f"({request.today})")
        if (slot - request.today).days > settings.max_travel_days:
            raise ParameterError("earliest_appointment", f"{slot} is more than "
                                 f"{settings.max_travel_days} days ahead")
        if office.takes_appointments and not office.sessions_for(calendar.day(slot)):
            raise ParameterError("earliest_appointment", f"{office.id} is closed on {slot}")


def _search_window(request: AdviceRequest, calendar: ChinaCalendar,
                   settings: AdviceSettings) -> tuple[dt.date, dt.date]:
    first = request.today if request.now is not None else request.today + dt.timedelta(days=1)
    if request.travel_date is None:
        return first, first + dt.timedelta(days=settings.no_deadline_days - 1)
    deadline = deadline_for(request.travel_date, issuing_time(request.residency,
                                                              request.expedited), calendar)
    cap = first + dt.timedelta(days=settings.max_search_days - 1)
    return first, min(deadline.last_day_to_apply, cap)


def _appointment_date(request: AdviceRequest, office: Office, lead_days: dict[str, float],
                      calendar: ChinaCalendar, settings: AdviceSettings,
                      ) -> tuple[dt.date, float | None, str]:
    if request.earliest_appointment is not None:
        return request.earliest_appointment, None, "caller"
    lead = lead_days.get(office.id)
    source = "predicted" if lead is not None else "assumed"
    lead = settings.default_lead_days if lead is None else lead
    date = request.today + dt.timedelta(days=max(1, math.ceil(lead)))
    for _ in range(60):  # the next open day on or after today + lead
        if office.sessions_for(calendar.day(date)):
            break
        date += dt.timedelta(days=1)
    return date, lead, source


def _appointment(request: AdviceRequest, office: Office, rows: pd.DataFrame,
                 calendar: ChinaCalendar, lead_days: dict[str, float], deadline: Deadline | None,
                 issuing: IssuingTime, settings: AdviceSettings) -> AppointmentOption:
    date, lead, source = _appointment_date(request, office, lead_days, calendar, settings)
    day_rows = open_hour_rows(rows[rows[s.OFFICE_ID].astype(str) == office.id], OfficeRegistry(
        [office]), calendar, s.Channel.APPOINTMENT.value, date, date)
    wait = None
    if not day_rows.empty:
        best = day_rows.sort_values([EXPECTED, s.HOUR]).head(1)
        wait = to_options(best.assign(distance_km=0.0, near_best=True),
                          s.Channel.APPOINTMENT.value)[0]
    in_time = deadline is None or date <= deadline.last_day_to_apply
    return AppointmentOption(office.id, date, lead, source, wait, in_time,
                             issued_on(date, issuing, calendar))


def _decide(office: Office, deadline: Deadline | None, appointment: AppointmentOption | None,
            walk_in: tuple[HourOption, ...], good: HourOption | None,
            settings: AdviceSettings) -> AdviceKind:
    can_walk_in = bool(walk_in)
    if appointment is None or (deadline is not None and not appointment.in_time):
        if can_walk_in or deadline is None:
            return AdviceKind.WALK_IN
        return AdviceKind.URGENT_SERVICE
    if good is not None and good.p90 <= settings.short_walk_in_p90_minutes:
        return AdviceKind.WALK_IN
    return AdviceKind.BOOK


def _ready(kind: AdviceKind, appointment: AppointmentOption | None,
           walk_in: tuple[HourOption, ...]) -> dt.date | None:
    if kind is AdviceKind.BOOK and appointment is not None:
        return appointment.document_ready
    if kind is AdviceKind.WALK_IN and walk_in:
        return walk_in[0].document_ready
    return None


def _estimated(deadline: Deadline | None, appointment: AppointmentOption | None,
               walk_in: tuple[HourOption, ...], calendar: ChinaCalendar, today: dt.date) -> bool:
    dates = [today]
    if appointment is not None:
        dates += [appointment.date, appointment.document_ready]
    dates += [d for o in walk_in for d in (o.date, o.document_ready) if d is not None]
    return bool((deadline and deadline.calendar_estimated)
                or any(calendar.is_estimated(d) for d in dates)
                or any(o.calendar_estimated for o in walk_in))


def _first_estimated_year(calendar: ChinaCalendar, today: dt.date) -> int:
    return max(calendar.last_official_year + 1, today.year)
