"""A per-client rate limit: a token bucket per client IP, in-process (pure ASGI middleware).

Each client (``scope["client"]`` host: the peer address, or the one uvicorn took from
``X-Forwarded-For`` when the peer is a trusted proxy, see ``FORWARDED_ALLOW_IPS``) may make
``burst`` requests at once and ``per_minute`` a minute on average. A request over the limit
is answered 429 ``rate_limited`` with ``Retry-After`` (whole seconds) and never reaches the
app. Liveness, readiness and metrics are never limited, so probes and scrapers keep working.
At most ``max_clients`` buckets are kept (least recently seen dropped first), so a flood of
addresses cannot grow memory without bound.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from serving.errors import RateLimitedError, response_for

EXEMPT_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})
MAX_CLIENTS = 100_000


class TokenBuckets:
    """Token buckets keyed by client; :meth:`take` spends one token or says how long to wait.

    Args:
        per_minute: tokens added a minute (the sustained rate).
        burst: the bucket's size (requests allowed at once).
        clock: monotonic seconds.
        max_clients: buckets kept at most (least recently seen dropped first).
    """

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = MAX_CLIENTS) -> None:
        self.rate, self.burst = per_minute / 60.0, float(burst)
        self.clock, self.max_clients = clock, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Spend a token of ``client``: 0.0 when allowed, else the seconds until one is there."""
        now = self.clock()
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


class RateLimitMiddleware:
    """Refuses requests over a client's rate limit with 429 (see the module docstring).

    Args:
        app: the inner ASGI app.
        per_minute: requests a minute per client; 0 turns the limit off.
        burst: requests a client may make at once.
        clock: monotonic seconds (tests inject one).
    """

    def __init__(self, app: ASGIApp, per_minute: int, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app, self.per_minute = app, per_minute
        self.buckets = TokenBuckets(per_minute, burst, clock) if per_minute > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 429."""
        if self.buckets is None or scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.buckets.take(client[0] if client else "-")
        if wait <= 0.0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        error = RateLimitedError(
            f"too many requests from this client (at most {self.per_minute} a minute); "
            f"retry after {retry_after} s", retry_after)
        await response_for(error, scope)(scope, receive, send)
