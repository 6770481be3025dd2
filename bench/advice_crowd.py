"""Everyone follows at once: the walk-ins an advice sends join the simulated queue.

The citizens of :mod:`advice_eval` all ask within a few days, in turn (the server's
request counter: ``turn`` = their number), and all do what they are told:

- ``walk_in``: the *first* suggested hour (the one the page and the reasons name first);
- ``book``: the appointment on today + the office's actual booking lead that day;
- ``urgent_service``: the fast lane (not simulated: no wait is counted).

Every walk-in visit planned this way, at a random minute of its hour, is added to the
simulated day it goes to (``simulate_office(..., extra_walk_ins=...)``), and the waits
are read from the queue simulated *with* them: a random ticket of the same office, date,
hour and channel, sent home at closing when never called and back the next open day. The
two baselines are run the same way, each with its own crowd: "always walk in" (the next
open day, a random morning hour, at the chosen office) and "always book" (walk-in-only
offices: as "always walk in"). Bookings are not added: the booking system's slots cap the
appointment queue, so more bookers lengthen the lead, not the wait on the day (a limit of
this bench). Return visits are not added either. Besides the wait, the *door-to-door* time
adds the trips of walk-ins sent to another office (the advice's own travel estimate, from
the chosen office, there and back, once per visit). Pure but for ``resimulate``.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from advice_eval import STRATEGIES, CitizenConfig, any_option, on_time, request_of, turns_of
from simulated_queue import APPOINTMENT, WALK_IN, SimulatedQueue, trip_minutes, walk_in_trips

from features import schema as s
from serving.advice import ForecastSource, advise
from serving.advice.deadline import Residency, issuing_time

# office id -> date -> ticket minutes of the walk-ins added that day
Extras = dict[str, dict[dt.date, np.ndarray]]
Resimulate = Callable[[Extras], SimulatedQueue]


@dataclass(frozen=True)
class Visit:
    """Where and when one citizen goes first under one strategy (None: nowhere)."""

    channel: str
    office_id: str
    date: dt.date
    hour: int


def plan(
    citizens: pd.DataFrame, queue: SimulatedQueue, source: ForecastSource, config: CitizenConfig
) -> pd.DataFrame:
    """One row per citizen: the advice, and the first visit each strategy makes."""
    records = []
    turns = turns_of(citizens)
    for turn, citizen in zip(turns, citizens.itertuples(index=False), strict=True):
        request, slot = request_of(citizen, queue, turn)
        advice = advise(request, queue.ctx, source)
        office = citizen.office_id
        tomorrow = queue.next_open_day(office, citizen.today + dt.timedelta(days=1))
        rng = np.random.default_rng(zlib.crc32(f"{config.seed}:{citizen.citizen}".encode()))
        morning = [h for h in queue.open_hours(office, tomorrow) if h < 12] or [9]
        walk = Visit(WALK_IN, office, tomorrow, int(rng.choice(morning)))
        book = walk
        if slot is not None:
            book = Visit(APPOINTMENT, office, slot, int(rng.choice(queue.open_hours(office, slot))))
        kind = advice.advice.value
        followed: Visit | None = {"book": book, "urgent_service": None}.get(kind, walk)
        if kind == "walk_in" and advice.walk_in:
            first = advice.walk_in[0]
            followed = Visit(WALK_IN, first.office_id, first.date, first.hour)
        issuing = issuing_time(Residency(citizen.residency), bool(citizen.expedited))
        records.append(
            {
                "citizen": citizen.citizen,
                "turn": turn,
                "advice_kind": kind,
                "has_travel": citizen.travel_date is not None,
                "any_option": any_option(
                    queue, office, citizen.today, citizen.travel_date, issuing, slot
                ),
                "advice": followed,
                "always_walk_in": walk,
                "always_book": book,
            }
        )
    return pd.DataFrame(records)


def arrivals(visits: pd.Series, seed: int) -> Extras:
    """The walk-in visits as ticket minutes per office and date (a random minute each)."""
    extras: dict[str, dict[dt.date, list[float]]] = {}
    rng = np.random.default_rng(seed)
    for visit in visits:
        if visit is None or visit.channel != WALK_IN:
            continue
        minute = visit.hour * 60 + float(rng.uniform(0, 60))
        extras.setdefault(visit.office_id, {}).setdefault(visit.date, []).append(minute)
    return {o: {d: np.sort(np.array(m)) for d, m in days.items()} for o, days in extras.items()}


def peak(visits: pd.Series, capacity: Mapping[str, float]) -> dict[str, Any]:
    """The office-hour the most followers go to, and how that compares with its capacity."""
    counts = Counter(
        (v.office_id, v.date, v.hour) for v in visits if v is not None and v.channel == WALK_IN
    )
    if not counts:
        return {"followers": 0, "where": None, "share_of_capacity": 0.0}
    (office, date, hour), n = counts.most_common(1)[0]
    return {
        "followers": n,
        "where": f"{office} {date} {hour}:00",
        "share_of_capacity": round(n / capacity.get(office, np.inf), 2),
        "office_hours": len(counts),
    }


def outcomes(
    plans: pd.DataFrame, citizens: pd.DataFrame, resimulate: Resimulate, config: CitizenConfig
) -> pd.DataFrame:
    """Each strategy's crowd joins the queue; the waits its citizens then see."""
    by_id = {c.citizen: c for c in citizens.itertuples(index=False)}
    out = plans[["citizen", "advice_kind", "has_travel", "any_option"]].copy()
    for k, name in enumerate(STRATEGIES):
        queue = resimulate(arrivals(plans[name], config.seed + k))
        waits, dates, turned, trips = [], [], [], []
        for row in plans.itertuples(index=False):
            visit: Visit | None = getattr(row, name)
            rng = np.random.default_rng([zlib.crc32(f"{config.seed}:{row.citizen}".encode()), k])
            applied, wait, sent_home, trip = None, np.nan, False, 0.0
            if visit is not None and visit.channel == WALK_IN:
                applied, wait, visits = walk_in_trips(
                    queue, visit.office_id, visit.date, visit.hour, rng, config.max_visits
                )
                sent_home = visits > 1
                trip = visits * trip_minutes(queue, by_id[row.citizen].office_id, visit.office_id)
            elif visit is not None:
                applied = visit.date
                wait = queue.visit(visit.office_id, visit.date, visit.hour, APPOINTMENT, rng)[1]
            waits.append(wait)
            dates.append(applied)
            turned.append(sent_home)
            trips.append(trip)
        out[f"{name}_wait"] = waits
        out[f"{name}_door_to_door"] = np.array(waits) + np.array(trips)
        out[f"{name}_date"] = dates
        out[f"{name}_sent_home"] = turned
        out[f"{name}_on_time"] = [
            on_time(by_id[c], queue, d) for c, d in zip(out["citizen"], dates, strict=True)
        ]
        out[f"{name}_evaluable"] = [d is None or d <= queue.end for d in dates]
    return out


def summarize(
    results: pd.DataFrame, plans: pd.DataFrame, capacity: Mapping[str, float]
) -> dict[str, Any]:
    """On time, waits and sent-home shares per strategy; where each crowd piles up most."""
    ok = np.logical_and.reduce([results[f"{n}_evaluable"] for n in STRATEGIES])
    r = results[ok]
    travel = r[r["has_travel"] & r["any_option"]]
    served = r[r["advice_kind"] != "urgent_service"]
    fig: dict[str, Any] = {
        "citizens": len(results),
        "evaluable": len(r),
        "advice_mix": {
            k: round(float(v), 3) for k, v in r["advice_kind"].value_counts(normalize=True).items()
        },
    }
    for name in STRATEGIES:
        fig[f"{name}_on_time_share"] = round(float(travel[f"{name}_on_time"].mean()), 4)
        fig[f"{name}_mean_wait"] = round(float(served[f"{name}_wait"].mean()), 2)
        fig[f"{name}_p90_wait"] = round(float(served[f"{name}_wait"].quantile(0.9)), 1)
        fig[f"{name}_mean_door_to_door"] = round(float(served[f"{name}_door_to_door"].mean()), 2)
        fig[f"{name}_sent_home_share"] = round(float(served[f"{name}_sent_home"].mean()), 4)
        fig[f"{name}_peak"] = peak(plans[name], capacity)
    return fig


def hour_capacity(
    offices: Any,
    service_minutes: Mapping[str, float],
    default_windows: int = 4,
    default_minutes: float = 15.0,
) -> dict[str, float]:
    """Tickets an office can serve in one hour: windows × 60 / minutes per ticket."""
    return {
        o.id: (o.windows or default_windows) * 60.0 / service_minutes.get(o.id, default_minutes)
        for o in offices
    }


def walk_in_share(log: pd.DataFrame, extras: Extras) -> float:
    """Added walk-ins over the log's own walk-ins on the same office-days."""
    added = sum(len(m) for days in extras.values() for m in days.values())
    keys = {(o, d) for o, days in extras.items() for d in days}
    walk = log[log[s.CHANNEL] == WALK_IN]
    own = walk.groupby([walk[s.OFFICE_ID].astype(str), walk[s.ISSUED_AT].dt.date]).size()
    base = sum(int(own.get(k, 0)) for k in keys)
    return added / base if base else float("inf")
