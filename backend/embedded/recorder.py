"""A recording upstream: wraps an ASGI app, records every HTTP request, adds latency and faults.

Tests count upstream calls and inspect what reached the upstream (the raw,
still-encoded path; the forwarded headers) through it, and make it fail the way a
real server can (an HTML 500 page, a Java exception in a 500 envelope, HTTP 200 with an
error code, garbage, a servlet container's HTML 400, a load balancer's 503, a hang, a
trickle, a dropped connection); the benchmark injects the latency of a remote ONEWEB server.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["Fault", "RecordedCall", "Recorder"]


class Fault(Enum):
    """A way a real upstream fails that the runtime itself never does."""

    HTML_500 = "html_500"  #: HTTP 500 with an HTML error page
    CODE_500 = "code_500"  #: HTTP 200 with a ONEWEB envelope whose code is 500
    GARBAGE = "garbage"  #: HTTP 200 with a body that is not JSON
    HANG = "hang"  #: no answer until the client gives up
    DROP = "drop"  #: the connection closes before a body is sent
    #: HTTP 500 with a ONEWEB envelope, as ONEWEB answers an exception in its engine
    ENVELOPE_500 = "envelope_500"
    #: HTTP 400 with an HTML page, as a servlet container answers an encoded ``/`` (``%2F``)
    HTML_400 = "html_400"
    #: HTTP 503 with an HTML page, as a load balancer answers when no server is up
    HTML_503 = "html_503"
    #: HTTP 200 and a valid envelope, one byte every ``TRICKLE_INTERVAL_S``
    TRICKLE = "trickle"


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One request as the upstream received it."""

    method: str
    #: The path exactly as sent, percent-encoding intact.
    raw_path: str
    query: str
    headers: dict[str, str]
    at: float


class Recorder:
    """ASGI middleware that records each HTTP request and delays it by ``latency_s``.

    ``fault`` decides, per request, whether it fails instead, and how; a failing request
    is answered without the delay.

    >>> upstream = Recorder(create_app(db_path=path), latency_s=0.02)
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        latency_s: float = 0.0,
        fault: Callable[[RecordedCall], Fault | None] | None = None,
    ) -> None:
        self.app = app
        self.latency_s = latency_s
        #: Decides, per request, whether and how it fails; None: never.
        self.fault = fault
        self._calls: list[RecordedCall] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self._released = threading.Event()
        #: The most requests that were ever in flight at once since the last ``reset``.
        self.peak_in_flight = 0

    @property
    def calls(self) -> list[RecordedCall]:
        """The requests recorded since the last ``reset``, in arrival order."""
        with self._lock:
            return list(self._calls)

    def reset(self) -> None:
        """Forget the recorded requests and the peak."""
        with self._lock:
            self._calls.clear()
            self.peak_in_flight = self._in_flight

    def release(self) -> None:
        """End every hang now and from now on (so that a server can shut down)."""
        self._released.set()

    def paths(self, prefix: str = "") -> list[str]:
        """The raw paths recorded, with ``prefix`` cut off where they start with it."""
        return [
            call.raw_path[len(prefix) :] if call.raw_path.startswith(prefix) else call.raw_path
            for call in self.calls
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw: Any = scope.get("raw_path") or scope["path"].encode()
        call = RecordedCall(
            method=scope["method"],
            raw_path=raw.decode("latin-1").split("?", 1)[0],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            at=time.monotonic(),
        )
        with self._lock:
            self._calls.append(call)
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            fault = self.fault(call) if self.fault is not None else None
            # A fault is answered at once, as a server answers from its front (a
            # servlet container's 400) or from an early exception; a lookup takes time.
            if self.latency_s > 0 and fault is None:
                await asyncio.sleep(self.latency_s)
            if fault is None:
                await self.app(scope, receive, send)
            else:
                await _fail(fault, receive, send, self._released)
        finally:
            with self._lock:
                self._in_flight -= 1


_HANG_S = 3600.0
#: How long a trickling reply waits between two bytes: far below any per-read timeout.
TRICKLE_INTERVAL_S = 0.05
_TRICKLE_BODY = orjson.dumps(
    {"data": [], "code": 0, "message": "", "timestamp": 0, "pad": " " * 400}
)


async def _hang(receive: Receive, released: threading.Event, send: Send | None = None) -> None:
    """No answer until the client gives up (disconnects), ``release()``, or an hour passes.

    With ``send``, the answer trickles meanwhile: a valid envelope, one byte at a time.
    """
    gone = asyncio.Event()

    async def watch_for_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    # Ending with the client keeps a load test's thousands of hangs from piling up here.
    watcher = asyncio.create_task(watch_for_disconnect())
    deadline = time.monotonic() + _HANG_S
    body = iter(_TRICKLE_BODY)
    try:
        if send is not None:
            await send(_start(200, b"application/json", _TRICKLE_BODY))
        # A threading.Event, because release() is called from another thread than this
        # loop's; polling it keeps no thread busy per hanging request.
        while not (released.is_set() or gone.is_set()) and time.monotonic() < deadline:
            await asyncio.sleep(TRICKLE_INTERVAL_S)
            if send is not None:
                byte = next(body, None)
                last = byte is None
                await send(
                    {
                        "type": "http.response.body",
                        "body": b"" if byte is None else bytes([byte]),
                        "more_body": not last,
                    }
                )
                if last:
                    return
    finally:
        watcher.cancel()


def _start(status: int, media: bytes, body: bytes) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode())],
    }


async def _fail(fault: Fault, receive: Receive, send: Send, released: threading.Event) -> None:
    if fault is Fault.HANG:
        await _hang(receive, released)
        return
    if fault is Fault.TRICKLE:
        await _hang(receive, released, send)
        return
    if fault is Fault.DROP:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ConnectionAbortedError("dropped by the recorder")
    status, media, body = {
        Fault.HTML_500: (
            500,
            b"text/html",
            b"<html><body><h1>Internal Server Error</h1></body></html>",
        ),
        Fault.CODE_500: (
            200,
            b"application/json",
            orjson.dumps({"data": None, "code": 500, "message": "engine failure", "timestamp": 0}),
        ),
        Fault.GARBAGE: (200, b"application/json", b"\x00not json{"),
        Fault.ENVELOPE_500: (
            500,
            b"application/json",
            orjson.dumps({"code": 500, "message": "java.lang.NullPointerException"}),
        ),
        Fault.HTML_400: (
            400,
            b"text/html",
            b"<html><body><h1>HTTP Status 400 - Bad Request</h1></body></html>",
        ),
        Fault.HTML_503: (
            503,
            b"text/html",
            b"<html><body><h1>503 Service Unavailable</h1></body></html>",
        ),
    }[fault]
    await send(_start(status, media, body))
    await send({"type": "http.response.body", "body": body})
