"""What carries an upstream call: one request out, a status and a body back, or a failure.

``UpstreamChannel`` (``backend/transport.py``) sends every call through one ``Transport``:
``Http1Transport`` over the network, or ``InProcessTransport`` to the embedded runtime in
the same process. A transport has no timeout, no retry and no error mapping of its own;
the channel bounds each call with one deadline and reads the failures below, the only
ones a transport raises, into the typed errors of ``backend.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "ConnectFailed",
    "ConnectionBroken",
    "Request",
    "Transport",
    "TransportFailure",
]


@dataclass(frozen=True, slots=True)
class Request:
    """One request: ``url`` already percent-encoded, sent byte for byte; header names lower-case."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None


class TransportFailure(Exception):
    """The request could not be exchanged, for a reason other than the two below."""


class ConnectFailed(TransportFailure):
    """No connection was made (refused, unresolvable): the request never left."""


class ConnectionBroken(TransportFailure):
    """The connection failed after it was made: reset, closed before a full reply, not HTTP."""


class Transport(Protocol):
    """``exchange`` a request for ``(status, body)``; ``aclose`` its connections.

    ``seconds_left`` is how long the call may still take: the channel's timer cancels the
    await then, and a transport closes what the cancelled call held (its connection), so
    a hanging upstream never holds connections.
    """

    async def exchange(self, request: Request, *, seconds_left: float) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...
