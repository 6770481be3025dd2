"""The model registry: immutable, checksummed model versions in a folder, one of them current.

Layout under the registry root::

    versions/v0001/...        one folder per version: the model files, metadata.json and
                              manifest.json (sha256 of every other file); read-only
    .staging/<uuid>/          a version being written; renamed into versions/ when complete
    CURRENT                   the current version id, replaced atomically
    history.jsonl             one line per switch of CURRENT: version, previous, at

The registry stores files only and knows nothing of the model inside them; a version's
seal (metadata, manifest, checksums) is :mod:`models.manifest`'s.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from features.errors import (
    CurrentPointerError,
    ModelError,
    ModelIntegrityError,
    ModelNotFoundError,
    NoCurrentModelError,
    RegistryError,
    UnknownVersionError,
)
from models import _storage
from models.manifest import MANIFEST as _MANIFEST
from models.manifest import METADATA as _METADATA
from models.manifest import check_files, seal

__all__ = ["ModelRegistry", "VersionInfo"]

_VERSION_RE = re.compile(r"v[0-9]{4,}", re.ASCII)
_CURRENT, _HISTORY = "CURRENT", "history.jsonl"
_STALE_STAGING_SECONDS = 3600
_COLLISIONS = {errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR}


@dataclass(frozen=True)
class VersionInfo:
    """One stored model version as listed by the registry."""

    version: str
    created_at: str
    metadata: dict[str, Any]
    is_current: bool


class ModelRegistry:
    """A folder of immutable model versions with an atomically switched current one.

    Args:
        root: the registry folder; nothing is created until a version is published.
        clock: returns the time stamped on versions and history (aware UTC by default).
    """

    def __init__(self, root: Path, clock: Callable[[], datetime] | None = None) -> None:
        self.root = Path(root)
        self.clock = clock or (lambda: datetime.now(UTC))

    def check_writable(self) -> None:
        """Raise :class:`RegistryError` now if a version could not be stored here later."""
        staging_root = self.root / ".staging"
        with self._os_errors("is not writable"):
            staging_root.mkdir(parents=True, exist_ok=True)
            probe = staging_root / f"probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()

    def publish(self, write: Callable[[Path], None], metadata: dict[str, Any]) -> str:
        """Store a new version whose files ``write(folder)`` creates; return its id.

        The version appears all at once or not at all; ``version`` and ``created_at`` are
        set in its metadata by the registry. An existing version is never overwritten.
        """
        staging_root = self.root / ".staging"
        with self._os_errors("is not writable"):
            staging_root.mkdir(parents=True, exist_ok=True)
            (self.root / "versions").mkdir(exist_ok=True)
            self._remove_stale_staging(staging_root)
            staging = staging_root / uuid.uuid4().hex
            staging.mkdir()
        try:
            with self._os_errors("is not writable"):
                write(staging)
                payload, symlinks = _storage.hash_tree(staging, exclude="")
                clashes = sorted(set(symlinks) | ({_METADATA, _MANIFEST} & set(payload)))
                if clashes:
                    raise ModelError(f"model writer created {clashes[0]}: not allowed")
                for attempt in range(1000):
                    version = self._next_version()
                    final = self.root / "versions" / version
                    stamp = {"version": version, "created_at": self.clock().isoformat()}
                    seal(staging, payload, {**metadata, **stamp})
                    try:
                        os.rename(staging, final)
                    except OSError as exc:
                        if exc.errno in _COLLISIONS and attempt < 999:
                            continue  # another writer took this id: take the next one
                        raise
                    os.chmod(final, 0o555)
                    _storage.fsync_dir(final.parent)
                    return version
        except BaseException:
            _storage.force_rmtree(staging)
            raise
        raise RegistryError(f"registry {self.root}: could not allocate a version id")

    def promote(self, version: str) -> None:
        """Make ``version`` current after checking that its files verify."""
        self.verified_path(version)
        previous = self.current_version()
        if previous != version:
            self._switch(version, previous, rollback=False)

    def rollback(self) -> str:
        """Make the version current before the current one current again; return it."""
        current = self.current_version()
        stack: list[str] = []
        for entry in self._history():  # replay: a promotion pushes, a rollback pops
            if entry.get("rollback"):
                del stack[-1:]
                if stack[-1:] != [entry["version"]]:
                    stack.append(entry["version"])
                continue
            if not stack and _is_version(entry.get("previous")):
                stack.append(entry["previous"])
            stack.append(entry["version"])
        if stack and stack[-1] == current:
            stack.pop()
        targets = [v for v in reversed(stack) if v != current and _is_version(v)]
        if current is None or not targets:
            raise ModelNotFoundError(f"no previous model to roll back to in registry {self.root}")
        self.verified_path(targets[0])
        self._switch(targets[0], current, rollback=True)
        return targets[0]

    def versions(self) -> list[VersionInfo]:
        """Every complete version, oldest first; staging and malformed folders are skipped."""
        current = self.current_version()
        found: list[VersionInfo] = []
        for name in sorted(self._version_names(), key=lambda n: int(n[1:])):
            folder = self.root / "versions" / name
            try:
                meta = _storage.read_json(folder / _METADATA)
                _storage.read_json(folder / _MANIFEST)
            except (OSError, ValueError):
                continue
            if isinstance(meta, dict):
                created = str(meta.get("created_at", ""))
                found.append(VersionInfo(name, created, meta, name == current))
        return found

    def current_version(self) -> str | None:
        """The current version id, or None when no version has been promoted."""
        self._check_root()
        with self._os_errors("cannot be read"):
            try:
                text = (self.root / _CURRENT).read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                return None
        if not _is_version(text):
            raise CurrentPointerError(
                f"registry {self.root}: CURRENT holds {text[:40]!r}, not a version id"
            )
        return text

    def metadata(self, version: str) -> dict[str, Any]:
        """The metadata stored with ``version``."""
        data = self._read_version_json(version, _METADATA)
        if not isinstance(data, dict):
            raise ModelIntegrityError(f"model {version}: {_METADATA} is not a JSON object")
        return data

    def manifest(self, version: str) -> dict[str, Any]:
        """The manifest (file -> sha256) stored with ``version``."""
        data = self._read_version_json(version, _MANIFEST)
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            raise ModelIntegrityError(f"model {version}: {_MANIFEST} has no 'files' mapping")
        return data

    def verified_path(self, version: str | None = None) -> Path:
        """The folder of ``version`` (default: current) after checking every file's checksum."""
        if version is None:
            version = self.current_version()
            if version is None:
                raise NoCurrentModelError(f"no current model in {self.root}")
        folder = self._folder(version)
        if not (folder / _MANIFEST).is_file():
            raise ModelIntegrityError(f"model {version}: {_MANIFEST} is missing: refused")
        listed = self.manifest(version)["files"]
        with self._os_errors("cannot be read"):
            present, symlinks = _storage.hash_tree(folder, exclude=_MANIFEST)
        check_files(version, listed, present, symlinks)
        return folder

    def _folder(self, version: str) -> Path:
        """The folder of an existing version; the id is validated before touching paths."""
        if not isinstance(version, str) or not _is_version(version):
            raise UnknownVersionError(f"{str(version)[:60]!r} is not a model version (v0001…)")
        self._check_root()
        folder = self.root / "versions" / version
        if not folder.is_dir():
            raise UnknownVersionError(f"no model version {version} in registry {self.root}")
        return folder

    def _read_version_json(self, version: str, name: str) -> Any:
        folder = self._folder(version)
        with self._os_errors("cannot be read"):
            try:
                return _storage.read_json(folder / name)
            except FileNotFoundError:
                raise ModelIntegrityError(f"model {version}: {name} is missing") from None
            except ValueError as exc:
                raise ModelIntegrityError(f"model {version}: {name} is not JSON: {exc}") from exc

    def _version_names(self) -> list[str]:
        self._check_root()
        with self._os_errors("cannot be read"), contextlib.suppress(FileNotFoundError):
            return [n for n in os.listdir(self.root / "versions") if _is_version(n)]
        return []

    def _next_version(self) -> str:
        return f"v{max((int(n[1:]) for n in self._version_names()), default=0) + 1:04d}"

    def _switch(self, version: str, previous: str | None, *, rollback: bool) -> None:
        """Point CURRENT at ``version`` atomically and record the switch in the history."""
        with self._os_errors("is not writable"):
            tmp = self.root / f".CURRENT.tmp-{uuid.uuid4().hex}"
            try:
                _storage.write_durably(tmp, f"{version}\n".encode())
                os.replace(tmp, self.root / _CURRENT)
            finally:
                tmp.unlink(missing_ok=True)
            _storage.fsync_dir(self.root)
            entry = {"version": version, "previous": previous, "at": self.clock().isoformat()}
            _storage.append_line(self.root / _HISTORY, json.dumps({**entry, "rollback": rollback}))

    def _history(self) -> Iterator[dict[str, Any]]:
        with self._os_errors("cannot be read"):
            try:
                lines = (self.root / _HISTORY).read_text(encoding="utf-8").splitlines()
            except FileNotFoundError:
                return
        for line in lines:
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and _is_version(entry.get("version")):
                    yield entry  # a torn or foreign line is skipped

    def _remove_stale_staging(self, staging_root: Path) -> None:
        cutoff = self.clock().timestamp() - _STALE_STAGING_SECONDS
        for child in staging_root.iterdir():
            with contextlib.suppress(OSError):
                if child.lstat().st_mtime < cutoff:
                    _storage.force_rmtree(child)

    def _check_root(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise RegistryError(f"registry {self.root} is not a folder")

    def _registry_error(self, problem: str, exc: OSError) -> RegistryError:
        where = f" ({exc.filename})" if exc.filename else ""
        return RegistryError(f"registry {self.root} {problem}: {exc.strerror or exc}{where}")

    @contextlib.contextmanager
    def _os_errors(self, problem: str) -> Iterator[None]:
        try:
            yield
        except RegistryError:
            raise
        except OSError as exc:
            raise self._registry_error(problem, exc) from exc


def _is_version(value: object) -> bool:
    return isinstance(value, str) and _VERSION_RE.fullmatch(value) is not None
