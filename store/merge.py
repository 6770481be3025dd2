"""Merge the rows of one ingest into a store's partitions, by key, in DuckDB (out of core).

For one input kind:

1. Within one file a key seen again is a duplicate: tickets keep the first usable copy
   and reject the others (``duplicate_ticket_id``, as ``validate`` does within a chunk);
   observations keep the last posted value (the others are *superseded*).
2. Across the files of one ingest, the later file's row wins (the others: superseded).
3. Against the store: a winning row whose key is new is *added*; one equal to the stored
   row in every column is *unchanged* (nothing is written); one that differs *replaces*
   the stored row.

Only partitions with an added or replaced row are rewritten; their rows come out sorted
by office and month, one partition after the other, so each is written as it completes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from features import schema as s
from store.duck import arrow_reader, arrow_table
from store.tables import StoredKind

__all__ = ["FileCounts", "MergePlan", "merge"]

FILE = "_file"  # the index of the source file within the ingest
ROW = "_row"  # the 1-based data row within that file
MONTH = "_month"
ADDED, REPLACED, UNCHANGED = "added", "replaced", "unchanged"
_BATCH_ROWS = 262_144


@dataclass
class FileCounts:
    """What happened to one file's accepted rows."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    superseded: int = 0
    duplicates: int = 0  # rejected as duplicate_ticket_id across chunks


@dataclass
class MergePlan:
    """The outcome of a merge: counts per file, duplicates, and the partitions to rewrite."""

    counts: dict[int, FileCounts] = field(default_factory=dict)
    duplicates: pa.Table | None = None
    changed: set[tuple[str, str]] = field(default_factory=set)
    con: duckdb.DuckDBPyConnection | None = None
    stored: StoredKind | None = None

    def partitions(self) -> Iterator[tuple[tuple[str, str], pa.Table]]:
        """Each changed partition's full new content, ``((office_id, month), table)``."""
        if not self.changed or self.con is None or self.stored is None:
            return
        stored = self.stored
        cols = ", ".join(stored.columns)
        order = ", ".join([s.OFFICE_ID, MONTH, stored.time, *stored.columns[1:]])
        relation = self.con.sql(
            f"""SELECT {cols}, {MONTH} FROM old_rows o
                WHERE EXISTS (SELECT 1 FROM changed c WHERE c.{s.OFFICE_ID} = o.{s.OFFICE_ID}
                              AND c.{MONTH} = o.{MONTH})
                  AND NOT EXISTS (SELECT 1 FROM status r WHERE r._status = '{REPLACED}'
                                  AND {_same_key(stored, "r", "o")})
                UNION ALL
                SELECT {cols}, {MONTH} FROM status WHERE _status <> '{UNCHANGED}'
                ORDER BY {order}"""
        )
        yield from _split_partitions(arrow_reader(relation, _BATCH_ROWS), stored)


def _key_columns(stored: StoredKind) -> str:
    return ", ".join(f"{expr} AS _k{i}" for i, expr in enumerate(stored.key))


def _same_key(stored: StoredKind, left: str, right: str) -> str:
    return " AND ".join(f"{left}._k{i} = {right}._k{i}" for i in range(len(stored.key)))


def _keys(stored: StoredKind) -> str:
    return ", ".join(f"_k{i}" for i in range(len(stored.key)))


def merge(
    con: duckdb.DuckDBPyConnection,
    stored: StoredKind,
    new_rows: Path,
    old_files: dict[tuple[str, str], Path],
) -> MergePlan:
    """Plan the merge of ``new_rows`` (staged Parquet with ``_file`` and ``_row``) into the
    partitions whose current files are ``old_files`` ((office_id, month) -> file)."""
    cols = ", ".join(stored.columns)
    month = f"strftime({stored.time}, '%Y-%m') AS {MONTH}"
    keys = _keys(stored)
    within = f"{ROW} {'ASC' if stored.first_wins else 'DESC'}"
    con.execute(
        f"""CREATE OR REPLACE TABLE ranked AS
            SELECT {cols}, {FILE}, {ROW}, {_key_columns(stored)}, {month},
                   row_number() OVER (PARTITION BY {keys}, {FILE} ORDER BY {within}) AS _in_file
            FROM read_parquet(?)""",
        [str(new_rows)],
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE win AS SELECT * EXCLUDE (_in_file, _across) FROM (
                SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY {FILE} DESC) AS _across
                FROM ranked WHERE _in_file = 1) WHERE _across = 1"""
    )
    touched = {
        (str(o), str(m))
        for o, m in con.execute(f"SELECT DISTINCT {s.OFFICE_ID}, {MONTH} FROM win").fetchall()
    }
    files = [str(old_files[p]) for p in sorted(touched) if p in old_files]
    source = "read_parquet(?)" if files else f"(SELECT {cols} FROM ranked WHERE false)"
    con.execute(
        f"CREATE OR REPLACE TABLE old_rows AS SELECT {cols}, {_key_columns(stored)}, {month} "
        f"FROM {source}",
        [files] if files else [],
    )
    equal = " AND ".join(f"w.{c} IS NOT DISTINCT FROM o.{c}" for c in stored.columns)
    con.execute(
        f"""CREATE OR REPLACE TABLE status AS
            SELECT w.*, CASE WHEN o._k0 IS NULL THEN '{ADDED}'
                             WHEN {equal} THEN '{UNCHANGED}' ELSE '{REPLACED}' END AS _status
            FROM win w LEFT JOIN old_rows o ON {_same_key(stored, "w", "o")}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE changed AS SELECT DISTINCT {s.OFFICE_ID}, {MONTH}
            FROM status WHERE _status <> '{UNCHANGED}'"""
    )
    plan = MergePlan(con=con, stored=stored)
    plan.changed = {(str(o), str(m)) for o, m in con.execute("SELECT * FROM changed").fetchall()}
    _count(con, plan, stored)
    if stored.first_wins:
        plan.duplicates = arrow_table(
            con.sql(
                f"SELECT {cols}, {FILE}, {ROW} FROM ranked WHERE _in_file > 1 "
                f"ORDER BY {FILE}, {ROW}"
            )
        )
    return plan


def _count(con: duckdb.DuckDBPyConnection, plan: MergePlan, stored: StoredKind) -> None:
    for file, status, n in con.execute(
        f"SELECT {FILE}, _status, count(*) FROM status GROUP BY ALL"
    ).fetchall():
        setattr(plan.counts.setdefault(int(file), FileCounts()), str(status), int(n))
    for file, extra, n_first in con.execute(
        f"""SELECT {FILE}, count(*) FILTER (WHERE _in_file > 1),
                   count(*) FILTER (WHERE _in_file = 1)
            FROM ranked GROUP BY ALL"""
    ).fetchall():
        counts = plan.counts.setdefault(int(file), FileCounts())
        won = counts.added + counts.replaced + counts.unchanged
        counts.superseded = int(n_first) - won
        if stored.first_wins:
            counts.duplicates = int(extra)
        else:
            counts.superseded += int(extra)


def _split_partitions(
    reader: pa.RecordBatchReader, stored: StoredKind
) -> Iterator[tuple[tuple[str, str], pa.Table]]:
    """Consecutive rows of one (office, month) as one table each (the input is sorted)."""
    current: tuple[str, str] | None = None
    pieces: list[pa.RecordBatch] = []
    for batch in reader:
        offices = batch.column(s.OFFICE_ID).to_numpy(zero_copy_only=False)
        months = batch.column(MONTH).to_numpy(zero_copy_only=False)
        change = np.flatnonzero((offices[1:] != offices[:-1]) | (months[1:] != months[:-1])) + 1
        starts = [0, *change.tolist()]
        ends = [*change.tolist(), batch.num_rows]
        for start, end in zip(starts, ends, strict=True):
            key = (str(offices[start]), str(months[start]))
            if key != current and pieces:
                yield current, _table(pieces, stored)  # type: ignore[misc]
                pieces = []
            current = key
            pieces.append(batch.slice(start, end - start))
    if pieces and current is not None:
        yield current, _table(pieces, stored)


def _table(pieces: list[pa.RecordBatch], stored: StoredKind) -> pa.Table:
    return pa.Table.from_batches(pieces).select(stored.columns).cast(stored.schema)
