"""Durable, checksummed file operations behind the model registry (no domain knowledge)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any


def read_json(path: Path) -> Any:
    """Parse a UTF-8 JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def hash_tree(folder: Path, exclude: str) -> tuple[dict[str, str], list[str]]:
    """sha256 of every regular file under ``folder`` but ``exclude``, and the symlinks found.

    Returns:
        ``({relative posix path: sha256 hex}, [relative paths of symlinks])``.
    """
    hashes: dict[str, str] = {}
    symlinks: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                symlinks.append(rel)
            elif name in filenames and rel != exclude:
                digest = hashlib.sha256()
                with open(path, "rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
                hashes[rel] = digest.hexdigest()
    return hashes, symlinks


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file and fsync it."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def seal_tree(folder: Path) -> None:
    """Fsync every file and folder under ``folder``; make files and sub-folders read-only."""
    for dirpath, _dirnames, filenames in os.walk(folder):
        for filename in filenames:
            path = os.path.join(dirpath, filename)
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
            os.chmod(path, 0o444)
        fsync_dir(Path(dirpath))
        if dirpath != str(folder):
            os.chmod(dirpath, 0o555)


def fsync_dir(path: Path) -> None:
    """Fsync a folder so a rename or new entry in it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def force_rmtree(path: Path) -> None:
    """Remove a tree even where it was made read-only; errors are ignored."""

    def make_writable(func: Callable[..., Any], target: str, _exc: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target), stat.S_IRWXU)
            os.chmod(target, stat.S_IRWXU)
            func(target)

    shutil.rmtree(path, onerror=make_writable)


def json_default(value: Any) -> Any:
    """Make numpy scalars, dates and paths JSON-serialisable."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"metadata value {value!r} is not JSON-serialisable")
