"""Posted waits that say nothing: days on which the whole feed posted zero everywhere.

Some public feeds keep posting on days the offices are closed, with every wait at zero
(the California DMV's feed on Martin Luther King Day and Presidents' Day 2025, while on
other holidays it posts nothing). Such a day is a closed day with a stuck feed, not a day
without queues: its posts are set empty, so the day is learned as closed and is not
scored, and nothing is fitted on zeros that no citizen waited.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from features import schema as s

__all__ = ["MIN_OFFICES", "empty_stuck_days"]

MIN_OFFICES = 3  # a day is stuck only when at least this many offices posted on it


def empty_stuck_days(observations: pd.DataFrame) -> tuple[pd.DataFrame, list[dt.date]]:
    """Observations with the posts of stuck days emptied, and those days.

    A day is stuck when at least :data:`MIN_OFFICES` offices posted a wait on it and every
    posted wait of every office that day is zero.
    """
    posted = observations[observations[s.WAIT_MINUTES].notna()]
    if posted.empty:
        return observations, []
    date = posted[s.OBSERVED_AT].dt.date
    per_day = posted.groupby(date).agg(
        offices=(s.OFFICE_ID, "nunique"), top=(s.WAIT_MINUTES, "max")
    )
    stuck = sorted(per_day[(per_day["offices"] >= MIN_OFFICES) & (per_day["top"] == 0)].index)
    if not stuck:
        return observations, []
    out = observations.copy()
    out.loc[out[s.OBSERVED_AT].dt.date.isin(stuck), s.WAIT_MINUTES] = float("nan")
    return out, stuck
