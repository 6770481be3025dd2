"""Walk-in candidates and options of the advice: reasonable hours, spread near-best picks.

Pure: no I/O, no clock. See :mod:`serving.advice.hours` for the ranking and the near-best
rule, and :mod:`serving.advice.decision` for how the options feed the decision.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from features import schema as s
from features.offices import Office
from serving.advice.context import AdviceContext
from serving.advice.hours import (
    DISTANCE_KM,
    NEAR_BEST,
    near_best_mask,
    open_hour_rows,
    spread_pick,
    with_distance,
)
from serving.advice.options import HourOption, to_options
from serving.advice.settings import AdviceSettings


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


def walk_in_options(
    walk: pd.DataFrame, office: Office, ctx: AdviceContext
) -> tuple[list[HourOption], int, int]:
    """The spread near-best options, the size of the near-best set and its number of days."""
    if walk.empty:
        return [], 0, 0
    settings = ctx.settings
    frame = with_distance(walk, ctx.offices, office.lat, office.lon)
    frame.loc[frame[s.OFFICE_ID] == office.id, DISTANCE_KM] = 0.0
    frame[NEAR_BEST] = near_best_mask(frame, settings)
    good = frame[frame[NEAR_BEST]]
    per_office = settings.max_options_per_office
    picked = spread_pick(good, per_office, settings.max_options)
    own = frame[frame[s.OFFICE_ID] == office.id]
    if not own.empty and office.id not in set(picked[s.OFFICE_ID]):
        # the office itself is not comparable: still show its own best hours, last
        mine = spread_pick(own[near_best_mask(own, settings)], per_office, per_office)
        picked = pd.concat([picked, mine])
    return to_options(picked, s.Channel.WALK_IN.value), len(good), good[s.DATE].nunique()


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


def good_hour(
    options: tuple[HourOption, ...], office: Office, settings: AdviceSettings
) -> HourOption | None:
    """The offered walk-in hour the short-wait rule looks at (None without one).

    The first offered hour with a p90 of at most ``short_walk_in_p90_minutes``, else the
    one with the least p90; at the office itself, unless ``short_walk_in_anywhere``.
    """
    mine = [o for o in options if settings.short_walk_in_anywhere or o.office_id == office.id]
    short = [o for o in mine if o.p90 <= settings.short_walk_in_p90_minutes]
    return short[0] if short else min(mine, key=lambda o: o.p90, default=None)
