"""Search every output for planted personal data: names and 18-digit ID numbers.

Files are read whole: Parquet decoded to text (its pages are compressed, so a byte search
would miss what it holds), gzip decompressed, anything else decoded as UTF-8, GBK and
UTF-16 (a raw copy of an input in another encoding is found too). ID numbers are found
as every 18-character window of digits (overlapping, so one inside a longer number is
found); names as every 3-character window of Chinese text.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq

_ID_WINDOWS = re.compile(r"(?=([0-9]{17}[0-9X]))")
_CHINESE = re.compile(r"[\u4e00-\u9fff]{3,}")


def file_texts(roots: Iterable[Path]) -> dict[str, str]:
    """Every file under ``roots`` (files or folders) as text, keyed by path."""
    texts: dict[str, str] = {}
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            texts[str(path)] = _as_text(path)
    return texts


def _as_text(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(b"PAR1") and len(data) > 12:
        table = pq.read_table(path)
        return " ".join(table.column_names) + "\n" + table.to_pandas().astype(str).to_csv()
    if data.startswith(b"\x1f\x8b"):
        data = gzip.decompress(data)
    return "\n".join(data.decode(codec, "ignore") for codec in ("utf-8", "gbk", "utf-16-le"))


def personal_data_in(texts: dict[str, str], planted: Iterable[str]) -> list[str]:
    """``"where: value"`` for each planted value found in ``texts`` (empty: none found)."""
    values = set(planted)
    found: list[str] = []
    for where, text in texts.items():
        seen = {m.group(1) for m in _ID_WINDOWS.finditer(text)}
        for run in _CHINESE.findall(text):
            seen.update(run[i : i + 3] for i in range(len(run) - 2))
        found.extend(f"{where}: {value}" for value in sorted(seen & values))
    return found
