"""A model version's seal: ``metadata.json`` and ``manifest.json`` (sha256 of every file).

:class:`models.registry.ModelRegistry` seals a version's folder before the version becomes
visible, and checks its files against the manifest before anything loads them: a
changed, truncated, missing, unlisted or symlinked file refuses the version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from features.errors import ModelIntegrityError
from models import _storage

__all__ = ["MANIFEST", "METADATA", "check_files", "seal"]

METADATA, MANIFEST = "metadata.json", "manifest.json"


def seal(folder: Path, payload: dict[str, str], metadata: dict[str, Any]) -> None:
    """(Re)write the metadata and the manifest of ``folder``, whose other files hash to
    ``payload`` (name -> sha256); fsync everything and make it read-only."""
    meta_text = json.dumps(metadata, indent=2, sort_keys=True, default=_storage.json_default)
    meta_bytes = meta_text.encode()
    files = {**payload, METADATA: hashlib.sha256(meta_bytes).hexdigest()}
    manifest = {"algorithm": "sha256", "files": dict(sorted(files.items()))}
    manifest_bytes = json.dumps(manifest, indent=2).encode()
    for name, data in ((METADATA, meta_bytes), (MANIFEST, manifest_bytes)):
        (folder / name).unlink(missing_ok=True)
        _storage.write_durably(folder / name, data)
    _storage.seal_tree(folder)


def check_files(
    version: str, listed: dict[str, str], present: dict[str, str], symlinks: list[str]
) -> None:
    """Refuse ``version`` (:class:`ModelIntegrityError`) unless the files ``present`` in its
    folder (name -> sha256, the manifest excluded) are exactly those ``listed``."""
    if symlinks:
        raise ModelIntegrityError(f"model {version}: {symlinks[0]} is a symlink: refused")
    for name, digest in sorted(listed.items()):
        if name not in present:
            raise ModelIntegrityError(f"model {version}: listed file {name} is missing")
        if present[name] != digest:
            raise ModelIntegrityError(
                f"model {version}: file {name} does not match its sha256 (changed or truncated)"
            )
    unlisted = sorted(set(present) - set(listed))
    if unlisted:
        raise ModelIntegrityError(f"model {version}: file {unlisted[0]} is not in {MANIFEST}")
