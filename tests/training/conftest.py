"""Toy training data for the training tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from features.calendar_cn import ChinaCalendar
from features.calendars import Calendars
from features.dataset import TrainingData, prepare_data
from features.offices import OfficeRegistry
from tests.toy_data import toy_tickets


@pytest.fixture(scope="session")
def tickets() -> pd.DataFrame:
    return toy_tickets(dt.date(2025, 6, 2), dt.date(2025, 10, 31))


@pytest.fixture(scope="session")
def data(tickets: pd.DataFrame, offices: OfficeRegistry, calendar: ChinaCalendar) -> TrainingData:
    return prepare_data(tickets, None, offices, Calendars(calendar))
