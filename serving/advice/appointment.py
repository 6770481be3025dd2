"""The appointment option: its date (given, or today + the predicted lead), its wait."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from features import schema as s
from features.offices import Office
from serving.advice.context import AdviceContext
from serving.advice.deadline import Deadline, IssuingTime, ready_date
from serving.advice.hours import COST, NEAR_BEST, with_cost
from serving.advice.options import HourOption, to_options
from serving.advice.table import Table


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


def appointment_date(
    office: Office, today: dt.date, given: dt.date | None, ctx: AdviceContext
) -> tuple[dt.date, float | None, str]:
    """The appointment's date, the lead it comes from and the source of that lead.

    The slot the caller ``given`` wins; else today + the office's predicted booking lead
    (``default_lead_days`` when the model has none), moved to the next open day.
    """
    if given is not None:
        return given, None, "caller"
    lead = ctx.lead_days.get(office.id)
    source = "predicted" if lead is not None else "assumed"
    lead = ctx.settings.default_lead_days if lead is None else lead
    date = today + dt.timedelta(days=max(1, math.ceil(lead)))
    return ctx.next_open_day(office, date), lead, source


def appointment_option(
    office: Office,
    date: dt.date,
    lead: float | None,
    source: str,
    day_hours: Table,
    ctx: AdviceContext,
    deadline: Deadline | None,
    issuing: IssuingTime,
    start: tuple[float, float] | None,
) -> AppointmentOption:
    """The appointment on ``date`` with its best hour's wait (from ``day_hours``: the
    office's open appointment hours that day), and whether it is in time."""
    wait = None
    if not day_hours.empty:
        ranked = with_cost(day_hours, ctx, start).sorted_by([COST, s.HOUR])
        best = ranked.head(1)
        best = best.assign(**{NEAR_BEST: np.ones(len(best), dtype=bool)})
        wait = to_options(best, s.Channel.APPOINTMENT.value)[0]
    in_time = deadline is None or date <= deadline.last_day_to_apply
    ready = ready_date(date, issuing, ctx.calendar_of(office))
    return AppointmentOption(office.id, date, lead, source, wait, in_time, ready)
