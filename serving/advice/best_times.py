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
    open_hour_rows,
    with_cost,
)
from serving.advice.options import HourOption, to_options


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
    """The open hours with the shortest predicted wait in [first, last].

    The near-best hours (by cost, among those with at least ``min_p_called`` chance of
    being called) come first — nearest office first when ``near`` is given, and the best
    hour of each day before second hours of a day, so that the list spreads people over
    days — then the other likely hours by cost, then the unlikely ones. The cost counts
    the travel there and back from ``near`` when it is given (:mod:`serving.advice.cost`).
    """
    settings = ctx.settings
    frame = open_hour_rows(rows, ctx, channel, first, last, from_hour_on_first)
    if frame.empty:
        return []
    frame = with_cost(frame, ctx, near)
    unlikely = (frame[s.P_CALLED].fillna(1.0) < settings.min_p_called).to_numpy()
    frame[NEAR_BEST] = False
    frame.loc[~unlikely, NEAR_BEST] = near_best_mask(frame[~unlikely], settings)
    frame["_unlikely"] = unlikely
    frame["_key"] = frame[COST] + np.where(unlikely, 1e9, 0.0)  # likely hours rank first
    frame["_rank"] = frame.groupby([s.OFFICE_ID, s.DATE])["_key"].rank(method="first")
    frame["_far"] = frame[DISTANCE_KM].fillna(np.inf)
    good = frame[frame[NEAR_BEST]].sort_values(["_far", "_rank", s.DATE, s.HOUR, s.OFFICE_ID])
    rest = frame[~frame[NEAR_BEST]].sort_values(
        ["_unlikely", COST, "_far", s.DATE, s.HOUR, s.OFFICE_ID]
    )
    ordered = pd.concat([good, rest]).head(limit)
    return to_options(ordered, channel)
