"""The forecast cube as the advice's source: prepared hours when they cover the request.

Advice and best-times requests read the hours prepared when the cube was built
(:mod:`serving.advice.prepared`). A request reaching outside the cube's days (a replayed
``today`` in the past, a date beyond the cube) is computed from the cube's rows as before:
the same answer either way. A source made with ``compute=False`` refuses to compute
(:class:`NeedsComputing`): the routes try it on the event loop first and compute in the
thread pool only when it refuses (:func:`serving.offload.on_loop_or_thread`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from serving.advice.context import AdviceContext
from serving.advice.prepared import PreparedView
from serving.advice.sources import FrameView, HourView
from serving.cube import ForecastCube


class NeedsComputing(Exception):
    """The answer needs forecasts or hours not ready in the cube (CPU-bound work)."""


@dataclass(frozen=True)
class CubeSource:
    """The cube's offices up to ``last`` (the horizon): later dates are not forecast."""

    cube: ForecastCube
    last: dt.date
    compute: bool = True  # False: raise NeedsComputing instead of computing

    def frame(self, start: dt.date, end: dt.date, office_ids: Sequence[str]) -> pd.DataFrame:
        """The cube's unrounded rows (dates after ``last`` are not forecast)."""
        if not self.compute:
            raise NeedsComputing
        ids = [i for i in office_ids if i in self.cube.offices]
        return self.cube.frame(start, min(end, self.last), ids)

    def view(
        self, start: dt.date, end: dt.date, office_ids: Sequence[str], ctx: AdviceContext
    ) -> HourView:
        """Prepared hours when the cube's days cover [start, end]; else computed."""
        ids = [i for i in office_ids if i in self.cube.offices]
        if self.cube.start <= start and min(end, self.last) < self.cube.end:
            if not self.compute and not all(self.cube.is_prepared(i) for i in ids):
                raise NeedsComputing
            return PreparedView(self.cube.prepared, ids, self.last)
        return FrameView(self.frame(start, end, ids), ctx)
