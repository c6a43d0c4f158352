"""A recording upstream: wraps an ASGI app, records every HTTP request, adds latency and faults.

Tests count upstream calls and inspect what reached the upstream (the raw,
still-encoded path; the forwarded headers) through it, and make it fail the way a
real server can (an HTML 500 page, HTTP 200 with an error code, garbage, a hang, a
dropped connection); the benchmark injects the latency of a remote ONEWEB server.
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
            if self.latency_s > 0:
                await asyncio.sleep(self.latency_s)
            fault = self.fault(call) if self.fault is not None else None
            if fault is None:
                await self.app(scope, receive, send)
            else:
                await _fail(fault, receive, send, self._released)
        finally:
            with self._lock:
                self._in_flight -= 1


_HANG_S = 3600.0


async def _hang(receive: Receive, released: threading.Event) -> None:
    """No answer until the client gives up (disconnects), ``release()``, or an hour passes."""
    gone = asyncio.Event()

    async def watch_for_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    # Ending with the client keeps a load test's thousands of hangs from piling up here.
    watcher = asyncio.create_task(watch_for_disconnect())
    deadline = time.monotonic() + _HANG_S
    try:
        # A threading.Event, because release() is called from another thread than this
        # loop's; polling it keeps no thread busy per hanging request.
        while not (released.is_set() or gone.is_set()) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    finally:
        watcher.cancel()


async def _fail(fault: Fault, receive: Receive, send: Send, released: threading.Event) -> None:
    if fault is Fault.HANG:
        await _hang(receive, released)
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
    }[fault]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
