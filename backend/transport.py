"""How a call of the upstream client travels: transport, protection, failures, envelope.

``backend/client.py`` says what each endpoint sends and returns; ``UpstreamChannel``
carries it over one ``Transport`` (``backend/exchange.py``: pooled HTTP/1.1 connections over
the network, or the embedded runtime in the same process), guarded by a deadline per
call, a cap on calls in flight, a circuit breaker and a jittered retry of reads
(stamina). ``_typed`` is the one place where a transport's failures become the typed
errors of ``backend.errors`` (and ``_verdict`` the one place that reads them for the
breaker); ``unwrap`` reads the ONEWEB envelope.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final
from urllib.parse import quote, urlsplit

import orjson
import stamina

from backend.breaker import DOWN, UNREACHABLE, UP, CircuitBreaker, Verdict
from backend.envelope import unwrap
from backend.errors import (
    BadInput,
    UpstreamError,
    UpstreamFailure,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from backend.exchange import ConnectFailed, ConnectionBroken, Request, Transport, TransportFailure
from backend.http1_transport import Http1Transport
from backend.models import API_PREFIX

__all__ = [
    "CIRCUIT_OPEN",
    "KEEPALIVE_EXPIRY_S",
    "MAX_URL_CHARS",
    "OUTCOME_CIRCUIT_OPEN",
    "OUTCOME_ERROR",
    "OUTCOME_TIMEOUT",
    "OUTCOME_UNAVAILABLE",
    "Observer",
    "UpstreamChannel",
    "unwrap",
]

logger = logging.getLogger(__name__)

#: Idle connections are dropped before the usual server keep-alive timeouts
#: (uvicorn: 5 s), so the client never writes to a socket the server is closing.
KEEPALIVE_EXPIRY_S: Final = 4.0

#: The longest URL sent (the usual limit of servlet containers' request line is 8 KiB to
#: 64 KiB): what the caller asked for cannot reach the upstream as one request.
MAX_URL_CHARS: Final = 65_536

# Backoff before a read is retried: short, because a caller is waiting, and jittered,
# so that the retried reads of many requests do not arrive at the same instant.
_RETRY_WAIT_INITIAL_S: Final = 0.05
_RETRY_WAIT_MAX_S: Final = 1.0
_RETRY_WAIT_JITTER_S: Final = 0.05

#: The message of the UpstreamUnavailable raised, without a call, while the circuit is open.
CIRCUIT_OPEN: Final = "circuit open"

#: Observer outcomes besides the HTTP status (as a string, e.g. "200").
OUTCOME_UNAVAILABLE: Final = "unavailable"
OUTCOME_TIMEOUT: Final = "timeout"
OUTCOME_CIRCUIT_OPEN: Final = "circuit_open"
OUTCOME_ERROR: Final = "error"

#: HTTP statuses that say the upstream (or the gateway in front of it) is not serving.
_DOWN_STATUSES: Final = frozenset({502, 503, 504})

#: ``observer(endpoint, outcome, seconds)``, called once per upstream attempt.
Observer = Callable[[str, str, float], None]

_USER_AGENT: Final = "oneweb-graphql"


class UpstreamChannel:
    """The guarded way to the upstream that every call of ``UpstreamClient`` takes.

    ``call`` sends one request (path relative to ``API_PREFIX``, already encoded) with
    the caller's headers and returns the envelope's ``data``. ``timeout`` bounds the
    whole call: the wait for one of ``max_concurrency`` slots, connecting, sending and
    reading to the last byte, and a read's retry, all within one deadline. Each attempt
    passes the circuit breaker first and gives it a verdict on the route ``endpoint``.
    Reads are retried ``retry_reads`` times on connection failures; nothing else is.

        channel = UpstreamChannel(base_url="http://bpm.example:8080", timeout=10, ...)
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float,
        max_concurrency: int,
        transport: Transport | None,
        retry_reads: int,
        breaker: CircuitBreaker,
        observer: Observer | None,
    ) -> None:
        base = urlsplit(base_url)
        if (
            base.scheme not in ("http", "https")
            or not base.hostname
            or base.query
            or base.fragment
            or not base_url.isascii()
        ):
            raise ValueError(f"base_url must be an http(s) URL without query, got {base_url!r}")
        if base.username is not None or base.password is not None:
            # The client is shared by every caller: credentials come from each caller.
            raise ValueError("base_url must not carry credentials; they travel per call")
        self.base_url = base_url
        self.breaker = breaker
        self._origin = f"{base.scheme}://{base.netloc}"
        self._prefix = quote(base.path, safe="/%:@!$&'()*+,;=~").rstrip("/") + API_PREFIX
        self._timeout = timeout
        self._retry_reads = retry_reads
        self._observer = observer
        self._slots = asyncio.Semaphore(max_concurrency)
        # The pool is as large as the cap, so every call in flight has its connection.
        self._transport: Transport = transport or Http1Transport(
            max_concurrency=max_concurrency, keepalive_expiry_s=KEEPALIVE_EXPIRY_S
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    async def call(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        body: object | None,
        headers: Mapping[str, str] | None,
        read: bool,
    ) -> Any:
        """One logical call, to the envelope's ``data``; a read is retried on connection failures.

        data = await channel.call("tasks_by_instance", "GET", "/instance/i1/tasks", ...)
        """
        deadline = asyncio.get_running_loop().time() + self._timeout
        url = self._origin + self._prefix + path
        if len(url) > MAX_URL_CHARS:
            # What the caller sent cannot be a URL (e.g. an id of 70,000 characters).
            raise BadInput(
                f"request cannot be sent: its URL is too long ({len(url)} characters)",
                endpoint=endpoint,
            )
        request = _request(method, url, body, headers)
        if not read or self._retry_reads == 0:
            return await self._attempt(endpoint, request, deadline)
        try:
            # Most reads succeed at once: only a read whose first try failed pays for
            # stamina's retry machinery (a tenth of an inbox query's CPU when every read
            # entered it). Its first attempt re-raises that failure, so the waits and the
            # number of tries are stamina's own.
            return await self._attempt(endpoint, request, deadline)
        except UpstreamUnavailable as exc:
            if not _is_connection_failure(exc):
                raise
            first_failure = exc
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise first_failure
        try:
            async for attempt in stamina.retry_context(
                on=_is_connection_failure,
                attempts=self._retry_reads + 1,
                timeout=left,
                wait_initial=_RETRY_WAIT_INITIAL_S,
                wait_max=_RETRY_WAIT_MAX_S,
                wait_jitter=_RETRY_WAIT_JITTER_S,
            ):
                with attempt:
                    if attempt.num == 1:
                        raise first_failure
                    return await self._attempt(endpoint, request, deadline)
        except UpstreamTimeout:
            # The retry ran out of the call's time: the failure to report is the one
            # that made it retry (its cause, the connection error, kept).
            raise first_failure  # noqa: B904
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    async def _attempt(self, endpoint: str, request: Request, deadline: float) -> Any:
        """One try: through the breaker, a slot and the deadline, to the envelope's ``data``."""
        admission = self.breaker.admit()
        if admission is None:
            self._observe(endpoint, OUTCOME_CIRCUIT_OPEN, 0.0)
            raise UpstreamUnavailable(CIRCUIT_OPEN, endpoint=endpoint)
        asked = time.perf_counter()
        started: float | None = None
        # One deadline for the whole try: the wait for a slot, connecting, sending and
        # reading to the last byte (a per-read timeout let a trickling upstream hold a
        # call and its slot far longer than the timeout).
        try:
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
                try:
                    started = time.perf_counter()
                    left = deadline - asyncio.get_running_loop().time()
                    status, content = await _typed(
                        endpoint, self._transport.exchange(request, seconds_left=left)
                    )
                finally:
                    self._slots.release()
        except TimeoutError:
            if started is None:
                # Running out of slots is local load, not an upstream failure: no verdict.
                self.breaker.release(admission)
                self._observe(endpoint, OUTCOME_TIMEOUT, time.perf_counter() - asked)
                raise UpstreamTimeout(
                    f"no free upstream connection within {self._timeout:g} s", endpoint=endpoint
                ) from None
            exchanged = time.perf_counter() - started
            if exchanged >= self._timeout / 2:
                self.breaker.record(admission, DOWN, route=endpoint)
            else:
                # Most of the time went waiting for a slot: local load, no verdict.
                self.breaker.release(admission)
            self._observe(endpoint, OUTCOME_TIMEOUT, exchanged)
            waited = started - asked
            raise UpstreamTimeout(
                f"no complete answer from upstream within {self._timeout:g} s"
                + (
                    f" ({waited:.2f} s of it waiting for a free connection)"
                    if waited >= 0.01
                    else ""
                ),
                endpoint=endpoint,
            ) from None
        except UpstreamFailure as exc:
            self.breaker.record(admission, _verdict(exc), route=endpoint)
            assert started is not None  # only the exchange raises these
            self._observe(endpoint, _outcome(exc), time.perf_counter() - started)
            raise
        except BaseException:
            self.breaker.release(admission)
            raise
        # The upstream answered: whatever the reply says is this call's own business,
        # unless it is a gateway saying the upstream behind it is not serving.
        verdict: Verdict = DOWN if status in _DOWN_STATUSES else UP
        self.breaker.record(admission, verdict, route=endpoint)
        self._observe(endpoint, str(status), time.perf_counter() - started)
        return unwrap(endpoint, status, content)

    def _observe(self, endpoint: str, outcome: str, seconds: float) -> None:
        if self._observer is None:
            return
        try:
            self._observer(endpoint, outcome, seconds)
        except Exception:
            # Metrics must never fail a call.
            logger.exception("upstream observer failed for %s", endpoint)


async def _typed(endpoint: str, exchange: Awaitable[tuple[int, bytes]]) -> tuple[int, bytes]:
    """The exchange's reply, or its failure as the typed error of ``backend.errors``."""
    try:
        return await exchange
    except (ConnectFailed, ConnectionBroken) as exc:
        # Refused, unresolvable, reset, closed before a full reply, or not HTTP.
        raise UpstreamUnavailable(f"upstream connection failed ({exc})", endpoint=endpoint) from exc
    except TransportFailure as exc:
        raise UpstreamError(f"upstream request failed ({exc})", endpoint=endpoint) from exc


def _outcome(exc: UpstreamFailure) -> str:
    if isinstance(exc, UpstreamTimeout):
        return OUTCOME_TIMEOUT
    if isinstance(exc, UpstreamUnavailable):
        return OUTCOME_UNAVAILABLE
    return OUTCOME_ERROR


def _verdict(exc: UpstreamFailure) -> Verdict:
    """What a failed exchange says about the upstream as a whole, for the circuit breaker."""
    if isinstance(exc.__cause__, ConnectFailed):
        return UNREACHABLE  # no connection: nothing in this request can have caused that
    if isinstance(exc, UpstreamUnavailable | UpstreamTimeout):
        return DOWN  # reset, closed early, or too slow: on this route at least
    return UP  # the exchange failed on what was sent or received: the upstream answered


def _is_connection_failure(exc: Exception) -> bool:
    """Whether a read may be retried: its connection failed (not the open circuit, not a reply)."""
    return isinstance(exc, UpstreamUnavailable) and isinstance(
        exc.__cause__, ConnectFailed | ConnectionBroken
    )


def _request(
    method: str, url: str, body: object | None, headers: Mapping[str, str] | None
) -> Request:
    """The request with the channel's default headers, the caller's, and a JSON body."""
    sent = {"accept": "application/json", "user-agent": _USER_AGENT}
    if headers:
        sent.update((name.lower(), value) for name, value in headers.items())
    content = None
    if body is not None:
        content = orjson.dumps(body)
        sent["content-type"] = "application/json"
    return Request(method, url, sent, content)
