"""Tables derived from tickets besides the hourly one: the appointment book, booking lead
times and minutes at the window."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from features import schema as s

BOOK_COLUMNS = [s.OFFICE_ID, s.DATE, s.HOUR, s.BOOKED_DATE]


def appointment_book(tickets: pd.DataFrame) -> pd.DataFrame:
    """One row per appointment ticket with a booking time: slot office, date, hour, booked date."""
    if s.BOOKED_AT not in tickets or s.APPOINTMENT_AT not in tickets:
        return pd.DataFrame(columns=BOOK_COLUMNS)
    rows = tickets[
        (tickets[s.CHANNEL] == s.Channel.APPOINTMENT.value)
        & tickets[s.BOOKED_AT].notna()
        & tickets[s.APPOINTMENT_AT].notna()
    ]
    slot = rows[s.APPOINTMENT_AT]
    return pd.DataFrame(
        {
            s.OFFICE_ID: rows[s.OFFICE_ID].astype(str).to_numpy(),
            s.DATE: slot.dt.date.to_numpy(),
            s.HOUR: slot.dt.hour.astype("int16").to_numpy(),
            s.BOOKED_DATE: rows[s.BOOKED_AT].dt.date.to_numpy(),
        }
    )


def lead_days(bookings: pd.DataFrame, until: dt.date, window_days: int = 14) -> dict[str, float]:
    """Median booking lead (slot date − booking date, days) of slots in the last window."""
    if bookings.empty:
        return {}
    recent = bookings[
        (bookings[s.DATE] < until) & (bookings[s.DATE] >= until - dt.timedelta(days=window_days))
    ]
    if recent.empty:
        return {}
    lead = (pd.to_datetime(recent[s.DATE]) - pd.to_datetime(recent[s.BOOKED_DATE])).dt.days
    return {
        str(k): float(v) for k, v in lead.groupby(recent[s.OFFICE_ID].to_numpy()).median().items()
    }


def service_minutes(tickets: pd.DataFrame, last_days: int = 56) -> dict[str, float]:
    """Median minutes at the window per ticket, per office, over the last weeks of data."""
    if s.FINISHED_AT not in tickets or s.CALLED_AT not in tickets:
        return {}
    recent = tickets[
        tickets[s.ISSUED_AT] >= tickets[s.ISSUED_AT].max() - pd.Timedelta(days=last_days)
    ]
    minutes = (recent[s.FINISHED_AT] - recent[s.CALLED_AT]).dt.total_seconds() / 60
    valid = minutes.notna() & (minutes > 0)
    per_office = minutes[valid].groupby(recent.loc[valid, s.OFFICE_ID].astype(str)).median()
    return {str(k): round(float(v), 2) for k, v in per_office.items()}
