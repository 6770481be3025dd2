"""Arrival intensity: how many people want service on a date, and when in the day.

Daily demand of an office = per-window baseline × windows × office weight × weekday
factor × pre-holiday surge × school-break surge × regime curve × gamma day noise.
The deterministic part (everything but the noise) is a function of date and office only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from features.calendar_cn import ChinaCalendar, DayInfo
from features.offices import Office
from training.simulate.config import SimConfig
from training.simulate.roster import DayRoster

PRE_HOLIDAY_LOOKAHEAD_DAYS = 20  # far enough to span a weekend and a make-up day


def surge_excess(date: dt.date, config: SimConfig) -> float:
    """The pent-up demand of the reopening still left on a date, relative to the
    long-run level (0 before the reopening and once it has faded)."""
    if date < config.reopening:
        return 0.0
    days = (date - config.reopening).days
    return (config.surge_peak - 1.0) * 0.5 ** (days / config.surge_half_life_days)


def overtime(date: dt.date, config: SimConfig) -> float:
    """How far the offices are in overtime mode on a date, 0 (regular staff) to 1 (every
    window, "满功率"): proportional to the pent-up excess while the surge lasts."""
    return min(1.0, surge_excess(date, config) / config.overtime_full_excess)


def regime(date: dt.date, config: SimConfig) -> float:
    """Demand relative to the long-run level: low in the pandemic, a decaying surge after,
    on a long-run level that grows mildly."""
    if date < config.reopening:
        return config.pandemic_level
    days = (date - config.reopening).days
    growth = (1.0 + config.yearly_growth) ** (days / 365.25)
    return growth * (1.0 + surge_excess(date, config))


def is_pre_holiday(date: dt.date, calendar: ChinaCalendar, config: SimConfig) -> bool:
    """True on the last few working days before a holiday that people travel in."""
    if not calendar.day(date).working:
        return False
    working_between = 0
    in_block = False  # inside the run of days off that starts with the next holiday
    for ahead in range(1, PRE_HOLIDAY_LOOKAHEAD_DAYS + 1):
        info = calendar.day(date + dt.timedelta(days=ahead))
        if info.working:
            if in_block:
                return False
            working_between += 1
            if working_between >= config.pre_holiday_days:
                return False
        elif info.holiday:
            # A block may join two holidays (Mid-autumn + National Day in 2023).
            if info.holiday_en in config.pre_holiday_names:
                return True
            in_block = True
    return False


def calendar_factor(info: DayInfo, pre_holiday: bool, config: SimConfig) -> float:
    """Weekday × pre-holiday × school-break × regime multiplier of a date (no noise)."""
    factor = config.makeup_day_factor if info.makeup else config.weekday_factor[info.date.weekday()]
    if pre_holiday:
        factor *= config.pre_holiday_factor
    if info.school_break == "summer":
        factor *= config.summer_break_factor
    elif info.school_break == "winter":
        factor *= config.winter_break_factor
    return factor * regime(info.date, config)


def office_scale(office: Office, config: SimConfig) -> float:
    """People per working day at an office at the long-run level (all factors 1)."""
    windows = office.windows or config.default_windows
    weight = config.office_weight_of(office.id, walk_in_only=not office.takes_appointments)
    return config.demand_per_window * windows * weight


@dataclass(frozen=True, slots=True)
class ArrivalProfile:
    """Piecewise-constant arrival intensity over the day's open minutes."""

    start: np.ndarray  # bin start minute
    end: np.ndarray  # bin end minute
    probability: np.ndarray  # share of the day's arrivals in each bin


def walk_in_profile(roster: DayRoster, config: SimConfig) -> ArrivalProfile:
    """When walk-ins take numbers: a peak at the first opening, another after lunch,
    tapering before the close; none after the kiosk's cut-off."""
    start = roster.period_start
    middle = (roster.period_start + roster.period_end) / 2
    session_open = np.array([roster.sessions[i][0] for i in roster.period_session])
    peak = np.where(roster.period_session == 0, config.opening_peak, config.after_lunch_peak)
    weight = 1.0 + peak * np.exp(-(middle - session_open) / config.peak_decay_minutes)
    last_close = roster.sessions[-1][1]
    to_close = np.clip((last_close - middle) / config.closing_taper_minutes, 0.0, 1.0)
    weight *= config.closing_level + (1.0 - config.closing_level) * to_close
    cutoff = last_close - config.walk_in_cutoff_minutes
    end = np.minimum(roster.period_end, cutoff)
    length = np.clip(end - start, 0.0, None)
    mass = weight * length
    total = mass.sum()
    if total <= 0:  # a day shorter than the cut-off: the kiosk never opens
        return ArrivalProfile(start[:0], end[:0], mass[:0])
    keep = length > 0
    return ArrivalProfile(start[keep], end[keep], mass[keep] / total)


def sample_times(rng: np.random.Generator, n: int, profile: ArrivalProfile) -> np.ndarray:
    """``n`` sorted arrival minutes drawn from the profile."""
    if n == 0 or len(profile.probability) == 0:
        return np.empty(0)
    counts = rng.multinomial(n, profile.probability)
    bins = np.repeat(np.arange(len(counts)), counts)
    length = profile.end - profile.start
    times = profile.start[bins] + rng.random(len(bins)) * length[bins]
    times.sort()
    return times
