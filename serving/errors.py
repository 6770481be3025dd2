"""Errors → HTTP answers: the only module that knows status codes.

Serving adds these to the domain hierarchy of :mod:`features.errors`::

    WaitcastError
    └── ServingError
        ├── NoModelError              503 no_model: nothing loaded yet
        ├── ReloadFailedError         503 reload_failed (or the cause's code): old model serves
        ├── ReloadBusyError           409 reload_in_progress
        ├── MissingTokenError         401 unauthorized
        ├── UnknownApiKeyError        401 unknown_api_key: an X-API-Key no partner holds
        ├── WrongTokenError           403 forbidden
        ├── NotFoundError             404 not_found
        ├── RateLimitedError          429 rate_limited, with Retry-After
        ├── CorsRefusedError          400 cors_refused: a preflight CORS does not allow
        ├── StateStoreError           503 state_store_unavailable: WAITCAST_STATE_URL fails
        └── PayloadTooLargeError      413 payload_too_large (also a Starlette HTTPException,
                                      so FastAPI's body reader lets it through)

Every answer is JSON ``{"error": CODE, "message": TEXT}``; 422s name the parameter. No
exception escapes as a 500 and no message carries a stack trace or a server path.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from features.errors import (
    InputError,
    ModelIntegrityError,
    ModelNotFoundError,
    NoCurrentModelError,
    ParameterError,
    RegistryError,
    UnknownOfficeError,
    WaitcastError,
)

log = logging.getLogger("waitcast.serving")
MAX_MESSAGE = 300


class ServingError(WaitcastError):
    """Base of the errors only the server raises."""


class NoModelError(ServingError):
    """No model is loaded, so model routes cannot answer."""


class ReloadFailedError(ServingError):
    """A reload failed; the old model (if any) keeps serving. ``cause`` says why."""

    def __init__(self, message: str, cause: Exception | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class ReloadBusyError(ServingError):
    """Another reload is running."""


class MissingTokenError(ServingError):
    """The request carries no bearer token."""


class UnknownApiKeyError(ServingError):
    """An ``X-API-Key`` that is no partner's (never issued, or revoked)."""


class WrongTokenError(ServingError):
    """The bearer token does not match."""


class NotFoundError(ServingError, LookupError):
    """A resource that does not exist (not an office: see UnknownOfficeError)."""


class RateLimitedError(ServingError):
    """The client sent more requests than its rate limit allows; ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CorsRefusedError(ServingError):
    """A CORS preflight whose origin, method or headers are not allowed."""


class StateStoreError(ServingError):
    """The state store (``WAITCAST_STATE_URL``) cannot be opened, read or written."""


class PayloadTooLargeError(StarletteHTTPException, ServingError):
    """The request body is larger than ``WAITCAST_MAX_BODY_BYTES``."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


# Most specific first: the first class the error is an instance of decides.
_DOMAIN: tuple[tuple[type[Exception], int, str], ...] = (
    (UnknownOfficeError, 404, "unknown_office"),
    (ParameterError, 422, "invalid_parameter"),
    (NoModelError, 503, "no_model"),
    (ReloadBusyError, 409, "reload_in_progress"),
    (MissingTokenError, 401, "unauthorized"),
    (UnknownApiKeyError, 401, "unknown_api_key"),
    (WrongTokenError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (RateLimitedError, 429, "rate_limited"),
    (CorsRefusedError, 400, "cors_refused"),
    (StateStoreError, 503, "state_store_unavailable"),
    (ModelNotFoundError, 503, "model_not_found"),
    (ModelIntegrityError, 503, "model_integrity"),
    (RegistryError, 503, "registry_unavailable"),
    (ReloadFailedError, 503, "reload_failed"),
    (InputError, 422, "invalid_input"),
    (WaitcastError, 422, "invalid_request"),
)
# FastAPI's answer to a body it cannot decode (not UTF-8, say): a bad body, so a named 422.
_UNPARSABLE_BODY = "There was an error parsing the body"
_METHODS = ("get", "put", "post", "delete", "patch")
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON error answer every failure takes."""
    body = {"error": code, "message": message[:MAX_MESSAGE]}
    return JSONResponse(body, status_code=status, headers=headers)


def response_for(exc: Exception, scope: MutableMapping[str, Any] | None = None) -> Response:
    """The answer to any exception: domain, HTTP, validation or unexpected."""
    if isinstance(exc, StarletteHTTPException):
        return _http_answer(exc, scope or {})
    if isinstance(exc, RequestValidationError):
        return error_response(422, "invalid_parameter", _validation_message(exc, scope or {}))
    if isinstance(exc, ReloadFailedError) and exc.cause is not None:
        status, code = _classify(exc.cause)
        message = _with_hint(str(exc), exc.cause)
        return error_response(status if status >= 500 else 503, code, message)
    if isinstance(exc, WaitcastError):
        status, code = _classify(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, RateLimitedError):
            headers = {"Retry-After": str(exc.retry_after)}
        return error_response(status, code, _domain_message(exc), headers)
    request_id = (scope or {}).get("waitcast.request_id", "-")
    log.error("unexpected error, request %s", request_id, exc_info=exc)
    return error_response(
        503,
        "unavailable",
        f"the server could not answer this request "
        f"(request id {request_id}); please try again later",
    )


def _classify(exc: Exception) -> tuple[int, str]:
    for kind, status, code in _DOMAIN:
        if isinstance(exc, kind):
            return status, code
    return 503, "unavailable"


# How to fix it, in the API's words (the core's errors say only what is wrong).
_TRAIN_AND_RELOAD = "train one with `waitcast train`, then POST /v1/admin/reload"
_HINTS: tuple[tuple[type[Exception], str], ...] = (
    (UnknownOfficeError, "see GET /v1/offices"),
    (NoModelError, _TRAIN_AND_RELOAD),
    (NoCurrentModelError, _TRAIN_AND_RELOAD),
)


def _with_hint(message: str, exc: Exception) -> str:
    hint = next((hint for kind, hint in _HINTS if isinstance(exc, kind)), None)
    return f"{message}: {hint}" if hint else message


def _domain_message(exc: WaitcastError) -> str:
    if isinstance(exc, UnknownOfficeError):
        return _with_hint(f"unknown office {exc.office_id[:64]!r}", exc)
    if isinstance(exc, StateStoreError):  # its text names a server path or host: log it
        log.warning("%s", exc)
        return "the state store is unavailable; please try again later"
    return _with_hint(str(exc), exc)


def _http_answer(exc: StarletteHTTPException, scope: MutableMapping[str, Any]) -> Response:
    status = exc.status_code if 400 <= exc.status_code < 500 else 503
    code = _HTTP_CODES.get(status, "http_error")
    method = str(scope.get("method", ""))[:10]
    path = "".join(c if c.isprintable() else "?" for c in str(scope.get("path", ""))[:80])
    if status == 400 and exc.detail == _UNPARSABLE_BODY:
        return error_response(422, "invalid_parameter", "body: not valid JSON in UTF-8")
    if status == 404:
        message = f"no such resource: {method} {path}"
    elif status == 405:
        headers = {**(exc.headers or {}), **_allow(scope)}
        exc = StarletteHTTPException(405, exc.detail, headers)
        message = f"method {method} is not allowed on {path}; allowed: {headers.get('Allow', '')}"
    elif isinstance(exc.detail, str):
        message = exc.detail
    else:
        message = "the request cannot be handled"
    return error_response(status, code, message, dict(exc.headers or {}))


def _allow(scope: MutableMapping[str, Any]) -> dict[str, str]:
    """``Allow`` naming every documented method of this path: Starlette's 405 names only
    the first route's, and a path can have one route per method (PUT and DELETE)."""
    app, path = scope.get("app"), str(scope.get("path", ""))
    paths = app.openapi().get("paths", {}) if isinstance(app, FastAPI) else {}
    for template, operations in paths.items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods = [m.upper() for m in operations if m in _METHODS]
            return {"Allow": ", ".join(methods)} if methods else {}
    return {}


def _validation_message(exc: RequestValidationError, scope: MutableMapping[str, Any]) -> str:
    errors = list(exc.errors())
    if not errors:
        return "the request is not valid"
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        return "body: not valid JSON"
    if loc[:1] == ["body"] and not _sends_json(scope):
        return _content_type_message(scope)
    name = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "request")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if kind.startswith(_DATE_ERRORS):
        given = str(first.get("input", ""))[:40]
        return f"{name}: expected a date YYYY-MM-DD, got {given!r}{more}"
    return f"{name}: {first.get('msg', 'invalid')}{more}"


_DATE_ERRORS = ("date_", "datetime_from_date")  # pydantic's error types for a bad date


def _content_type(scope: MutableMapping[str, Any]) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-type":
            return str(value.decode("latin-1")).split(";")[0].strip()[:60]
    return None


def _sends_json(scope: MutableMapping[str, Any]) -> bool:
    kind = _content_type(scope)
    return kind is not None and (kind == "application/json" or kind.endswith("+json"))


def _content_type_message(scope: MutableMapping[str, Any]) -> str:
    kind = _content_type(scope)
    given = "the request has no Content-Type" if kind is None else f"it says {kind!r}"
    return f"body: send it as JSON with Content-Type: application/json ({given})"


async def _handle(request: Request, exc: Exception) -> Response:
    return response_for(exc, dict(request.scope))


def register(app: FastAPI) -> None:
    """Install the handlers on ``app`` (domain errors, HTTP errors, validation, the rest)."""
    for kind in (WaitcastError, StarletteHTTPException, RequestValidationError, Exception):
        app.add_exception_handler(kind, _handle)
