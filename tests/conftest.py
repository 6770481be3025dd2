"""Fixtures shared by every test package."""

from __future__ import annotations

import pytest

from features.calendar_cn import ChinaCalendar, default_calendar
from features.offices import OfficeRegistry, load_offices


@pytest.fixture(scope="session")
def calendar() -> ChinaCalendar:
    return default_calendar()


@pytest.fixture(scope="session")
def offices() -> OfficeRegistry:
    return load_offices()
