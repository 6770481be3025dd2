"""A small column table (a dict of equal-length numpy arrays) for the advice's hour sets.

The advice ranks a few hundred open hours per request. pandas spends far more time on
its bookkeeping than on that arithmetic, so the advice works on :class:`Table`: columns by
name, row selection (:meth:`take`), new columns (:meth:`assign`), and a stable sort on
several keys (:meth:`sorted_by`, what ``DataFrame.sort_values`` does with several
columns: ascending, NaN last, ties in their order). Each row keeps its id (``ROW_ID``,
its position in the table it was first made from), as a DataFrame row keeps its label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from features import schema as s

ROW_ID = "_row"
ORDINAL = "_ordinal"  # the date as a day number, for sorting and comparing


class Table:
    """Rows of named numpy columns."""

    __slots__ = ("columns",)

    def __init__(self, columns: Mapping[str, np.ndarray]) -> None:
        self.columns = dict(columns)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Table:
        """A table of the frame's columns (row ids 0..n-1; dates also as day numbers)."""
        columns = {name: frame[name].to_numpy() for name in frame.columns}
        columns[ROW_ID] = np.arange(len(frame))
        dates = columns.get(s.DATE)
        if dates is not None:
            columns[ORDINAL] = np.fromiter(
                (d.toordinal() for d in dates), dtype=np.int64, count=len(dates)
            )
        return cls(columns)

    def __len__(self) -> int:
        return len(self.columns[ROW_ID]) if ROW_ID in self.columns else 0

    @property
    def empty(self) -> bool:
        """True when the table has no row."""
        return len(self) == 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def take(self, index: Any) -> Table:
        """The rows at ``index`` (positions or a boolean mask), in that order."""
        return Table({name: values[index] for name, values in self.columns.items()})

    def head(self, n: int) -> Table:
        """The first ``n`` rows."""
        return self.take(slice(0, n))

    def assign(self, **columns: np.ndarray) -> Table:
        """The table with these columns added or replaced."""
        return Table({**self.columns, **columns})

    def sorted_by(self, keys: Iterable[str]) -> Table:
        """Rows sorted by ``keys`` (first key first), stable, NaN last."""
        arrays = [_sort_key(self.columns[k]) for k in keys]
        return self.take(np.lexsort(tuple(reversed(arrays))))

    @staticmethod
    def concat(tables: list[Table]) -> Table:
        """The rows of several tables one after the other (the columns all of them have)."""
        parts = [t for t in tables if not t.empty]
        if not parts:
            return tables[0] if tables else Table({})
        names = [n for n in parts[0].columns if all(n in t.columns for t in parts)]
        return Table({name: np.concatenate([t.columns[name] for t in parts]) for name in names})


def filled(values: np.ndarray, value: float) -> np.ndarray:
    """``values`` as floats with NaN replaced by ``value`` (``np.nan_to_num``'s job for NaN
    alone, at a tenth of its cost on small arrays)."""
    values = values.astype(float)
    return np.where(np.isnan(values), value, values)


def _sort_key(values: np.ndarray) -> np.ndarray:
    """A numeric sort key with the column's order: dates as day numbers, text by rank."""
    if values.dtype.kind in "biuf":
        return values
    if len(values) and hasattr(values[0], "toordinal"):
        return np.fromiter((v.toordinal() for v in values), dtype=np.int64, count=len(values))
    return np.unique(values.astype(str), return_inverse=True)[1]
