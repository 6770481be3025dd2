"""The live-accuracy plot: daily MAE of the served p50 and of the historical mean (pure)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from features import schema as s
from models.blend import ESTIMATOR, HISTORICAL_MEAN
from training.monitor import HOURS, MAE_BASELINE, MAE_MODEL, MAE_SERVED


def monitor_figure(days: pd.DataFrame, title: str) -> Figure:
    """One panel per office and channel: the daily MAE (hours-weighted over services) of
    what was served, of the version's own p50 and of the historical mean; days served by
    the historical mean shaded."""
    panels = sorted(
        {(str(o), str(c)) for o, c in zip(days[s.OFFICE_ID], days[s.CHANNEL], strict=True)}
    )
    columns = 3 if len(panels) > 4 else max(1, len(panels))
    rows = max(1, math.ceil(len(panels) / columns))
    figure, axes = plt.subplots(
        rows, columns, figsize=(5 * columns, 2.6 * rows), squeeze=False, sharex=True
    )
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (office, channel) in zip(axes.flat, panels, strict=False):
        part = days[(days[s.OFFICE_ID] == office) & (days[s.CHANNEL] == channel)]
        weights = part[HOURS].to_numpy(float)
        grouped = (
            part.assign(
                **{c: part[c] * weights for c in (MAE_SERVED, MAE_MODEL, MAE_BASELINE)},
                switched=(part[ESTIMATOR] == HISTORICAL_MEAN) * 1.0,
            )
            .groupby(s.DATE)
            .sum(numeric_only=True)
        )
        dates = pd.to_datetime(grouped.index)
        for column, label, style in (
            (MAE_SERVED, "served", "-"),
            (MAE_MODEL, "model", ":"),
            (MAE_BASELINE, "8-week mean", "--"),
        ):
            ax.plot(dates, grouped[column] / grouped[HOURS], style, label=label)
        for date, on in zip(dates, grouped["switched"] > 0, strict=True):
            if on:
                ax.axvspan(
                    date - pd.Timedelta(hours=12),
                    date + pd.Timedelta(hours=12),
                    color="0.85",
                    zorder=0,
                )
        ax.set_title(f"{office} {channel}", fontsize=9)
        ax.set_ylabel("MAE, min")
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    if panels:
        axes.flat[0].legend(fontsize=7)
    figure.suptitle(title + " (shaded: served by the historical mean)", fontsize=10)
    figure.tight_layout()
    return figure
