"""A bounded training set: at national scale the fits read a uniform sample of target rows.

Training rows number origins × horizon × open hours × queues: tens of millions for
3,000 offices, more than a fit needs and than memory holds once features are built. Above
:attr:`training.pipeline.TrainConfig.max_fit_rows` the rows are a seeded uniform sample
(kept in their order), so one city trains exactly as before and a country in bounded time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["cap_rows"]


def cap_rows(rows: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most ``max_rows`` of ``rows`` (all of them when fewer, or when ``max_rows`` is 0)."""
    if max_rows <= 0 or len(rows) <= max_rows:
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), size=max_rows, replace=False))
    return rows.iloc[keep].reset_index(drop=True)
