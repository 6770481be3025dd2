"""Each queue's trailing levels as of an origin: the builder's view of the recent past.

Only hourly rows dated strictly before the origin are read. The levels (named by
:class:`features.spec.FeatureSpec`) are, per queue:

- the mean of each weekday × hour cell over the last ``cell_weeks`` weeks (also the
  historical-mean baseline) and over ``long_cell_weeks`` weeks, and how many days the
  first one averages;
- the same hour of the last same weekday (also the seasonal-naive baseline);
- the mean per hour of day and over all hours for each of ``level_windows`` days;
- with ``shrunk_cell``, each cell's p50 mean shrunk toward the queue-hour's weekday-pooled
  level as far as its noise outweighs its weekday's difference (empirical Bayes);
- after a dated change (with ``change_cell``), each cell's p50 level since it (its own
  mean, or with ``change_pooled`` the queue-hour's trimmed mean over every weekday,
  weekday-shaped);
- the mean of the last day with data;
- per channel, the mean over every queue ("network") for each of ``level_windows`` days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.typing import DataFrameGroupBy

from features import schema as s
from features.events import latest_changes
from features.spec import (
    LEVEL_TARGETS,
    MIN_CHANGE_DAYS,
    ORIGIN,
    ROBUST_TARGETS,
    TREND_TARGETS,
    WEEKDAY,
    FeatureSpec,
)

DAY = "_day"  # the date as a day number, for fast window filters
# Share of a queue-hour's days left out at each end of its level since a dated change:
# a few weeks of days, some of them overloaded (waits of hours), whose plain mean lies
# above the typical day the forecast is judged on (docs/accuracy.md, nineteenth session).
CHANGE_TRIM = 0.1


def with_day_numbers(hourly: pd.DataFrame) -> pd.DataFrame:
    """The hourly table with an integer day number and the weekday (0 = Monday)."""
    day = np.fromiter((d.toordinal() for d in hourly[s.DATE]), dtype=np.int64, count=len(hourly))
    return hourly.assign(**{DAY: day, WEEKDAY: ((day - 1) % 7).astype("int8")})


def level_keys(spec: FeatureSpec, origin_key: str) -> dict[str, list[str]]:
    """The join keys of each level frame that :func:`origin_levels` returns."""
    queue = [*s.QUEUE_KEYS, origin_key]
    keys = {"cell": [*queue, WEEKDAY, s.HOUR], "last_same_hour": [*queue, WEEKDAY, s.HOUR]}
    for window in spec.level_windows:
        keys |= {f"lvl{window}d_hour": [*queue, s.HOUR], f"lvl{window}d": queue}
    keys["last_day"] = queue
    keys["network"] = [s.CHANNEL, origin_key]
    return keys


def origin_levels(
    hourly: pd.DataFrame,
    origin: dt.date,
    spec: FeatureSpec,
    countries: Mapping[str, str] | None = None,
    factors: pd.DataFrame | None = None,
) -> Levels:
    """Trailing levels of every queue as of ``origin`` (rows with date < origin only).

    ``hourly`` must carry day numbers (:func:`with_day_numbers`); ``countries`` maps
    office ids to countries (for the changes of the events table, see ``change_cell``);
    ``factors`` are the channels' weekday factors as of ``origin`` (:func:`weekday_factors`)
    when ``hourly`` holds only some offices (else read from it).
    """
    day0 = origin.toordinal()
    days = hourly[DAY].to_numpy()
    past_long = hourly[(days < day0) & (days >= day0 - spec.history_days)]
    past = past_long[past_long[DAY].to_numpy() >= day0 - 7 * spec.cell_weeks]
    queue = list(s.QUEUE_KEYS)
    targets = list(LEVEL_TARGETS)
    out: dict[str, pd.DataFrame] = {}
    cell_keys = [*queue, WEEKDAY, s.HOUR]
    grouped = past.groupby(cell_keys, observed=True)
    cell = grouped[targets].mean()
    cell.columns = [spec.cell(c) for c in cell.columns]
    cell[spec.cell_days()] = grouped[DAY].nunique()
    if spec.robust_base:
        median = grouped[list(ROBUST_TARGETS)].median()
        cell = cell.join(median.rename(columns=spec.cell_median))
    days_before = past_long[DAY].to_numpy()
    long_past = past_long[days_before >= day0 - 7 * spec.long_cell_weeks]
    long_cell = long_past.groupby(cell_keys, observed=True)[targets].mean()
    long_cell.columns = [spec.cell(c, spec.long_cell_weeks) for c in long_cell.columns]
    cell = cell.join(long_cell, how="outer")
    if spec.shrunk_cell:
        factor = _weekday_factor(past) if factors is None else factors
        cell = cell.join(_shrunk_cells(grouped, factor, spec), how="left")
    if spec.change_cell:
        since = _since_change(past, origin, spec, countries or {})
        cell = cell.join(since, how="left") if since is not None else cell
    out["cell"] = cell.reset_index()
    last = past[past[DAY] == grouped[DAY].transform("max")].set_index(cell_keys)[targets]
    last.columns = [spec.last_same_hour(c) for c in last.columns]
    out["last_same_hour"] = last.reset_index()
    for window in spec.level_windows:
        recent = past_long[days_before >= day0 - window]
        by_hour = recent.groupby([*queue, s.HOUR], observed=True)[targets].mean()
        by_hour.columns = [spec.level(window, c, by_hour=True) for c in by_hour.columns]
        out[f"lvl{window}d_hour"] = by_hour.reset_index()
        by_queue = recent.groupby(queue, observed=True)[targets].mean()
        by_queue.columns = [spec.level(window, c, by_hour=False) for c in by_queue.columns]
        out[f"lvl{window}d"] = by_queue.reset_index()
    out["network"] = network_levels(past_long, origin, spec)
    last_day = past.groupby(queue, observed=True)[DAY].transform("max")
    day = past[past[DAY] == last_day].groupby(queue, observed=True)[targets].mean()
    day.columns = [spec.last_day(c) for c in day.columns]
    out["last_day"] = day.reset_index()
    return out


Levels = dict[str, pd.DataFrame]  # what origin_levels returns, by level_keys' names


@dataclass(frozen=True)
class LevelCache:
    """The trailing levels of one hourly table at many origins, each computed once.

    A training run fits the served model and every backtest fold on cuts of one hourly
    table (each before its own date), at origins most of which they share: the folds lie
    whole weeks apart, like the training origins. The levels at an origin read only the
    rows before it, the same in every cut that reaches the origin, so each origin's are
    computed once and read by every fit (:func:`features.build.build_features`).
    ``signature`` is the :meth:`FeatureSpec.level_signature` they were computed with: a
    spec with another one gets none of them.
    """

    signature: tuple[object, ...]
    by_origin: Mapping[dt.date, Levels]

    def get(self, origin: dt.date, spec: FeatureSpec) -> Levels | None:
        """The levels at ``origin`` for ``spec``, if computed."""
        if spec.level_signature() != self.signature:
            return None
        return self.by_origin.get(origin)

    @staticmethod
    def merged(caches: Iterable[LevelCache]) -> LevelCache | None:
        """One cache of several computed with the same spec (None for none)."""
        caches = list(caches)
        if not caches:
            return None
        by_origin = {o: v for cache in caches for o, v in cache.by_origin.items()}
        return LevelCache(caches[0].signature, by_origin)


def level_cache(
    hourly: pd.DataFrame,
    origins: Iterable[dt.date],
    spec: FeatureSpec,
    countries: Mapping[str, str],
) -> LevelCache:
    """:func:`origin_levels` of ``hourly`` (without day numbers) at each of ``origins``."""
    origins = sorted(set(origins))
    first = origins[0] - dt.timedelta(days=spec.history_days) if origins else dt.date.max
    history = with_day_numbers(hourly[hourly[s.DATE] >= first])
    levels = {o: origin_levels(history, o, spec, countries) for o in origins}
    return LevelCache(spec.level_signature(), levels)


def _since_change(
    past: pd.DataFrame, origin: dt.date, spec: FeatureSpec, countries: Mapping[str, str]
) -> pd.DataFrame | None:
    """Each cell's p50 level since its country's last change (:meth:`FeatureSpec.since_change`),
    for changes at least ``MIN_CHANGE_DAYS`` and less than the cell's weeks before ``origin``."""
    starts = latest_changes(spec.events, origin, MIN_CHANGE_DAYS, 7 * spec.cell_weeks)
    if not starts:
        return None
    office = past[s.OFFICE_ID].astype(str)
    first = office.map({o: starts.get(c) for o, c in countries.items()})
    day = first.map(lambda d: d.toordinal() if isinstance(d, dt.date) else np.inf)
    after = past[past[DAY].to_numpy() >= day.to_numpy(dtype=float)]
    cell_keys = [*s.QUEUE_KEYS, WEEKDAY, s.HOUR]
    if not spec.change_pooled:
        means = after.groupby(cell_keys, observed=True)[[s.WAIT_P50]].mean()
        means.columns = [spec.since_change()]
        return means
    return _pooled_since_change(after, spec).set_index(cell_keys)


def trimmed_mean(frame: pd.DataFrame, keys: list[str], column: str, trim: float) -> pd.Series:
    """Per group of ``keys``: the mean of ``column`` without its ``floor(trim · n)`` lowest
    and as many highest of its ``n`` values (the plain mean when that is 0; missing values
    are left out first). ``scipy.stats.trim_mean`` of each group, in one sort and one
    groupby instead of a Python call per group (tens of thousands of queue-hours at
    national scale)."""
    ordered = frame[frame[column].notna()].sort_values(column, kind="stable")
    values = ordered.groupby(keys, observed=True)[column]
    rank = values.cumcount().to_numpy()
    count = values.transform("size").to_numpy()
    cut = np.floor(trim * count)
    kept = ordered[(rank >= cut) & (rank < count - cut)]
    return kept.groupby(keys, observed=True)[column].mean()


def _weekday_factor(hourly: pd.DataFrame) -> pd.DataFrame:
    """Per channel and weekday: the channel's p50 mean on the weekday over its mean
    (``_factor``; 1 where the channel's mean is 0)."""
    wait = s.WAIT_P50
    channel = hourly.groupby(s.CHANNEL, observed=True)[wait].mean().rename("_all")
    by_day = hourly.groupby([s.CHANNEL, WEEKDAY], observed=True)[wait].mean().rename("_day")
    factor = by_day.reset_index().merge(channel.reset_index(), on=s.CHANNEL)
    factor["_factor"] = (factor["_day"] / factor["_all"]).where(factor["_all"] > 0, 1.0)
    return factor[[s.CHANNEL, WEEKDAY, "_factor"]]


def _pooled_since_change(after: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Per queue, weekday and hour: the queue-hour's p50 trimmed mean over every weekday
    since the change (:data:`CHANGE_TRIM`), times the channel's weekday mean since it over
    the channel's mean."""
    wait = s.WAIT_P50
    hour = trimmed_mean(after, [*s.QUEUE_KEYS, s.HOUR], wait, CHANGE_TRIM).reset_index()
    cells = hour.merge(_weekday_factor(after), on=s.CHANNEL)
    cells[spec.since_change()] = cells[wait] * cells["_factor"]
    return cells[[*s.QUEUE_KEYS, WEEKDAY, s.HOUR, spec.since_change()]]


def weekday_factors(
    hourly: pd.DataFrame, origins: list[dt.date], spec: FeatureSpec
) -> pd.DataFrame:
    """Per origin, channel and weekday: the channel's weekday factor over the cells' weeks
    before the origin, from every office of ``hourly`` (what :func:`origin_levels` of a
    partition of offices reads, like :func:`network_table`)."""
    frames = []
    for origin in sorted(set(origins)):
        first = origin - dt.timedelta(days=7 * spec.cell_weeks)
        past = with_day_numbers(hourly[(hourly[s.DATE] >= first) & (hourly[s.DATE] < origin)])
        frames.append(_weekday_factor(past).assign(**{ORIGIN: origin}))
    return pd.concat(frames, ignore_index=True)


def _shrunk_cells(
    cells_of: DataFrameGroupBy, factor: pd.DataFrame, spec: FeatureSpec
) -> pd.DataFrame:
    """Each weekday × hour cell's p50 mean shrunk toward its queue-hour's level over every
    weekday times the channel's weekday factor (:meth:`FeatureSpec.cell_shrunk`).

    Empirical Bayes per queue-hour, by moments: of the k weekday cells' squared distances
    to that level, what the cells' own noise (the day-to-day variance within a cell, pooled
    over the hour's cells, over the cell's days) would give alone is shrunk away; the rest
    is the weekdays' real difference. The weight on the pooled level is
    ``(k − 1) / k · mean noise / mean squared distance`` within [0, 1]; none with fewer
    than three weekdays (nothing to pool) or no repeated day (no noise measured).
    ``cells_of`` is the past hours grouped by queue, weekday and hour."""
    wait, hour_keys = s.WAIT_P50, [*s.QUEUE_KEYS, s.HOUR]
    cells = cells_of[wait].agg(["mean", "var", "count"])
    cells = cells[cells["count"] > 0].reset_index()
    factor = factor[[s.CHANNEL, WEEKDAY, "_factor"]]
    cells = cells.merge(factor, on=[s.CHANNEL, WEEKDAY], how="left")
    # per queue-hour sums by bincount over the hour's cells (one group id per cell)
    hour = cells.groupby(hour_keys, observed=True, sort=False).ngroup().to_numpy()

    def over_hour(x: np.ndarray) -> np.ndarray:
        return np.bincount(hour, weights=x)[hour]

    count, mean = cells["count"].to_numpy(float), cells["mean"].to_numpy(float)
    k = np.bincount(hour)[hour].astype(float)
    level = over_hour(mean * count) / over_hour(count)  # the hour's mean over its days
    pooled = level * cells["_factor"].fillna(1.0).to_numpy(float)
    squares = cells["var"].fillna(0.0).to_numpy(float) * (count - 1)
    freedom = np.clip(over_hour(count) - k, 1, None)
    noise = over_hour(squares) / freedom / count
    spread = over_hour((mean - pooled) ** 2) / k
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = (k - 1) / k * (over_hour(noise) / k) / np.where(spread > 0, spread, np.nan)
    weight = np.where(k >= 3, np.clip(np.nan_to_num(weight, nan=1.0), 0.0, 1.0), 0.0)
    cells[spec.cell_shrunk()] = weight * pooled + (1 - weight) * mean
    return cells.set_index([*s.QUEUE_KEYS, WEEKDAY, s.HOUR])[[spec.cell_shrunk()]]


def network_levels(hourly: pd.DataFrame, origin: dt.date, spec: FeatureSpec) -> pd.DataFrame:
    """Per channel, the mean over every queue of each of ``level_windows`` days before
    ``origin`` (``hourly`` with day numbers)."""
    day0 = origin.toordinal()
    days = hourly[DAY].to_numpy()
    network = {}
    for window in spec.level_windows:
        recent = hourly[(days < day0) & (days >= day0 - window)]
        network[window] = recent.groupby(s.CHANNEL, observed=True)[list(TREND_TARGETS)].mean()
        network[window].columns = [spec.network(window, c) for c in network[window].columns]
    return pd.concat(network.values(), axis=1).reset_index()


def network_table(hourly: pd.DataFrame, origins: list[dt.date], spec: FeatureSpec) -> pd.DataFrame:
    """:func:`network_levels` of every origin, stacked with the origin as a key: what
    :func:`features.build.build_features` of a partition of offices reads (``network``)."""
    first = min(origins) - dt.timedelta(days=max(spec.level_windows))
    history = with_day_numbers(hourly[hourly[s.DATE] >= first])
    frames = [network_levels(history, o, spec).assign(**{ORIGIN: o}) for o in sorted(set(origins))]
    return pd.concat(frames, ignore_index=True)
