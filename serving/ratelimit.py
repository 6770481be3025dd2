"""Rate limits per partner key and per client address, kept in the state store (pure ASGI).

A request carrying a partner's key (``X-API-Key: KEY``, or ``Authorization: Bearer KEY``)
counts against that key's quota (:func:`serving.keys.partner_limit`); any other request
against its client address (``scope["client"]`` host: the peer address, or the one
uvicorn took from ``X-Forwarded-For`` when the peer is a trusted proxy, see
``FORWARDED_ALLOW_IPS``), which may make ``burst`` requests at once and ``per_minute`` a
minute on average. The buckets live in the state store, so all workers (and, with
Redis, all hosts) share them.

A key that no partner holds (mistyped or revoked) is refused with 401 ``unknown_api_key``:
any ``X-API-Key``, and a bearer token that looks like a partner key (``wck_…``). Another
bearer token is left to the route (it may be the admin token, which is never a partner
key and gets the address's limit). Over
the limit: 429 ``rate_limited`` with ``Retry-After`` (whole seconds); the request never
reaches the app. Liveness, readiness and metrics are never limited. When the store
fails, requests pass (logged) and the store is left alone for ``FAIL_OPEN_SECONDS``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from serving import keys
from serving.errors import (
    RateLimitedError,
    StateStoreError,
    UnknownApiKeyError,
    response_for,
)
from serving.statestore import Limit, PartnerKey, StateStore

EXEMPT_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})
API_KEY_HEADER = b"x-api-key"
FAIL_OPEN_SECONDS = 5.0
log = logging.getLogger("waitcast.serving")


def presented_key(scope: Scope) -> tuple[str | None, bool]:
    """The key a request carries, and whether it came as ``X-API-Key`` (else Bearer)."""
    bearer: str | None = None
    for name, value in scope.get("headers", ()):
        if name == API_KEY_HEADER:
            return value.decode("latin-1").strip(), True
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                bearer = token.strip()
    return bearer, False


class RateLimitMiddleware:
    """Refuses requests over their key's or address's limit (see the module docstring).

    Args:
        app: the inner ASGI app.
        store: where the buckets and partner keys are.
        per_minute: requests a minute per client address; 0 turns every limit off.
        burst: requests an address may make at once.
        clock: seconds since the epoch (tests inject one).
    """

    def __init__(
        self,
        app: ASGIApp,
        store: StateStore,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app, self.store, self.clock = app, store, clock
        self.anonymous = Limit(per_minute, burst) if per_minute > 0 else None
        self._store_down_until = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 401 or 429."""
        if self.anonymous is None or scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        now = self.clock()
        try:
            refusal = self._check(scope, now) if now >= self._store_down_until else None
        except StateStoreError as exc:
            log.warning("rate limit not applied for %.0f s: %s", FAIL_OPEN_SECONDS, exc)
            self._store_down_until = now + FAIL_OPEN_SECONDS
            refusal = None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await response_for(refusal, scope)(scope, receive, send)

    def _check(self, scope: Scope, now: float) -> Exception | None:
        assert self.anonymous is not None
        key, from_header = presented_key(scope)
        partner: PartnerKey | None = None
        if key and (from_header or key.startswith(keys.KEY_PREFIX)):
            partner = self.store.find_key(keys.digest(key))
            if partner is None:
                return UnknownApiKeyError(
                    "no partner holds this API key (mistyped or "
                    "revoked); send none to be limited per address"
                )
        if partner is not None:
            bucket, limit = f"key:{partner.name}", keys.partner_limit(partner.per_minute)
            who = f"with the key {partner.name!r}"
        else:
            client = scope.get("client")
            bucket, limit = f"ip:{client[0] if client else '-'}", self.anonymous
            who = "from this client"
        wait_us = self.store.take(bucket, limit, round(now * 1_000_000))
        if wait_us <= 0:
            return None
        retry_after = max(1, math.ceil(wait_us / 1_000_000))
        return RateLimitedError(
            f"too many requests {who} (at most {limit.per_minute} a "
            f"minute); retry after {retry_after} s",
            retry_after,
        )
