"""Each HTTP request's trace: its request id, one access-log line, its request metrics.

``RequestTracing`` (ASGI middleware, outermost) takes a sane incoming ``X-Request-ID``
or makes one, returns it as a response header and keeps it, with what the GraphQL
operation was, in a ``RequestTrace`` that the rest of the request reads through
``current_trace()``: the GraphQL endpoint forwards the id upstream, the log records of
the request carry it. The access line holds method, path (never the query string:
a GET query carries variables), status, duration, operation and id, and no header.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from resolvers.context import Context

from .metrics import Metrics

__all__ = [
    "ACCESS_LOGGER",
    "REQUEST_ID_HEADER",
    "RequestTrace",
    "RequestTracing",
    "TraceOperation",
    "accepted_request_id",
    "current_trace",
]

REQUEST_ID_HEADER: Final = "X-Request-ID"
#: The logger of the one line per request.
ACCESS_LOGGER: Final = "oneweb_graphql.access"
#: Paths that probes and scrapers call every few seconds: their lines are DEBUG.
_QUIET_PATHS: Final = frozenset({"/healthz", "/readyz", "/metrics"})
# Long enough for a UUID, a ULID, a W3C trace id or a base64 token; nothing that could
# break a header or a log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/@-]{1,128}")

access_log = logging.getLogger(ACCESS_LOGGER)

_current: ContextVar[RequestTrace | None] = ContextVar("oneweb_graphql_trace", default=None)


@dataclass(slots=True)
class RequestTrace:
    """What is known about the request being served; the GraphQL operation fills in the rest."""

    request_id: str
    #: The GraphQL operation's name, once one ran.
    operation: str | None = None
    #: Whether a GraphQL operation ran and answered with errors; None: none ran.
    errors: bool | None = None


def current_trace() -> RequestTrace | None:
    """The trace of the request this code runs for, or None outside a request."""
    return _current.get()


def accepted_request_id(incoming: str | None) -> str:
    """``incoming`` if it is a sane request id (bounded, safe characters), else a new one.

    >>> accepted_request_id("req-42")
    'req-42'
    """
    if incoming is not None and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class TraceOperation(SchemaExtension):
    """Tells the request's trace which GraphQL operation ran and whether it had errors."""

    def on_operation(self) -> Iterator[None]:
        yield
        trace = current_trace()
        if trace is None:
            return
        execution = self.execution_context
        trace.operation = execution.operation_name
        result = execution.result
        context = execution.context
        # Upstream failures a mutation turned into payload errors are listed as errors
        # by an extension that may run after this one.
        reported = isinstance(context, Context) and bool(context.reported)
        errors = result is None or bool(result.errors) or reported
        trace.errors = errors or bool(trace.errors)


class RequestTracing:
    """ASGI middleware: request id in and out, one access-log line, request metrics.

    app = RequestTracing(app, metrics=Metrics(), graphql_path="/graphql")
    """

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics | None, graphql_path: str = "/graphql"
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accepted_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        trace = RequestTrace(request_id)
        status = 500  # what the server answers if the app fails before starting a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = _current.set(trace)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            _current.reset(token)
            self._record(scope, trace, status, seconds)

    def _record(self, scope: Scope, trace: RequestTrace, status: int, seconds: float) -> None:
        path: str = scope["path"]
        access_log.log(
            logging.DEBUG if path in _QUIET_PATHS else logging.INFO,
            "%s %s %s",
            scope["method"],
            path,
            status,
            extra={
                "method": scope["method"],
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "operation": trace.operation,
                "request_id": trace.request_id,
            },
        )
        # GraphiQL's page and CORS preflights run no operation: they are no GraphQL request.
        ran = trace.errors is not None or status >= 400
        if self.metrics is not None and path == self.graphql_path and ran:
            ok = status < 400 and trace.errors is False
            self.metrics.observe_request(trace.operation, ok=ok, seconds=seconds)
