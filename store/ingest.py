"""Ingest exports into a store: validate in chunks, merge by key, commit one snapshot.

An ingest is one transaction. Every input file is streamed in chunks through
:func:`features.validate.validate` (the rules of ``waitcast validate``); accepted rows are
staged as Parquet, rejected rows with their reasons as CSV. DuckDB then merges the staged
rows into the store by key (:mod:`store.merge`), and the next snapshot is built beside the
current one: untouched partitions hard-linked, changed ones rewritten. Only when it is
complete does ``CURRENT`` move to it. An error of any kind (a bad file, too many rejects,
a full disk) or a kill leaves the store as it was.

A file whose sha256 is already in the manifest is skipped: ingesting it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features import schema as s
from features.errors import UnusableInputError
from features.offices import OfficeRegistry
from features.read import RawInput, input_files
from features.reasons import Reason
from features.validate import validate
from models import _storage
from store.chunks import DEFAULT_CHUNK_ROWS, open_chunks
from store.duck import DEFAULT_MEMORY_LIMIT, connect, duckdb_errors
from store.layout import MANIFEST, PART_FILE, REJECTS, Store, partition_path
from store.merge import FILE, ROW, FileCounts, merge
from store.tables import KINDS, StoredKind

__all__ = ["FileReport", "IngestResult", "ParquetPartitionWriter", "PartitionWriter", "ingest"]


class PartitionWriter(Protocol):
    """Writes one partition file (tests inject a full disk through this)."""

    def write(self, table: pa.Table, path: Path) -> None:
        """Write ``table`` as the Parquet file ``path``."""


class ParquetPartitionWriter:
    """The real writer: zstd-compressed Parquet."""

    def write(self, table: pa.Table, path: Path) -> None:
        """Write ``table`` as the Parquet file ``path``."""
        pq.write_table(table, path, compression="zstd")


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


@dataclass
class IngestResult:
    """The snapshot made (None when every file was already ingested) and the file reports."""

    snapshot: str | None
    files: list[FileReport]
    rows: dict[str, int]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Staging:
    """Accepted rows of one kind as staged Parquet, rejected rows as a CSV."""

    def __init__(self, folder: Path, stored: StoredKind) -> None:
        self.stored = stored
        self.rows_path = folder / f"new-{stored.kind.value}.parquet"
        self.rejects_path = folder / f"rejects-{stored.kind.value}.csv"
        self.schema = stored.schema.append(pa.field(FILE, pa.int32())).append(
            pa.field(ROW, pa.int64())
        )
        self.reject_columns = [
            *{s.InputKind.TICKETS: s.TICKET_COLUMNS}.get(stored.kind, s.OBSERVATION_COLUMNS),
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


def ingest(
    store: Store,
    paths: Iterable[Path],
    offices: OfficeRegistry,
    *,
    max_reject_share: float = 0.05,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    writer: PartitionWriter | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    on_file: Callable[[int, int], None] | None = None,
) -> IngestResult:
    """Validate ``paths`` and merge their accepted rows into ``store`` as one snapshot.

    Raises:
        InputError: a file is not the data contract, or its rejected share is above
            ``max_reject_share`` (nothing is ingested then).
        StoreError: the store cannot be written (full disk, permissions, another ingest).
    """
    files = input_files(paths)
    now = (clock or (lambda: dt.datetime.now(dt.UTC)))().isoformat(timespec="seconds")
    with store.writing() as staging:
        previous = store.snapshot_dir()
        manifest = store.manifest(previous)
        known = {entry["sha256"]: entry.get("kind") for entry in manifest}
        staged = {kind: _Staging(staging, stored) for kind, stored in KINDS.items()}
        reports: list[FileReport] = []
        with store.os_errors("cannot stage the ingest"):
            for index, path in enumerate(files):
                report = FileReport(str(path), _sha256(path), ingested_at=now)
                reports.append(report)
                if report.sha256 in known:
                    report.already_ingested = True
                    report.kind = known[report.sha256]
                else:
                    known[report.sha256] = None
                    _stage_file(path, index, report, staged, offices, chunk_rows)
                    known[report.sha256] = report.kind
                if on_file:
                    on_file(index + 1, len(files))
        fresh = [r for r in reports if not r.already_ingested]
        if not fresh:
            return IngestResult(None, reports, _rows(manifest_rows(store, previous)))
        snapshot = store.next_snapshot_id()
        folder = staging / "snapshot"
        rows = dict(manifest_rows(store, previous))
        con = connect(memory_limit, staging / "duckdb-spill", staging / "merge.duckdb")
        try:
            with (
                duckdb_errors(f"store {store.root}", memory_limit),
                store.os_errors("is not writable"),
            ):
                for kind, stage in staged.items():
                    has_rows = stage.close()
                    plan_counts = _merge_kind(
                        store, con, stage, has_rows, previous, folder, writer, snapshot
                    )
                    for file_index, counts in plan_counts.items():
                        _apply(reports[file_index], counts)
                        rows[kind.value] = rows.get(kind.value, 0) + counts.added
                for report in fresh:
                    report.snapshot = snapshot
                    _check_usable(report, max_reject_share)
                _write_rejects(previous, folder, staged, snapshot)
                entries = [*manifest, *(r.to_dict() for r in fresh)]
                _storage.write_durably(folder / MANIFEST, _manifest_bytes(entries, rows))
        finally:
            con.close()
        store.commit(folder, snapshot)
    return IngestResult(snapshot, reports, _rows(rows))


def _rows(rows: dict[str, int]) -> dict[str, int]:
    return {kind.value: int(rows.get(kind.value, 0)) for kind in KINDS}


def manifest_rows(store: Store, folder: Path | None) -> dict[str, int]:
    """Rows per kind in a snapshot, as its manifest records them."""
    if folder is None:
        return {}
    data = _storage.read_json(folder / MANIFEST)
    return {str(k): int(v) for k, v in data.get("rows", {}).items()}


def _manifest_bytes(entries: list[dict[str, Any]], rows: dict[str, int]) -> bytes:
    return (json.dumps({"files": entries, "rows": _rows(rows)}, indent=1) + "\n").encode()


def _stage_file(
    path: Path,
    index: int,
    report: FileReport,
    staged: dict[s.InputKind, _Staging],
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


def _partition_files(store: Store, kind: s.InputKind, folder: Path | None) -> dict:
    found = {}
    for path in store.partition_files(kind, folder):
        office = unquote(path.parent.parent.name.split("=", 1)[1])
        month = path.parent.name.split("=", 1)[1]
        found[(office, month)] = path
    return found


def _merge_kind(
    store: Store,
    con: Any,
    stage: _Staging,
    has_rows: bool,
    previous: Path | None,
    folder: Path,
    writer: PartitionWriter | None,
    snapshot: str,
) -> dict[int, FileCounts]:
    """Merge one kind's staged rows; hard-link untouched partitions, write changed ones."""
    kind = stage.stored.kind
    old = _partition_files(store, kind, previous)
    counts: dict[int, FileCounts] = {}
    changed: set[tuple[str, str]] = set()
    if has_rows:
        plan = merge(con, stage.stored, stage.rows_path, old)
        counts, changed = plan.counts, plan.changed
        writer = writer or ParquetPartitionWriter()
        for (office, month), table in plan.partitions():
            target = folder / partition_path(kind, office, month) / PART_FILE
            target.parent.mkdir(parents=True, exist_ok=True)
            writer.write(table, target)
        if plan.duplicates is not None and plan.duplicates.num_rows:
            stage.reject(_duplicate_rejects(plan.duplicates, stage))
    for (office, month), source in old.items():
        if (office, month) not in changed:
            target = folder / partition_path(kind, office, month) / PART_FILE
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)
    return counts


def _duplicate_rejects(duplicates: pa.Table, stage: _Staging) -> pd.DataFrame:
    frame = duplicates.to_pandas()
    out = frame[stage.stored.columns].astype(object).where(frame.notna(), "").astype(str)
    out[s.SOURCE_FILE] = frame[FILE].astype(str)
    out[s.SOURCE_ROW] = frame[ROW]
    out[s.REJECT_REASON] = Reason.DUPLICATE_TICKET_ID.value
    return out


def _apply(report: FileReport, counts: FileCounts) -> None:
    report.added, report.replaced = counts.added, counts.replaced
    report.unchanged, report.superseded = counts.unchanged, counts.superseded
    if counts.duplicates:
        report.accepted -= counts.duplicates
        report.rejected += counts.duplicates
        code = Reason.DUPLICATE_TICKET_ID.value
        report.counts_by_reason[code] = report.counts_by_reason.get(code, 0) + counts.duplicates


def _check_usable(report: FileReport, max_reject_share: float) -> None:
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
        raise UnusableInputError(
            f"{report.file}: {share:.2%} of {report.rows_in:,} rows rejected, above the limit "
            f"of {max_reject_share:.2%} (top reasons: {reasons}); nothing was ingested: fix the "
            "file (waitcast validate shows the rows), or pass --max-reject-share or --allow-rejects"
        )


def _write_rejects(
    previous: Path | None, folder: Path, staged: dict[s.InputKind, _Staging], snapshot: str
) -> None:
    target = folder / REJECTS
    target.mkdir(parents=True, exist_ok=True)
    if previous is not None and (previous / REJECTS).is_dir():
        for old in sorted((previous / REJECTS).iterdir()):
            os.link(old, target / old.name)
    for kind, stage in staged.items():
        if stage.n_rejects:
            os.replace(stage.rejects_path, target / f"{snapshot}-{kind.value}.csv")
