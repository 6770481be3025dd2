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

A training run computes them at every origin of every fit, so they are sums over integer
group numbers (``np.bincount``) that :func:`with_day_numbers` gives each row once per
table, not a pandas groupby per level: the same means (pandas sums with compensation, so
they may differ in the last bit; ``tests/features/test_levels.py``) at a sixth of the cost
on a small table (docs/accuracy.md, "The levels as bincount sums").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

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

Column: TypeAlias = ExtensionArray  # a frame column's values (``Series.array``)
DAY = "_day"  # the date as a day number, for fast window filters
# Each row's group numbers (in the order of their keys): its queue, queue × hour of day,
# queue × weekday × hour ("cell") and channel.
QUEUE_NO, QUEUE_HOUR_NO, CELL_NO, CHANNEL_NO = "_queue", "_queue_hour", "_cell", "_channel"
# Share of a queue-hour's days left out at each end of its level since a dated change:
# a few weeks of days, some of them overloaded (waits of hours), whose plain mean lies
# above the typical day the forecast is judged on (docs/accuracy.md, nineteenth session).
CHANGE_TRIM = 0.1


def with_day_numbers(hourly: pd.DataFrame) -> pd.DataFrame:
    """The hourly table with an integer day number, the weekday (0 = Monday) and each row's
    group numbers (:data:`QUEUE_NO`, :data:`QUEUE_HOUR_NO`, :data:`CELL_NO`,
    :data:`CHANNEL_NO`)."""
    day = np.fromiter((d.toordinal() for d in hourly[s.DATE]), dtype=np.int64, count=len(hourly))
    weekday = (day - 1) % 7
    queue = _numbers(hourly, list(s.QUEUE_KEYS))
    hour = hourly[s.HOUR].to_numpy(dtype=np.int64)
    return hourly.assign(
        **{
            DAY: day,
            WEEKDAY: weekday.astype("int8"),
            QUEUE_NO: queue,
            QUEUE_HOUR_NO: _compact(queue * 24 + hour),
            CELL_NO: _compact((queue * 7 + weekday) * 24 + hour),
            CHANNEL_NO: _numbers(hourly, [s.CHANNEL]),
        }
    )


def _numbers(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Each row's group number by ``keys``, in the keys' order."""
    groups = frame.groupby(keys, sort=True, observed=True, dropna=False).ngroup()
    return groups.to_numpy(dtype=np.int64)


def _compact(codes: np.ndarray) -> np.ndarray:
    """The codes renumbered 0, 1, … in their order."""
    return np.unique(codes, return_inverse=True)[1].reshape(-1).astype(np.int64)


@dataclass(frozen=True)
class _Groups:
    """Some rows of a table by a group-number column: each group with rows, in number order.

    ``ids`` are the rows' numbers, ``present`` the numbers with rows (ascending), ``rows``
    one row of each present group (its position in the table), to read its keys from."""

    ids: np.ndarray
    size: int
    present: np.ndarray
    rows: np.ndarray

    @classmethod
    def of(cls, numbers: np.ndarray, rows: np.ndarray) -> _Groups:
        """The groups of the table's rows at positions ``rows``, by their ``numbers`` (a
        group-number column of the whole table)."""
        ids = numbers[rows]
        size = int(ids.max()) + 1 if len(ids) else 0
        where = np.zeros(size, dtype=np.int64)
        where[ids] = rows  # any row of a group: they share its keys
        present = np.flatnonzero(np.bincount(ids, minlength=size))
        return cls(ids, size, present, where[present])

    def keys(self, table: pd.DataFrame, keys: list[str]) -> dict[str, Column]:
        """Each group's keys, in number order."""
        return _taken(table, keys, self.rows)

    def sums(self, weights: np.ndarray) -> np.ndarray:
        return np.bincount(self.ids, weights=weights, minlength=self.size)[self.present]

    def counts(self, used: np.ndarray) -> np.ndarray:
        return self.sums(used.astype(float))

    def means(self, values: np.ndarray, used: np.ndarray | None = None) -> np.ndarray:
        """Per group, each column's mean of its values that are not missing (of the rows
        ``used``, when given); NaN for none."""
        out = np.empty((len(self.present), values.shape[1]))
        for j in range(values.shape[1]):
            seen = ~np.isnan(values[:, j]) if used is None else used & ~np.isnan(values[:, j])
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, j] = self.sums(np.where(seen, values[:, j], 0.0)) / self.counts(seen)
        return out

    def medians(self, values: np.ndarray, used: np.ndarray) -> np.ndarray:
        """Per group, the median of ``values`` (one column) over the rows ``used`` as pandas
        takes it — the middle value, or the mean of the middle two —; NaN for none."""
        ids, values = self.ids[used], values[used]
        order = np.lexsort((values, ids))  # missing values last in each group
        ranked = np.append(values[order], np.nan)  # the last: a group's without values
        start = np.searchsorted(ids[order], self.present)
        seen = (~np.isnan(values)).astype(float)
        count = np.bincount(ids, weights=seen, minlength=self.size)[self.present].astype(np.int64)
        low = ranked[np.where(count > 0, start + (count - 1) // 2, -1)]
        high = ranked[np.where(count > 0, start + count // 2, -1)]
        return (low + high) / 2

    def latest(self, day: np.ndarray) -> np.ndarray:
        """Per group, the index (into the rows) of its row with the latest ``day``."""
        order = np.lexsort((day, self.ids))
        return order[np.searchsorted(self.ids[order], self.present, side="right") - 1]


@dataclass(frozen=True)
class _Past:
    """The rows of a table read at an origin (``rows``: positions in ``table``), with their
    day numbers and level targets (:data:`LEVEL_TARGETS`, in that order) as arrays."""

    table: pd.DataFrame
    rows: np.ndarray
    day: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, table: pd.DataFrame, first: int, end: int) -> _Past:
        """The rows of days [first, end)."""
        days = table[DAY].to_numpy()
        rows = np.flatnonzero((days < end) & (days >= first))
        values = [table[t].to_numpy(dtype=float)[rows] for t in LEVEL_TARGETS]
        stacked = np.column_stack(values) if rows.size else np.empty((0, len(values)))
        return cls(table, rows, days[rows], stacked)

    def groups(self, number: str, where: np.ndarray | None = None) -> _Groups:
        """The rows (those ``where`` holds, when given) by the group-number column ``number``."""
        rows = self.rows if where is None else self.rows[where]
        return _Groups.of(self.table[number].to_numpy(), rows)


def _taken(table: pd.DataFrame, columns: list[str], rows: np.ndarray) -> dict[str, Column]:
    """The values of ``columns`` at positions ``rows`` (their dtypes kept)."""
    return {c: table[c].array.take(rows) for c in columns}


def _frame(columns: Mapping[str, Column], names: list[str], values: np.ndarray) -> pd.DataFrame:
    """One frame of ``columns`` and one named column per column of ``values``."""
    return pd.DataFrame({**columns, **dict(zip(names, values.T, strict=True))})


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

    ``hourly`` must carry day and group numbers (:func:`with_day_numbers`); ``countries``
    maps office ids to countries (for the changes of the events table, see
    ``change_cell``); ``factors`` are the channels' weekday factors as of ``origin``
    (:func:`weekday_factors`) when ``hourly`` holds only some offices (else read from it).
    """
    day0 = origin.toordinal()
    past = _Past.of(hourly, day0 - spec.history_days, day0)
    in_cell = past.day >= day0 - 7 * spec.cell_weeks
    queue, cell_keys = list(s.QUEUE_KEYS), [*s.QUEUE_KEYS, WEEKDAY, s.HOUR]
    targets = list(LEVEL_TARGETS)
    out = {"cell": _cells(past, in_cell, origin, spec, countries or {}, factors)}
    cells = past.groups(CELL_NO, in_cell)
    last = np.flatnonzero(in_cell)[cells.latest(past.day[in_cell])]
    same_hour = _taken(hourly, cell_keys, past.rows[last])
    names = [spec.last_same_hour(t) for t in targets]
    out["last_same_hour"] = _frame(same_hour, names, past.values[last])
    for window in spec.level_windows:
        recent = past.day >= day0 - window
        for by_hour, number, keys in (
            (True, QUEUE_HOUR_NO, [*queue, s.HOUR]),
            (False, QUEUE_NO, queue),
        ):
            groups = past.groups(number, recent)
            names = [spec.level(window, t, by_hour=by_hour) for t in targets]
            name = f"lvl{window}d_hour" if by_hour else f"lvl{window}d"
            out[name] = _frame(groups.keys(hourly, keys), names, groups.means(past.values[recent]))
    out["network"] = _network(past, day0, spec)
    queues = past.groups(QUEUE_NO, in_cell)
    latest = np.zeros(queues.size, dtype=np.int64)
    latest[queues.present] = past.day[in_cell][queues.latest(past.day[in_cell])]
    on_last = past.day[in_cell] == latest[queues.ids]
    names = [spec.last_day(t) for t in targets]
    means = queues.means(past.values[in_cell], on_last)
    out["last_day"] = _frame(queues.keys(hourly, queue), names, means)
    return out


def _cells(
    past: _Past,
    in_cell: np.ndarray,
    origin: dt.date,
    spec: FeatureSpec,
    countries: Mapping[str, str],
    factors: pd.DataFrame | None,
) -> pd.DataFrame:
    """Per weekday × hour cell with rows in the cell's or the long cell's weeks: the
    ``cell`` levels of :func:`origin_levels`."""
    day0 = origin.toordinal()
    in_long = past.day >= day0 - 7 * spec.long_cell_weeks
    groups = past.groups(CELL_NO, in_cell | in_long)
    values = past.values[in_cell | in_long]
    used, used_long = in_cell[in_cell | in_long], in_long[in_cell | in_long]
    targets = list(LEVEL_TARGETS)
    keys = groups.keys(past.table, [*s.QUEUE_KEYS, WEEKDAY, s.HOUR])
    columns = dict(zip([spec.cell(t) for t in targets], groups.means(values, used).T, strict=True))
    days = groups.counts(used)  # one row per queue, date and hour
    columns[spec.cell_days()] = np.where(days > 0, days, np.nan)
    if spec.robust_base:
        for target in ROBUST_TARGETS:
            column = values[:, targets.index(target)]
            columns[spec.cell_median(target)] = groups.medians(column, used)
    long_names = [spec.cell(t, spec.long_cell_weeks) for t in targets]
    columns |= dict(zip(long_names, groups.means(values, used_long).T, strict=True))
    if spec.shrunk_cell:
        recent = past.rows[in_cell]
        wait = past.values[in_cell, targets.index(s.WAIT_P50)]
        factor = _factor_of(past.table, recent, wait) if factors is None else factors
        hours = past.table[QUEUE_HOUR_NO].to_numpy()[groups.rows]
        columns[spec.cell_shrunk()] = _shrunk(keys, groups, hours, values, used, factor)
    cell = pd.DataFrame({**keys, **columns})
    if spec.change_cell:
        since = _since_change(past, in_cell, origin, spec, countries)
        if since is not None:
            cell = cell.join(since, on=[*s.QUEUE_KEYS, WEEKDAY, s.HOUR], how="left")
    return cell


Levels = dict[str, pd.DataFrame]  # what origin_levels returns, by level_keys' names


def _shrunk(
    cell: Mapping[str, Column],
    groups: _Groups,
    hours: np.ndarray,
    values: np.ndarray,
    used: np.ndarray,
    factor: pd.DataFrame,
) -> np.ndarray:
    """Each weekday × hour cell's p50 mean shrunk toward its queue-hour's level over every
    weekday times the channel's weekday factor (:meth:`FeatureSpec.cell_shrunk`).

    Empirical Bayes per queue-hour, by moments: of the k weekday cells' squared distances
    to that level, what the cells' own noise (the day-to-day variance within a cell, pooled
    over the hour's cells, over the cell's days) would give alone is shrunk away; the rest
    is the weekdays' real difference. The weight on the pooled level is
    ``(k − 1) / k · mean noise / mean squared distance`` within [0, 1]; none with fewer
    than three weekdays (nothing to pool) or no repeated day (no noise measured).
    ``cell`` holds the keys of ``groups`` (the cells), ``hours`` their queue-hour numbers,
    ``values`` their rows' targets and ``used`` the rows of the cells' weeks; NaN for a
    cell without a p50 in them."""
    wait = values[:, LEVEL_TARGETS.index(s.WAIT_P50)]
    seen = used & ~np.isnan(wait)
    count = groups.counts(seen)
    kept = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        means = groups.sums(np.where(seen, wait, 0.0)) / count
    of_row = np.zeros(groups.size)
    of_row[groups.present] = np.nan_to_num(means)
    squares = groups.sums(np.where(seen, wait - of_row[groups.ids], 0.0) ** 2)[kept]
    channel, weekday = cell[s.CHANNEL][kept], np.asarray(cell[WEEKDAY], dtype=np.int64)[kept]
    hour = _compact(hours[kept])

    def over_hour(x: np.ndarray) -> np.ndarray:
        return np.bincount(hour, weights=x)[hour]

    count, mean = count[kept], means[kept]
    k = np.bincount(hour)[hour].astype(float)
    level = over_hour(mean * count) / over_hour(count)  # the hour's mean over its days
    pooled = level * np.nan_to_num(_lookup(factor, channel, weekday), nan=1.0)
    freedom = np.clip(over_hour(count) - k, 1, None)
    noise = over_hour(squares) / freedom / count
    spread = over_hour((mean - pooled) ** 2) / k
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = (k - 1) / k * (over_hour(noise) / k) / np.where(spread > 0, spread, np.nan)
    weight = np.where(k >= 3, np.clip(np.nan_to_num(weight, nan=1.0), 0.0, 1.0), 0.0)
    shrunk = np.full(len(kept), np.nan)
    shrunk[kept] = weight * pooled + (1 - weight) * mean
    return shrunk


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
    rows: _Past,
    in_cell: np.ndarray,
    origin: dt.date,
    spec: FeatureSpec,
    countries: Mapping[str, str],
) -> pd.DataFrame | None:
    """Each cell's p50 level since its country's last change (:meth:`FeatureSpec.since_change`),
    for changes at least ``MIN_CHANGE_DAYS`` and less than the cell's weeks before ``origin``
    (of the ``rows`` of the cells' weeks, ``in_cell``)."""
    starts = latest_changes(spec.events, origin, MIN_CHANGE_DAYS, 7 * spec.cell_weeks)
    if not starts:
        return None
    past = rows.table.iloc[rows.rows[in_cell]]
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
    (``_factor``; 1 where the channel's mean is 0). ``hourly`` with group numbers."""
    wait = hourly[s.WAIT_P50].to_numpy(dtype=float)
    return _factor_of(hourly, np.arange(len(hourly)), wait)


def _factor_of(table: pd.DataFrame, rows: np.ndarray, wait: np.ndarray) -> pd.DataFrame:
    """:func:`_weekday_factor` of the rows of ``table`` at ``rows``, whose p50 is ``wait``."""
    channel = table[CHANNEL_NO].to_numpy()
    channels = _Groups.of(channel, rows)
    days = _Groups.of(channel * 7 + table[WEEKDAY].to_numpy(dtype=np.int64), rows)
    whole = np.full(channels.size, np.nan)
    whole[channels.present] = channels.means(wait[:, None])[:, 0]
    level = whole[days.present // 7]
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(level > 0, days.means(wait[:, None])[:, 0] / level, 1.0)
    return pd.DataFrame({**days.keys(table, [s.CHANNEL, WEEKDAY]), "_factor": factor})


def _lookup(factor: pd.DataFrame, channel: Column, weekday: np.ndarray) -> np.ndarray:
    """The ``_factor`` of each (channel, weekday) pair in ``factor`` (NaN if absent)."""
    codes, names = pd.factorize(np.asarray(channel, dtype=object))
    table = np.full((len(names) + 1, 7), np.nan)  # the last row: none of the names
    rows = pd.Index(names).get_indexer(factor[s.CHANNEL].astype(object))
    table[rows, factor[WEEKDAY].to_numpy(dtype=np.int64)] = factor["_factor"].to_numpy(float)
    return table[codes, weekday]


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


def network_levels(hourly: pd.DataFrame, origin: dt.date, spec: FeatureSpec) -> pd.DataFrame:
    """Per channel, the mean over every queue of each of ``level_windows`` days before
    ``origin`` (``hourly`` with day and group numbers)."""
    day0 = origin.toordinal()
    return _network(_Past.of(hourly, day0 - max(spec.level_windows), day0), day0, spec)


def _network(past: _Past, day0: int, spec: FeatureSpec) -> pd.DataFrame:
    """:func:`network_levels` of the rows of ``past`` (before day number ``day0``)."""
    widest = past.day >= day0 - max(spec.level_windows)
    groups = past.groups(CHANNEL_NO, widest)
    trend = [LEVEL_TARGETS.index(t) for t in TREND_TARGETS]
    values = past.values[widest][:, trend]
    network = groups.keys(past.table, [s.CHANNEL])
    for window in spec.level_windows:
        names = [spec.network(window, t) for t in TREND_TARGETS]
        network = _frame(network, names, groups.means(values, past.day[widest] >= day0 - window))
    return network


def network_table(hourly: pd.DataFrame, origins: list[dt.date], spec: FeatureSpec) -> pd.DataFrame:
    """:func:`network_levels` of every origin, stacked with the origin as a key: what
    :func:`features.build.build_features` of a partition of offices reads (``network``)."""
    first = min(origins) - dt.timedelta(days=max(spec.level_windows))
    history = with_day_numbers(hourly[hourly[s.DATE] >= first])
    frames = [network_levels(history, o, spec).assign(**{ORIGIN: o}) for o in sorted(set(origins))]
    return pd.concat(frames, ignore_index=True)
