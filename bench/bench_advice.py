"""Bench: does following the advice beat "always walk in" and "always book"? (issues 5, 13)

Simulates Hangzhou's 15 offices from January to November 2023 (one seed), trains a model
on the data before the held-out period (August on: after the 8 June policy change, in the
summer peak, when bookings run about a month ahead), draws simulated citizens deciding in
August and September, lets them follow the advice and the two baselines, and reads the
outcomes from the simulated queue of the held-out period (``bench/advice_eval.py``).

``--at-once N``: N citizens all decide in the first ``--decide-days`` days and all follow
at once; the walk-ins each strategy sends are added to the simulated queue, which is
simulated again with them before the waits are read (``bench/advice_crowd.py``). This is
the mode that shows herding: an advice that sends everyone to the same quiet hour makes
it the slowest one.

Run: ``.venv/bin/python bench/bench_advice.py [--citizens N] [--seed N]`` (about 2 min),
``.venv/bin/python bench/bench_advice.py --at-once 3000`` (about 3 min).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

import advice_crowd as crowd
import pandas as pd
from advice_eval import STRATEGIES, CitizenConfig, evaluate, sample_citizens, summarize
from simulated_queue import SimulatedQueue

from features import schema as s
from features.calendar_cn import default_calendar
from features.calendars import Calendars
from features.dataset import prepare_data
from features.offices import load_offices
from models.forecaster import Forecaster
from serving.advice import AdviceContext, AdviceSettings, RowsSource
from training.pipeline import TrainConfig, fit_forecaster
from training.simulate import simulate
from training.simulate.simulator import combine_logs, simulate_office

SIM_START, SIM_END = dt.date(2023, 1, 9), dt.date(2023, 11, 30)
HELD_OUT = dt.date(2023, 8, 1)  # first day after the training data
DECIDE_LAST = dt.date(2023, 9, 30)
WARMUP_DAYS = 60


def _stage(name: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {name}: {now - started:.1f} s", file=sys.stderr)
    return now


@dataclass
class World:
    """The simulated log, the model trained before the held-out period, its forecasts."""

    log: pd.DataFrame
    forecaster: Forecaster
    rows: pd.DataFrame
    queue: SimulatedQueue


def build(seed: int, settings: AdviceSettings) -> World:
    """Simulate, train on the data before ``HELD_OUT``, forecast the held-out period."""
    offices, calendar = load_offices(), default_calendar()
    t = time.perf_counter()
    log = simulate(offices, calendar, SIM_START, SIM_END, seed=seed, warmup_days=WARMUP_DAYS)
    t = _stage(f"simulated {len(log):,} tickets", t)
    history = log[log[s.ISSUED_AT] < pd.Timestamp(HELD_OUT)]
    data = prepare_data(history, None, offices, Calendars(calendar))
    forecaster = fit_forecaster(data, TrainConfig(n_estimators=60)).forecaster
    _stage(f"trained on {data.start} .. {data.end}", t)
    rows = forecaster.forecast(forecaster.origin, (SIM_END - HELD_OUT).days + 1)
    ctx = AdviceContext(
        Calendars(calendar), offices, forecaster.lead_days, settings, forecaster.service_minutes
    )
    return World(log, forecaster, rows, SimulatedQueue(_held_out(log), ctx))


def _held_out(log: pd.DataFrame) -> pd.DataFrame:
    return log[log[s.ISSUED_AT] >= pd.Timestamp(HELD_OUT)]


def one_at_a_time(world: World, args: argparse.Namespace) -> None:
    """Citizens deciding over two months, each alone: the queue does not react."""
    t = time.perf_counter()
    config = CitizenConfig(n=args.citizens, seed=args.seed)
    citizens = sample_citizens(_held_out(world.log), HELD_OUT, DECIDE_LAST, config)
    results = evaluate(citizens, world.queue, world.rows, config)
    _stage(f"followed {len(citizens):,} citizens", t)
    figures = summarize(results)
    leads = world.forecaster.lead_days.values()
    print(
        f"advice bench: {figures['citizens']} simulated citizens deciding {HELD_OUT} .. "
        f"{DECIDE_LAST}; model trained on data to {world.forecaster.data_end}; predicted "
        f"booking lead {min(leads):.0f}-{max(leads):.0f} days"
    )
    print(
        f"evaluable (outcome inside the simulated log): {figures['evaluable']}; with a travel "
        f"date that some option could make: {figures['with_travel_date_and_an_option']}"
    )
    print("advice mix: " + ", ".join(f"{k} {v:.1%}" for k, v in figures["advice_mix"].items()))
    print(f"{'strategy':<16}{'on time':>10}{'mean wait':>12}{'p90 wait':>10}{'door to door':>14}")
    for name in STRATEGIES:
        print(
            f"{name:<16}{figures[f'{name}_on_time_share']:>10.2%}"
            f"{figures[f'{name}_mean_wait']:>9.1f} min{figures[f'{name}_p90_wait']:>6.0f} min"
            f"{figures[f'{name}_mean_door_to_door']:>10.1f} min"
        )
    _ratios(figures)
    print(
        f"advice matches the best choice in hindsight: {figures['matches_hindsight_share']:.1%}"
        " (advice -> hindsight: "
        + ", ".join(f"{k} {v:.1%}" for k, v in figures["hindsight_mismatches"].items())
        + ")"
    )
    print(
        "  ... when walking in means the chosen office itself (book or walk in here?): "
        f"{figures['matches_same_office_hindsight_share']:.1%}"
    )
    urgent = figures["urgent_without_any_option_share"]
    if urgent is not None:
        print(f"urgent_service advised where no normal option could make it: {urgent:.1%}")
    _targets(figures)
    print(json.dumps(figures), file=sys.stderr)


def at_once(world: World, args: argparse.Namespace) -> None:
    """N citizens deciding within a few days, all following: their walk-ins join the queue."""
    t = time.perf_counter()
    last = HELD_OUT + dt.timedelta(days=args.decide_days - 1)
    config = CitizenConfig(n=args.at_once, seed=args.seed, pick_among=1)
    citizens = sample_citizens(_held_out(world.log), HELD_OUT, last, config)
    plans = crowd.plan(citizens, world.queue, RowsSource(world.rows), config)
    t = _stage(f"advised {len(citizens):,} citizens", t)
    ctx, base = world.queue.ctx, world.log
    by_office = {o: base[base[s.OFFICE_ID] == o] for o in ctx.offices.ids}
    added: list[float] = []  # per strategy, in order

    def resimulate(extras: crowd.Extras) -> SimulatedQueue:
        frames = [
            simulate_office(
                ctx.offices.get(o),
                ctx.calendars.china,
                SIM_START,
                SIM_END,
                args.seed,
                warmup_days=WARMUP_DAYS,
                extra_walk_ins=extras[o],
            )
            if o in extras
            else by_office[o]
            for o in ctx.offices.ids
        ]
        added.append(crowd.walk_in_share(base, extras))
        return SimulatedQueue(_held_out(combine_logs(frames)), ctx)

    results = crowd.outcomes(plans, citizens, resimulate, config)
    _stage("simulated the queue again with each crowd", t)
    capacity = crowd.hour_capacity(ctx.offices, world.forecaster.service_minutes)
    figures = crowd.summarize(results, plans, capacity)
    print(
        f"advice bench, everyone at once: {figures['citizens']} simulated citizens deciding "
        f"{HELD_OUT} .. {last}, each following at once (walk-ins take the first suggested "
        f"hour); their walk-ins are added to the simulated queue; evaluable "
        f"{figures['evaluable']}"
    )
    print("advice mix: " + ", ".join(f"{k} {v:.1%}" for k, v in figures["advice_mix"].items()))
    print(
        f"{'strategy':<16}{'on time':>10}{'mean wait':>12}{'p90 wait':>10}"
        f"{'door to door':>14}{'sent home':>11}{'added walk-ins':>16}"
        "  busiest office-hour (followers, x its capacity)"
    )
    for k, name in enumerate(STRATEGIES):
        peak = figures[f"{name}_peak"]
        where = (
            f"{peak['where']}: {peak['followers']} ({peak['share_of_capacity']:.1f}x)"
            if peak["where"]
            else "-"
        )
        print(
            f"{name:<16}{figures[f'{name}_on_time_share']:>10.2%}"
            f"{figures[f'{name}_mean_wait']:>9.1f} min{figures[f'{name}_p90_wait']:>6.0f} min"
            f"{figures[f'{name}_mean_door_to_door']:>10.1f} min"
            f"{figures[f'{name}_sent_home_share']:>11.1%}{added[k]:>15.0%}  {where}"
        )
    _ratios(figures)
    door = figures["advice_mean_door_to_door"]
    ratios = [
        f"{b}: door to door x{door / figures[f'{b}_mean_door_to_door']:.2f}" for b in STRATEGIES[1:]
    ]
    print("advice / " + ", ".join(ratios))
    print(
        "(door to door: the wait plus the trips to another office than the chosen one, there "
        "and back, by the advice's own estimate; added walk-ins: the crowd's walk-ins over the "
        "simulated walk-ins of the same office-days)"
    )
    _targets(figures)
    print(json.dumps(figures, default=str), file=sys.stderr)


def _ratios(figures: dict[str, Any]) -> None:
    for base in STRATEGIES[1:]:
        ratio = figures["advice_mean_wait"] / figures[f"{base}_mean_wait"]
        print(
            f"advice / {base}: mean wait x{ratio:.2f}, on time "
            f"{figures['advice_on_time_share'] - figures[f'{base}_on_time_share']:+.2%}"
        )


def _targets(figures: dict[str, Any]) -> None:
    on_time = figures["advice_on_time_share"] >= 0.99
    beats = all(figures["advice_mean_wait"] < figures[f"{b}_mean_wait"] for b in STRATEGIES[1:])
    print(
        f"target on time >= 99%: {'met' if on_time else 'MISSED'}; beats both baselines on "
        f"mean wait: {'yes' if beats else 'NO'}"
    )


def main() -> None:
    """Run the bench and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--short-walk-in-anywhere",
        action="store_true",
        help="Walk in instead of booking when a short p90 is at any offered "
        "office, not only at the chosen one.",
    )
    parser.add_argument(
        "--at-once",
        type=int,
        default=0,
        metavar="N",
        help="N citizens deciding within --decide-days all follow at once; "
        "their walk-ins join the simulated queue.",
    )
    parser.add_argument("--decide-days", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    world = build(args.seed, AdviceSettings(short_walk_in_anywhere=args.short_walk_in_anywhere))
    if args.at_once:
        at_once(world, args)
    else:
        one_at_a_time(world, args)
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
