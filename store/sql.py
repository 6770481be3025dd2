"""SQL building blocks of the store's queries: Parquet file lists, date cut-offs, batches.

Quantiles are holistic: DuckDB keeps every wait of a group until the group is done and
cannot spill them. Per-office queries therefore run on batches of whole offices whose
Parquet stays under ``batch_bytes`` (a sixth of the memory limit by default), and their
results are concatenated: exact, since every group lies within one office.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pandas as pd

from store.duck import DEFAULT_MEMORY_LIMIT, arrow_table, limit_bytes

__all__ = [
    "DEFAULT_BATCH_BYTES",
    "batched",
    "before_sql",
    "files_sql",
    "office_batches",
    "to_frame",
]

DEFAULT_BATCH_BYTES = limit_bytes(DEFAULT_MEMORY_LIMIT) // 6


def office_batches(files: list[Path], batch_bytes: int = DEFAULT_BATCH_BYTES) -> list[list[Path]]:
    """Partition files in batches of whole offices (in office order), each under
    ``batch_bytes`` of Parquet unless one office alone is larger."""
    by_office: dict[str, list[Path]] = {}
    for path in files:  # .../office_id=<quoted id>/month=.../part.parquet
        office = unquote(path.parent.parent.name.partition("=")[2])
        by_office.setdefault(office, []).append(path)
    batches: list[list[Path]] = []
    size = batch_bytes + 1
    for office in sorted(by_office):
        paths = by_office[office]
        weight = sum(p.stat().st_size for p in paths)
        if size + weight > batch_bytes:
            batches.append([])
            size = 0
        batches[-1].extend(paths)
        size += weight
    return batches


def batched(
    query: Callable[[list[Path]], pd.DataFrame], files: list[Path], batch_bytes: int
) -> pd.DataFrame:
    """``query`` run on each batch of whole offices of ``files``, results concatenated."""
    frames = [query(batch) for batch in office_batches(files, batch_bytes)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def files_sql(paths: list[Path]) -> str:
    """DuckDB's table of the Parquet files ``paths``."""
    quoted = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{quoted}])"


def before_sql(column: str, until: dt.date | None) -> str:
    """A WHERE clause keeping rows whose ``column`` is before ``until`` (none: every row)."""
    return f"WHERE {column} < DATE '{until.isoformat()}'" if until else ""


def to_frame(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A query's result as pandas, dates as ``datetime.date``."""
    return arrow_table(relation).to_pandas(date_as_object=True)
