"""A trained forecaster survives the registry: same forecasts after load, tampering refused."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from features.calendars import Calendars
from features.dataset import prepare_data
from features.errors import ModelIntegrityError, NoCurrentModelError
from models.bundle import load_from_registry, save_bundle
from models.registry import ModelRegistry
from tests.toy_data import FAST, toy_tickets
from training.pipeline import fit_forecaster


@pytest.fixture(scope="module")
def forecaster(offices, calendar):
    tickets = toy_tickets(dt.date(2025, 7, 1), dt.date(2025, 9, 30), office_ids=("hz-xihu",))
    return fit_forecaster(
        prepare_data(tickets, None, offices, Calendars(calendar)), FAST
    ).forecaster


def test_round_trip_through_the_registry(tmp_path, forecaster, calendar):
    registry = ModelRegistry(tmp_path)
    version = registry.publish(lambda d: save_bundle(forecaster, d), {"note": "test"})
    registry.promote(version)
    loaded = load_from_registry(registry)
    assert loaded.metadata["version"] == version
    assert loaded.data_end == forecaster.data_end
    a = forecaster.forecast(dt.date(2025, 10, 9), 5)
    b = loaded.forecast(dt.date(2025, 10, 9), 5)
    pd.testing.assert_frame_equal(a, b)


def test_a_tampered_model_file_is_refused(tmp_path, forecaster):
    registry = ModelRegistry(tmp_path)
    version = registry.publish(lambda d: save_bundle(forecaster, d), {})
    registry.promote(version)
    target = tmp_path / "versions" / version / "wait_p50.txt"
    target.chmod(0o644)
    target.write_text(target.read_text().replace("leaf_value=", "leaf_value=1", 1))
    with pytest.raises(ModelIntegrityError, match=r"wait_p50\.txt"):
        load_from_registry(registry)


@pytest.fixture(scope="module")
def bagged(offices, calendar):
    tickets = toy_tickets(dt.date(2025, 7, 1), dt.date(2025, 9, 30), office_ids=("hz-xihu",))
    config = dataclasses.replace(FAST, median_bag=2)
    return fit_forecaster(prepare_data(tickets, None, offices, Calendars(calendar)), config)


def test_a_bag_of_median_boosters_round_trips_and_each_file_is_checked(tmp_path, bagged):
    forecaster = bagged.forecaster
    assert [len(m) for m in forecaster.wait.estimator_.boosters_] == [1, 2, 1]
    registry = ModelRegistry(tmp_path)
    version = registry.publish(lambda d: save_bundle(forecaster, d), {})
    registry.promote(version)
    loaded = load_from_registry(registry)
    a = forecaster.forecast(dt.date(2025, 10, 9), 5)
    pd.testing.assert_frame_equal(a, loaded.forecast(dt.date(2025, 10, 9), 5))
    target = tmp_path / "versions" / version / "wait_p50.1.txt"
    target.chmod(0o644)
    target.write_text(target.read_text().replace("leaf_value=", "leaf_value=1", 1))
    with pytest.raises(ModelIntegrityError, match=r"wait_p50\.1\.txt"):
        load_from_registry(registry)


def test_no_current_model_is_a_clear_error(tmp_path):
    with pytest.raises(NoCurrentModelError, match="no current model"):
        load_from_registry(ModelRegistry(tmp_path))
