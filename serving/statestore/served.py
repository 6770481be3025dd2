"""What the server served, kept for the live-accuracy monitor; shared documents.

Every worker records, once per office, hour and model version, the forecast it served
for that hour (:class:`ServedForecast`): the served p10/p50/p90 and estimator, and
``model_p50``, what the version itself would have served there (they differ only on a
queue the monitor switched to the historical mean, so that it can tell when the model
recovers). The key is the queue, date, hour and version: a second worker's record of the
same hour is ignored.

Documents are small JSON texts under a name, written whole by `waitcast monitor` and read
by every worker: :data:`SWITCHES` (the queues served by the historical mean, and its
values) and :data:`ACCURACY` (the rolling figures `/metrics` exposes).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

SWITCHES = "switches"
ACCURACY = "accuracy"
KEEP_SERVED_DAYS = 120  # records older than this are purged (the monitor reads 28 + 7)


@dataclass(frozen=True, slots=True)
class ServedForecast:
    """One queue's forecast for one hour, as a version served it."""

    office_id: str
    channel: str
    service: str
    date: dt.date
    hour: int
    version: str
    estimator: str
    p10: float
    p50: float
    p90: float
    model_p50: float

    @property
    def key(self) -> str:
        """The record's identity within its date: queue, hour and version."""
        return f"{self.office_id}|{self.channel}|{self.service}|{self.hour}|{self.version}"

    def to_json(self) -> str:
        """The record as JSON text."""
        return json.dumps({**asdict(self), "date": self.date.isoformat()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> ServedForecast:
        """The record from :meth:`to_json`'s text."""
        data = json.loads(text)
        return cls.from_values(**data)

    @classmethod
    def from_values(cls, **values: object) -> ServedForecast:
        """The record from its fields (the date as ISO text or a date)."""
        date = values.pop("date")
        day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
        return cls(
            str(values["office_id"]),
            str(values["channel"]),
            str(values["service"]),
            day,
            int(values["hour"]),  # type: ignore[call-overload]
            str(values["version"]),
            str(values["estimator"]),
            float(values["p10"]),  # type: ignore[arg-type]
            float(values["p50"]),  # type: ignore[arg-type]
            float(values["p90"]),  # type: ignore[arg-type]
            float(values["model_p50"]),  # type: ignore[arg-type]
        )
