"""Bench: does following the advice beat "always walk in" and "always book"? (issue 5 item 7)

Simulates Hangzhou's 15 offices from January to November 2023 (one seed), trains a model
on the data before the held-out period (August on: after the 8 June policy change, in the
summer peak, when bookings run about a month ahead), draws simulated citizens deciding in
August and September, lets them follow the advice and the two baselines, and reads the
outcomes from the simulated queue of the held-out period (see
``bench/advice_eval.py``). Prints the figures and the ratios against each baseline.

Run: ``.venv/bin/python bench/bench_advice.py [--citizens N] [--seed N]`` (about 2 min).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

import pandas as pd
from advice_eval import (
    STRATEGIES,
    CitizenConfig,
    SimulatedQueue,
    evaluate,
    sample_citizens,
    summarize,
)

from features import schema as s
from features.calendar_cn import default_calendar
from features.offices import load_offices
from serving.advice import AdviceContext, AdviceSettings
from training.pipeline import TrainConfig, fit_forecaster, prepare_data
from training.simulate import simulate

SIM_START, SIM_END = dt.date(2023, 1, 9), dt.date(2023, 11, 30)
HELD_OUT = dt.date(2023, 8, 1)  # first day after the training data
DECIDE_LAST = dt.date(2023, 9, 30)


def _stage(name: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {name}: {now - started:.1f} s", file=sys.stderr)
    return now


def main() -> None:
    """Run the bench and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--short-walk-in-anywhere", action="store_true",
                        help="Walk in instead of booking when a short p90 is at any offered "
                             "office, not only at the chosen one.")
    args = parser.parse_args()
    offices, calendar = load_offices(), default_calendar()
    t = t0 = time.perf_counter()
    log = simulate(offices, calendar, SIM_START, SIM_END, seed=args.seed, warmup_days=60)
    t = _stage(f"simulated {len(log):,} tickets", t)
    held_out = log[log[s.ISSUED_AT] >= pd.Timestamp(HELD_OUT)]
    data = prepare_data(log[log[s.ISSUED_AT] < pd.Timestamp(HELD_OUT)], None, offices, calendar)
    forecaster = fit_forecaster(data, calendar, TrainConfig(n_estimators=60)).forecaster
    t = _stage(f"trained on {data.start} .. {data.end}", t)
    rows = forecaster.forecast(calendar, forecaster.origin, (SIM_END - HELD_OUT).days + 1)
    settings = AdviceSettings(short_walk_in_anywhere=args.short_walk_in_anywhere)
    queue = SimulatedQueue(held_out, AdviceContext(calendar, offices, forecaster.lead_days,
                                                   settings))
    config = CitizenConfig(n=args.citizens, seed=args.seed)
    citizens = sample_citizens(held_out, HELD_OUT, DECIDE_LAST, config)
    results = evaluate(citizens, queue, rows, config)
    _stage(f"followed {len(citizens):,} citizens", t)
    figures = summarize(results)
    print(f"advice bench: {figures['citizens']} simulated citizens deciding {HELD_OUT} .. "
          f"{DECIDE_LAST}; model trained on data to {forecaster.data_end}; predicted booking "
          f"lead {min(forecaster.lead_days.values()):.0f}-{max(forecaster.lead_days.values()):.0f}"
          " days")
    print(f"evaluable (outcome inside the simulated log): {figures['evaluable']}; with a travel "
          f"date that some option could make: {figures['with_travel_date_and_an_option']}")
    print("advice mix: " + ", ".join(f"{k} {v:.1%}" for k, v in figures["advice_mix"].items()))
    print(f"{'strategy':<16}{'on time':>10}{'mean wait':>12}{'p90 wait':>10}")
    for name in STRATEGIES:
        print(f"{name:<16}{figures[f'{name}_on_time_share']:>10.2%}"
              f"{figures[f'{name}_mean_wait']:>9.1f} min{figures[f'{name}_p90_wait']:>6.0f} min")
    for base in STRATEGIES[1:]:
        ratio = figures["advice_mean_wait"] / figures[f"{base}_mean_wait"]
        print(f"advice / {base}: mean wait x{ratio:.2f}, on time "
              f"{figures['advice_on_time_share'] - figures[f'{base}_on_time_share']:+.2%}")
    print(f"advice matches the best choice in hindsight: {figures['matches_hindsight_share']:.1%}"
          " (advice -> hindsight: " + ", ".join(
              f"{k} {v:.1%}" for k, v in figures["hindsight_mismatches"].items()) + ")")
    print("  ... when walking in means the chosen office itself (book or walk in here?): "
          f"{figures['matches_same_office_hindsight_share']:.1%}")
    urgent = figures["urgent_without_any_option_share"]
    if urgent is not None:
        print(f"urgent_service advised where no normal option could make it: {urgent:.1%}")
    on_time = figures["advice_on_time_share"] >= 0.99
    beats = all(figures["advice_mean_wait"] < figures[f"{b}_mean_wait"] for b in STRATEGIES[1:])
    print(f"target on time >= 99%: {'met' if on_time else 'MISSED'}; beats both baselines on "
          f"mean wait: {'yes' if beats else 'NO'}")
    print(f"total {time.perf_counter() - t0:.0f} s")
    print(json.dumps(figures), file=sys.stderr)


if __name__ == "__main__":
    main()
