"""JSON log lines: one per request on ``waitcast.access``, and the server's own messages.

An access line holds the request id, method, route template, status and duration; never
a header, a token, a query string or a body. Configure once at the edge with
:func:`configure` (the CLI does); the app only emits records.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import IO, Any

ACCESS_LOGGER = "waitcast.access"
ACCESS_FIELDS = ("request_id", "method", "route", "status", "duration_ms")
access_log = logging.getLogger(ACCESS_LOGGER)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line: time, level, logger, message and access fields."""
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ACCESS_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_request(request_id: str, method: str, route: str, status: int, seconds: float) -> None:
    """Emit the access line of one request."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )


def configure(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every ``waitcast.*`` record to ``stream`` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("waitcast")
    for old in list(root.handlers):
        if getattr(old, "_waitcast", False):
            root.removeHandler(old)
    handler._waitcast = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    return handler
