"""The knobs of the advice, in one place; the defaults are the documented behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AdviceSettings:
    """The knobs of the advice (see docs/advice.md for why each default)."""

    short_walk_in_p90_minutes: float = 30.0  # walk in instead of booking below this p90 ...
    short_walk_in_anywhere: bool = False  # ... at the office itself (True: at any offered)
    min_p_called: float = 0.8  # a "reasonable chance" of being called before closing
    last_chance_p_called: float = 0.95  # ... on the last open day before the deadline
    near_best_minutes: float = 5.0  # near-best: within max(5 min, 15 %) of the best wait
    near_best_share: float = 0.15
    p_called_tolerance: float = 0.05  # ... and p_called within 5 points of the best's
    nearby_km: float = 30.0  # other offices offered when at most this far (the metro area)
    max_options: int = 8  # walk-in options returned
    max_options_per_office: int = 4  # at most this many per office (one per day first)
    no_deadline_days: int = 14  # walk-in search window without a travel date
    max_search_days: int = 28  # walk-in search window at most (the model's horizon)
    default_lead_days: float = 7.0  # booking lead assumed when the model has none
    max_travel_days: int = 730  # travel and appointment dates at most this far ahead
    # door to door (docs/advice.md, "Travel"): straight line × detour ÷ speed, there and back
    detour_factor: float = 1.4  # road distance over straight-line distance in a city
    urban_speed_kmh: float = 25.0  # door-to-door speed across town (metro, bus, car, on foot)
    nearby_label_km: float = 5.0  # an office is called "nearby" only this close to the start
    # the cost of an hour (docs/advice.md, "Cost"): a walk-in not called loses this much more
    second_trip_minutes: float = 120.0  # waiting until closing, then coming again another day
    # no herding (docs/advice.md, "Spreading"): each near-best hour is served to a share of
    # the requests proportional to its spare capacity, windows × 60 / minutes per ticket
    # minus the arrivals expected then (at least min_spare_share of the capacity)
    default_windows: int = 4  # when the registry does not know an office's windows
    default_service_minutes: float = 15.0  # when the model does not know its service time
    min_spare_share: float = 0.05
    retry_days: int = 2  # ... served first only with this many later days to come back, if any
