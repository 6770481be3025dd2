"""Dependency aliases, so route signatures read like the domain.

The dependencies are ``async def`` on purpose: FastAPI runs plain ``def`` dependencies
in the thread pool, which the forecast route cannot afford. The busiest routes (forecast,
now, advice, best times) read the app's parts from the request with the plain functions
below instead: each dependency FastAPI resolves costs microseconds per request.
"""

from __future__ import annotations

import hmac
import threading
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from serving.advice import AdviceContext
from serving.answer_cache import AnswerCache
from serving.errors import MissingTokenError, WrongTokenError
from serving.metrics import Metrics
from serving.state import LoadedModel, ServingState

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="admin token",
    description="`Authorization: Bearer <WAITCAST_ADMIN_TOKEN>`",
)


def serving_state(request: Request) -> ServingState:
    """The app's serving state (a plain function, for the hot path)."""
    state: ServingState = request.app.state.serving
    return state


def turns_of(request: Request) -> Turns:
    """The app's advice request counter (a plain function, for the hot path)."""
    turns: Turns = request.app.state.advice_turns
    return turns


def answers_of(request: Request) -> AnswerCache:
    """The app's kept advice and best-times answers (a plain function, for the hot path)."""
    answers: AnswerCache = request.app.state.answers
    return answers


async def get_state(request: Request) -> ServingState:
    """The app's serving state."""
    return serving_state(request)


async def get_metrics(request: Request) -> Metrics:
    """The app's metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


class Turns:
    """Numbers the advice requests of each office (0, 1, 2 …), for the rotation of the
    first suggestion (``serving.advice.hours.rotation_pick``); one per app."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, office_id: str) -> int:
        """This request's number for ``office_id``."""
        with self._lock:
            turn = self._next.get(office_id, 0)
            self._next[office_id] = turn + 1
            return turn


def advice_context(state: ServingState, model: LoadedModel) -> AdviceContext:
    """The advice's context for the loaded model: calendar, its offices and booking leads."""
    forecaster = model.forecaster
    return AdviceContext(
        forecaster.calendars,
        forecaster.offices,
        forecaster.lead_days,
        service_minutes=forecaster.service_minutes,
    )


StateDep = Annotated[ServingState, Depends(get_state)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def require_admin(state: StateDep, credentials: Credentials) -> None:
    """Refuse a request without the admin bearer token (401) or with a wrong one (403)."""
    if credentials is None or not credentials.credentials:
        raise MissingTokenError("this needs the admin token: Authorization: Bearer <token>")
    given = credentials.credentials.encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(given, state.settings.token_bytes):
        raise WrongTokenError("the admin token is wrong")


AdminDep = Annotated[None, Depends(require_admin)]
