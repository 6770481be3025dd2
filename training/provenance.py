"""Where a model came from: data fingerprint and range, library and code versions."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata as importlib_metadata
from typing import Any

import pandas as pd

from features import schema as s
from features.dataset import TrainingData

LIBRARIES = (
    "lightgbm",
    "pandas",
    "numpy",
    "scikit-learn",
    "pyarrow",
    "chinesecalendar",
    "waitcast",
)


def data_fingerprint(frames: list[pd.DataFrame]) -> str:
    """sha256 over the rows of the validated frames (order-sensitive, columns sorted)."""
    digest = hashlib.sha256()
    for frame in frames:
        ordered = frame[sorted(c for c in frame.columns if c not in (s.SOURCE_FILE, s.SOURCE_ROW))]
        digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a model."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def data_summary(data: TrainingData, files: list[str], fingerprint: str) -> dict[str, Any]:
    """The data part of a model's metadata."""
    return {
        "fingerprint_sha256": fingerprint,
        "start": data.start.isoformat(),
        "end": data.end.isoformat(),
        "kinds": list(data.kinds),
        "files": files,
        "queues": len(data.queues),
        "hours": len(data.hourly),
        "outcomes": len(data.outcomes),
        "offices": sorted(data.queues[s.OFFICE_ID].astype(str).unique().tolist()),
    }
