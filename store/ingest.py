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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

from features import schema as s
from features.offices import OfficeRegistry
from features.read import input_files
from models import _storage
from store.chunks import DEFAULT_CHUNK_ROWS
from store.duck import DEFAULT_MEMORY_LIMIT, connect, duckdb_errors
from store.layout import MANIFEST, PART_FILE, REJECTS, Store, partition_path
from store.merge import FileCounts, merge
from store.staging import (
    FileReport,
    Staging,
    apply_counts,
    check_usable,
    duplicate_rejects,
    stage_file,
)
from store.tables import KINDS

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
        staged = {kind: Staging(staging, stored) for kind, stored in KINDS.items()}
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
                    stage_file(path, index, report, staged, offices, chunk_rows)
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
                        apply_counts(reports[file_index], counts)
                        rows[kind.value] = rows.get(kind.value, 0) + counts.added
                for report in fresh:
                    report.snapshot = snapshot
                    check_usable(report, max_reject_share)
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
    stage: Staging,
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
            stage.reject(duplicate_rejects(plan.duplicates, stage))
    for (office, month), source in old.items():
        if (office, month) not in changed:
            target = folder / partition_path(kind, office, month) / PART_FILE
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)
    return counts


def _write_rejects(
    previous: Path | None, folder: Path, staged: dict[s.InputKind, Staging], snapshot: str
) -> None:
    target = folder / REJECTS
    target.mkdir(parents=True, exist_ok=True)
    if previous is not None and (previous / REJECTS).is_dir():
        for old in sorted((previous / REJECTS).iterdir()):
            os.link(old, target / old.name)
    for kind, stage in staged.items():
        if stage.n_rejects:
            os.replace(stage.rejects_path, target / f"{snapshot}-{kind.value}.csv")
