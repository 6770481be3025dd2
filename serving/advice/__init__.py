"""The advice domain: book, walk in or ask for urgent service; the quickest hours.

Pure: forecasts come from a :class:`ForecastSource`, everything else from an
:class:`AdviceContext`; no HTTP, no I/O, no clock. The modules, in the order a request
meets them:

- ``decision`` — :func:`advise`, the one entry point, and the decision rules;
- ``context`` — the calendar (looked up in one place), offices, booking leads, settings;
- ``settings`` — :class:`AdviceSettings`, every knob with its documented default;
- ``deadline`` — issuing times and the last day to apply;
- ``places`` — distances and the offices near one;
- ``hours`` — forecast rows → open hours, expected wait, the near-best rule, spreading;
- ``walk_in`` / ``appointment`` — the two kinds of option;
- ``options`` — :class:`HourOption`, one offered hour;
- ``best_times`` — :func:`best_times`, the quickest hours in a range;
- ``reasons`` — the sentences, in Chinese and English;
- ``sources`` — where the hours come from: computed from forecast rows (the CLI, tests);
- ``prepared`` — the same hours prepared per office when the server's cube is built;
- ``table`` — :class:`Table`, the numpy column table the ranking works on.
"""

from serving.advice.appointment import AppointmentOption
from serving.advice.best_times import best_times, best_times_of
from serving.advice.context import AdviceContext
from serving.advice.deadline import Deadline, IssuingTime, Residency
from serving.advice.decision import Advice, AdviceKind, AdviceRequest, advise
from serving.advice.options import HourOption
from serving.advice.places import parse_near
from serving.advice.reasons import Reason
from serving.advice.settings import AdviceSettings
from serving.advice.sources import ForecasterSource, ForecastSource, RowsSource

__all__ = [
    "Advice",
    "AdviceContext",
    "AdviceKind",
    "AdviceRequest",
    "AdviceSettings",
    "AppointmentOption",
    "Deadline",
    "ForecastSource",
    "ForecasterSource",
    "HourOption",
    "IssuingTime",
    "Reason",
    "Residency",
    "RowsSource",
    "advise",
    "best_times",
    "best_times_of",
    "parse_near",
]
