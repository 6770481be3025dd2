"""Prometheus metrics of one app: requests per route template, latencies, the model.

Each app has its own registry, so several apps (tests, the bench) never clash. Model
figures (version, cube build time, staleness) are read from the state at scrape time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from serving.answer_cache import AnswerCache
from serving.errors import StateStoreError
from serving.state import ServingState
from serving.statestore.served import ACCURACY

log = logging.getLogger("waitcast.serving")
# The live-accuracy figures `waitcast monitor` writes (document ``accuracy``): name in the
# document -> the gauge's name and help.
ACCURACY_GAUGES = {
    "mae_served": (
        "waitcast_live_mae_minutes",
        "Live MAE of the served p50 (minutes), per "
        "office, channel and window (days), from `waitcast monitor`.",
    ),
    "mae_baseline": (
        "waitcast_live_baseline_mae_minutes",
        "Live MAE of the 8-week historical mean (minutes) on the same hours.",
    ),
    "ratio": ("waitcast_live_mae_ratio", "Served MAE / historical-mean MAE (below 1: better)."),
    "coverage": (
        "waitcast_live_coverage_p10_p90",
        "Share of called tickets' waits inside the served p10-p90 (target 0.8).",
    ),
    "hours": ("waitcast_live_hours", "Hours with both a served forecast and waits."),
}

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Request counters and latency histograms, plus the model collector."""

    def __init__(self, state: ServingState, answers: AnswerCache | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "waitcast_http_requests",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "waitcast_http_request_duration_seconds",
            "Time to answer a request.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(ModelCollector(state))
        self.registry.register(AccuracyCollector(state))
        if answers is not None:
            self.registry.register(AnswerCacheCollector(answers))
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        method = method if method in METHODS else "OTHER"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._children[key] = children
        counter, histogram = children
        counter.inc()
        histogram.observe(seconds)

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)


class ModelCollector(Collector):
    """The loaded model's version, cube build time, data age and staleness."""

    def __init__(self, state: ServingState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        """Yield the model metrics as of now."""
        model = self.state.model
        loaded = GaugeMetricFamily("waitcast_model_loaded", "1 when a model is serving.")
        loaded.add_metric([], 1.0 if model else 0.0)
        yield loaded
        failures = CounterMetricFamily(
            "waitcast_model_load_failures", "Model loads or reloads that failed."
        )
        failures.add_metric([], float(self.state.reload_failures))
        yield failures
        if model is None:
            return
        info = InfoMetricFamily("waitcast_model", "The model serving forecasts.")
        info.add_metric([], {"version": model.version, "data_end": model.data_end.isoformat()})
        yield info
        for name, text, value in (
            (
                "waitcast_forecast_cube_build_seconds",
                "Seconds to build the forecast cube.",
                model.cube_seconds,
            ),
            (
                "waitcast_model_load_seconds",
                "Seconds to load and verify the model.",
                model.load_seconds,
            ),
            ("waitcast_forecast_cube_days", "Days precomputed in the cube.", model.cube.days),
            (
                "waitcast_model_data_age_days",
                "Days from the model's data end to today.",
                (self.state.today() - model.data_end).days,
            ),
            (
                "waitcast_model_stale",
                "1 when the model's data are older than allowed.",
                1.0 if self.state.is_stale(model) else 0.0,
            ),
        ):
            gauge = GaugeMetricFamily(name, text)
            gauge.add_metric([], float(value))
            yield gauge
        ondemand = CounterMetricFamily(
            "waitcast_forecast_ondemand_computations",
            "Forecasts computed on demand beyond the cube.",
        )
        ondemand.add_metric([], float(model.cube.forecast_calls - 1))
        yield ondemand


class AccuracyCollector(Collector):
    """The monitor's rolling live-accuracy figures (read from the state store at scrape
    time) and the queues this worker serves by the historical mean."""

    def __init__(self, state: ServingState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        """Yield the live-accuracy metrics as the monitor last wrote them."""
        switched = GaugeMetricFamily(
            "waitcast_queue_on_historical_mean",
            "1 for a queue the monitor switched to the historical mean.",
            labels=["office_id", "channel", "service"],
        )
        for switch in self.state.monitoring.switches:
            switched.add_metric(list(switch.queue), 1.0)
        yield switched
        try:
            text = self.state.store.document(ACCURACY)
            figures = json.loads(text)["figures"] if text else []
        except (StateStoreError, ValueError, KeyError, TypeError) as exc:
            log.warning("live accuracy not read: %s", exc)
            figures = []
        labels = ["office_id", "channel", "window_days"]
        gauges = {
            key: GaugeMetricFamily(name, text, labels=labels)
            for key, (name, text) in ACCURACY_GAUGES.items()
        }
        for row in figures:
            values = [str(row["office_id"]), str(row["channel"]), str(row["window_days"])]
            for key, gauge in gauges.items():
                if row.get(key) is not None:
                    gauge.add_metric(values, float(row[key]))
        yield from gauges.values()


class AnswerCacheCollector(Collector):
    """How often advice and best-times requests were answered from the kept answers."""

    def __init__(self, answers: AnswerCache) -> None:
        self.answers = answers

    def collect(self) -> Iterator[Metric]:
        """Yield the hit and miss counts."""
        for name, text, value in (
            ("waitcast_answer_cache_hits", "Answers sent as kept.", self.answers.hits),
            ("waitcast_answer_cache_misses", "Answers computed (then kept).", self.answers.misses),
        ):
            counter = CounterMetricFamily(name, text)
            counter.add_metric([], float(value))
            yield counter
