"""The model's calendar features: each office reads its own calendar, one table per calendar."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from features import schema as s
from features.build import _calendar_features
from features.calendars import Calendars
from features.offices import OfficeRegistry, load_offices
from tests.toy_data import californian_office


def test_offices_of_one_calendar_share_it_and_never_read_another() -> None:
    hangzhou = list(load_offices())[:2]
    offices = OfficeRegistry([*hangzhou, californian_office("ca-a"), californian_office("ca-b")])
    calendars = Calendars()
    # National Day week in China; in California, 1-7 October 2024 are ordinary days
    rows = [
        (o.id, dt.date(2024, 9, 26) + dt.timedelta(days=k))
        for o in offices
        for k in range(0, 14, 1 if o.country == "CN" else 2)  # other dates per office
    ]
    X = pd.DataFrame(rows, columns=[s.OFFICE_ID, s.DATE], index=range(100, 100 + len(rows)))
    features = _calendar_features(X, calendars, offices, reach=3)
    assert list(features.index) == list(X.index)
    for (office_id, date), got in zip(rows, features.itertuples(index=False), strict=True):
        day = calendars.of(offices.get(office_id)).frame(date, date).set_index("date").loc[date]
        assert got.makeup == int(day["makeup"]), (office_id, date)
        assert got.days_to_holiday == min(int(day["days_to_holiday"]), 3), (office_id, date)
        assert got.days_from_holiday == min(int(day["days_from_holiday"]), 3), (office_id, date)
    china = features[X[s.OFFICE_ID].str.startswith("hz-").to_numpy()]
    abroad = features[X[s.OFFICE_ID].str.startswith("ca-").to_numpy()]
    assert (china["days_to_holiday"] == 0).any() and (china["makeup"] == 1).any()
    assert (abroad["days_to_holiday"] > 0).all() and (abroad["makeup"] == 0).all()
