"""Every parameter of the office simulator, in one documented place.

The values are calibrated on the source article (see ``docs/simulator.md``):
472,000 documents accepted in Hangzhou from 9 January to 7 June 2023, a booking
system full about one month ahead in late May / early June, and windows at "full
power" (≈ 3,500 tickets per working day city-wide in spring 2023 on 108 windows);
and, for the steady state the models are trained on (2024 on), main-city offices
near saturation on their fixed staff, where walk-ins wait far longer than
appointment holders. All parameters are deterministic: only the seed changes the
randomness.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from features.errors import ParameterError


@dataclass(frozen=True, slots=True)
class ServiceType:
    """One primary service of a ticket, its share of tickets and its typical duration."""

    name: str  # the `service` value written on the ticket
    share: float  # share of tickets whose primary service this is
    median_minutes: float  # median time at the window for the primary document


def _default_services() -> tuple[ServiceType, ...]:
    # Passports dominate (first passports and renewals after three years of closure),
    # then Hong Kong/Macau permits; Taiwan permits are rare; endorsements are quick.
    return (
        ServiceType("passport", 0.45, 10.0),
        ServiceType("hk_macau_permit", 0.35, 8.0),
        ServiceType("taiwan_permit", 0.05, 8.0),
        ServiceType("endorsement", 0.15, 5.0),
    )


def _frozen(mapping: dict[str, float]) -> Mapping[str, float]:
    return MappingProxyType(mapping)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """The parameters of the simulator; every value is explained where it is set."""

    # --- regime: what happened to demand over the years ---------------------------------
    # China resumed issuing exit-entry documents on 8 January 2023 (article).
    reopening: dt.date = dt.date(2023, 1, 8)
    # From this date every office gives walk-in numbers without quota (article).
    policy_change: dt.date = dt.date(2023, 6, 8)
    # Demand before the reopening, relative to the long-run level: documents were barely
    # issued during the pandemic.
    pandemic_level: float = 0.2
    # Demand right after the reopening, relative to the long-run level: three years of
    # pent-up need ("井喷式增长"). With demand_per_window this gives ≈ 41 people per
    # window per day in January 2023 and ≈ 34 in spring (the windows' full power), as
    # the 2023 calibration needs; the long-run level itself stays high (see below).
    surge_peak: float = 1.84
    # Half-life of the pent-up excess, in days (5 months): above the full power of the
    # windows until May 2023 (the backlog builds), 1/4 of it left in October 2023, under
    # 5% by 2025, so 2025-2026 are steady state.
    surge_half_life_days: float = 150.0
    # Mild yearly growth of the long-run level (travel recovering towards pre-2020
    # volumes), so later years are not flat: +2.5% a year.
    yearly_growth: float = 0.025

    # --- daily demand ---------------------------------------------------------------------
    # People wanting service per window per working day at the long-run level (regime 1).
    # City baseline = this × total windows (108 in Hangzhou). Two calibrations meet here:
    # (1) with surge_peak, booking demand at the dual-track offices exceeds their slots
    # in the first months of 2023 and matches them by May, so the backlog reaches about a
    # month (median lead of bookings made 20 May-7 June ≈ 30 days), as in the article;
    # (2) in the steady state the expected demand of a main-city office is about what
    # its fixed staff (max_staffed_share of ≈ 35 tickets per window and day) serves, so
    # it runs near saturation (the article: main-city windows "near saturation"):
    # 22.5 × 1.05 (weekday mean) × 1.05 (growth to 2025) ≈ 24.8 ≈ 0.75 × 35 × 0.95.
    demand_per_window: float = 22.5
    # Offices' demand per window relative to the others (share ≈ windows × weight).
    # The main-city dual-track offices are the busiest; some district offices booked
    # out further ("some district offices mid-July").
    office_weight: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"hz-binjiang": 1.06, "hz-yuhang": 1.05})
    )
    # Weight per window of walk-in-only (outer district) offices: less crowded, so
    # their steady-state waits are moderate (median ~10 min, p90 ~60) while their
    # 2023 tickets still bring the documents of 9 Jan-7 Jun 2023 close to 472,000.
    walk_in_only_weight: float = 0.68
    # Weight of offices missing from office_weight.
    default_office_weight: float = 1.0
    # Windows assumed for an office whose registry entry has none.
    default_windows: int = 4
    # Demand by weekday (Mon..Sun): Monday high, Friday a bit lower; Saturday/Sunday
    # count only where the office opens (a half day), hence about half a weekday.
    weekday_factor: tuple[float, float, float, float, float, float, float] = (
        1.25,
        1.05,
        1.0,
        0.97,
        0.9,
        0.5,
        0.5,
    )
    # A make-up working day (调休) opens like a Friday and is about as busy.
    makeup_day_factor: float = 0.95
    # Holidays before which people rush to get documents for the holiday trip.
    pre_holiday_names: tuple[str, ...] = ("Spring Festival", "National Day", "Labour Day")
    # How many working days before such a holiday the rush lasts.
    pre_holiday_days: int = 3
    # Demand multiplier on those days.
    pre_holiday_factor: float = 1.3
    # School-break multipliers: summer (from early July) is the peak season of family
    # travel; winter break is moderate. With a fixed staff, 1.2 already makes summer the
    # longest-queue season of the steady state (walk-in median ~30 min, never called
    # ~8%); more would send too many walk-ins home.
    summer_break_factor: float = 1.2
    winter_break_factor: float = 1.12
    # Shape of the gamma day-noise on demand (mean 1, CV = 1/sqrt(shape) ≈ 0.2): daily
    # counts are over-dispersed (variance > mean), as in real queue logs. Staffing does
    # not see it, so near saturation it makes real good and bad days.
    day_noise_shape: float = 25.0

    # --- within the day -------------------------------------------------------------------
    # Extra arrival intensity at the first opening of the day (people queue before the
    # doors open), relative to the base level; decays exponentially. Strong peaks make
    # the queue build up every morning and drain in the afternoon, so ordinary days have
    # real waits (10-11 h walk-in median ~40 min) without sending many home at closing.
    opening_peak: float = 2.5
    # Extra intensity right after the lunch break (people who came at lunch).
    after_lunch_peak: float = 1.5
    # Decay time of both peaks, in minutes.
    peak_decay_minutes: float = 60.0
    # Intensity reached at the close of the last session, relative to the base level;
    # it tapers linearly over closing_taper_minutes.
    closing_level: float = 0.5
    closing_taper_minutes: float = 90.0
    # The kiosk stops issuing walk-in numbers this many minutes before the last close.
    walk_in_cutoff_minutes: float = 30.0

    # --- windows and service --------------------------------------------------------------
    # Offices staff windows for the demand they expect that day (no noise: day-level
    # surprises are not anticipated): enough for this utilisation of the staffed
    # windows, within the limits below. Above 1 because some booked people do not come
    # (no-shows) and offices staff lean: the served load is then ≈ 0.9-0.95 at dual-track
    # offices, the peaks above it.
    staffing_target_utilization: float = 1.05
    # The office's fixed staff: outside the reopening surge at most this share of the
    # registry's windows is open (rounded up), however busy the day, so Mondays, the
    # summer break and pre-holiday days queue up (not every window has a clerk).
    max_staffed_share: float = 0.75
    # Overtime only in the reopening surge: the staffed share (cap and floor) rises
    # linearly with the pent-up excess, to every window every day ("满功率") when it is
    # this much or more: until mid-August 2023, fading out through 2024.
    overtime_full_excess: float = 0.3
    # On quiet days never fewer than this share of the windows.
    min_staffed_share: float = 0.6
    # Share of windows open in the first and the last half hour of the day (staff arrive
    # and leave; windows are otherwise all open).
    edge_window_share: float = 0.75
    # Primary services: their ticket shares and median durations (minutes).
    services: tuple[ServiceType, ...] = field(default_factory=_default_services)
    # Spread of service durations: lognormal sigma (a typical p90/p10 ratio of ~2.8).
    service_sigma: float = 0.4
    # Extra documents per ticket ~ Poisson(mean), so documents = 1 + that (mean 1.35):
    # a passport often comes with a Hong Kong/Macau permit or endorsements.
    extra_documents_mean: float = 0.35
    # At most this many documents on one ticket.
    max_documents: int = 5
    # Minutes at the window per extra document.
    extra_document_minutes: float = 3.0
    # Minutes between two tickets at one window (calling, walking to the window).
    call_gap_minutes: float = 0.5

    # --- appointment book -----------------------------------------------------------------
    # Share of the windows' capacity that dual-track offices release as appointment slots.
    appointment_share: float = 0.85
    # From the policy change (dual track): the share released as slots once the surge
    # has faded (while it lasts, see overtime_full_excess, the share moves from
    # appointment_share to this one); the rest, and the slots of no-shows, serve the
    # walk-ins. Below what bookers would take at a short lead (0.75 × demand ≈ 0.75-0.8
    # of capacity), so the book keeps a lead of days to ~2 weeks in the steady state.
    appointment_share_after_change: float = 0.7
    # Before the policy change: walk-in numbers released per day at dual-track offices
    # (elderly, children, urgent travel) as a share of the day's capacity.
    walk_in_quota_share: float = 0.12
    # Before the policy change: share of demand at dual-track offices that must book
    # (everyone except the few who qualify for a released walk-in number).
    must_book_share: float = 0.9
    # After the policy change: share that books when the next free slot is close ...
    book_share_short_lead: float = 0.75
    # ... and when it is long_lead_days or more away (the rest walk in). The lead settles
    # where this share of demand fills the slots: ~1-2 weeks in 2025, more in summer.
    book_share_long_lead: float = 0.55
    long_lead_days: float = 30.0
    # Furthest day one can book, in days after the booking day.
    booking_horizon_days: int = 60
    # People book between these minutes of the day (07:00-23:00).
    booking_open_minute: float = 7 * 60.0
    booking_close_minute: float = 23 * 60.0
    # Mean extra open days after the next open day that a booker would like (geometric).
    preference_delay_mean_days: float = 1.0
    # Share of appointment holders who do not come (no ticket) ...
    no_show_share: float = 0.07
    # ... and for slots from the policy change on, when some who booked ahead walk in
    # earlier instead ("已经在预约系统上预约的,建议按照预约时间前来办理") or no longer need to.
    no_show_share_after_change: float = 0.1
    # Check-in time relative to the slot start (minutes; negative = early) ~ normal.
    check_in_mean_minutes: float = -10.0
    check_in_sd_minutes: float = 10.0

    # --- walk-ins who give up --------------------------------------------------------------
    # Patience of a walk-in, in open minutes (the lunch break does not count): lognormal
    # with this median (3 h 20: people who came for a passport wait long, and queue apps
    # show their number's progress) and sigma.
    patience_median_minutes: float = 200.0
    patience_sigma: float = 0.6

    def __post_init__(self) -> None:
        """Refuse parameters that make no sense, naming the parameter."""
        shares = sum(s.share for s in self.services)
        if not self.services or abs(shares - 1.0) > 1e-6:
            raise ParameterError("config.services", f"shares must sum to 1, got {shares:.3f}")
        if any(s.median_minutes <= 0 or s.share < 0 for s in self.services):
            raise ParameterError("config.services", "medians must be > 0 and shares >= 0")
        positive = (
            "pandemic_level",
            "surge_peak",
            "surge_half_life_days",
            "demand_per_window",
            "day_noise_shape",
            "peak_decay_minutes",
            "closing_taper_minutes",
            "patience_median_minutes",
            "long_lead_days",
            "staffing_target_utilization",
            "overtime_full_excess",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ParameterError(f"config.{name}", "must be > 0")
        unit = (
            "edge_window_share",
            "min_staffed_share",
            "appointment_share",
            "appointment_share_after_change",
            "max_staffed_share",
            "walk_in_quota_share",
            "must_book_share",
            "book_share_short_lead",
            "book_share_long_lead",
            "no_show_share",
            "no_show_share_after_change",
        )
        for name in unit:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ParameterError(f"config.{name}", "must be within [0, 1]")
        if self.booking_horizon_days < 1 or self.max_documents < 1 or self.default_windows < 1:
            raise ParameterError("config", "horizon, max_documents and windows must be >= 1")
        if not self.booking_open_minute < self.booking_close_minute <= 24 * 60:
            raise ParameterError("config.booking_close_minute", "must follow the open minute")

    @property
    def mean_service_minutes(self) -> float:
        """Expected minutes a window spends per ticket, gap included (≈ 10.7)."""
        lognormal_mean = math.exp(self.service_sigma**2 / 2)
        primary = sum(s.share * s.median_minutes for s in self.services) * lognormal_mean
        extra = self.extra_documents_mean * self.extra_document_minutes
        return primary + extra + self.call_gap_minutes

    def office_weight_of(self, office_id: str, walk_in_only: bool) -> float:
        """Demand weight per window of an office."""
        weight = self.office_weight.get(office_id, self.default_office_weight)
        return weight * (self.walk_in_only_weight if walk_in_only else 1.0)
