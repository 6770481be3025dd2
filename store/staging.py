"""Staging one ingest: accepted rows as Parquet, rejects as CSV, and each file's accounting.

Each input file is read in chunks (:mod:`store.chunks`) and validated with the rules of
``waitcast validate``; :class:`Staging` collects a kind's accepted rows (typed, with their
file index and row) and its rejected rows (with reasons). After the merge, each file's
:class:`FileReport` receives what happened to its rows, and :func:`check_usable` refuses
the whole ingest when one file is over the reject limit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features import schema as s
from features.errors import TooManyRejectsError, UnusableInputError
from features.offices import OfficeRegistry
from features.read import CONTRACT_COLUMNS, RawInput
from features.reasons import Reason
from features.validate import validate
from store.chunks import open_chunks
from store.merge import FILE, ROW, FileCounts
from store.tables import StoredKind

__all__ = [
    "FileReport",
    "Staging",
    "apply_counts",
    "check_usable",
    "duplicate_rejects",
    "stage_file",
]


@dataclass
class FileReport:
    """One input file's ingest: what was read, accepted, rejected and changed."""

    file: str
    sha256: str
    kind: str | None = None
    rows_in: int = 0
    accepted: int = 0
    rejected: int = 0
    counts_by_reason: dict[str, int] = field(default_factory=dict)
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    superseded: int = 0
    already_ingested: bool = False
    ingested_at: str = ""
    snapshot: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the manifest entry)."""
        return asdict(self)


class Staging:
    """Accepted rows of one kind as staged Parquet, rejected rows as a CSV."""

    def __init__(self, folder: Path, stored: StoredKind) -> None:
        self.stored = stored
        self.rows_path = folder / f"new-{stored.kind.value}.parquet"
        self.rejects_path = folder / f"rejects-{stored.kind.value}.csv"
        self.schema = stored.schema.append(pa.field(FILE, pa.int32())).append(
            pa.field(ROW, pa.int64())
        )
        self.reject_columns = [
            *CONTRACT_COLUMNS[stored.kind],
            s.SOURCE_FILE,
            s.SOURCE_ROW,
            s.REJECT_REASON,
        ]
        self._writer: pq.ParquetWriter | None = None
        self.n_rejects = 0

    def add(self, accepted: pd.DataFrame, file_index: int) -> None:
        if accepted.empty:
            return
        table = self.stored.to_arrow(accepted)
        table = table.append_column(FILE, pa.array(np.full(len(table), file_index, np.int32)))
        table = table.append_column(ROW, pa.array(accepted[s.SOURCE_ROW].to_numpy(np.int64)))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.rows_path, self.schema, compression="zstd")
        self._writer.write_table(table)

    def reject(self, rejected: pd.DataFrame) -> None:
        if rejected.empty:
            return
        frame = rejected.reindex(columns=self.reject_columns, fill_value="")
        frame.to_csv(self.rejects_path, mode="a", header=self.n_rejects == 0, index=False)
        self.n_rejects += len(frame)

    def close(self) -> bool:
        """Finish the staged rows; True when there are any."""
        if self._writer is None:
            return False
        self._writer.close()
        return True


def stage_file(
    path: Path,
    index: int,
    report: FileReport,
    staged: dict[s.InputKind, Staging],
    offices: OfficeRegistry,
    chunk_rows: int,
) -> None:
    chunks = open_chunks(path, chunk_rows)
    report.kind = chunks.kind.value
    stage = staged[chunks.kind]
    for frame in chunks.chunks:
        result = validate(RawInput(chunks.kind, frame, (path,)), offices)
        stage.add(result.accepted, index)
        stage.reject(result.rejected)
        report.rows_in += result.rows_in
        report.accepted += len(result.accepted)
        report.rejected += len(result.rejected)
        for code, n in result.counts_by_reason.items():
            report.counts_by_reason[code] = report.counts_by_reason.get(code, 0) + n


def duplicate_rejects(duplicates: pa.Table, stage: Staging) -> pd.DataFrame:
    frame = duplicates.to_pandas()
    out = frame[stage.stored.columns].astype(object).where(frame.notna(), "").astype(str)
    out[s.SOURCE_FILE] = frame[FILE].astype(str)
    out[s.SOURCE_ROW] = frame[ROW]
    out[s.REJECT_REASON] = Reason.DUPLICATE_TICKET_ID.value
    return out


def apply_counts(report: FileReport, counts: FileCounts) -> None:
    report.added, report.replaced = counts.added, counts.replaced
    report.unchanged, report.superseded = counts.unchanged, counts.superseded
    if counts.duplicates:
        report.accepted -= counts.duplicates
        report.rejected += counts.duplicates
        code = Reason.DUPLICATE_TICKET_ID.value
        report.counts_by_reason[code] = report.counts_by_reason.get(code, 0) + counts.duplicates


def check_usable(report: FileReport, max_reject_share: float) -> None:
    """Refuse the whole ingest when one file is unusable (the message names the file)."""
    if report.rows_in == 0:
        raise UnusableInputError(f"{report.file}: the file has no data rows")
    share = report.rejected / report.rows_in
    top = sorted(report.counts_by_reason.items(), key=lambda item: -item[1])[:3]
    reasons = ", ".join(f"{code} {n:,}" for code, n in top)
    if report.accepted == 0:
        raise UnusableInputError(
            f"{report.file}: no usable rows, all {report.rows_in:,} rejected (top reasons: "
            f"{reasons}); nothing was ingested"
        )
    if share > max_reject_share:
        raise TooManyRejectsError(
            f"{report.file}: {share:.2%} of {report.rows_in:,} rows rejected, above the limit "
            f"of {max_reject_share:.2%} (top reasons: {reasons}); nothing was ingested"
        )
