"""The quickest hours in a date range, at one office or across offices (pure)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import schema as s
from serving.advice.context import AdviceContext
from serving.advice.hours import (
    COST,
    DISTANCE_KM,
    NEAR_BEST,
    near_best_mask,
    open_hours,
    with_cost,
)
from serving.advice.options import HourOption, to_options
from serving.advice.table import ORDINAL, ROW_ID, Table, filled

UNLIKELY, RANK, FAR = "_unlikely", "_rank", "_far"


def best_times(
    rows: pd.DataFrame,
    ctx: AdviceContext,
    first: dt.date,
    last: dt.date,
    channel: str = s.Channel.WALK_IN.value,
    limit: int = 10,
    near: tuple[float, float] | None = None,
    from_hour_on_first: int = 0,
) -> list[HourOption]:
    """The open hours with the shortest predicted wait in [first, last], from forecast
    rows (see :func:`best_times_of`)."""
    hours = open_hours(rows, ctx, channel, first, last, from_hour_on_first)
    return best_times_of(hours, ctx, channel, limit, near)


def best_times_of(
    hours: Table,
    ctx: AdviceContext,
    channel: str = s.Channel.WALK_IN.value,
    limit: int = 10,
    near: tuple[float, float] | None = None,
) -> list[HourOption]:
    """The quickest of these open hours (:func:`serving.advice.hours.open_hours`).

    The near-best hours (by cost, among those with at least ``min_p_called`` chance of
    being called) come first — nearest office first when ``near`` is given, and the best
    hour of each day before second hours of a day, so that the list spreads people over
    days — then the other likely hours by cost, then the unlikely ones. The cost counts
    the travel there and back from ``near`` when it is given (:mod:`serving.advice.cost`).
    """
    settings = ctx.settings
    if hours.empty:
        return []
    frame = with_cost(hours, ctx, near)
    unlikely = filled(frame[s.P_CALLED], 1.0) < settings.min_p_called
    best = np.zeros(len(frame), dtype=bool)
    best[~unlikely] = near_best_mask(frame.take(~unlikely), settings)
    key = frame[COST].astype(float) + np.where(unlikely, 1e9, 0.0)  # likely hours first
    frame = frame.assign(
        **{
            NEAR_BEST: best,
            UNLIKELY: unlikely,
            RANK: _rank_in_day(frame, key),
            FAR: filled(frame[DISTANCE_KM], np.inf),
        }
    )
    good = frame.take(best).sorted_by([FAR, RANK, ORDINAL, s.HOUR, s.OFFICE_ID])
    rest = frame.take(~best).sorted_by([UNLIKELY, COST, FAR, ORDINAL, s.HOUR, s.OFFICE_ID])
    return to_options(Table.concat([good, rest]).head(limit), channel)


def _rank_in_day(frame: Table, key: np.ndarray) -> np.ndarray:
    """Each row's rank by ``key`` among the rows of its office and date (1 = least; ties
    in row order), as ``groupby(...).rank(method="first")``."""
    office = np.unique(frame[s.OFFICE_ID].astype(str), return_inverse=True)[1]
    group = office * 1_000_000 + frame[ORDINAL]
    order = np.lexsort((frame[ROW_ID], key, group))
    sorted_group = group[order]
    starts = np.r_[True, sorted_group[1:] != sorted_group[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    rank = np.empty(len(order), dtype=float)
    rank[order] = np.arange(len(order)) - first + 1
    return rank
