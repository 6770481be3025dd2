"""The folder layout of a data store: format file, snapshots, the current pointer, the lock.

::

    DIR/
      waitcast-store.json        {"format": "waitcast-store", "version": 1}
      CURRENT                    the current snapshot id (``s000003``), replaced atomically
      snapshots/s000003/
        manifest.json            every ingested file: sha256, rows in, accepted, rejected, ...
        kind=tickets/office_id=hz-xihu/month=2025-06/part.parquet
        kind=observations/office_id=md-annapolis/month=2017-11/part.parquet
        rejects/i0003-tickets.csv    the rows an ingest rejected, with their reasons
      .staging/<uuid>/           a snapshot being built (removed by the next ingest)
      .lock                      held by the one ingest writing

A snapshot is complete and never changed: an ingest builds the next one in ``.staging``
(hard links to the partitions it leaves alone, new files for those it changes) and then
replaces ``CURRENT`` in one rename. A killed ingest leaves ``CURRENT`` and every snapshot
as they were. Office ids are percent-encoded in folder names; the ``office_id`` column
inside each file holds the id itself, so readers take it from the file, not the path.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from features import schema as s
from features.errors import NoStoreError, NotAStoreError, StoreError
from models import _storage

__all__ = ["FORMAT_VERSION", "Store", "partition_path"]

FORMAT_FILE = "waitcast-store.json"
FORMAT_NAME = "waitcast-store"
FORMAT_VERSION = 1
CURRENT = "CURRENT"
SNAPSHOTS = "snapshots"
STAGING = ".staging"
LOCK = ".lock"
MANIFEST = "manifest.json"
REJECTS = "rejects"
PART_FILE = "part.parquet"
KEEP_SNAPSHOTS = 3  # the current one and two before it, for readers still on them
MONTH = "month"
KIND = "kind"
_SNAPSHOT_RE = re.compile(r"s[0-9]{6,}", re.ASCII)


def partition_path(kind: s.InputKind, office_id: str, month: str) -> str:
    """The relative folder of one partition, hive-style (``kind=…/office_id=…/month=…``)."""
    return f"{KIND}={kind.value}/{s.OFFICE_ID}={quote(office_id, safe='')}/{MONTH}={month}"


class Store:
    """One store folder. Open it with :meth:`open`; nothing is written until an ingest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def open(cls, root: Path, create: bool = False) -> Store:
        """Check that ``root`` is a store this code can read (create it when asked).

        Raises:
            StoreError: the folder is missing (and ``create`` is false), is a file, is a
                non-empty folder that is not a store, or was written by a newer version.
        """
        store = cls(root)
        root = store.root
        if root.exists() and not root.is_dir():
            raise NotAStoreError(f"store {root} is a file, not a folder", root)
        marker = root / FORMAT_FILE
        if not marker.exists():
            if not create:
                raise NoStoreError(f"no store at {root}", root)
            if root.exists() and any(root.iterdir()):
                raise NotAStoreError(
                    f"{root} is not a waitcast store (no {FORMAT_FILE}) and is not empty", root
                )
            store._initialise()
        store._check_format()
        return store

    def _initialise(self) -> None:
        text = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION}) + "\n"
        with self.os_errors("cannot be created"):
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.root / f".{FORMAT_FILE}.{uuid.uuid4().hex}"
            _storage.write_durably(tmp, text.encode())
            os.replace(tmp, self.root / FORMAT_FILE)
            _storage.fsync_dir(self.root)

    def _check_format(self) -> None:
        try:
            info = _storage.read_json(self.root / FORMAT_FILE)
        except (OSError, ValueError) as exc:
            raise StoreError(f"store {self.root}: {FORMAT_FILE} is unreadable ({exc})") from None
        if not isinstance(info, dict) or info.get("format") != FORMAT_NAME:
            raise NotAStoreError(
                f"{self.root} is not a waitcast store ({FORMAT_FILE} says otherwise)", self.root
            )
        version = info.get("version")
        if not isinstance(version, int) or version < 1:
            raise StoreError(f"store {self.root}: {FORMAT_FILE} has no valid format version")
        if version > FORMAT_VERSION:
            raise StoreError(
                f"store {self.root} was written by a newer waitcast (store format {version}; "
                f"this version reads format {FORMAT_VERSION}): upgrade waitcast"
            )

    # --- reading -------------------------------------------------------------------------

    def current(self) -> str | None:
        """The current snapshot id, or None before the first ingest."""
        try:
            text = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self.error("cannot be read", exc) from None
        if not _SNAPSHOT_RE.fullmatch(text) or not (self.root / SNAPSHOTS / text).is_dir():
            raise StoreError(f"store {self.root}: {CURRENT} names no snapshot ({text[:40]!r})")
        return text

    def snapshot_dir(self) -> Path | None:
        """The folder of the current snapshot, or None before the first ingest."""
        current = self.current()
        return None if current is None else self.root / SNAPSHOTS / current

    def partition_files(
        self, kind: s.InputKind, folder: Path | None = None, since_month: str | None = None
    ) -> list[Path]:
        """Every partition file of ``kind`` in a snapshot (default: the current one); only
        months from ``since_month`` (``YYYY-MM``) on when given."""
        folder = folder or self.snapshot_dir()
        if folder is None:
            return []
        found = sorted((folder / f"{KIND}={kind.value}").glob(f"*/*/{PART_FILE}"))
        if since_month is None:
            return found
        return [p for p in found if p.parent.name.partition("=")[2] >= since_month]

    def manifest(self, folder: Path | None = None) -> list[dict[str, Any]]:
        """The ingested files, oldest first (empty before the first ingest)."""
        folder = folder or self.snapshot_dir()
        if folder is None:
            return []
        try:
            data = _storage.read_json(folder / MANIFEST)
        except (OSError, ValueError) as exc:
            raise StoreError(f"store {self.root}: {MANIFEST} is unreadable ({exc})") from None
        return list(data.get("files", []))

    # --- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[Path]:
        """Hold the writer's lock; yield a fresh staging folder (removed afterwards)."""
        with self.os_errors("is not writable"):
            handle = open(self.root / LOCK, "a+b")  # noqa: SIM115 - closed below
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    raise StoreError(
                        f"store {self.root}: another ingest is writing to it; "
                        "run again when it has finished"
                    ) from None
                raise self.error("cannot be locked", exc) from None
            staging_root = self.root / STAGING
            with self.os_errors("is not writable"):
                if staging_root.exists():  # left by a killed ingest: we hold the lock
                    _storage.force_rmtree(staging_root)
                self._remove_uncommitted_snapshots()
                staging = staging_root / uuid.uuid4().hex
                staging.mkdir(parents=True)
            try:
                yield staging
            finally:
                _storage.force_rmtree(staging_root)
        finally:
            handle.close()

    def next_snapshot_id(self) -> str:
        """The id the next snapshot will get."""
        names = []
        with contextlib.suppress(FileNotFoundError):
            names = [n for n in os.listdir(self.root / SNAPSHOTS) if _SNAPSHOT_RE.fullmatch(n)]
        return f"s{max((int(n[1:]) for n in names), default=0) + 1:06d}"

    def commit(self, staging: Path, snapshot: str) -> None:
        """Make the complete snapshot in ``staging`` current (one rename of ``CURRENT``)."""
        with self.os_errors("is not writable"):
            _storage.seal_tree(staging)  # fsync every file and folder (made read-only)
            (self.root / SNAPSHOTS).mkdir(exist_ok=True)
            final = self.root / SNAPSHOTS / snapshot
            os.rename(staging, final)
            _storage.fsync_dir(final.parent)
            self._switch_current(snapshot)
        self._remove_old_snapshots(snapshot)

    def _switch_current(self, snapshot: str) -> None:
        """Point ``CURRENT`` at ``snapshot``: the one step that publishes an ingest."""
        tmp = self.root / f".{CURRENT}.{uuid.uuid4().hex}"
        try:
            _storage.write_durably(tmp, f"{snapshot}\n".encode())
            os.replace(tmp, self.root / CURRENT)
        finally:
            tmp.unlink(missing_ok=True)
        _storage.fsync_dir(self.root)

    def _remove_uncommitted_snapshots(self) -> None:
        """Snapshots after the current one were renamed in by an ingest killed before it
        moved ``CURRENT``: no reader ever saw them."""
        current = self.current()
        number = int(current[1:]) if current else 0
        with contextlib.suppress(FileNotFoundError):
            for name in os.listdir(self.root / SNAPSHOTS):
                if _SNAPSHOT_RE.fullmatch(name) and int(name[1:]) > number:
                    _storage.force_rmtree(self.root / SNAPSHOTS / name)

    def _remove_old_snapshots(self, current: str) -> None:
        names = sorted(
            (n for n in os.listdir(self.root / SNAPSHOTS) if _SNAPSHOT_RE.fullmatch(n)),
            key=lambda n: int(n[1:]),
        )
        keep = set(names[-KEEP_SNAPSHOTS:]) | {current}
        for name in names:
            if name not in keep:
                _storage.force_rmtree(self.root / SNAPSHOTS / name)

    # --- errors --------------------------------------------------------------------------

    def error(self, problem: str, exc: OSError) -> StoreError:
        """A one-line :class:`StoreError` for an OS error (full disk, permissions...)."""
        reason = exc.strerror or str(exc)
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        hint = "free some space" if full else "fix its permissions"
        return StoreError(f"store {self.root} {problem}: {reason}; {hint}")

    @contextlib.contextmanager
    def os_errors(self, problem: str) -> Iterator[None]:
        """Turn an OSError inside the block into a :class:`StoreError`."""
        try:
            yield
        except StoreError:
            raise
        except OSError as exc:
            raise self.error(problem, exc) from exc
