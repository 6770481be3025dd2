"""The request middleware (pure ASGI, so it costs microseconds): request id, the worker
that answered (``X-Worker``: its process id, with ``waitcast serve --workers N``), body
limit, metrics and the access log line, and the last-resort answer to anything
unexpected; and
Starlette's CORS middleware answering a refused preflight with the JSON error shape."""

from __future__ import annotations

import os
import re
import secrets
import time

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.errors import CorsRefusedError, PayloadTooLargeError, response_for
from serving.logging import log_request
from serving.metrics import Metrics

REQUEST_ID_HEADER = b"x-request-id"
WORKER_HEADER = b"x-worker"
_SAFE_ID = re.compile(rb"[A-Za-z0-9._\-]{1,64}")
UNMATCHED = "<unmatched>"


class RequestMiddleware:
    """Wraps every HTTP request of the app.

    Args:
        app: the inner ASGI app.
        metrics: where request counts and latencies go.
        max_body_bytes: larger bodies are refused with 413, by Content-Length or as read.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app, self.metrics, self.max_body_bytes = app, metrics, max_body_bytes
        self.worker = (WORKER_HEADER, str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request (other scope types pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id, length = _read_headers(scope)
        scope["waitcast.request_id"] = request_id
        status = [0]
        headers = (REQUEST_ID_HEADER, request_id.encode()), self.worker

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), *headers]}
            await send(message)

        try:
            if length is not None and length > self.max_body_bytes:
                raise PayloadTooLargeError(self.max_body_bytes)
            await self.app(scope, self._limited(receive), send_with_id)
        except Exception as exc:  # the last resort: answer, never a 500
            if status[0]:
                return  # the answer has begun; nothing more can be said
            await response_for(exc, scope)(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            seconds = time.perf_counter() - started
            method = scope.get("method", "")
            self.metrics.observe(method, template, status[0], seconds)
            log_request(request_id, method, template, status[0], seconds)

    def _limited(self, receive: Receive) -> Receive:
        limit = self.max_body_bytes
        received = [0]

        async def receive_limited() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received[0] += len(message.get("body", b""))
                if received[0] > limit:
                    raise PayloadTooLargeError(limit)
            return message

        return receive_limited


def _read_headers(scope: Scope) -> tuple[str, int | None]:
    """The request id (the caller's when safe, else a new one) and the Content-Length."""
    request_id: str | None = None
    length: int | None = None
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _SAFE_ID.fullmatch(value):
            request_id = value.decode()
        elif name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
    return request_id or secrets.token_hex(16), length


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware; a refused preflight is a JSON ``cors_refused`` error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        """The preflight answer (a refusal carries no ``Access-Control-Allow-Origin``)."""
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        refused = bytes(answer.body).decode().removeprefix("Disallowed CORS ")
        return response_for(
            CorsRefusedError(
                f"CORS does not allow this request's {refused} (see WAITCAST_CORS_ORIGINS)"
            )
        )
