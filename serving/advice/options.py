"""One offered hour (:class:`HourOption`), built from a ranked frame of forecast rows.

Values stay as the forecast gives them (no rounding): the response writers round.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from features import schema as s
from serving.advice.hours import COST, DISTANCE_KM, ESTIMATED, EXPECTED, NEAR_BEST, TRAVEL


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


def to_options(frame: pd.DataFrame, channel: str) -> list[HourOption]:
    """Rows (with cost and near-best columns) as :class:`HourOption` objects."""
    options = []
    for row in frame.itertuples(index=False):
        called = getattr(row, s.P_CALLED)
        distance = getattr(row, DISTANCE_KM)
        travel = getattr(row, TRAVEL)
        options.append(
            HourOption(
                office_id=str(getattr(row, s.OFFICE_ID)),
                date=getattr(row, s.DATE),
                hour=int(getattr(row, s.HOUR)),
                channel=channel,
                p10=float(getattr(row, s.P10)),
                p50=float(getattr(row, s.P50)),
                p90=float(getattr(row, s.P90)),
                expected_wait=float(getattr(row, EXPECTED)),
                p_called=None if pd.isna(called) else float(called),
                distance_km=None if pd.isna(distance) else float(distance),
                near_best=bool(getattr(row, NEAR_BEST)),
                calendar_estimated=bool(getattr(row, ESTIMATED)),
                travel_minutes=None if pd.isna(travel) else float(travel),
                cost_minutes=float(getattr(row, COST)),
            )
        )
    return options
