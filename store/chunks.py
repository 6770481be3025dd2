"""Read one input file in chunks of rows, as text, so a file larger than memory can be ingested.

The same contract as :mod:`features.read` (CSV, CSV.gz or Parquet; the kind told by the
header; columns outside the contract dropped before they are decoded; values as text;
``source_file`` and ``source_row`` added), but streamed: Arrow's incremental CSV reader or
Parquet's row-group batches, one chunk in memory at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features import schema as s
from features.errors import InputError
from features.read import CONTRACT_COLUMNS, arrow_text, detect_kind, header_names

__all__ = ["DEFAULT_CHUNK_ROWS", "FileChunks", "open_chunks"]

DEFAULT_CHUNK_ROWS = 500_000
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_BOM = b"\xef\xbb\xbf"
_HEAD_BYTES = 1 << 16
_FIELDS = re.compile(r"Expected (\d+) columns, got (\d+)")


@dataclass
class FileChunks:
    """One file's kind and an iterator over its chunks (text frames)."""

    path: Path
    kind: s.InputKind
    chunks: Iterator[pd.DataFrame]


def open_chunks(path: Path, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> FileChunks:
    """Open ``path`` and tell its kind; its chunks are read as they are iterated.

    Raises:
        InputError: the file is missing, empty, not UTF-8 CSV or Parquet, or unreadable.
        MissingColumnError: a required column is absent (the message names it).
    """
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if magic.startswith(_PARQUET_MAGIC):
        return _parquet_chunks(path, chunk_rows)
    return _csv_chunks(path, chunk_rows, gzipped=magic.startswith(_GZIP_MAGIC))


def _stream(path: Path, gzipped: bool) -> pa.NativeFile:
    return pa.input_stream(str(path), compression="gzip" if gzipped else None)


def _head(path: Path, gzipped: bool) -> bytes:
    try:
        with _stream(path, gzipped) as stream:
            return bytes(stream.read(_HEAD_BYTES))
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a valid gzip or CSV file ({exc})") from None


def _csv_chunks(path: Path, chunk_rows: int, gzipped: bool) -> FileChunks:
    head = _head(path, gzipped).removeprefix(_BOM)
    if not head.strip():
        raise InputError(f"{path}: the file is empty (expected a header row and data rows)")
    if b"\x00" in head:
        raise InputError(
            f"{path}: not a CSV or Parquet file (binary content, or UTF-16 text); "
            "save it as UTF-8 CSV or Parquet"
        )
    first_line = head.split(b"\n", 1)[0]
    try:
        first_line.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text (in the header); save it as UTF-8 CSV") from None
    names = header_names(first_line, path)
    kind = detect_kind(names, str(path))
    keep = [name for name in names if name in CONTRACT_COLUMNS[kind]]
    return FileChunks(path, kind, _csv_batches(path, gzipped, names, keep, chunk_rows))


def _csv_batches(
    path: Path, gzipped: bool, names: list[str], keep: list[str], chunk_rows: int
) -> Iterator[pd.DataFrame]:
    # Arrow reads blocks of bytes; about 100 bytes a row turns rows into a block size.
    block = max(1 << 16, min(chunk_rows * 100, 1 << 28))
    try:
        with _stream(path, gzipped) as stream:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=block),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    include_columns=keep,
                    column_types=dict.fromkeys(keep, pa.string()),
                    null_values=[],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            yield from _rebatched(path, (pa.Table.from_batches([b]) for b in reader), chunk_rows)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({_csv_problem(exc)})") from None


def _csv_problem(exc: Exception) -> str:
    """Arrow's reason without the row it quotes (which may hold personal data)."""
    text = str(exc)
    fields = _FIELDS.search(text)
    if fields:
        return f"a row has {fields.group(2)} fields, the header {fields.group(1)}"
    if "UTF8" in text or "UTF-8" in text:
        return "not UTF-8 text; save it as UTF-8 CSV"
    if "gzip" in text.lower() or "decompress" in text.lower():
        return "the gzip stream is damaged"
    return "a row could not be parsed"


def _parquet_chunks(path: Path, chunk_rows: int) -> FileChunks:
    try:
        parquet = pq.ParquetFile(str(path))
        names = parquet.schema_arrow.names
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    kind = detect_kind(names, str(path))
    keep = [name for name in names if name in CONTRACT_COLUMNS[kind]]

    def tables() -> Iterator[pa.Table]:
        try:
            for batch in parquet.iter_batches(batch_size=chunk_rows, columns=keep):
                columns = [arrow_text(pa.chunked_array([batch.column(n)]), n, path) for n in keep]
                yield pa.table(columns, names=keep)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from None

    return FileChunks(path, kind, _rebatched(path, tables(), chunk_rows))


def _rebatched(path: Path, tables: Iterator[pa.Table], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Text frames of about ``chunk_rows`` rows with ``source_file`` and ``source_row``."""
    pending: list[pa.Table] = []
    pending_rows = 0
    first_row = 1
    for table in tables:
        pending.append(table)
        pending_rows += table.num_rows
        if pending_rows >= chunk_rows:
            yield _frame(pa.concat_tables(pending), path, first_row)
            first_row += pending_rows
            pending, pending_rows = [], 0
    if pending_rows:
        yield _frame(pa.concat_tables(pending), path, first_row)


def _frame(table: pa.Table, path: Path, first_row: int) -> pd.DataFrame:
    frame = table.to_pandas()
    frame[s.SOURCE_FILE] = str(path)
    frame[s.SOURCE_ROW] = range(first_row, first_row + len(frame))
    return frame
