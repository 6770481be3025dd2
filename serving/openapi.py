"""The OpenAPI document, with the error answers every route can give declared where they apply.

FastAPI declares its own 422 shape (``HTTPValidationError``), which the app never sends:
every 422 is an :class:`serving.schemas.ErrorBody`. The middleware answers some errors
before a route runs, so no route declares them itself; they are added here:

- 413 ``payload_too_large`` on every operation with a request body;
- 429 ``rate_limited`` with ``Retry-After`` on every rate-limited operation (all but health
  and metrics) when a limit is set.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from serving.ratelimit import EXEMPT_PATHS
from serving.schemas import ErrorBody

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"
_METHODS = frozenset({"get", "put", "post", "delete", "patch"})


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if headers:
        answer["headers"] = headers
    return answer


TOO_LARGE = _error("The request body is larger than `WAITCAST_MAX_BODY_BYTES`.")
RATE_LIMITED = _error(
    "Too many requests from this client (`WAITCAST_RATE_LIMIT_PER_MINUTE`); retry later.",
    {
        "Retry-After": {
            "description": "Seconds to wait before the next request.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
)
BAD_PARAMETER = _error("A bad parameter or body field, named at the start of the message.")


def document_errors(schema: dict[str, Any], rate_limited: bool) -> dict[str, Any]:
    """Declare the app's real error answers in ``schema`` (changed in place and returned)."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if _is_fastapi_422(responses.get("422")):
                responses["422"] = BAD_PARAMETER
            if "requestBody" in operation:
                responses.setdefault("413", TOO_LARGE)
            if rate_limited and path not in EXEMPT_PATHS:
                responses.setdefault("429", RATE_LIMITED)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorBody", ErrorBody.model_json_schema())
    if _FASTAPI_422 not in repr(schema.get("paths")):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema


def _is_fastapi_422(answer: dict[str, Any] | None) -> bool:
    return answer is not None and _FASTAPI_422 in repr(answer)


def install(app: FastAPI, rate_limited: bool) -> None:
    """Make ``app.openapi()`` return the document with the errors declared (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            app.openapi_schema = document_errors(schema, rate_limited)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
