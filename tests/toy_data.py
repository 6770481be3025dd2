"""Seeded toy ticket logs for model tests (small and fast; no simulator needed)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features import schema as s
from features.calendar_cn import default_calendar
from features.offices import Office, load_offices
from training.pipeline import TrainConfig

OFFICE_IDS = ("hz-city", "hz-xihu", "hz-qiantang")
FAST = TrainConfig(
    n_estimators=40, learning_rate=0.1, min_child_samples=20, parallel_folds=1, max_train_days=56
)


def toy_tickets(
    start: dt.date, end: dt.date, seed: int = 0, office_ids: tuple[str, ...] = OFFICE_IDS
) -> pd.DataFrame:
    """Tickets with a Monday-high, opening-peak wait pattern; 5 % never called."""
    rng = np.random.default_rng(seed)
    offices = load_offices()
    calendar = default_calendar()
    rows = []
    for date in pd.date_range(start, end).date:
        info = calendar.day(date)
        for office in (offices.get(i) for i in office_ids):
            hours = office.open_hours(office.sessions_for(info))
            for hour in hours:
                for channel in office.channels:
                    walk = channel == s.Channel.WALK_IN.value
                    n = rng.poisson(12 if walk else 6)
                    scale = (25 if walk else 6) * (1.6 if date.weekday() == 0 else 1.0)
                    scale *= 1.4 if hour == hours[0] else 1.0
                    for i in range(n):
                        issued = pd.Timestamp(date) + pd.Timedelta(
                            hours=hour, minutes=rng.uniform(0, 59)
                        )
                        wait = rng.gamma(2.0, scale / 2)
                        called = (
                            issued + pd.Timedelta(minutes=wait) if rng.random() > 0.05 else pd.NaT
                        )
                        rows.append(
                            {
                                s.OFFICE_ID: office.id,
                                s.TICKET_ID: f"{channel[0]}{hour}-{i}",
                                s.CHANNEL: channel,
                                s.SERVICE: "passport",
                                s.ISSUED_AT: issued,
                                s.CALLED_AT: called,
                                s.FINISHED_AT: called + pd.Timedelta(minutes=8)
                                if pd.notna(called)
                                else pd.NaT,
                                s.APPOINTMENT_AT: issued if not walk else pd.NaT,
                                s.BOOKED_AT: issued - pd.Timedelta(days=int(rng.integers(1, 20)))
                                if not walk
                                else pd.NaT,
                            }
                        )
    return pd.DataFrame(rows)


def californian_office(office_id: str = "ca-test") -> Office:
    """An office inferred from data in California (US-CA holidays), open 08-17 on weekdays."""
    week = {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    return Office(
        id=office_id,
        name_zh="加州测试",
        name_en="California test office",
        mode=s.OfficeMode.DUAL_TRACK,
        timezone="America/Los_Angeles",
        sessions=week,  # type: ignore[arg-type]  # parsed by Office's validator
        inferred=True,
        country="US",
        region="CA",
    )
