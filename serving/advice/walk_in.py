"""Walk-in candidates and options of the advice: reasonable hours, spread near-best picks.

Pure: no I/O, no clock. See :mod:`serving.advice.hours` for the ranking and the near-best
rule, and :mod:`serving.advice.decision` for how the options feed the decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from features import schema as s
from features.offices import Office
from serving.advice.context import AdviceContext
from serving.advice.hours import (
    COST,
    DISTANCE_KM,
    NEAR_BEST,
    SPARE,
    near_best_mask,
    rotation_pick,
    spread_pick,
    with_cost,
    with_spare,
)
from serving.advice.options import HourOption, to_options
from serving.advice.settings import AdviceSettings
from serving.advice.table import ORDINAL, ROW_ID, Table, filled

_SHORT_RULE_LOOKS_AT = 8  # the cheapest near-best hours the short-wait rule considers


def walk_in_candidates(
    walk: Table,
    office: Office,
    ctx: AdviceContext,
    has_deadline: bool,
) -> Table:
    """The open walk-in hours ``walk`` (of the nearby offices, in the search window) worth
    going to.

    Worth going to: at least ``min_p_called`` chance of being called before closing (and
    ``last_chance_p_called`` on an office's last open day before a deadline). A walk-in-only
    office without a deadline falls back to all its hours when none qualifies.
    """
    settings = ctx.settings
    likely = walk.take(_called(walk) >= settings.min_p_called)
    if has_deadline and not likely.empty:
        likely = last_chance_filter(likely, settings)
    if likely.empty and not has_deadline and not office.takes_appointments:
        likely = walk  # nowhere else to go: offer the best hours there are
    return likely


def _called(frame: Table) -> np.ndarray:
    return filled(frame[s.P_CALLED], 1.0)


@dataclass(frozen=True, slots=True)
class Rotation:
    """The spare capacities of the near-best hours the first option rotates over, and the
    index request's turn took (:func:`rotation_pick`). Everything else in the advice is
    the same for every turn, so two turns that pick the same index get the same advice."""

    weights: tuple[float, ...]
    pick: int

    def pick_for(self, turn: int) -> int:
        """The index request ``turn`` takes."""
        return rotation_pick(np.asarray(self.weights, dtype=float), turn)


@dataclass(frozen=True, slots=True)
class WalkInChoice:
    """The walk-in options offered, the near-best set they come from, and the hour the
    short-wait rule looks at (chosen before any rotation, so the advice does not depend on
    the request's turn)."""

    options: list[HourOption]
    n_near_best: int
    n_days: int
    good: HourOption | None
    rotation: Rotation | None = None  # None: no walk-in hour, the turn changes nothing


def walk_in_options(
    walk: Table,
    office: Office,
    ctx: AdviceContext,
    start: tuple[float, float] | None,
    load: Mapping[tuple[str, dt.date, int], float],
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
    frame = frame.assign(**{NEAR_BEST: near_best_mask(frame, settings)})
    good = with_spare(frame.take(frame[NEAR_BEST]), load, ctx)
    good = good.sorted_by([COST, DISTANCE_KM, ORDINAL, s.HOUR, s.OFFICE_ID])
    per_office = settings.max_options_per_office
    spread = spread_pick(good, per_office, settings.max_options)
    served = _with_retry_days(good, walk, settings.retry_days) if has_deadline else good
    weights = served[SPARE].astype(float)
    rotation = Rotation(tuple(weights.tolist()), rotation_pick(weights, turn))
    first = served.take([rotation.pick])
    first_id, first_office = first[ROW_ID][0], first[s.OFFICE_ID][0]
    if first_id not in set(spread[ROW_ID]):  # make room for it: its office's last, or the last
        same = spread[s.OFFICE_ID] == first_office
        full = int(same.sum()) >= per_office or len(spread) >= settings.max_options
        if full:
            where = (
                np.flatnonzero(same) if int(same.sum()) >= per_office else np.arange(len(spread))
            )
            spread = spread.take(np.delete(np.arange(len(spread)), where[-1:]))
    picked = Table.concat([first, spread.take(spread[ROW_ID] != first_id)])
    own = frame.take(frame[s.OFFICE_ID] == office.id)
    own_best = own.take(near_best_mask(own, settings)).sorted_by([COST, ORDINAL, s.HOUR])
    if not own.empty and office.id not in set(picked[s.OFFICE_ID]):
        # the office itself is not comparable: still show its own best hours, last
        picked = Table.concat([picked, spread_pick(own_best, per_office, per_office)])
    mine = own_best if not settings.short_walk_in_anywhere else good
    short = to_options(mine.head(_SHORT_RULE_LOOKS_AT), s.Channel.WALK_IN.value)
    return WalkInChoice(
        to_options(picked, s.Channel.WALK_IN.value),
        len(good),
        len(set(good[ORDINAL])),
        good_hour(short, settings),
        rotation,
    )


def _with_retry_days(good: Table, walk: Table, days: int) -> Table:
    """The near-best hours that leave ``days`` later candidate days at their office to come
    back on if sent home before the deadline (all of them when none does)."""
    dates: dict[str, np.ndarray] = {}
    for office_id in set(walk[s.OFFICE_ID]):
        dates[office_id] = np.unique(walk[ORDINAL][walk[s.OFFICE_ID] == office_id])
    later = np.array(
        [int(np.sum(dates[o] > d)) for o, d in zip(good[s.OFFICE_ID], good[ORDINAL], strict=True)],
        dtype=int,
    )
    keep = later >= days
    return good.take(keep) if keep.any() else good


def last_chance_filter(likely: Table, settings: AdviceSettings) -> Table:
    """On an office's last open day before the deadline, keep only near-certain hours.

    Sent home at closing that day, there is no later day to come back, so an hour there
    needs ``last_chance_p_called`` rather than ``min_p_called``.
    """
    last_day = {
        o: likely[ORDINAL][likely[s.OFFICE_ID] == o].max() for o in set(likely[s.OFFICE_ID])
    }
    on_last = likely[ORDINAL] == np.array([last_day[o] for o in likely[s.OFFICE_ID]])
    risky = on_last & (_called(likely) < settings.last_chance_p_called)
    return likely.take(~risky)


def good_hour(options: list[HourOption], settings: AdviceSettings) -> HourOption | None:
    """The hour the short-wait rule looks at (None without one): the first with a p90 of
    at most ``short_walk_in_p90_minutes``, else the one with the least p90."""
    short = [o for o in options if o.p90 <= settings.short_walk_in_p90_minutes]
    return short[0] if short else min(options, key=lambda o: o.p90, default=None)
