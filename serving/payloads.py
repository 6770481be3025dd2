"""Forecast frames → the JSON bytes the forecast route sends, and their ETags.

The shape is :class:`serving.schemas.ForecastResponse`; it is written here by hand (no
pydantic on the hot path) and a test checks that the two agree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from features import schema as s
from features.calendar_cn import DayInfo
from features.offices import Office
from serving.advice.cost import expected_wait, hour_cost
from serving.advice.hours import COST  # the ranking measure, here without travel
from serving.advice.settings import AdviceSettings
from serving.switches import ESTIMATOR, ESTIMATOR_REASON, MODEL_P50, with_estimator

ALL_CHANNELS = ""  # the channel-filter key of an unfiltered answer
CALENDAR_ESTIMATED = "calendar_estimated"
ROW_KEYS = (
    s.HOUR,
    s.CHANNEL,
    s.SERVICE,
    s.P10,
    s.P50,
    s.P90,
    s.EXPECTED_ARRIVALS,
    s.P_CALLED,
    COST,
    ESTIMATOR,
    ESTIMATOR_REASON,
)
_COST_SETTINGS = AdviceSettings()
_CHANNEL_ORDER = {c: i for i, c in enumerate(s.CHANNELS)}


def _number(value: Any, digits: int) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, digits)


def rounded_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Forecast rows as JSON-ready dicts: minutes and arrivals to 1 decimal, p_called to 3."""
    if ESTIMATOR_REASON not in frame:
        frame = with_estimator(frame)
    rows = []
    for record, cost in zip(frame.to_dict("records"), _costs(frame), strict=True):
        rows.append(
            {
                s.OFFICE_ID: str(record[s.OFFICE_ID]),
                s.DATE: record[s.DATE],
                s.HOUR: int(record[s.HOUR]),
                s.CHANNEL: str(record[s.CHANNEL]),
                s.SERVICE: str(record[s.SERVICE]),
                s.P10: _number(record[s.P10], 1),
                s.P50: _number(record[s.P50], 1),
                s.P90: _number(record[s.P90], 1),
                s.EXPECTED_ARRIVALS: _number(record[s.EXPECTED_ARRIVALS], 1),
                s.P_CALLED: _number(record[s.P_CALLED], 3),
                COST: _number(cost, 1),
                ESTIMATOR: str(record[ESTIMATOR]),
                ESTIMATOR_REASON: record[ESTIMATOR_REASON],
                CALENDAR_ESTIMATED: bool(record[CALENDAR_ESTIMATED]),
            }
        )
    rows.sort(key=lambda r: (r[s.HOUR], _CHANNEL_ORDER.get(r[s.CHANNEL], 9), r[s.SERVICE]))
    return rows


def exact_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Forecast rows as dicts with the forecast's own values (NaN stays NaN), same order."""
    if ESTIMATOR_REASON not in frame:
        frame = with_estimator(frame)
    columns = [s.OFFICE_ID, s.DATE, *ROW_KEYS, CALENDAR_ESTIMATED, MODEL_P50]
    order = frame[s.CHANNEL].astype(str).map(_CHANNEL_ORDER).fillna(9)
    out = frame.assign(**{COST: _costs(frame), "_order": order.to_numpy()})
    out = out.sort_values([s.HOUR, "_order", s.SERVICE], kind="stable")[columns]
    records: list[dict[str, Any]] = out.to_dict("records")
    return records


def _costs(frame: pd.DataFrame) -> np.ndarray:
    """The cost of each row (serving.advice.cost), travel left out."""
    values = {c: frame[c].to_numpy(float) for c in (s.P10, s.P50, s.P90, s.P_CALLED)}
    expected = expected_wait(values[s.P10], values[s.P50], values[s.P90])
    return hour_cost(expected, values[s.P_CALLED], np.zeros(len(frame)), _COST_SETTINGS)


def etag(version: str, office_id: str, date: dt.date, channel: str) -> str:
    """A strong ETag: the same model version and key always give the same bytes."""
    key = f"{version}|{office_id}|{date.isoformat()}|{channel}".encode()
    return '"' + hashlib.blake2b(key, digest_size=12).hexdigest() + '"'


def day_body(
    version: str,
    office: Office,
    day: DayInfo,
    closed: bool,
    rows: list[dict[str, Any]],
    channel: str,
) -> bytes:
    """The JSON answer for one office, date and channel filter ("" = every channel)."""
    hours = [
        {key: row[key] for key in ROW_KEYS}
        for row in rows
        if not channel or row[s.CHANNEL] == channel
    ]
    body = {
        "model_version": version,
        s.OFFICE_ID: office.id,
        "office_name_zh": office.name_zh,
        "office_name_en": office.name_en,
        "date": day.date.isoformat(),
        "channel": channel or None,
        "closed": closed,
        "holiday_zh": day.holiday_zh,
        "holiday_en": day.holiday_en,
        "makeup_day": day.makeup,
        CALENDAR_ESTIMATED: day.estimated or any(r[CALENDAR_ESTIMATED] for r in rows),
        "hours": hours,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
