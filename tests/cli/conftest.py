"""A small model in a registry, shared by the CLI tests that need one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from features.calendar_cn import ChinaCalendar, default_calendar
from features.calendars import Calendars
from features.dataset import prepare_data
from features.offices import OfficeRegistry, load_offices
from models.bundle import save_bundle
from models.forecaster import Forecaster
from models.registry import ModelRegistry
from training.pipeline import TrainConfig, fit_forecaster
from training.simulate import simulate

TODAY = dt.date(2025, 9, 15)  # a Monday; the model's data end the day before
MODEL_OFFICES = ("hz-city", "hz-shangcheng", "hz-qiantang")
CAL, OFFICES = default_calendar(), load_offices()


@pytest.fixture(scope="session")
def small_forecaster() -> Forecaster:
    """A small model trained on simulated tickets of three offices."""
    chosen = OfficeRegistry([o for o in OFFICES if o.id in MODEL_OFFICES])
    tickets = simulate(
        chosen, CAL, TODAY - dt.timedelta(days=90), TODAY - dt.timedelta(days=1), seed=5
    )
    data = prepare_data(tickets.drop(columns=["documents"]), None, OFFICES, Calendars(CAL))
    config = TrainConfig(
        n_estimators=10,
        horizon_days=14,
        origin_step_days=14,
        calibration_days=14,
        num_leaves=15,
        n_jobs=1,
    )
    return fit_forecaster(data, config).forecaster


def _registry(root: Path, forecaster: Forecaster, calendar: ChinaCalendar | None) -> Path:
    models = ModelRegistry(root)
    models.promote(models.publish(lambda folder: save_bundle(forecaster, folder, calendar), {}))
    return root


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, small_forecaster: Forecaster) -> Path:
    """A registry whose current model is small (no stored forecasts: every forecast
    computed by the models)."""
    return _registry(tmp_path_factory.mktemp("advise") / "registry", small_forecaster, None)


@pytest.fixture(scope="session")
def cube_registry(tmp_path_factory: pytest.TempPathFactory, small_forecaster: Forecaster) -> Path:
    """The same model with its forecasts of the first days stored (as `waitcast train`
    saves it)."""
    return _registry(tmp_path_factory.mktemp("cube") / "registry", small_forecaster, CAL)
