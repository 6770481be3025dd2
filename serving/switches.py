"""Queues switched to the historical mean by the live-accuracy monitor, and how they are served.

`waitcast monitor` compares, per queue and day, the served model's p50 with the 8-week
historical mean (same queue, weekday and hour) on the waits the ingested logs show. A
queue on which the model was worse 7 days in a row is switched to the historical mean; it
switches back after 3 days in a row on which the model was no worse. The monitor writes
the switched queues, with the historical mean's p10/p50/p90 per weekday and hour as of
its last day of data, to the state store (document ``switches``); every worker reads it
on its watch, rebuilds its cube when it changed, and serves those queues from these
values, saying so: ``estimator`` is ``historical_mean`` and ``estimator_reason`` says why.
Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features import schema as s
from models.blend import ESTIMATOR, HISTORICAL_MEAN, MODEL

ESTIMATOR_REASON = "estimator_reason"  # why a row is not served by the version's own choice
MODEL_P50 = s.MODEL_P50  # the p50 the version itself serves (before a switch)
Cells = dict[tuple[int, int], tuple[float, float, float]]  # (weekday, hour) -> p10, p50, p90


@dataclass(frozen=True)
class QueueSwitch:
    """One queue served by the historical mean: since when, why, and its values."""

    office_id: str
    channel: str
    service: str
    since: dt.date
    reason: str
    cells: Cells = field(default_factory=dict)

    @property
    def queue(self) -> tuple[str, str, str]:
        """The queue's keys (office, channel, service)."""
        return (self.office_id, self.channel, self.service)


def switches_to_json(switches: Iterable[QueueSwitch], written_at: str) -> str:
    """The ``switches`` document."""
    items = [
        {
            s.OFFICE_ID: w.office_id,
            s.CHANNEL: w.channel,
            s.SERVICE: w.service,
            "since": w.since.isoformat(),
            "reason": w.reason,
            "cells": [[d, h, *q] for (d, h), q in sorted(w.cells.items())],
        }
        for w in switches
    ]
    return json.dumps({"written_at": written_at, "switches": items}, sort_keys=True)


def switches_from_json(text: str | None) -> tuple[QueueSwitch, ...]:
    """The switches of a ``switches`` document (none for None).

    Raises:
        ValueError: the text is not such a document.
    """
    if not text:
        return ()
    try:
        items = json.loads(text)["switches"]
        return tuple(
            QueueSwitch(
                str(item[s.OFFICE_ID]),
                str(item[s.CHANNEL]),
                str(item[s.SERVICE]),
                dt.date.fromisoformat(item["since"]),
                str(item["reason"]),
                {
                    (int(c[0]), int(c[1])): (float(c[2]), float(c[3]), float(c[4]))
                    for c in item["cells"]
                },
            )
            for item in items
        )
    except (KeyError, TypeError, IndexError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a switches document: {exc}") from None


def with_estimator(frame: pd.DataFrame) -> pd.DataFrame:
    """Forecast rows with ``estimator`` (``model`` where missing), ``estimator_reason``
    (None) and ``model_p50`` (the p50) columns: rows as the version serves them."""
    return frame.assign(
        **{
            ESTIMATOR: frame[ESTIMATOR].fillna(MODEL) if ESTIMATOR in frame else MODEL,
            ESTIMATOR_REASON: None,
            MODEL_P50: frame[s.P50].to_numpy(float),
        }
    )


def apply_switches(frame: pd.DataFrame, switches: Iterable[QueueSwitch]) -> pd.DataFrame:
    """Rows of switched queues served by their historical mean, where it has a value for
    the weekday and hour (other rows, and hours without one, as they were).

    ``frame`` has the forecast's columns; the result has :func:`with_estimator`'s too.
    """
    out = with_estimator(frame)
    by_queue = {w.queue: w for w in switches}
    if not by_queue or out.empty:
        return out
    offices = out[s.OFFICE_ID].astype(str).to_numpy()
    channels = out[s.CHANNEL].astype(str).to_numpy()
    services = out[s.SERVICE].astype(str).to_numpy()
    hours = out[s.HOUR].to_numpy(int)
    quantiles = np.array(out[[s.P10, s.P50, s.P90]].to_numpy(float))  # writable copies
    estimator = np.array(out[ESTIMATOR].to_numpy(object))
    reason = np.array(out[ESTIMATOR_REASON].to_numpy(object))
    for i, date in enumerate(out[s.DATE]):
        switch = by_queue.get((offices[i], channels[i], services[i]))
        if switch is None:
            continue
        cell = switch.cells.get((pd.Timestamp(date).weekday(), int(hours[i])))
        if cell is None:
            continue
        quantiles[i] = np.sort(np.clip(np.asarray(cell, float), 0, None))
        estimator[i], reason[i] = HISTORICAL_MEAN, switch.reason
    return out.assign(
        **{
            s.P10: quantiles[:, 0],
            s.P50: quantiles[:, 1],
            s.P90: quantiles[:, 2],
            ESTIMATOR: estimator,
            ESTIMATOR_REASON: reason,
        }
    )
