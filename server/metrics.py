"""Prometheus metrics of one facade app, in a registry of its own, served at ``GET /metrics``.

Fed from three places: the request trace (requests by operation and outcome, their
latency), the upstream client's observer (calls by endpoint and status) and the
loaders (batch sizes). Operation names come from callers, so the label takes at most
``MAX_OPERATION_NAMES`` distinct names: a client cannot grow the registry without bound.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Final

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "ANONYMOUS",
    "MAX_OPERATION_NAMES",
    "OTHER_OPERATIONS",
    "OUTCOME_ERRORS",
    "OUTCOME_OK",
    "Metrics",
]

#: Distinct operation names kept as labels; later new names count as ``OTHER_OPERATIONS``.
MAX_OPERATION_NAMES: Final = 100
#: The operation label of a request that names no operation (or could not be read).
ANONYMOUS: Final = "anonymous"
#: The operation label of every name past ``MAX_OPERATION_NAMES`` or not a GraphQL name.
OTHER_OPERATIONS: Final = "other"
OUTCOME_OK: Final = "ok"
OUTCOME_ERRORS: Final = "errors"

_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_REQUEST_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500)


class Metrics:
    """The facade's metrics; ``observe_*`` record, ``endpoint`` serves them.

    metrics = Metrics()
    client = UpstreamClient(base_url=url, observer=metrics.observe_upstream)
    """

    def __init__(self, *, max_operation_names: int = MAX_OPERATION_NAMES) -> None:
        self.registry = CollectorRegistry()
        self._max_operation_names = max_operation_names
        self._operation_names: set[str] = set()
        self._names_lock = threading.Lock()
        self.requests = Counter(
            "oneweb_graphql_requests",
            "GraphQL requests by operation name and outcome (ok, errors).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "oneweb_graphql_request_seconds",
            "Time to answer a GraphQL request, by operation name.",
            ["operation"],
            buckets=_REQUEST_BUCKETS_S,
            registry=self.registry,
        )
        self.upstream_calls = Counter(
            "oneweb_graphql_upstream_calls",
            "Upstream call attempts by endpoint and status: the HTTP status, or "
            "timeout, unavailable, circuit_open, error.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.upstream_seconds = Histogram(
            "oneweb_graphql_upstream_seconds",
            "Time of an upstream call attempt, by endpoint.",
            ["endpoint"],
            buckets=_REQUEST_BUCKETS_S,
            registry=self.registry,
        )
        self.loader_batch_size = Histogram(
            "oneweb_graphql_loader_batch_size",
            "Distinct keys a DataLoader fetched together, by loader.",
            ["loader"],
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        # The labelled series of each (endpoint, status), looked up once: prometheus_client's
        # ``labels()`` takes a lock and builds a key per call, and every upstream call asks.
        # Endpoints are a fixed set and statuses a bounded one (HTTP statuses, 4 outcomes).
        self._upstream_series: dict[tuple[str, str], tuple[Any, Any]] = {}

    def operation_label(self, name: str | None) -> str:
        """The label for an operation name: itself while few distinct names were seen."""
        if not name:
            return ANONYMOUS
        if _GRAPHQL_NAME.fullmatch(name) is None:
            return OTHER_OPERATIONS
        with self._names_lock:
            if name in self._operation_names:
                return name
            if len(self._operation_names) < self._max_operation_names:
                self._operation_names.add(name)
                return name
        return OTHER_OPERATIONS

    def observe_request(self, operation: str | None, *, ok: bool, seconds: float) -> None:
        """Count one GraphQL request and its latency."""
        label = self.operation_label(operation)
        self.requests.labels(label, OUTCOME_OK if ok else OUTCOME_ERRORS).inc()
        self.request_seconds.labels(label).observe(seconds)

    def observe_upstream(self, endpoint: str, outcome: str, seconds: float) -> None:
        """The upstream client's observer: one attempt at ``endpoint`` ended with ``outcome``."""
        series = self._upstream_series.get((endpoint, outcome))
        if series is None:
            series = (
                self.upstream_calls.labels(endpoint, outcome),
                self.upstream_seconds.labels(endpoint),
            )
            self._upstream_series[(endpoint, outcome)] = series
        calls, durations = series
        calls.inc()
        durations.observe(seconds)

    def observe_batch(self, loader: str, size: int) -> None:
        """A loader fetched ``size`` distinct keys in one batch."""
        self.loader_batch_size.labels(loader).observe(size)

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics``: the registry in Prometheus' text format."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
