"""What the feature builder computes, and the one place where feature names are formed.

A :class:`FeatureSpec` is stored with every model, so that serving rebuilds exactly the
columns the model was trained on. Feature names are derived from its parameters by the
methods below; the builder, the baselines and the tests all ask the spec for a name
instead of formatting it again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from features import schema as s
from features.events import Event

ORIGIN = "origin"
HORIZON = "horizon"
WEEKDAY = "weekday"
CALENDAR_ESTIMATED = "calendar_estimated"
#: The hourly-table columns whose trailing levels are features.
LEVEL_TARGETS = (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90, s.ARRIVALS, s.NEVER_CALLED_SHARE)
#: Calendar features learned only with two or more years of history (seasons).
YEARLY_FEATURES = ("month", "doy_sin", "doy_cos", "school_break")
#: The days off in a row of the next and of the last holiday (see ``holiday_breaks``).
BREAK_FEATURES = ("break_ahead", "break_behind")
EVENT_FEATURES = ("event_surge", "days_since_change", "origin_days_since_change")


@dataclass(frozen=True)
class FeatureSpec:
    """What the feature builder computes; stored with every model."""

    horizon_days: int = 28
    cell_weeks: int = 8  # the weekday × hour window (also the historical-mean baseline)
    long_cell_weeks: int = 26  # a longer, steadier weekday × hour level
    level_windows: tuple[int, ...] = (7, 28, 56)
    use_bookings: bool = False
    # Day-of-year, month and school-break effects: only with at least two occurrences of
    # every season in the history (see training's make_spec).
    yearly: bool = True
    # The same weeks one year before (aligned by weekday and holiday) as a feature.
    last_year: bool = False
    # Days to and from the nearest holiday are capped here: a holiday acts on the days
    # around it; further away the distance would only stand for the date.
    holiday_reach_days: int = 14
    # Within that reach, how many days off in a row the next and the last holiday make
    # (a golden week's 8 or 9, a lone holiday's 1): people travel, and get their papers
    # before, in the long breaks only (False in older models).
    holiday_breaks: bool = False
    # The office as a categorical feature (its level is in the trailing levels anyway).
    office_feature: bool = True
    # The weekday × hour cell's median over the weeks as well as its mean: the level the
    # wait models start from, which one absurd hour does not drag (False in older models).
    robust_base: bool = False
    # After a dated change (the events table), each weekday × hour cell's p50 mean over
    # only the weeks since it: the new regime's level, to which the served historical mean
    # moves its p50 while the 8-week cell still straddles the change (not a model feature;
    # False in older models).
    change_cell: bool = False
    # ... and that level read with every weekday pooled: each queue-hour's p50 mean since
    # the change (trimmed: features.levels.CHANGE_TRIM), times its channel's weekday factor
    # since it (the network's weekday mean over its mean). Five weeks after a change a
    # weekday × hour cell holds five hours; the pooled hour holds five times as many, and
    # the weekday's shape is the whole channel's (False in older models).
    change_pooled: bool = False
    # The served historical mean's p50 per weekday × hour cell shrunk toward the
    # queue-hour's level over every weekday (times its channel's weekday factor), as far
    # as the cell's own day-to-day noise outweighs its weekday's difference from that level
    # (empirical Bayes, per queue-hour; not a model feature; False in older models).
    shrunk_cell: bool = False
    # ... and that shrunk cell as the p50 wait model's starting level (before the cell's
    # median) and one of its features: the trees correct the less noisy level (False in
    # older models; needs ``shrunk_cell``).
    shrunk_base: bool = False
    # The days from the origin to the target as a model feature (True in older models).
    # Off, the models forecast every day of the horizon from the same levels: over a
    # short history the horizon stands for the target date, and trees extrapolate the
    # weeks' trend through it (California, 63 days before 2 December 2024: appointment
    # p50s rising 16 -> 20 min over four weeks of flat waits).
    horizon_feature: bool = True
    offices: tuple[str, ...] = ()
    channels: tuple[str, ...] = s.CHANNELS
    services: tuple[str, ...] = (s.DEFAULT_SERVICE,)
    events: tuple[Event, ...] = field(default_factory=tuple)

    @property
    def history_days(self) -> int:
        """How many days before the origin the builder reads."""
        days = max(7 * self.cell_weeks, 7 * self.long_cell_weeks, *self.level_windows)
        return days + (LAST_YEAR_DAYS + 7 * self.cell_weeks if self.last_year else 0)

    def level_signature(self) -> tuple[object, ...]:
        """Everything the trailing levels at an origin depend on besides the hourly rows
        before it (:func:`features.levels.origin_levels`; the days read beyond the longest
        window, ``last_year``'s, change none of them)."""
        return (
            self.cell_weeks,
            self.long_cell_weeks,
            self.level_windows,
            self.robust_base,
            self.shrunk_cell,
            self.change_cell,
            self.change_pooled,
            self.events,
        )

    # --- names of the trailing levels (one method per kind) ------------------------------
    def cell(self, target: str, weeks: int | None = None) -> str:
        """Mean of the queue's weekday × hour cell over ``weeks`` (default cell_weeks)."""
        return f"cell{weeks or self.cell_weeks}w_{target}"

    def cell_median(self, target: str) -> str:
        """Median of the queue's weekday × hour cell over the cell's weeks."""
        return f"cell{self.cell_weeks}w_med_{target}"

    @staticmethod
    def cell_since_change(target: str) -> str:
        """Mean of the queue's weekday × hour cell since the last dated change, when that
        change is less than the cell's weeks and at least ``MIN_CHANGE_DAYS`` old."""
        return f"cell_since_change_{target}"

    def since_change(self) -> str:
        """The served mean's level of the new regime after a dated change: the cell since
        the change, or with ``change_pooled`` the pooled hour since it (wait p50)."""
        if self.change_pooled:
            return f"hour_since_change_{s.WAIT_P50}"
        return self.cell_since_change(s.WAIT_P50)

    def cell_shrunk(self) -> str:
        """The cell's p50 mean shrunk toward the queue-hour's weekday-pooled level (see
        ``shrunk_cell``)."""
        return f"cell{self.cell_weeks}w_eb_{s.WAIT_P50}"

    def cell_days(self) -> str:
        """How many days the 8-week cell mean averages."""
        return f"cell{self.cell_weeks}w_days"

    @staticmethod
    def last_same_hour(target: str) -> str:
        """The same hour of the last same weekday before the origin."""
        return f"last_same_hour_{target}"

    @staticmethod
    def level(window: int, target: str, by_hour: bool) -> str:
        """Mean of the queue (per hour of day, or over all hours) over ``window`` days."""
        return f"lvl{window}d_hour_{target}" if by_hour else f"lvl{window}d_{target}"

    @staticmethod
    def last_day(target: str) -> str:
        """Mean of the queue on its last day with data."""
        return f"last_day_{target}"

    @staticmethod
    def network(window: int, target: str) -> str:
        """Mean over every queue of the same channel (the city's, region's level)."""
        return f"net{window}d_{target}"

    @staticmethod
    def trend(short: int, long: int, target: str, network: bool = False) -> str:
        """log1p of the ``short``-day level over the ``long``-day one (queue or network)."""
        return f"{'net_' if network else ''}trend{short}_{long}_{target}"

    @property
    def trend_windows(self) -> tuple[tuple[int, int], ...]:
        """(short, long) window pairs of the trend features: every window against the
        longest one."""
        longest = max(self.level_windows)
        return tuple((w, longest) for w in self.level_windows if w < longest)

    @staticmethod
    def last_year_hour(target: str) -> str:
        """The same weekday and hour one year before the target date (holiday-aligned)."""
        return f"last_year_hour_{target}"

    @staticmethod
    def last_year_ratio(target: str) -> str:
        """Last year's level around the target date over last year's level before the origin."""
        return f"last_year_ratio_{target}"

    def historical_mean(self, target: str, level_window: int = 28) -> tuple[str, ...]:
        """The historical mean of ``target`` and its fallbacks, in order: the weekday × hour
        cell, then the hour's and the queue's ``level_window``-day level (the nearest of the
        spec's windows)."""
        level_window = min(self.level_windows, key=lambda w: abs(w - level_window))
        return (
            self.cell(target),
            self.level(level_window, target, by_hour=True),
            self.level(level_window, target, by_hour=False),
        )

    def base_level(self, target: str) -> tuple[str, ...]:
        """The level a wait model of ``target`` starts from, and its fallbacks: the
        historical mean's, with the cell's median first when the spec is robust, and for
        p50 the shrunk cell before them with ``shrunk_base``."""
        mean = self.historical_mean(target)
        levels = (self.cell_median(target), *mean[1:]) if self.robust_base else mean
        if self.shrunk_base and self.shrunk_cell and target == s.WAIT_P50:
            return (self.cell_shrunk(), *levels)
        return levels

    @property
    def level_names(self) -> list[str]:
        """Names of the trailing-level features, derived from the windows."""
        names = []
        for target in LEVEL_TARGETS:
            names.append(self.cell(target))
            names.append(self.cell(target, self.long_cell_weeks))
            names.append(self.last_same_hour(target))
            names.extend(self.level(w, target, by_hour=True) for w in self.level_windows)
            names.extend(self.level(w, target, by_hour=False) for w in self.level_windows)
            names.append(self.last_day(target))
        names.append(self.cell_days())
        if self.robust_base:
            names.extend(self.cell_median(t) for t in ROBUST_TARGETS)
        if self.change_cell:
            names.append(self.since_change())
        if self.shrunk_cell:
            names.append(self.cell_shrunk())
        for target in TREND_TARGETS:
            names.extend(self.network(w, target) for w in self.level_windows)
            for short, long in self.trend_windows:
                names.append(self.trend(short, long, target))
                names.append(self.trend(short, long, target, network=True))
        if self.last_year:
            for target in LAST_YEAR_TARGETS:
                names.extend([self.last_year_hour(target), self.last_year_ratio(target)])
        return names

    @property
    def wait_level_names(self) -> list[str]:
        """The trailing levels of the wait quantiles, in minutes (cells, their medians,
        hours, days, the network's, last year's): the columns a wait model may read
        relative to its starting level. Not the trends and ratios (already relative)."""
        names = []
        for target in ROBUST_TARGETS:
            names += [self.cell(target), self.cell(target, self.long_cell_weeks)]
            names.append(self.last_same_hour(target))
            names.extend(
                self.level(w, target, by_hour=by_hour)
                for by_hour in (True, False)
                for w in self.level_windows
            )
            names.append(self.last_day(target))
            if self.robust_base:
                names.append(self.cell_median(target))
        names.extend(self.network(w, s.WAIT_P50) for w in self.level_windows)
        if self.last_year:
            names.append(self.last_year_hour(s.WAIT_P50))
        return [n for n in names if n in self.model_features]

    @property
    def calendar_names(self) -> list[str]:
        """Calendar features of the target date."""
        names = [WEEKDAY, *YEARLY_FEATURES[:3], "makeup", "days_to_holiday", "days_from_holiday"]
        if self.holiday_breaks:
            names += list(BREAK_FEATURES)
        names += [YEARLY_FEATURES[3], CALENDAR_ESTIMATED]
        if not self.yearly:
            names = [n for n in names if n not in YEARLY_FEATURES]
        return names + list(EVENT_FEATURES)

    @property
    def model_features(self) -> list[str]:
        """The columns the models learn from: every column but those only the served
        historical mean reads (the level since a change; the shrunk cell, unless the p50
        model starts from it) and, unless ``horizon_feature``, the days ahead (only the
        backtest's reports read them)."""
        only_baseline = {self.since_change()}
        if not self.shrunk_base:
            only_baseline.add(self.cell_shrunk())
        if not self.horizon_feature:
            only_baseline.add(HORIZON)  # still in the matrix: the backtest reports by it
        return [n for n in self.feature_names if n not in only_baseline]

    @property
    def feature_names(self) -> list[str]:
        """Every column of the model matrix, in order."""
        day = [s.HOUR, "hours_since_open", "hours_to_close", "after_lunch"]
        queue = [s.CHANNEL, s.SERVICE, "dual_track", "windows"]
        if self.office_feature:
            queue = [s.OFFICE_ID, *queue]
        known = [HORIZON] + ([s.BOOKED] if self.use_bookings else [])
        return self.calendar_names + day + queue + known + self.level_names

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["events"] = [e.to_dict() for e in self.events]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """Inverse of :meth:`to_dict`."""
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("level_windows", "offices", "channels", "services"):
            values[key] = tuple(values[key])
        values["events"] = tuple(Event.from_dict(e) for e in values.get("events", ()))
        return cls(**values)


TREND_TARGETS = (s.WAIT_P50, s.ARRIVALS)
ROBUST_TARGETS = (s.WAIT_P10, s.WAIT_P50, s.WAIT_P90)  # the cells with a median too
#: A change's own cell is read only from two weeks after it (one week is a single hour).
MIN_CHANGE_DAYS = 14
LAST_YEAR_DAYS = 371  # how far back the last-year features read (52 weeks and a week)
LAST_YEAR_TARGETS = (s.WAIT_P50, s.ARRIVALS)
