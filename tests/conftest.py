"""Fixtures shared by every test package.

Real data from the shared folder beside the project (``../shared/data/real``) is looked up
in one place, :func:`real_data`: a test that needs a file asks for it and is skipped, with
the reason printed in the summary (``-rs``), when a fresh clone has no shared folder
beside it. CI has the folder, so those tests still run there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from features.calendar_cn import ChinaCalendar, default_calendar
from features.offices import OfficeRegistry, load_offices


@pytest.fixture(scope="session")
def calendar() -> ChinaCalendar:
    return default_calendar()


@pytest.fixture(scope="session")
def offices() -> OfficeRegistry:
    return load_offices()


SHARED_REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def real_data_path(name: str) -> Path:
    """The shared real-data file ``name``, or a skip saying where it was looked for."""
    path = SHARED_REAL_DATA / name
    if not path.is_file():
        pytest.skip(
            f"needs {name} from the shared folder ({path} is missing: the folder "
            "sits beside the project in CI, not in a fresh clone)"
        )
    return path


@pytest.fixture(scope="session")
def real_data() -> Callable[[str], Path]:
    """``real_data(name)``: the path of a shared real-data file, or the test is skipped."""
    return real_data_path


@pytest.fixture
def small_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """``waitcast train``, ``retrain`` and ``evaluate`` run in this process fit small models
    (20 trees, one backtest fold at a time): for the tests of a command's flow, files and
    messages, not of a model's accuracy (``tests/training`` and ``bench/`` judge that)."""
    from cli import evaluate, train
    from training.pipeline import TrainConfig

    small = TrainConfig(n_estimators=20, learning_rate=0.15, num_leaves=15, parallel_folds=1)
    monkeypatch.setattr(train, "TrainConfig", lambda: small)
    monkeypatch.setattr(evaluate, "TrainConfig", lambda: small)
