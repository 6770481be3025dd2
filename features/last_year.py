"""The same weeks one year before: a season seen in the data, with its own evidence.

For a target date the *last-year date* is 52 weeks earlier (the same weekday), or, near a
holiday, the same day relative to the same holiday last year (the Spring Festival moves by
weeks). Two features per target column (:data:`features.spec.LAST_YEAR_TARGETS`):

- ``last_year_hour_*``: the queue's mean at the target hour on the last-year date and the
  same weekday a week before and after;
- ``last_year_ratio_*``: the queue's mean in the week around the last-year date over its
  mean in the ``cell_weeks`` weeks before the origin's last-year date — how much busier
  that season was than the weeks before it. Times today's level, a seasonal forecast.

Both are missing where last year's weeks fall in a surge or straddle a change (dated
events), so a one-off event never poses as a season.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import schema as s
from features.calendar_base import WorkCalendar
from features.calendars import Calendars
from features.events import EventKind
from features.levels import DAY
from features.offices import OfficeRegistry
from features.spec import LAST_YEAR_TARGETS, ORIGIN, FeatureSpec

WEEKS_52 = 364
HOLIDAY_REACH = 10  # days from a holiday within which dates align on the holiday


def aligned_last_year(date: dt.date, calendar: WorkCalendar) -> dt.date:
    """The last-year date of ``date``: holiday-aligned near a holiday, else 52 weeks back."""
    for distance in range(HOLIDAY_REACH + 1):
        for near in (date - dt.timedelta(days=distance), date + dt.timedelta(days=distance)):
            info = calendar.day(near)
            if info.holiday and info.holiday_en:
                start = _block_start(near, info.holiday_en, calendar)
                before = _same_holiday_last_year(start, info.holiday_en, calendar)
                if before is not None:
                    return before + (date - start)
                return date - dt.timedelta(days=WEEKS_52)
    return date - dt.timedelta(days=WEEKS_52)


def _block_start(day: dt.date, name: str, calendar: WorkCalendar) -> dt.date:
    while calendar.day(day - dt.timedelta(days=1)).holiday_en == name:
        day -= dt.timedelta(days=1)
    return day


def _same_holiday_last_year(start: dt.date, name: str, calendar: WorkCalendar) -> dt.date | None:
    for back in range(330, 400):
        day = start - dt.timedelta(days=back)
        if calendar.day(day).holiday_en == name:
            return _block_start(day, name, calendar)
    return None


def last_year_features(
    X: pd.DataFrame,
    history: pd.DataFrame,
    calendars: Calendars,
    offices: OfficeRegistry,
    spec: FeatureSpec,
) -> pd.DataFrame:
    """The last-year features of rows ``X`` (queue keys, date, hour, origin).

    ``history`` is the hourly table with day numbers (:func:`features.levels.with_day_numbers`).
    """
    queue = list(s.QUEUE_KEYS)
    targets = list(LAST_YEAR_TARGETS)
    pairs = X[[s.OFFICE_ID, s.DATE]].drop_duplicates()
    aligned = {
        (o, d): aligned_last_year(d, calendars.of(offices.get(str(o)))).toordinal()
        for o, d in pairs.itertuples(index=False)
    }
    ly = np.array([aligned[(o, d)] for o, d in zip(X[s.OFFICE_ID], X[s.DATE], strict=True)])
    origin = np.array([d.toordinal() for d in X[ORIGIN]])
    rows = X[[*queue, s.HOUR]].assign(_ly=ly, _origin=origin, _row=np.arange(len(X)))
    values = history[[*queue, DAY, s.HOUR, *targets]]
    # The target hour on the last-year date and a week before and after.
    hour_parts = []
    for offset in (-7, 0, 7):
        keyed = rows.assign(**{DAY: rows["_ly"] + offset})
        hour_parts.append(keyed.merge(values, on=[*queue, DAY, s.HOUR], how="inner"))
    per_hour = pd.concat(hour_parts).groupby("_row")[targets].mean()
    # The week around the last-year date over the weeks before the origin's last-year date.
    daily = values.groupby([*queue, DAY], observed=True)[targets].mean().reset_index()
    week = _window_mean(rows, daily, "_ly", -3, 3)
    before = _window_mean(rows, daily, "_origin", -WEEKS_52 - 7 * spec.cell_weeks, -WEEKS_52 - 1)
    ratio = week / before.where(before > 0)
    out = pd.DataFrame(index=X.index)
    valid = _valid(rows, offices, spec)
    for target in targets:
        hour = per_hour[target].reindex(np.arange(len(X))).to_numpy()
        out[spec.last_year_hour(target)] = np.where(valid, hour, np.nan)
        out[spec.last_year_ratio(target)] = np.where(valid, ratio[target].to_numpy(), np.nan)
    return out


def _window_mean(
    rows: pd.DataFrame, daily: pd.DataFrame, anchor: str, first: int, last: int
) -> pd.DataFrame:
    """Per row: the queue's mean daily value over days [anchor + first, anchor + last]."""
    queue = list(s.QUEUE_KEYS)
    anchors = rows[[*queue, anchor]].drop_duplicates()
    parts = [
        anchors.assign(**{DAY: anchors[anchor] + offset}).merge(
            daily, on=[*queue, DAY], how="inner"
        )
        for offset in range(first, last + 1)
    ]
    means = pd.concat(parts).groupby([*queue, anchor], observed=True)[list(LAST_YEAR_TARGETS)]
    table = means.mean().reset_index()
    merged = rows[[*queue, anchor]].merge(table, on=[*queue, anchor], how="left")
    return merged[list(LAST_YEAR_TARGETS)].reset_index(drop=True)


def _valid(rows: pd.DataFrame, offices: OfficeRegistry, spec: FeatureSpec) -> np.ndarray:
    """Rows whose last-year weeks are before the origin and free of one-off events."""
    first = rows["_origin"].to_numpy() - WEEKS_52 - 7 * spec.cell_weeks
    last = rows["_ly"].to_numpy() + 7
    valid = last < rows["_origin"].to_numpy()
    country = rows[s.OFFICE_ID].astype(str).map(offices.countries()).to_numpy()
    for event in spec.events:
        start = event.start.toordinal()
        mine = country == event.country
        if event.kind is EventKind.SURGE and event.end is not None:
            end = event.end.toordinal()
            valid &= ~(mine & (first <= end) & (last >= start))
        elif event.kind is EventKind.CHANGE:
            valid &= ~(mine & (first <= start) & (last >= start))
    return valid
