"""The accuracy suite: is the forecast better than the 8-week historical mean, everywhere?

For every dataset and origin T the model is trained exactly as `waitcast train` trains it
(its own backtest, estimator choice and calibration) on the data dated before T only, then
forecasts the open hours of [T, T + horizon) through the product's forecast path. The
historical mean (the mean of the same queue, weekday and hour over the 8 weeks before T)
is computed in the same run from the same data. Scores per dataset, channel and origin:

- ``ratio``: p50 MAE of the model over the historical mean's. Against the hour's actual
  median for real data; against the *expected* median (the median over simulator replays
  of the test window with other seeds) for simulated data;
- ``pinball``: mean pinball loss of p10/p50/p90 over individual outcomes (model, and the
  historical mean's in brackets);
- ``coverage``: share of individual outcomes (one citizen's wait, one posted wait) inside
  the model's [p10, p90];
- ``missing``: share of the hours with outcomes in the test window that got no forecast.

With ``--overrule`` each row also prints the p50 ratio of the same trained forecaster
served with the choice overruled (:data:`OVERRULED`: the model alone, the shrunk mean
alone, half of each in every queue): what the served figure is made of.

Datasets: Maryland MVA 2017 (three weeks of history, one origin), California DMV 2024-25
(rolling origins, 3-8 months of history) and the Hangzhou simulator (origins 2023-07 to
2026-10, histories from 3 months to 3 years). The real files live in ``../shared/data/real``;
a dataset whose file is missing is skipped with a note. Replays are cached in
``.waitcast/bench-cache`` (keyed by window and seeds). The expected median of a few replays
is itself noisy, and its noise counts as error for the model and the mean alike, pulling the
ratio toward 1 (2025-03-03 appointment: 0.677 at 20 replays, 0.592 at 60, 0.556 at 120):
the default is :data:`REPLAYS`.

    .venv/bin/python bench/bench_accuracy.py [--datasets maryland,ca-dmv,sim] [--seed 42]
        [--replays 120] [--windows suite|other] [--train-seed N[,N...]] [--overrule]
        [--json FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features import schema as s  # noqa: E402
from features.build import build_features, training_targets  # noqa: E402
from features.calendar_cn import default_calendar  # noqa: E402
from features.calendars import Calendars  # noqa: E402
from features.dataset import TrainingData, prepare_data  # noqa: E402
from features.events import load_events  # noqa: E402
from features.infer import Locale  # noqa: E402
from features.offices import load_offices  # noqa: E402
from features.read import read_inputs  # noqa: E402
from features.spec import ORIGIN  # noqa: E402
from features.validate import validate  # noqa: E402
from models.baselines import HistoricalMean  # noqa: E402
from models.blend import POOLED, Blend  # noqa: E402
from models.forecaster import Forecaster  # noqa: E402
from training.metrics import EXPECTED  # noqa: E402
from training.pipeline import TrainConfig  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "real"
CACHE = ROOT / ".waitcast" / "bench-cache"
SIM_SEED = 42
REPLAYS = 120  # simulator replays per test window (the expected wait's median)
SIM_START, SIM_END = dt.date(2023, 1, 2), dt.date(2026, 11, 25)
#: Where each dataset's offices stand (what `waitcast train --country/--region` says).
LOCALES = {
    "maryland": Locale("US", "MD", "America/New_York"),
    "ca-dmv": Locale("US", "CA", "America/Los_Angeles"),
    "sim": Locale(),
}
#: ``--overrule``: the model's share in every queue, the shrunk mean its partner and the
#: mean where it serves alone, whatever training chose (name -> share).
OVERRULED = {"model": 1.0, "shrunk": 0.0, "half": 0.5}


@dataclasses.dataclass(frozen=True)
class Case:
    """One origin of one dataset: train on [history_start, origin), test [origin, end]."""

    dataset: str
    history_start: dt.date
    origin: dt.date
    end: dt.date

    @property
    def history_days(self) -> int:
        """Days of training history."""
        return (self.origin - self.history_start).days


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _cases(dataset: str, windows: list[tuple[str, str]]) -> list[Case]:
    """Four-week test windows from (history start, origin) pairs."""
    return [Case(dataset, _d(h), _d(o), _d(o) + dt.timedelta(days=27)) for h, o in windows]


CA_START = "2024-09-30"
CASES: dict[str, list[Case]] = {
    "maryland": [Case("maryland", _d("2017-11-09"), _d("2017-11-29"), _d("2017-12-06"))],
    "ca-dmv": _cases(
        "ca-dmv", [(CA_START, o) for o in ("2025-01-06", "2025-02-24", "2025-04-07", "2025-06-02")]
    ),
    "sim": _cases(
        "sim",
        [
            ("2023-01-02", "2023-07-17"),  # 6 months, five weeks after the policy change
            ("2023-01-09", "2024-06-01"),  # 17 months: one June in the history
            ("2024-04-01", "2024-07-01"),  # 3 months, into the summer break
            ("2023-01-02", "2024-11-04"),  # 22 months
            ("2024-09-02", "2025-03-03"),  # 6 months, after the Spring Festival
            ("2023-01-02", "2025-08-04"),  # 31 months, summer
            ("2024-10-07", "2025-12-01"),  # 14 months, winter
            ("2023-10-02", "2026-10-12"),  # 3 years, after National Day
        ],
    ),
}

#: Windows the suite's rules were never tuned on (run with ``--windows other``): short
#: California histories and the REAL ID rush of May 2025, two weeks of Maryland, and
#: simulator origins after the Spring Festival, after May Day and before the next one.
OTHER_CASES: dict[str, list[Case]] = {
    "maryland": [Case("maryland", _d("2017-11-15"), _d("2017-11-29"), _d("2017-12-06"))],
    "ca-dmv": _cases(
        "ca-dmv", [(CA_START, o) for o in ("2024-12-02", "2025-01-27", "2025-03-17", "2025-05-05")]
    ),
    "sim": _cases(
        "sim",
        [
            ("2023-01-02", "2024-03-04"),  # 14 months, after the Spring Festival
            ("2024-05-06", "2025-05-06"),  # 1 year, after May Day
            ("2025-02-03", "2026-02-02"),  # 1 year, the Spring Festival in the test weeks
        ],
    ),
}


def load_dataset(
    name: str, seed: int = SIM_SEED
) -> tuple[pd.DataFrame | None, pd.DataFrame | None] | None:
    """Validated (tickets, observations) of a dataset, or None when its file is missing;
    ``seed`` is the simulated world's."""
    offices = load_offices()
    if name == "sim":
        path = CACHE / f"sim-{SIM_START}-{SIM_END}-{seed}.parquet"
        if not path.exists():
            from training.simulate import simulate

            CACHE.mkdir(parents=True, exist_ok=True)
            simulate(offices, default_calendar(), SIM_START, SIM_END, seed=seed).to_parquet(path)
        paths = [path]
    else:
        file = {"maryland": "maryland-mva-2017.csv.gz", "ca-dmv": "ca-dmv-2024-2025.csv.gz"}[name]
        paths = [REAL / file]
        if not paths[0].exists():
            return None
    frames: dict[str, pd.DataFrame] = {}
    for raw in read_inputs(paths):
        result = validate(raw, offices)
        frames[result.kind.value] = result.accepted
    return frames.get(s.InputKind.TICKETS.value), frames.get(s.InputKind.OBSERVATIONS.value)


def _between(frame: pd.DataFrame | None, column: str, start: dt.date, end: dt.date):
    if frame is None:
        return None
    day = frame[column].dt.date
    return frame[(day >= start) & (day <= end)]


def expected_for(case: Case, replays: int, seed: int = SIM_SEED) -> pd.DataFrame:
    """The expected hourly median of the test window in the world of ``seed`` (cached)."""
    from training.expected import World, expected_waits

    # Replays fork the world at the origin: its history, then fresh seeds (conditional).
    path = CACHE / f"expected-fork-{case.origin}-{case.end}-{seed}-{replays}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    seeds = [seed + 1 + i for i in range(replays)]
    world = World(seed, SIM_START)
    frame = expected_waits(
        load_offices(), default_calendar(), case.origin, case.end, seeds, world=world
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return frame


Trainer = Callable[[TrainingData, TrainConfig], Forecaster]


def overruled(forecaster: Forecaster, share: float) -> Forecaster:
    """The same trained forecaster with every queue given the model share ``share``, the
    shrunk mean as the rest (the range keeps the channel's offsets where training has
    them for that share; only the p50 is scored)."""
    if forecaster.baseline is None:
        raise ValueError("a forecaster without its served mean cannot be overruled")
    channels = [str(c) for c in forecaster.queues[s.CHANNEL].unique()]
    blend = Blend(
        forecaster.blend.weights.iloc[0:0],
        {POOLED: share},
        forecaster.blend.offsets,
        shrunk=channels,
        partner=channels,
    )
    return dataclasses.replace(forecaster, blend=blend)


def default_trainer(data: TrainingData, config: TrainConfig) -> Forecaster:
    """Train as `waitcast train` does; returns the forecaster."""
    from training.backtest import backtest_and_fit

    return backtest_and_fit(data, config)[1]


def run_case(
    case: Case,
    tickets: pd.DataFrame | None,
    observations: pd.DataFrame | None,
    replays: int,
    trainer: Trainer = default_trainer,
    seed: int = SIM_SEED,
    config: TrainConfig | None = None,
    overrule: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Per test hour and per test outcome: actual, expected, model and baseline quantiles
    (trained with ``config``, by default `waitcast train`'s); with ``overrule``, per hour
    also the p50 of each of :data:`OVERRULED` (columns ``p50_<name>``)."""
    offices = load_offices()
    locale, events = LOCALES[case.dataset], load_events()
    last = case.origin - dt.timedelta(days=1)
    train = prepare_data(
        _between(tickets, s.ISSUED_AT, case.history_start, last),
        _between(observations, s.OBSERVED_AT, case.history_start, last),
        offices,
        Calendars(default_calendar()),
        locale,
        events,
    )
    test = prepare_data(
        _between(tickets, s.ISSUED_AT, case.history_start, case.end),
        _between(observations, s.OBSERVED_AT, case.history_start, case.end),
        offices,
        Calendars(default_calendar()),
        locale,
        events,
    )
    started = time.perf_counter()
    forecaster = trainer(train, config or TrainConfig())
    seconds = time.perf_counter() - started
    days = (case.end - case.origin).days + 1
    forecast = forecaster.forecast(case.origin, days)
    keys = [*s.QUEUE_KEYS, s.DATE, s.HOUR]
    hours = test.hourly[
        (test.hourly[s.DATE] >= case.origin)
        & (test.hourly[s.DATE] <= case.end)
        & (test.hourly[s.N_OUTCOMES] > 0)
    ].assign(**{ORIGIN: case.origin})
    # An office first seen after the origin has no history for any forecast (nor the
    # historical mean): its hours are left out of the scores.
    known = hours[s.OFFICE_ID].astype(str).isin(train.offices.ids)
    if not known.all():
        new = sorted(hours.loc[~known, s.OFFICE_ID].astype(str).unique())
        print(
            f"note: {case.dataset} {case.origin}: {int((~known).sum())} test hours of "
            f"{len(new)} office(s) first seen after the origin left out ({', '.join(new)})",
            file=sys.stderr,
        )
    hours = hours[known]
    hours = hours[[*keys, ORIGIN, s.N_OUTCOMES, s.WAIT_P50]].reset_index(drop=True)
    # The historical mean as of the origin, from the same builder the model reads.
    calendars = train.calendars
    X = build_features(hours, train.hourly, calendars, train.offices, forecaster.spec)
    fit_rows = training_targets(
        train.hourly[train.hourly[s.N_OUTCOMES] > 0], [train.end - dt.timedelta(days=27)], 28
    )
    fit_X = build_features(fit_rows, train.hourly, calendars, train.offices, forecaster.spec)
    baseline = HistoricalMean().fit(fit_X, fit_rows)
    hm = baseline.predict(X)
    hours["hm_p10"], hours["hm_p50"], hours["hm_p90"] = hm[:, 0], hm[:, 1], hm[:, 2]
    model = forecast[[*keys, s.P10, s.P50, s.P90, "estimator"]]
    hours = hours.merge(model, on=keys, how="left")
    for name, share in OVERRULED.items() if overrule else ():
        other = overruled(forecaster, share).forecast(case.origin, days)
        hours = hours.merge(
            other[[*keys, s.P50]].rename(columns={s.P50: f"p50_{name}"}), on=keys, how="left"
        )
    if case.dataset == "sim":
        hours = hours.merge(expected_for(case, replays, seed), on=keys, how="left")
    outcomes = hours.drop(columns=[s.WAIT_P50]).merge(test.outcomes, on=keys, how="inner")
    return hours, outcomes, seconds


def _pinball(y: np.ndarray, q: np.ndarray, level: float) -> np.ndarray:
    diff = y - q
    return np.maximum(level * diff, (level - 1) * diff)


def score(hours: pd.DataFrame, outcomes: pd.DataFrame, simulated: bool) -> dict[str, float]:
    """The suite's figures for one group of hours and their outcomes."""
    target = EXPECTED if simulated else s.WAIT_P50
    have = hours[hours[s.P50].notna() & hours[target].notna()]
    mae_model = float((have[s.P50] - have[target]).abs().mean())
    mae_hm = float((have["hm_p50"] - have[target]).abs().mean())
    o = outcomes[outcomes[s.P50].notna()]
    y = o[s.WAIT].to_numpy(float)

    def pinball(prefix: str) -> float:
        cols = [f"{prefix}p10", f"{prefix}p50", f"{prefix}p90"]
        loss = sum(
            _pinball(y, o[c].to_numpy(float), lv)
            for c, lv in zip(cols, (0.1, 0.5, 0.9), strict=True)
        )
        return float(np.mean(loss) / 3) if len(y) else float("nan")

    inside = (y >= o[s.P10].to_numpy() - 1e-9) & (y <= o[s.P90].to_numpy() + 1e-9)
    overruled_ratios = {
        f"ratio_{name}": float((have[f"p50_{name}"] - have[target]).abs().mean()) / mae_hm
        for name in OVERRULED
        if f"p50_{name}" in have and mae_hm > 0
    }
    return {
        **overruled_ratios,
        "hours": float(len(hours)),
        "outcomes": float(len(y)),
        "mae_model": mae_model,
        "mae_hm": mae_hm,
        "ratio": mae_model / mae_hm if mae_hm > 0 else float("nan"),
        "pinball": pinball(""),
        "pinball_hm": pinball("hm_"),
        "coverage": float(inside.mean()) if len(y) else float("nan"),
        "missing": float(hours[s.P50].isna().mean()),
        "model_share": float((have.get("estimator", pd.Series(dtype=str)) == "model").mean())
        if "estimator" in have
        else float("nan"),
    }


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and channel: the figures of every origin pooled, and the worst origin."""
    rows = []
    for (name, channel), group in table.groupby(["dataset", "channel"]):
        hours, outcomes = group["hours"], group["outcomes"]

        def by_outcomes(column: str, g: pd.DataFrame = group, w: pd.Series = outcomes) -> float:
            return float((g[column] * w).sum() / w.sum()) if w.sum() else float("nan")

        worst = group.loc[group["ratio"].idxmax()]
        rows.append(
            {
                "dataset": name,
                "channel": channel,
                "origins": len(group),
                "ratio": round(
                    (group["mae_model"] * hours).sum() / (group["mae_hm"] * hours).sum(), 3
                ),
                "pinball": round(by_outcomes("pinball"), 3),
                "pinball_hm": round(by_outcomes("pinball_hm"), 3),
                "coverage": f"{by_outcomes('coverage'):.1%}",
                "coverage_range": f"{group['coverage'].min():.1%}–{group['coverage'].max():.1%}",
                "missing": f"{(group['missing'] * hours).sum() / hours.sum():.2%}",
                "worst_origin": worst["origin"],
                "worst_ratio": round(float(worst["ratio"]), 3),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None, trainer: Trainer = default_trainer) -> int:
    """Run the suite and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="maryland,ca-dmv,sim")
    parser.add_argument("--replays", type=int, default=REPLAYS)
    parser.add_argument("--cases", default="", help="Only these origins (comma-separated dates).")
    parser.add_argument(
        "--windows",
        choices=("suite", "other"),
        default="suite",
        help="The suite's origins, or other windows nobody tuned the rules on.",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=SIM_SEED,
        help="The simulated world's seed: another seed is another world nobody tuned on.",
    )
    parser.add_argument(
        "--train-seed",
        type=_seeds,
        default=None,
        help="The training's seed (LightGBM's, the sampling's), or several comma-separated: "
        "another seed shows how far a row moves with the fit's own randomness alone; with "
        "several, each origin is trained once per seed and its row is their mean.",
    )
    parser.add_argument(
        "--overrule",
        action="store_true",
        help="Also score each trained forecaster with the choice overruled: the model alone, "
        "the shrunk mean alone, half of each (p50 ratio).",
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args(argv)
    seeds = args.train_seed or [TrainConfig().seed]
    only = {_d(x) for x in args.cases.split(",") if x}
    rows = []
    for name in args.datasets.split(","):
        loaded = load_dataset(name, args.seed)
        if loaded is None:
            print(f"{name}: skipped, its file is not in {REAL}")
            continue
        tickets, observations = loaded
        for case in (CASES if args.windows == "suite" else OTHER_CASES)[name]:
            if only and case.origin not in only:
                continue
            for seed in seeds:
                hours, outcomes, seconds = run_case(
                    case,
                    tickets,
                    observations,
                    args.replays,
                    trainer,
                    args.seed,
                    TrainConfig(seed=seed),
                    args.overrule,
                )
                rows.extend(_scored(case, hours, outcomes, seconds, seed, len(seeds) > 1))
    table = pd.DataFrame(rows)
    if table.empty:
        return 0
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    report(table)
    return 0


def _seeds(text: str) -> list[int]:
    """``--train-seed``'s comma-separated seeds."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a seed or comma-separated seeds: {text!r}") from None


def _scored(
    case: Case,
    hours: pd.DataFrame,
    outcomes: pd.DataFrame,
    seconds: float,
    seed: int,
    show_seed: bool,
) -> list[dict[str, object]]:
    """The rows of one trained origin, one per channel, each printed as it comes."""
    rows: list[dict[str, object]] = []
    for channel in sorted(hours[s.CHANNEL].unique()):
        figures = score(
            hours[hours[s.CHANNEL] == channel],
            outcomes[outcomes[s.CHANNEL] == channel],
            case.dataset == "sim",
        )
        r = {
            "dataset": case.dataset,
            "origin": case.origin.isoformat(),
            "history_days": case.history_days,
            "channel": channel,
            "train_seed": seed,
            "train_s": round(seconds, 1),
            **figures,
        }
        rows.append(r)
        print(
            f"{case.dataset:8s} {r['origin']} hist {case.history_days:4d} d {channel:11s} "
            + (f"seed {seed} " if show_seed else "")
            + f"ratio {r['ratio']:.3f} (model {r['mae_model']:.3f} / hm {r['mae_hm']:.3f}) "
            f"pinball {r['pinball']:.3f} ({r['pinball_hm']:.3f}) "
            f"coverage {r['coverage']:.1%} missing {r['missing']:.2%} "
            f"model {r['model_share']:.0%} train {seconds:.0f} s"
            + "".join(
                f" | {name} alone {r[f'ratio_{name}']:.3f}"
                if share in (0.0, 1.0)
                else f" | {name} {r[f'ratio_{name}']:.3f}"
                for name, share in OVERRULED.items()
                if f"ratio_{name}" in r
            ),
            flush=True,
        )
    return rows


def over_seeds(table: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset, origin and channel: the mean of its training seeds' figures
    (the historical mean's are the same at every seed), with the range of the ratio and
    the coverage over the seeds."""
    keys = ["dataset", "origin", "history_days", "channel"]
    figures = [c for c in table.columns if c not in (*keys, "train_seed")]
    grouped = table.groupby(keys, sort=False)
    out = grouped[figures].mean()
    out["ratio"] = out["mae_model"] / out["mae_hm"]
    out["seeds"] = grouped.size()
    for column in ("ratio", "coverage"):
        out[f"{column}_min"] = grouped[column].min()
        out[f"{column}_max"] = grouped[column].max()
    return out.reset_index()


def pooled_ratio(table: pd.DataFrame, by: list[str]) -> pd.Series:
    """The p50 MAE over the historical mean's, every origin's hours pooled, per ``by``."""
    sums = (
        table.assign(
            w_model=table["mae_model"] * table["hours"], w_hm=table["mae_hm"] * table["hours"]
        )
        .groupby(by)[["w_model", "w_hm"]]
        .sum()
    )
    return (sums["w_model"] / sums["w_hm"]).round(3)


def report(table: pd.DataFrame) -> None:
    """Print the summary of the scored rows (of one or several training seeds)."""
    rows = over_seeds(table)
    seeds = int(rows["seeds"].max())
    if seeds > 1:
        print(f"\nper origin and channel, the mean of {seeds} training seeds (min–max over them):")
        spread = rows.assign(
            ratio=rows["ratio"].map("{:.3f}".format),
            ratio_range=rows["ratio_min"].map("{:.3f}".format)
            + "–"
            + rows["ratio_max"].map("{:.3f}".format),
            coverage=rows["coverage"].map("{:.1%}".format),
            coverage_range=rows["coverage_min"].map("{:.1%}".format)
            + "–"
            + rows["coverage_max"].map("{:.1%}".format),
        )
        columns = ["dataset", "origin", "channel", "ratio", "ratio_range", "coverage"]
        print(spread[[*columns, "coverage_range"]].to_string(index=False))
    print("\nper dataset and channel, all origins pooled (ratio and missing weighted by hours,")
    print("pinball and coverage by outcomes; worst = the origin with the highest ratio):")
    print(summary(rows).to_string(index=False))
    print("\npooled ratio per dataset:")
    print(pooled_ratio(rows, ["dataset"]).to_string())
    names = [n for n in OVERRULED if f"ratio_{n}" in rows]
    if names:
        print("\npooled ratio per dataset, the choice overruled (--overrule):")
        scored = rows.assign(ratio_served=rows["ratio"])
        pooled = {
            name: pooled_ratio(
                scored.assign(mae_model=scored[f"ratio_{name}"] * scored["mae_hm"]), ["dataset"]
            )
            for name in ["served", *names]
        }
        print(pd.DataFrame(pooled).to_string(float_format="{:.3f}".format))
    if seeds > 1:
        print("\npooled ratio per dataset and training seed:")
        by_seed = pooled_ratio(table, ["dataset", "train_seed"]).unstack()
        print(by_seed.to_string(float_format="{:.3f}".format))


if __name__ == "__main__":
    sys.exit(main())
