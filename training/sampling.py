"""A bounded training set: at national scale the fits read a uniform sample of target rows.

Training rows number origins × horizon × open hours × queues: tens of millions for
3,000 offices, more than a fit needs and than memory holds once features are built.
Above :attr:`training.pipeline.TrainConfig.max_fit_rows` the fits read a seeded sample:
each hourly row is kept with the probability that brings the expected number of target
rows to the limit (a row serves several origins, and is kept or dropped for all of them),
and the rows are then capped exactly. Below the limit nothing changes: one city trains
exactly as before. The sample is drawn *before* the target rows are built, so their full
set never exists in memory.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import schema as s
from features.build import training_targets

__all__ = ["bounded_targets", "cap_rows", "sample_share"]


def cap_rows(rows: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most ``max_rows`` of ``rows`` (all of them when fewer, or when ``max_rows`` is 0)."""
    if max_rows <= 0 or len(rows) <= max_rows:
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), size=max_rows, replace=False))
    return rows.iloc[keep].reset_index(drop=True)


def sample_share(
    hourly: pd.DataFrame, origins: list[dt.date], horizon_days: int, max_rows: int
) -> float:
    """The share of hourly rows to keep so that the targets number about ``max_rows``
    (1.0 when they are fewer already, or when ``max_rows`` is 0)."""
    if max_rows <= 0 or hourly.empty:
        return 1.0
    days = np.sort(pd.to_datetime(hourly[s.DATE]).to_numpy().astype("datetime64[D]").view("int64"))
    total = 0
    for origin in origins:
        first = np.datetime64(origin, "D").astype("int64")
        total += int(np.searchsorted(days, first + horizon_days) - np.searchsorted(days, first))
    return 1.0 if total <= max_rows else max_rows / total


def bounded_targets(
    hourly: pd.DataFrame,
    origins: list[dt.date],
    horizon_days: int,
    max_rows: int,
    seed: int,
    share: float | None = None,
) -> pd.DataFrame:
    """:func:`features.build.training_targets`, with at most ``max_rows`` rows (0: all).

    Args:
        share: the share of hourly rows to keep; computed here when None (a distributed
            fit computes it once for all partitions and caps nothing more).
    """
    if share is None:
        share = sample_share(hourly, origins, horizon_days, max_rows)
        exact = True
    else:
        exact = False
    if share < 1.0:
        kept = np.random.default_rng(seed).random(len(hourly)) < share
        hourly = hourly[kept]
    rows = training_targets(hourly, origins, horizon_days)
    return cap_rows(rows, max_rows, seed) if exact else rows
