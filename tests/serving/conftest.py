"""Fixtures of the serving tests: one small trained model per session, a clock, a client.

The model is trained once per session (4 offices, 100 days of simulated tickets ending
the day before the fake today, small trees) and published into a registry that tests
copy (``registry``) before changing it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from features.calendar_cn import default_calendar
from features.calendars import Calendars
from features.dataset import prepare_data
from features.offices import OfficeRegistry, load_offices
from models.forecaster import Forecaster
from serving.app import create_app
from tests.serving.redisserver import redis_server
from tests.serving.support import (
    MODEL_OFFICES,
    TODAY,
    FakeClock,
    at,
    private_state_url,
    publish,
    settings_for,
)
from training.pipeline import TrainConfig, fit_forecaster
from training.simulate import simulate


@pytest.fixture(scope="session")
def forecaster() -> Forecaster:
    """A small forecaster trained on simulated tickets ending the day before TODAY."""
    offices, calendar = load_offices(), default_calendar()
    chosen = OfficeRegistry([o for o in offices if o.id in MODEL_OFFICES])
    tickets = simulate(
        chosen, calendar, TODAY - dt.timedelta(days=100), TODAY - dt.timedelta(days=1), seed=7
    )
    data = prepare_data(tickets.drop(columns=["documents"]), None, offices, Calendars(calendar))
    config = TrainConfig(
        n_estimators=15,
        horizon_days=14,
        origin_step_days=14,
        calibration_days=14,
        num_leaves=15,
        n_jobs=1,
    )
    return fit_forecaster(data, config).forecaster


@pytest.fixture(scope="session")
def base_registry(forecaster: Forecaster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding v0001 (current). Never change it: copy it with ``registry``."""
    root = tmp_path_factory.mktemp("registry") / "registry"
    publish(root, forecaster)
    return root


@pytest.fixture
def registry(base_registry: Path, tmp_path: Path) -> Path:
    """A private copy of the base registry, free to change."""
    root = tmp_path / "registry"
    shutil.copytree(base_registry, root, symlinks=True)
    return root


@pytest.fixture
def clock() -> FakeClock:
    """Thursday TODAY, 10:30 in Hangzhou."""
    return FakeClock(at(TODAY, 10, 30))


@pytest.fixture
def client(base_registry: Path, clock: FakeClock) -> Iterator[TestClient]:
    """A fresh started app serving v0001 at the fake clock's time (free to change)."""
    app = create_app(settings_for(base_registry), clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def shared_client(base_registry: Path) -> Iterator[TestClient]:
    """One started app for read-only tests: its clock stays at TODAY 10:30, post nothing."""
    app = create_app(settings_for(base_registry), FakeClock(at(TODAY, 10, 30)))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server of this test process, on a free loopback port."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty state store of each kind: a SQLite file, or the Redis flushed."""
    if request.param == "sqlite":
        return private_state_url()
    url: str = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url
