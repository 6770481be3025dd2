"""Live accuracy: the forecasts the server served against the waits the logs later show.

Pure (frames in, frames out). The inputs:

- the served forecasts (one row per queue, date, hour and version: ``p10/p50/p90`` as
  served, ``estimator``, ``model_p50`` as the version itself serves it);
- the store's hourly table (``wait_p50`` etc., :mod:`store.queries`);
- the individual waits of called tickets (for the coverage).

The baseline is the **historical mean**: for a queue, date and hour, the mean of the
hour's ``wait_p10/p50/p90`` on the same weekday over the 8 weeks before the date (what
:class:`models.baselines.HistoricalMean` reads as ``cell8w_*``, here as of each day, so it
follows the waits the logs show). When several versions served the same hour (a
promotion), the latest version's record counts.

The switch rule, per queue, on days with at least :data:`MIN_HOURS_A_DAY` scored hours
(closed days do not break a run): after :data:`SWITCH_AFTER_DAYS` days in a row on which
the model's p50 MAE was worse than the historical mean's (above it by more than
:data:`WORSE_MARGIN` of it: a tie within noise is not "worse"), the queue is served by
the historical mean; after :data:`SWITCH_BACK_AFTER_DAYS` days in a row on which the
model's MAE was at most the historical mean's, it is served by the model again. Seven
days cover every weekday once, so one bad weekday does not switch a queue; three are
enough to come back: the switch is a fallback, and a queue left on the baseline after
the model recovered would serve the worse estimator for as long as it stays there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import schema as s
from models.blend import ESTIMATOR

BASELINE_WEEKS = 8
SWITCH_AFTER_DAYS = 7
SWITCH_BACK_AFTER_DAYS = 3
MIN_HOURS_A_DAY = 3
WORSE_MARGIN = 0.10
WINDOWS = (7, 28)
BASE_P10, BASE_P50, BASE_P90 = "base_p10", "base_p50", "base_p90"
MAE_SERVED, MAE_BASELINE, MAE_MODEL = "mae_served", "mae_baseline", "mae_model"
RATIO, COVERAGE, HOURS, WINDOW_DAYS = "ratio", "coverage", "hours", "window_days"
KEYS = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
Queue = tuple[str, str, str]


def historical_mean(hourly: pd.DataFrame, dates: Iterable[dt.date]) -> pd.DataFrame:
    """The 8-week historical mean of each queue and hour on ``dates``: KEYS + base_p*."""
    wanted = sorted(set(dates))
    waits = [s.WAIT_P10, s.WAIT_P50, s.WAIT_P90]
    names = {s.WAIT_P10: BASE_P10, s.WAIT_P50: BASE_P50, s.WAIT_P90: BASE_P90}
    if hourly.empty or not wanted:
        return pd.DataFrame(columns=[*KEYS, *names.values()])
    base = hourly[[*KEYS, *waits]].dropna(subset=[s.WAIT_P50])
    shifted = [
        base.assign(**{s.DATE: base[s.DATE] + dt.timedelta(days=7 * k)})
        for k in range(1, BASELINE_WEEKS + 1)
    ]
    stacked = pd.concat(shifted, ignore_index=True)
    stacked = stacked[stacked[s.DATE].isin(wanted)]
    mean = stacked.groupby(KEYS, as_index=False, observed=True)[waits].mean()
    return mean.rename(columns=names)


def scored_hours(served: pd.DataFrame, hourly: pd.DataFrame) -> pd.DataFrame:
    """Served hours with their actual median wait and historical mean (both present)."""
    latest = served.sort_values(s.VERSION).drop_duplicates(KEYS, keep="last")
    actual = hourly[[*KEYS, s.WAIT_P50]].dropna()
    joined = latest.merge(actual, on=KEYS, how="inner")
    base = historical_mean(hourly, joined[s.DATE].unique())
    return joined.merge(base, on=KEYS, how="inner")


def _window(frame: pd.DataFrame, until: dt.date, days: int) -> pd.DataFrame:
    first = until - dt.timedelta(days=days - 1)
    return frame[(frame[s.DATE] >= first) & (frame[s.DATE] <= until)]


def accuracy(
    hours: pd.DataFrame, outcomes: pd.DataFrame, until: dt.date, windows: Iterable[int] = WINDOWS
) -> pd.DataFrame:
    """Per office, channel and window (the ``days`` days ending ``until``): scored hours,
    MAE of the served p50 and of the historical mean, their ratio, and the share of
    called tickets' waits inside the served p10-p90."""
    cover = outcomes.merge(hours[[*KEYS, s.P10, s.P90]], on=KEYS, how="inner")
    cover = cover.assign(
        **{COVERAGE: ((cover[s.WAIT] >= cover[s.P10]) & (cover[s.WAIT] <= cover[s.P90])) * 1.0}
    )
    rows = []
    by = [s.OFFICE_ID, s.CHANNEL]
    for days in windows:
        part = _window(hours, until, days)
        errors = part.assign(
            **{
                MAE_SERVED: (part[s.P50] - part[s.WAIT_P50]).abs(),
                MAE_BASELINE: (part[BASE_P50] - part[s.WAIT_P50]).abs(),
            }
        )
        figures = errors.groupby(by, observed=True).agg(
            **{
                HOURS: (MAE_SERVED, "size"),
                MAE_SERVED: (MAE_SERVED, "mean"),
                MAE_BASELINE: (MAE_BASELINE, "mean"),
            }
        )
        covered = _window(cover, until, days).groupby(by, observed=True)[COVERAGE].mean()
        figures = figures.join(covered).reset_index().assign(**{WINDOW_DAYS: days})
        rows.append(figures)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if out.empty:
        return pd.DataFrame(
            columns=[*by, WINDOW_DAYS, HOURS, MAE_SERVED, MAE_BASELINE, RATIO, COVERAGE]
        )
    out[RATIO] = out[MAE_SERVED] / out[MAE_BASELINE].replace(0.0, np.nan)
    return out[[*by, WINDOW_DAYS, HOURS, MAE_SERVED, MAE_BASELINE, RATIO, COVERAGE]]


def daily(hours: pd.DataFrame) -> pd.DataFrame:
    """Per queue and day: scored hours and the MAE of the served p50, of the version's own
    p50 (``model_p50``) and of the historical mean."""
    errors = hours.assign(
        **{
            MAE_SERVED: (hours[s.P50] - hours[s.WAIT_P50]).abs(),
            MAE_MODEL: (hours[s.MODEL_P50] - hours[s.WAIT_P50]).abs(),
            MAE_BASELINE: (hours[BASE_P50] - hours[s.WAIT_P50]).abs(),
            ESTIMATOR: hours[ESTIMATOR],
        }
    )
    return errors.groupby([*s.QUEUE_KEYS, s.DATE], as_index=False, observed=True).agg(
        **{
            HOURS: (MAE_SERVED, "size"),
            MAE_SERVED: (MAE_SERVED, "mean"),
            MAE_MODEL: (MAE_MODEL, "mean"),
            MAE_BASELINE: (MAE_BASELINE, "mean"),
            ESTIMATOR: (ESTIMATOR, "first"),
        }
    )


@dataclass(frozen=True)
class SwitchState:
    """A queue served by the historical mean: since when and why."""

    since: dt.date
    reason: str


def decide_switches(
    days: pd.DataFrame, current: Mapping[Queue, SwitchState], until: dt.date
) -> dict[Queue, SwitchState]:
    """The queues to serve by the historical mean from ``until + 1`` on (see the rule)."""
    out = dict(current)
    scored = days[(days[HOURS] >= MIN_HOURS_A_DAY) & (days[s.DATE] <= until)]
    for queue, part in scored.groupby(list(s.QUEUE_KEYS), observed=True):
        key: Queue = (str(queue[0]), str(queue[1]), str(queue[2]))
        part = part.sort_values(s.DATE)
        model, base = part[MAE_MODEL].to_numpy(float), part[MAE_BASELINE].to_numpy(float)
        worse = model > base * (1 + WORSE_MARGIN)
        if key not in out and _last_run(worse) >= SWITCH_AFTER_DAYS and worse[-1]:
            run = _last_run(worse)
            recent = part.tail(run)
            out[key] = SwitchState(
                until + dt.timedelta(days=1),
                f"the model's p50 was further from the waits than the 8-week historical "
                f"mean (by more than {WORSE_MARGIN:.0%}) {run} days in a row "
                f"({recent[s.DATE].iloc[0]}..{recent[s.DATE].iloc[-1]}: MAE "
                f"{recent[MAE_MODEL].mean():.1f} vs {recent[MAE_BASELINE].mean():.1f} min)",
            )
        elif (
            key in out
            and _last_run(model <= base) >= SWITCH_BACK_AFTER_DAYS
            and model[-1] <= base[-1]
        ):
            del out[key]
    return out


def _last_run(flags: np.ndarray) -> int:
    """Length of the run of equal values at the end of ``flags``."""
    if len(flags) == 0:
        return 0
    change = np.flatnonzero(flags != flags[-1])
    return len(flags) - (int(change[-1]) + 1 if len(change) else 0)


def baseline_cells(
    hourly: pd.DataFrame, day: dt.date, queues: Iterable[Queue]
) -> dict[Queue, dict[tuple[int, int], tuple[float, float, float]]]:
    """Each queue's historical mean per weekday and hour for the week from ``day`` (the
    8 weeks before it): what a switched queue is served."""
    wanted = set(queues)
    week = [day + dt.timedelta(days=i) for i in range(7)]
    base = historical_mean(hourly, week)
    cells: dict[Queue, dict[tuple[int, int], tuple[float, float, float]]] = {q: {} for q in wanted}
    for row in base.itertuples(index=False):
        values = row._asdict()
        queue = (str(values[s.OFFICE_ID]), str(values[s.CHANNEL]), str(values[s.SERVICE]))
        if queue in wanted:
            cell = (float(values[BASE_P10]), float(values[BASE_P50]), float(values[BASE_P90]))
            cells[queue][(values[s.DATE].weekday(), int(values[s.HOUR]))] = cell
    return cells
