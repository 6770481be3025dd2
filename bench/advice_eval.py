"""Judge the advice on the simulator: simulated citizens follow it, the simulated queue answers.

In a held-out period (after the model's training data end) seeded citizens — an office
drawn by demand share, the day they decide, a travel date or none, residency, expedited —
ask for advice and follow it:

- ``book``: the appointment is on ``today + the office's actual booking lead that day``
  (the median lead of the bookings made that day in the simulated log);
- ``walk_in``: one of the first ``pick_among`` suggested hours, drawn at random;
- ``urgent_service``: the fast lane (not simulated: no wait is counted).

The outcome is read from the simulated log of that period: the wait of a random ticket of
the same office, date, hour and channel. A ticket never called means the citizen was sent
home at closing (waiting until then) and comes back the next open day at the same hour.
The document is ready by the issuing rules of :mod:`serving.advice.deadline`. The same is
done for two baselines, "always walk in" (the next open day, at a random morning hour,
at the chosen office) and "always book" (walk-in-only offices: as "always walk in"). Pure.

It lives beside the bench, not in ``training``: it calls the advice (``serving``), and
training and serving meet only at the model registry.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from simulated_queue import (
    APPOINTMENT,
    SimulatedQueue,
    trip_minutes,
    walk_in,
    walk_in_trips,
)

from features import schema as s
from serving.advice import AdviceRequest, RowsSource, advise
from serving.advice.deadline import Residency, deadline_for, issuing_time, ready_date
from serving.advice.places import nearby_offices

STRATEGIES = ("advice", "always_walk_in", "always_book")


@dataclass(frozen=True)
class CitizenConfig:
    """How the simulated citizens are drawn and behave."""

    n: int = 3000
    seed: int = 0
    no_travel_share: float = 0.2  # no travel date yet
    travel_days: tuple[int, int] = (3, 60)  # travel this many days after deciding (uniform)
    out_of_province_share: float = 0.15
    expedited_share: float = 0.05
    gives_earliest_share: float = 0.5  # looked up the earliest slot on the booking site
    pick_among: int = 3  # a walk-in picks one of the first suggested hours
    max_visits: int = 5  # walk-in visits before giving up


def sample_citizens(
    log: pd.DataFrame, first: dt.date, last: dt.date, config: CitizenConfig
) -> pd.DataFrame:
    """Citizens deciding in [first, last]; office by share of the log's tickets there."""
    rng = np.random.default_rng(config.seed)
    issued = log[s.ISSUED_AT].dt.date
    share = log.loc[(issued >= first) & (issued <= last), s.OFFICE_ID].value_counts(normalize=True)
    n = config.n
    today = [first + dt.timedelta(days=int(k)) for k in rng.integers(0, (last - first).days + 1, n)]
    lo, hi = config.travel_days
    travel = [
        d + dt.timedelta(days=int(k))
        for d, k in zip(today, rng.integers(lo, hi + 1, n), strict=True)
    ]
    return pd.DataFrame(
        {
            "citizen": np.arange(n),
            s.OFFICE_ID: rng.choice(share.index.to_numpy(), n, p=share.to_numpy()),
            "today": today,
            "travel_date": [
                None if x else d
                for x, d in zip(rng.random(n) < config.no_travel_share, travel, strict=True)
            ],
            "residency": np.where(
                rng.random(n) < config.out_of_province_share,
                Residency.OUT_OF_PROVINCE.value,
                Residency.IN_PROVINCE.value,
            ),
            "expedited": rng.random(n) < config.expedited_share,
            "gives_earliest": rng.random(n) < config.gives_earliest_share,
        }
    )


def request_of(
    citizen: Any, queue: SimulatedQueue, turn: int = 0
) -> tuple[AdviceRequest, dt.date | None]:
    """The citizen's question (``turn``: how many asked about that office before, as the
    server counts), and the appointment date booking would give them (the office's actual
    booking lead that day; None at walk-in-only offices)."""
    office = queue.offices.get(citizen.office_id)
    today = citizen.today
    slot = queue.appointment_date(office.id, today) if office.takes_appointments else None
    request = AdviceRequest(
        office.id,
        today,
        citizen.travel_date,
        Residency(citizen.residency),
        bool(citizen.expedited),
        slot if citizen.gives_earliest and slot is not None else None,
        turn=turn,
    )
    return request, slot


def on_time(citizen: Any, queue: SimulatedQueue, applied: dt.date | None) -> bool:
    """True when applying on ``applied`` gives the document the day before travel."""
    if applied is None:
        return False
    if citizen.travel_date is None:
        return True
    issuing = issuing_time(Residency(citizen.residency), bool(citizen.expedited))
    calendar = queue.ctx.calendar_of(queue.offices.get(citizen.office_id))
    return bool(ready_date(applied, issuing, calendar) < citizen.travel_date)


def follow(
    citizen: Any, queue: SimulatedQueue, rows: RowsSource, config: CitizenConfig, turn: int = 0
) -> dict[str, Any]:
    """One citizen: the advice, and the outcomes of booking, of walking in as advised and of
    walking in the next morning (common random numbers: each is drawn once and shared)."""
    seed = zlib.crc32(f"{config.seed}:{citizen.citizen}".encode())
    rng = {
        k: np.random.default_rng([seed, i])
        for i, k in enumerate(("book", "walk", "default", "own"))
    }
    office = queue.offices.get(citizen.office_id)
    today, travel = citizen.today, citizen.travel_date
    request, slot = request_of(citizen, queue, turn)
    advice = advise(request, queue.ctx, rows)
    tomorrow = queue.next_open_day(office.id, today + dt.timedelta(days=1))
    morning = [h for h in queue.open_hours(office.id, tomorrow) if h < 12] or [9]
    default = walk_in(
        queue,
        office.id,
        tomorrow,
        int(rng["default"].choice(morning)),
        rng["default"],
        config.max_visits,
    )
    walk, trip = default, 0.0
    if advice.walk_in:
        o = advice.walk_in[int(rng["walk"].integers(min(config.pick_among, len(advice.walk_in))))]
        applied, waited, visits = walk_in_trips(
            queue, o.office_id, o.date, o.hour, rng["walk"], config.max_visits
        )
        walk, trip = (applied, waited), visits * trip_minutes(queue, office.id, o.office_id)
    own = default  # walking in at the chosen office itself, at its first suggested hour
    mine = [o for o in advice.walk_in if o.office_id == office.id]
    if mine:
        own = walk_in(queue, office.id, mine[0].date, mine[0].hour, rng["own"], config.max_visits)
    book = default
    if slot is not None:
        hour = int(rng["book"].choice(queue.open_hours(office.id, slot)))
        book = slot, queue.visit(office.id, slot, hour, APPOINTMENT, rng["book"])[1]
    kind = advice.advice.value
    urgent: tuple[dt.date | None, float] = (None, np.nan)
    outcomes = {
        "advice": {"book": book, "walk_in": walk, "urgent_service": urgent}[kind],
        "always_walk_in": default,
        "always_book": book,
        "walk_alt": walk,
        "walk_own": own,
    }
    issuing = issuing_time(Residency(citizen.residency), bool(citizen.expedited))
    out: dict[str, Any] = {
        "citizen": citizen.citizen,
        "office_id": office.id,
        "dual_track": slot is not None,
        "advice_kind": kind,
        "has_travel": travel is not None,
    }
    for name, (applied, wait) in outcomes.items():
        out[f"{name}_wait"] = wait
        out[f"{name}_date"] = applied
        out[f"{name}_on_time"] = on_time(citizen, queue, applied)
    out["any_option"] = any_option(queue, office.id, today, travel, issuing, slot)
    # door to door: the trips to another office than the chosen one (only advised walk-ins)
    out["advice_trip"] = trip if kind == "walk_in" else 0.0
    out["hindsight"] = _hindsight(out, "walk_alt")
    out["hindsight_same_office"] = _hindsight(out, "walk_own")
    out["evaluable"] = all(
        d is None or d <= queue.end for d in (out["advice_date"], out["always_walk_in_date"], slot)
    )
    return out


def _hindsight(out: dict[str, Any], walk: str) -> str:
    """The best choice in hindsight: in time first, then the shorter wait (ties: book).

    ``walk`` names the walk-in outcome compared with booking: ``walk_alt`` (as advised,
    perhaps at another office) or ``walk_own`` (at the chosen office itself).
    """
    if not out["any_option"]:
        return "urgent_service"
    choices = {"walk_in": (out[f"{walk}_on_time"], out[f"{walk}_wait"])}
    if out["dual_track"]:
        choices["book"] = (out["always_book_on_time"], out["always_book_wait"])
    in_time = {k: w for k, (ok, w) in choices.items() if ok}
    if not in_time:
        return "walk_in"
    return min(in_time, key=lambda k: (in_time[k], k != "book"))


def any_option(
    queue: SimulatedQueue,
    office_id: str,
    today: dt.date,
    travel: dt.date | None,
    issuing: Any,
    slot: dt.date | None,
) -> bool:
    """True when booking, or walking in at some hour, could have made the travel date."""
    if travel is None:
        return True
    office = queue.offices.get(office_id)
    last = deadline_for(travel, issuing, queue.ctx.calendar_of(office)).last_day_to_apply
    if slot is not None and slot <= last:
        return True
    near = nearby_offices(office, queue.offices, queue.ctx.settings.nearby_km)
    day = today + dt.timedelta(days=1)
    while day <= last:
        for o in near:
            if any(queue.called_share(o.id, day, h) >= 0.5 for h in queue.open_hours(o.id, day)):
                return True
        day += dt.timedelta(days=1)
    return False


def evaluate(
    citizens: pd.DataFrame,
    queue: SimulatedQueue,
    rows: pd.DataFrame,
    config: CitizenConfig | None = None,
) -> pd.DataFrame:
    """One row per citizen with the advice and the outcome of each strategy."""
    config, source = config or CitizenConfig(), RowsSource(rows)
    turns = turns_of(citizens)
    return pd.DataFrame(
        [
            follow(c, queue, source, config, turn)
            for c, turn in zip(citizens.itertuples(index=False), turns, strict=True)
        ]
    )


def turns_of(citizens: pd.DataFrame) -> list[int]:
    """Each citizen's turn: how many citizens asked about the same office before."""
    return [int(k) for k in citizens.groupby(s.OFFICE_ID).cumcount()]


def summarize(results: pd.DataFrame) -> dict[str, Any]:
    """The figures: on-time share, waits per strategy, advice mix, hindsight match."""
    r = results[results["evaluable"]]
    travel = r[r["has_travel"] & r["any_option"]]
    served = r[r["advice_kind"] != "urgent_service"]
    fig: dict[str, Any] = {
        "citizens": len(results),
        "evaluable": len(r),
        "with_travel_date_and_an_option": len(travel),
        "advice_mix": {
            k: round(float(v), 3) for k, v in r["advice_kind"].value_counts(normalize=True).items()
        },
    }
    for name in STRATEGIES:
        fig[f"{name}_on_time_share"] = round(float(travel[f"{name}_on_time"].mean()), 4)
        fig[f"{name}_mean_wait"] = round(float(served[f"{name}_wait"].mean()), 2)
        trips = served["advice_trip"] if name == "advice" else 0.0
        fig[f"{name}_mean_door_to_door"] = round(float((served[f"{name}_wait"] + trips).mean()), 2)
        fig[f"{name}_p90_wait"] = round(float(served[f"{name}_wait"].quantile(0.9)), 1)
    fig["matches_hindsight_share"] = round(float((r["hindsight"] == r["advice_kind"]).mean()), 4)
    fig["matches_same_office_hindsight_share"] = round(
        float((r["hindsight_same_office"] == r["advice_kind"]).mean()), 4
    )
    missed = r[r["hindsight"] != r["advice_kind"]]
    pairs = (missed["advice_kind"] + " -> " + missed["hindsight"]).value_counts() / max(len(r), 1)
    fig["hindsight_mismatches"] = {k: round(float(v), 4) for k, v in pairs.items()}
    urgent = r[r["advice_kind"] == "urgent_service"]
    fig["urgent_without_any_option_share"] = (
        round(float((~urgent["any_option"]).mean()), 4) if len(urgent) else None
    )
    return fig
