"""Read input files: the only file I/O in ``features``.

Reads CSV (UTF-8, header row, optionally gzip-compressed) and Parquet, as one file or a
folder of such files (recursively, in sorted order; other files in a folder are ignored).
The format is told by content (gzip and Parquet magic bytes), the kind by the header: a
ticket log has ``ticket_id`` and ``issued_at``, wait observations ``observed_at`` and
``wait_minutes``.

Every value is read as text, so validation sees what was written: CSV fields verbatim
(an empty field is ``""``, never NaN), Parquet columns cast to the same text (null -> ``""``,
times ``YYYY-MM-DD HH:MM:SS`` with an offset when time-zone aware). Columns outside the
data contract are dropped before they are decoded: names or ID numbers in an export never
enter a frame. ``source_file`` and ``source_row`` (1-based data row) are added.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features import schema as s
from features.errors import InputError, MissingColumnError

__all__ = [
    "RawInput",
    "arrow_text",
    "as_text",
    "detect_kind",
    "header_names",
    "input_files",
    "read_file",
    "read_inputs",
]

SUFFIXES = (".csv", ".csv.gz", ".parquet")
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_BOM = b"\xef\xbb\xbf"

CONTRACT_COLUMNS = {
    s.InputKind.TICKETS: s.TICKET_COLUMNS,
    s.InputKind.OBSERVATIONS: s.OBSERVATION_COLUMNS,
}
REQUIRED_COLUMNS = {
    s.InputKind.TICKETS: s.TICKET_REQUIRED,
    s.InputKind.OBSERVATIONS: s.OBSERVATION_REQUIRED,
}
_ALL_CONTRACT_COLUMNS = frozenset(s.TICKET_COLUMNS + s.OBSERVATION_COLUMNS)
_MARKERS = {
    s.InputKind.TICKETS: (s.TICKET_ID, s.ISSUED_AT),
    s.InputKind.OBSERVATIONS: (s.OBSERVED_AT, s.WAIT_MINUTES),
}


@dataclass(frozen=True, eq=False)
class RawInput:
    """All rows of one input kind, as text, from one or more files.

    Attributes:
        kind: tickets or observations.
        frame: the contract columns found (text), plus ``source_file`` and ``source_row``.
        files: the files read, in order.
    """

    kind: s.InputKind
    frame: pd.DataFrame
    files: tuple[Path, ...]


def read_inputs(paths: Iterable[str | Path]) -> list[RawInput]:
    """Read files and folders, grouped by kind (tickets first, then observations).

    Raises:
        InputError: a path is missing or unreadable, or a file is not UTF-8 CSV or Parquet.
        MissingColumnError: a file lacks a required column (the message names it).
    """
    grouped: dict[s.InputKind, list[tuple[Path, pd.DataFrame]]] = {}
    for path in input_files(paths):
        kind, frame = read_file(path)
        grouped.setdefault(kind, []).append((path, frame))
    inputs = []
    for kind in s.InputKind:
        if kind in grouped:
            files, frames = zip(*grouped[kind], strict=True)
            inputs.append(RawInput(kind, _concat(list(frames)), tuple(files)))
    return inputs


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """The input files named by ``paths``: files as given, folders searched recursively."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(f for f in path.rglob("*") if f.is_file() and _is_input(f))
            if not inside:
                raise InputError(f"{path}: the folder holds no {', '.join(SUFFIXES)} files")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    if not found:
        raise InputError("no input files given")
    return list(dict.fromkeys(found))


def read_file(path: str | Path) -> tuple[s.InputKind, pd.DataFrame]:
    """Read one CSV, CSV.gz or Parquet file as text; tell its kind from its columns."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if data.startswith(_GZIP_MAGIC):
        data = _gunzip(data, path)
    if not data[:4096].strip() and not data.strip():
        raise InputError(f"{path}: the file is empty (expected a header row and data rows)")
    if data.startswith(_PARQUET_MAGIC):
        kind, table = _read_parquet(data, path)
    else:
        kind, table = _read_csv(data.removeprefix(_BOM), path)
    frame = table.to_pandas()
    frame[s.SOURCE_FILE] = str(path)
    frame[s.SOURCE_ROW] = range(1, len(frame) + 1)
    return kind, frame


def detect_kind(columns: Iterable[str], source: str = "input") -> s.InputKind:
    """The input kind told by the column names.

    Raises:
        MissingColumnError: neither kind's marker columns are present (naming the missing
            required columns of the closest kind), or the kind lacks a required column.
    """
    names = set(columns)
    kinds = [kind for kind, markers in _MARKERS.items() if set(markers) <= names]
    if kinds:
        kind = kinds[0]
        missing = [c for c in REQUIRED_COLUMNS[kind] if c not in names]
        if not missing:
            return kind
        what = f"a {kind.value} file"
    else:
        gaps = {k: [c for c in REQUIRED_COLUMNS[k] if c not in names] for k in s.InputKind}
        kind = min(s.InputKind, key=lambda k: len(gaps[k]))  # the closest; tickets on a tie
        missing = gaps[kind]
        what = f"neither a ticket log nor wait observations; as {kind.value} it"
    raise MissingColumnError(
        f"{source}: {what} is missing the required column(s) {', '.join(missing)}"
    )


def as_text(values: pd.Series) -> pd.Series:
    """A column as text, with missing values as ``""`` (already-text columns kept)."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("") if values.hasnans else values
    return values.astype(object).where(values.notna(), "").astype("str")


def _is_input(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def _gunzip(data: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: not a valid gzip file ({exc})") from None


def _check_utf8(data: bytes, path: Path) -> None:
    """Refuse text that is not UTF-8 (validated by Arrow without copying the bytes)."""
    if b"\x00" in data[:65536]:
        raise InputError(
            f"{path}: not a CSV or Parquet file (binary content, or UTF-16 text); "
            "save it as UTF-8 CSV or Parquet"
        )
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    blob = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]
    )
    try:
        blob.cast(pa.large_string())
    except pa.ArrowInvalid:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError(
                f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                "save it as UTF-8 CSV"
            ) from None


def header_names(data: bytes, path: Path) -> list[str]:
    """The header's column names, stripped; unnamed or repeated other columns renamed."""
    first_line = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    names = [name.strip() for name in next(csv.reader([first_line]), [])]
    repeated = sorted({n for n in names if names.count(n) > 1 and n in _ALL_CONTRACT_COLUMNS})
    if repeated:
        raise InputError(f"{path}: the header repeats the column(s) {', '.join(repeated)}")
    # Arrow needs distinct names; other columns are dropped anyway, so just number them
    # (a leading space cannot come from the stripped header).
    return [
        name if name in _ALL_CONTRACT_COLUMNS or (name and names.count(name) == 1) else f" {i}"
        for i, name in enumerate(names)
    ]


def _read_csv(data: bytes, path: Path) -> tuple[s.InputKind, pa.Table]:
    _check_utf8(data, path)
    names = header_names(data, path)
    kind = detect_kind(names, str(path))
    keep = [name for name in names if name in CONTRACT_COLUMNS[kind]]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                include_columns=keep,
                column_types=dict.fromkeys(keep, pa.string()),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Arrow's message quotes the offending row, which may hold personal data: say where.
        problem = _csv_problem(data, len(names))
        raise InputError(f"{path}: not a readable CSV file ({problem})") from None
    return kind, table


def _csv_problem(data: bytes, n_fields: int) -> str:
    """Where a CSV breaks, without quoting its content."""
    rows = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    try:
        for row in rows:
            if row and len(row) != n_fields:
                return f"line {rows.line_num} has {len(row)} fields, the header {n_fields}"
    except csv.Error as exc:
        return f"line {rows.line_num}: {exc}"
    return "a row could not be parsed"


def _read_parquet(data: bytes, path: Path) -> tuple[s.InputKind, pa.Table]:
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        names = parquet.schema_arrow.names
        kind = detect_kind(names, str(path))
        keep = [name for name in names if name in CONTRACT_COLUMNS[kind]]
        table = parquet.read(columns=keep)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    columns = [arrow_text(table.column(name), name, path) for name in keep]
    return kind, pa.table(columns, names=keep)


def arrow_text(column: pa.ChunkedArray, name: str, path: Path) -> pa.ChunkedArray:
    """A Parquet column as the text a CSV would hold (null -> "")."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_timestamp(kind):
        with contextlib.suppress(pa.ArrowInvalid):  # whole seconds print without a fraction
            column = column.cast(pa.timestamp("s", tz=kind.tz))
    if pa.types.is_floating(kind):
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, kind), column)
    try:
        text = column.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputError(f"{path}: column {name} has type {kind}, not readable as text") from None
    return text.fill_null("")


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    frame = pd.concat(frames, ignore_index=True)
    text = [c for c in frame.columns if c not in (s.SOURCE_FILE, s.SOURCE_ROW)]
    frame[text] = frame[text].fillna("")
    return frame
