"""One offered hour (:class:`HourOption`), built from a ranked table of forecast rows.

Values stay as the forecast gives them (no rounding): the response writers round.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from features import schema as s
from serving.advice.hours import COST, DISTANCE_KM, ESTIMATED, EXPECTED, NEAR_BEST, TRAVEL
from serving.advice.table import Table


@dataclass(frozen=True, slots=True)
class HourOption:
    """One office hour on one date, with its predicted wait."""

    office_id: str
    date: dt.date
    hour: int
    channel: str
    p10: float
    p50: float
    p90: float
    expected_wait: float  # 0.3·p10 + 0.4·p50 + 0.3·p90
    p_called: float | None  # walk-ins only
    distance_km: float | None  # from the citizen's location (or the chosen office)
    near_best: bool
    calendar_estimated: bool
    document_ready: dt.date | None = None  # set by the advice for walk-in options
    last_day_to_apply: dt.date | None = None  # ... the last day this office opens in time
    travel_minutes: float | None = None  # door to door, there and back (None: unknown)
    cost_minutes: float | None = None  # the ranking measure (serving.advice.cost)


def _number(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def to_options(frame: Table, channel: str) -> list[HourOption]:
    """Rows (with cost and near-best columns) as :class:`HourOption` objects."""
    columns = [
        frame[c]
        for c in (
            s.OFFICE_ID,
            s.DATE,
            s.HOUR,
            s.P10,
            s.P50,
            s.P90,
            EXPECTED,
            s.P_CALLED,
            DISTANCE_KM,
            NEAR_BEST,
            ESTIMATED,
            TRAVEL,
            COST,
        )
    ]
    return [
        HourOption(
            office_id=str(office),
            date=date,
            hour=int(hour),
            channel=channel,
            p10=float(p10),
            p50=float(p50),
            p90=float(p90),
            expected_wait=float(expected),
            p_called=_number(called),
            distance_km=_number(distance),
            near_best=bool(near_best),
            calendar_estimated=bool(estimated),
            travel_minutes=_number(travel),
            cost_minutes=float(cost),
        )
        for (
            office,
            date,
            hour,
            p10,
            p50,
            p90,
            expected,
            called,
            distance,
            near_best,
            estimated,
            travel,
            cost,
        ) in zip(*columns, strict=True)
    ]
