"""Walk-in candidates and options of the advice: reasonable hours, spread near-best picks.

Pure: no I/O, no clock. See :mod:`serving.advice.hours` for the ranking and the near-best
rule, and :mod:`serving.advice.decision` for how the options feed the decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema as s
from features.offices import Office
from serving.advice.context import AdviceContext
from serving.advice.hours import (
    COST,
    DISTANCE_KM,
    NEAR_BEST,
    SPARE,
    near_best_mask,
    open_hour_rows,
    rotation_pick,
    spread_pick,
    with_cost,
    with_spare,
)
from serving.advice.options import HourOption, to_options
from serving.advice.settings import AdviceSettings

_SHORT_RULE_LOOKS_AT = 8  # the cheapest near-best hours the short-wait rule considers


def walk_in_candidates(
    rows: pd.DataFrame,
    office: Office,
    near: list[Office],
    ctx: AdviceContext,
    first: dt.date,
    last: dt.date,
    from_hour: int,
    has_deadline: bool,
) -> pd.DataFrame:
    """Open walk-in hours in [first, last] at the ``near`` offices, worth going to.

    Worth going to: at least ``min_p_called`` chance of being called before closing (and
    ``last_chance_p_called`` on an office's last open day before a deadline). A walk-in-only
    office without a deadline falls back to all its hours when none qualifies.
    """
    settings = ctx.settings
    near_rows = rows[rows[s.OFFICE_ID].astype(str).isin([o.id for o in near])]
    walk = open_hour_rows(near_rows, ctx, s.Channel.WALK_IN.value, first, last, from_hour)
    likely = walk[walk[s.P_CALLED].fillna(1.0) >= settings.min_p_called]
    if has_deadline and not likely.empty:
        likely = last_chance_filter(likely, settings)
    if likely.empty and not has_deadline and not office.takes_appointments:
        likely = walk  # nowhere else to go: offer the best hours there are
    return likely


@dataclass(frozen=True, slots=True)
class WalkInChoice:
    """The walk-in options offered, the near-best set they come from, and the hour the
    short-wait rule looks at (chosen before any rotation, so the advice does not depend on
    the request's turn)."""

    options: list[HourOption]
    n_near_best: int
    n_days: int
    good: HourOption | None


def walk_in_options(
    walk: pd.DataFrame,
    office: Office,
    ctx: AdviceContext,
    start: tuple[float, float] | None,
    load: pd.Series,
    turn: int,
    has_deadline: bool = False,
) -> WalkInChoice:
    """The near-best hours, ranked by cost from ``start``: the hour request ``turn`` is
    served first (:func:`rotation_pick`, by spare capacity), then the others spread over
    offices and days; the office's own best hours last when none is near-best."""
    if walk.empty:
        return WalkInChoice([], 0, 0, None)
    settings = ctx.settings
    frame = with_cost(walk, ctx, start)
    frame[NEAR_BEST] = near_best_mask(frame, settings)
    good = with_spare(frame[frame[NEAR_BEST]], load, ctx)
    good = good.sort_values([COST, DISTANCE_KM, s.DATE, s.HOUR, s.OFFICE_ID], kind="stable")
    per_office = settings.max_options_per_office
    spread = spread_pick(good, per_office, settings.max_options)
    served = _with_retry_days(good, walk, settings.retry_days) if has_deadline else good
    first = served.iloc[[rotation_pick(served[SPARE].to_numpy(float), turn)]]
    if first.index[0] not in spread.index:  # make room for it: its office's last, or the last
        same = spread[spread[s.OFFICE_ID] == first[s.OFFICE_ID].iloc[0]]
        full = len(same) >= per_office or len(spread) >= settings.max_options
        spread = spread.drop(
            index=(same if len(same) >= per_office else spread).index[-1:] if full else []
        )
    picked = pd.concat([first, spread.drop(index=first.index, errors="ignore")])
    own = frame[frame[s.OFFICE_ID] == office.id]
    own_best = own[near_best_mask(own, settings)].sort_values([COST, s.DATE, s.HOUR])
    if not own.empty and office.id not in set(picked[s.OFFICE_ID]):
        # the office itself is not comparable: still show its own best hours, last
        picked = pd.concat([picked, spread_pick(own_best, per_office, per_office)])
    mine = own_best if not settings.short_walk_in_anywhere else good
    short = to_options(mine.head(_SHORT_RULE_LOOKS_AT), s.Channel.WALK_IN.value)
    return WalkInChoice(
        to_options(picked, s.Channel.WALK_IN.value),
        len(good),
        good[s.DATE].nunique(),
        good_hour(short, settings),
    )


def _with_retry_days(good: pd.DataFrame, walk: pd.DataFrame, days: int) -> pd.DataFrame:
    """The near-best hours that leave ``days`` later candidate days at their office to come
    back on if sent home before the deadline (all of them when none does)."""
    dates = walk.groupby(s.OFFICE_ID)[s.DATE].unique()
    later = [
        int(np.sum(dates[office] > date))
        for office, date in zip(good[s.OFFICE_ID], good[s.DATE], strict=True)
    ]
    keep = np.array(later, dtype=int) >= days
    return good[keep] if keep.any() else good


def last_chance_filter(likely: pd.DataFrame, settings: AdviceSettings) -> pd.DataFrame:
    """On an office's last open day before the deadline, keep only near-certain hours.

    Sent home at closing that day, there is no later day to come back, so an hour there
    needs ``last_chance_p_called`` rather than ``min_p_called``.
    """
    last_day = likely.groupby(s.OFFICE_ID)[s.DATE].transform("max")
    risky = (likely[s.DATE] == last_day) & (
        likely[s.P_CALLED].fillna(1.0) < settings.last_chance_p_called
    )
    return likely[~risky]


def good_hour(options: list[HourOption], settings: AdviceSettings) -> HourOption | None:
    """The hour the short-wait rule looks at (None without one): the first with a p90 of
    at most ``short_walk_in_p90_minutes``, else the one with the least p90."""
    short = [o for o in options if o.p90 <= settings.short_walk_in_p90_minutes]
    return short[0] if short else min(options, key=lambda o: o.p90, default=None)
