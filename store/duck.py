"""DuckDB connections for the store: a memory limit, a spill folder, errors made plain.

DuckDB works out of core: past ``memory_limit`` its sorts, joins and aggregates spill to
``temp_directory``, so a store larger than memory is aggregated within the limit.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from features.errors import ParameterError, StoreError
from store import DEFAULT_MEMORY_LIMIT

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "arrow_reader",
    "arrow_table",
    "check_memory_limit",
    "connect",
    "duckdb_errors",
    "limit_bytes",
]

_LIMIT = re.compile(r"^\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def check_memory_limit(value: str) -> str:
    """A DuckDB memory limit such as ``512MB`` or ``4GB`` (ParameterError otherwise)."""
    if not _LIMIT.match(value):
        raise ParameterError("memory_limit", f"expected a size like 512MB or 4GB, got {value!r}")
    return value.strip()


_UNITS = {
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def limit_bytes(memory_limit: str) -> int:
    """The memory limit in bytes (``2GB`` -> 2e9)."""
    match = re.match(r"^\s*([\d.]+)\s*([A-Za-z]+)\s*$", check_memory_limit(memory_limit))
    assert match is not None  # checked above
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def connect(
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    temp_directory: Path | None = None,
    database: Path | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection limited to ``memory_limit``, spilling to ``temp_directory``."""
    con = duckdb.connect(str(database) if database else ":memory:")
    con.execute(f"SET memory_limit = '{check_memory_limit(memory_limit)}'")
    con.execute("SET preserve_insertion_order = false")  # lets large results stream
    if temp_directory is not None:
        con.execute("SET temp_directory = ?", [str(temp_directory)])
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


@contextlib.contextmanager
def duckdb_errors(where: str, memory_limit: str) -> Iterator[None]:
    """DuckDB's out-of-memory and I/O errors as one-line :class:`StoreError`s."""
    try:
        yield
    except duckdb.OutOfMemoryException:
        raise StoreError(
            f"{where}: DuckDB needs more than its memory limit of {memory_limit} "
            "(and could not spill to disk): raise the limit or free disk space"
        ) from None
    except duckdb.IOException as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"{where}: {first}") from None


def arrow_table(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    """A query's result as an Arrow table (DuckDB 1.x and 2.x spell it differently)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def arrow_reader(relation: duckdb.DuckDBPyRelation, rows: int) -> pa.RecordBatchReader:
    """A query's result as a stream of Arrow batches of about ``rows`` rows."""
    reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    return reader(rows)
