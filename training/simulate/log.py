"""The ticket log frame: columns, ticket ids, and minutes turned into local datetimes."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields

import numpy as np
import pandas as pd

from features import schema as s
from training.simulate.config import SimConfig
from training.simulate.office_day import APPOINTMENT_CODE, DayTickets

LOG_COLUMNS = (
    s.OFFICE_ID,
    s.TICKET_ID,
    s.CHANNEL,
    s.SERVICE,
    s.ISSUED_AT,
    s.CALLED_AT,
    s.FINISHED_AT,
    s.APPOINTMENT_AT,
    s.BOOKED_AT,
    s.WINDOW_ID,
    s.DOCUMENTS,
)
_NAT = np.iinfo(np.int64).min
_NS_PER_SECOND = 1_000_000_000
_NS_PER_DAY = 86_400 * _NS_PER_SECOND


def day_starts(first: dt.date, day_index: np.ndarray) -> np.ndarray:
    """Midnight of plan days (``first`` + index) as int64 nanoseconds."""
    first_ns = np.datetime64(first, "D").astype("M8[ns]").astype(np.int64)
    return first_ns + day_index.astype(np.int64) * _NS_PER_DAY


def to_datetimes(day_ns: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Naive local datetime64[ns], cut to whole seconds; NaN minutes become NaT."""
    missing = np.isnan(minutes)
    seconds = np.floor(np.where(missing, 0.0, minutes) * 60.0).astype(np.int64)
    out = day_ns + seconds * _NS_PER_SECOND
    out[missing] = _NAT
    return out.view("M8[ns]")


def _labels(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Labels like A0001 for 1-based numbers (0 or less = missing)."""
    top = int(numbers.max()) if len(numbers) else 0
    table = np.array([None, *(f"{prefix}{k:0{width}d}" for k in range(1, top + 1))], dtype=object)
    return table[np.maximum(numbers, 0)]


def assemble_log(
    office_id: str, first: dt.date, days: list[tuple[int, DayTickets]], config: SimConfig
) -> pd.DataFrame:
    """The log frame of one office from its simulated days, sorted by issue time and
    ticket id.

    Args:
        office_id: the office.
        first: the plan's first date (day index 0).
        days: (plan-day index, tickets) of each simulated open day, in date order.
        config: the parameters (service names).
    """
    if not days:
        return empty_log()
    sizes = [len(t.issued) for _, t in days]
    day = np.repeat([i for i, _ in days], sizes).astype(np.int64)
    join = {
        f.name: np.concatenate([getattr(t, f.name) for _, t in days]) for f in fields(DayTickets)
    }
    day_ns = day_starts(first, day)
    issued = to_datetimes(day_ns, join["issued"])
    # Sort within the office by issue second, then ticket id (channel prefix, number).
    order = np.lexsort((join["number"], join["channel"], issued.view(np.int64)))
    channel = join["channel"][order]
    appointment = channel == APPOINTMENT_CODE
    booked_ns = day_starts(first, np.maximum(join["booked_day"][order], 0))
    ticket_id = np.where(
        appointment,
        _labels("A", np.where(appointment, join["number"][order], 0), 4),
        _labels("W", np.where(appointment, 0, join["number"][order]), 4),
    )
    names = np.array([svc.name for svc in config.services], dtype=object)
    channels = np.array([s.Channel.APPOINTMENT.value, s.Channel.WALK_IN.value], dtype=object)
    return pd.DataFrame(
        {
            s.OFFICE_ID: np.full(len(order), office_id, dtype=object),
            s.TICKET_ID: ticket_id,
            s.CHANNEL: channels[channel],
            s.SERVICE: names[join["service"][order]],
            s.ISSUED_AT: issued[order],
            s.CALLED_AT: to_datetimes(day_ns[order], join["called"][order]),
            s.FINISHED_AT: to_datetimes(day_ns[order], join["finished"][order]),
            s.APPOINTMENT_AT: to_datetimes(day_ns[order], join["appointment"][order]),
            s.BOOKED_AT: to_datetimes(booked_ns, join["booked_minute"][order]),
            s.WINDOW_ID: _labels("W", join["window"][order] + 1, 2),
            s.DOCUMENTS: join["documents"][order].astype(np.int64),
        },
        columns=list(LOG_COLUMNS),
    )


def empty_log() -> pd.DataFrame:
    """A log with no tickets, with the columns and dtypes of a full one."""
    columns: dict[str, object] = {name: pd.array([], dtype="str") for name in LOG_COLUMNS}
    for name in s.TICKET_TIME_COLUMNS:
        columns[name] = np.empty(0, dtype="M8[ns]")
    columns[s.DOCUMENTS] = np.empty(0, dtype=np.int64)
    return pd.DataFrame(columns, columns=list(LOG_COLUMNS))
