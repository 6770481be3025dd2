"""Each worker's share of the live-accuracy monitor: what it served, and the switches.

Called from the watch (:meth:`serving.state.ServingState.refresh`), never from a request:

- :meth:`Monitoring.record` keeps, once per office, hour and model version, the rows the
  cube serves for the office's current hour (:class:`ServedForecast`) in the state
  store, so that `waitcast monitor` can later compare them with the waits the logs show.
  One write per hour and worker; a second worker's records of the same hour are ignored
  by the store.
- :meth:`Monitoring.read_switches` reads the monitor's ``switches`` document; when it
  changed, the caller rebuilds the cube with it (:mod:`serving.switches`).

A state store that does not answer is logged and asked again on the next watch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from features import schema as s
from serving.cube import ForecastCube
from serving.errors import StateStoreError
from serving.statestore import StateStore
from serving.statestore.served import SWITCHES, ServedForecast
from serving.switches import ESTIMATOR, MODEL_P50, QueueSwitch, switches_from_json

log = logging.getLogger("waitcast.serving")
LocalNow = Callable[[str], dt.datetime]  # time zone -> the local time there


class Monitoring:
    """What one worker records and the switches it serves."""

    def __init__(self, store: StateStore, local_now: LocalNow) -> None:
        self.store, self.local_now = store, local_now
        self.switches: tuple[QueueSwitch, ...] = ()
        self._text: str | None = None
        self._recorded: set[tuple[str, str, dt.date, int]] = set()

    def read_switches(self) -> bool:
        """Read the ``switches`` document; True when it changed since the last read."""
        try:
            text = self.store.document(SWITCHES)
        except StateStoreError as exc:
            log.warning("switches not read: %s", exc)
            return False
        if text == self._text:
            return False
        try:
            switches = switches_from_json(text)
        except ValueError as exc:
            log.warning("the switches document is unreadable, ignored: %s", exc)
            self._text = text
            return False
        self._text, self.switches = text, switches
        log.info(
            "%d queue(s) served by the historical mean (the monitor's switches)", len(switches)
        )
        return True

    def record(self, cube: ForecastCube) -> int:
        """Record this hour's served rows of every office not recorded yet; how many."""
        records: list[ServedForecast] = []
        marks = []
        for office_id, office in cube.offices.items():
            now = self.local_now(office.timezone)
            mark = (cube.version, office_id, now.date(), now.hour)
            if mark in self._recorded:
                continue
            day = cube.lookup(office_id, now.date())
            if day is None:  # outside the cube: nothing served from it
                continue
            marks.append(mark)
            records.extend(
                ServedForecast(
                    office_id,
                    str(r[s.CHANNEL]),
                    str(r[s.SERVICE]),
                    now.date(),
                    now.hour,
                    cube.version,
                    str(r[ESTIMATOR]),
                    float(r[s.P10]),
                    float(r[s.P50]),
                    float(r[s.P90]),
                    float(r[MODEL_P50]),
                )
                for r in day.exact
                if int(r[s.HOUR]) == now.hour
            )
        if not marks:
            return 0
        try:
            added = self.store.record_served(records)
        except StateStoreError as exc:
            log.warning("served forecasts not recorded (tried again on the next watch): %s", exc)
            return 0
        oldest = min(m[2] for m in marks) - dt.timedelta(days=1)
        self._recorded = {m for m in self._recorded if m[2] >= oldest} | set(marks)
        return added
