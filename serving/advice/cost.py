"""What an hour costs a citizen, in minutes: the documented ranking measure.

- **Expected wait**, the mean of the predicted wait distribution by Swanson's rule,
  ``0.3·p10 + 0.4·p50 + 0.3·p90`` (the median alone hides long tails, such as numbers taken
  just before the lunch break that are called only after it).
- **Travel**, door to door, there and back: straight-line distance × ``detour_factor`` ÷
  ``urban_speed_kmh``, twice (from the citizen's location, else from the chosen office).
- **The risk of not being called**: a walk-in who is not called before closing (chance
  ``q = 1 − p_called``) waits until closing and comes again another day, which costs
  ``second_trip_minutes`` and the trip once more.

``cost = expected wait + travel + q × (second_trip_minutes + travel)``. An hour whose short
median holds only for the few who are called (the last hour of a crowded day) costs more
than an earlier one that takes everyone. Pure; scalars or numpy arrays alike.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from serving.advice.settings import AdviceSettings

SWANSON = (0.3, 0.4, 0.3)  # weights of p10, p50, p90 in the expected wait
MINUTES_PER_HOUR = 60.0
Number = TypeVar("Number", float, np.ndarray)


def expected_wait(p10: Number, p50: Number, p90: Number) -> Number:
    """The mean of the predicted wait distribution (Swanson's rule), in minutes."""
    w10, w50, w90 = SWANSON
    return w10 * p10 + w50 * p50 + w90 * p90


def travel_minutes(distance_km: Number, settings: AdviceSettings) -> Number:
    """Door-to-door minutes there and back for a straight-line distance."""
    one_way = distance_km * settings.detour_factor / settings.urban_speed_kmh
    return 2 * MINUTES_PER_HOUR * one_way


def hour_cost(
    expected: Number, p_called: Number, travel: Number, settings: AdviceSettings
) -> Number:
    """Minutes an hour costs: the wait, the trip, and a likely second trip (NaN p_called,
    as for appointments: always called)."""
    missed = 1.0 - np.nan_to_num(p_called, nan=1.0)
    return expected + travel + missed * (settings.second_trip_minutes + travel)
