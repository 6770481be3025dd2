"""Helpers for the store tests: a folder's content as checksums, to prove it unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from features import schema as s
from store.layout import LOCK, STAGING, Store


def tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` but the lock and the staging area."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != LOCK and not rel.startswith(STAGING):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def stored_rows(root: Path, kind: s.InputKind = s.InputKind.TICKETS) -> pd.DataFrame:
    """Every row of one kind in the store's current snapshot."""
    files = Store.open(root).partition_files(kind)
    if not files:
        return pd.DataFrame()
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
