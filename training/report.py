"""The backtest report: markdown text and matplotlib figures (the CLI writes the files)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from features import schema as s
from features.build import HORIZON
from training.backtest import BacktestResult
from training.metrics import ESTIMATOR, ESTIMATORS, EXPECTED, MODEL

COLUMNS = (
    "mae_p50",
    "mae_p50_expected",
    "mae_expected_vs_actual",
    "expected_noise",
    "pinball",
    "coverage",
    "under_share",
    "n_hours",
    "n_outcomes",
)


def _table(rows: dict[str, dict[str, Any]], first: str) -> str:
    present = [c for c in COLUMNS if any(r.get(c) is not None for r in rows.values())]
    lines = [f"| {first} | " + " | ".join(present) + " |", "|---|" + "---|" * len(present)]
    for name, values in rows.items():
        cells = []
        for column in present:
            value = values.get(column)
            if value is None:
                cells.append("")
            elif column == "coverage" or column == "under_share":
                cells.append(f"{value:.1%}")
            elif column.startswith("n_"):
                cells.append(f"{int(value):,}")
            else:
                cells.append(f"{value:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(metrics: dict[str, Any], title: str = "waitcast backtest") -> str:
    """The report as markdown."""
    parts = [
        f"# {title}",
        "",
        f"Rolling origins: {', '.join(metrics['origins'])}; horizon {metrics['horizon_days']} "
        "days. The model is refitted at each origin on data before it; baselines read the "
        "same feature matrix. MAE is of p50 against the hour's actual median wait (called "
        "tickets or posted waits); coverage is the share of individual waits inside p10–p90.",
        *(
            [
                "",
                "With simulator replays: `mae_p50_expected` is against the *expected* median "
                "(the median over the replays of each hour's median), `mae_expected_vs_actual` "
                "is the expected median's own MAE against the actual hours (the noise floor), "
                "and `expected_noise` estimates the expected median's own error from two "
                "halves of the replays — part of every `mae_p50_expected` that more replays, "
                "not a better estimator, would remove.",
            ]
            if "mae_p50_expected" in metrics.get("summary", {})
            and metrics["summary"]["mae_p50_expected"] is not None
            else []
        ),
        "",
        "## Overall",
        _table(metrics["overall"], "estimator"),
    ]
    for channel, by_est in metrics["by_channel"].items():
        parts += ["", f"## Channel {channel}", _table(by_est, "estimator")]
        ratio = metrics["ratios"].get(channel, {})
        if ratio:
            parts.append("")
            parts.append(
                "Model MAE over the better baseline's: "
                + ", ".join(
                    f"{k.replace('_ratio_to_best_baseline', '')} {v:.2f}" for k, v in ratio.items()
                )
            )
    parts += ["", "## By office (model)"]
    office_rows = {
        office: {
            **by_est.get(MODEL, {}),
            "hist. mean MAE": by_est.get("historical_mean", {}).get("mae_p50"),
        }
        for office, by_est in metrics["by_office"].items()
    }
    parts.append(_table(office_rows, "office"))
    parts += [
        "",
        "## Figures",
        "",
        "![a week](week.png)",
        "",
        "![error by horizon](error_by_horizon.png)",
        "",
        "![coverage by office](coverage_by_office.png)",
        "",
    ]
    return "\n".join(parts)


def make_figures(result: BacktestResult) -> dict[str, Figure]:
    """week.png, error_by_horizon.png and coverage_by_office.png."""
    return {
        "week.png": _week(result.hours),
        "error_by_horizon.png": _by_horizon(result.metrics),
        "coverage_by_office.png": _coverage(result.metrics),
    }


def _week(hours: pd.DataFrame) -> Figure:
    model = hours[(hours[ESTIMATOR] == MODEL) & (hours[s.CHANNEL] == s.Channel.WALK_IN.value)]
    if model.empty:
        model = hours[hours[ESTIMATOR] == MODEL]
    busiest = model.groupby(s.OFFICE_ID)[s.WAIT_P50].mean().idxmax()
    rows = model[model[s.OFFICE_ID] == busiest]
    rows = rows[rows[s.SERVICE] == rows[s.SERVICE].iloc[0]]
    first = min(rows[s.DATE])
    rows = rows[rows[s.DATE] < first + dt.timedelta(days=7)].sort_values([s.DATE, s.HOUR])
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(11, 4))
    ax.fill_between(x, rows[s.P10], rows[s.P90], alpha=0.25, label="p10–p90")
    ax.plot(x, rows[s.P50], label="p50 forecast")
    ax.plot(x, rows[s.WAIT_P50], "o", ms=3, label="actual median")
    if EXPECTED in rows:
        ax.plot(x, rows[EXPECTED], "--", label="expected (replays)")
    labels = [f"{d:%a %d} {h}h" for d, h in zip(rows[s.DATE], rows[s.HOUR], strict=True)]
    step = max(1, len(labels) // 14)
    ax.set_xticks(list(x)[::step], labels[::step], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("wait, minutes")
    ax.set_title(f"{busiest}, {rows[s.CHANNEL].iloc[0]}: a week of forecasts against actuals")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _by_horizon(metrics: dict[str, Any]) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 4))
    for estimator in ESTIMATORS:
        series = metrics["by_horizon"].get(estimator, {})
        points = sorted((int(h), v["mae_p50"]) for h, v in series.items() if v.get("mae_p50"))
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=estimator)
    ax.set_xlabel(f"{HORIZON} (days after the origin)")
    ax.set_ylabel("MAE of p50, minutes")
    ax.legend()
    fig.tight_layout()
    return fig


def _coverage(metrics: dict[str, Any]) -> Figure:
    offices = sorted(metrics["by_office"])
    values = [metrics["by_office"][o].get(MODEL, {}).get("coverage") or 0 for o in offices]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.3 * len(offices))))
    ax.barh(offices, values)
    ax.axvline(0.8, color="k", ls="--", lw=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel("p10–p90 coverage of individual waits (target 80 %)")
    fig.tight_layout()
    return fig
