"""The upstream calls over the network: HTTP/1.1 keep-alive connections on the event loop.

Each call writes its request on an idle pooled connection, or a new one, and httptools
(llhttp, the parser uvicorn reads requests with) reads the reply; all of it runs on the
facade's own event loop, with no thread to hand requests to and no wake-up to hand the
replies back. In a 25-wide fan-out that costs about half the CPU per call of pyreqwest
(Rust, its own runtime thread) and under a third of aiohttp's (``python -m
bench.transports``). Its failures are the three of ``backend.exchange``.

What the channel relies on:

- The URL goes out as given: the request target is the URL's bytes after the origin,
  every percent-escape kept. A target or a header that could end the request line or a
  header early (a control character, a space in the target) is refused, never sent.
- No proxy from the environment, no redirects, no cookies, no compression: none of
  them is implemented, so none can be switched on by accident.
- The channel's deadline cancels the await, and a cancelled call closes its connection
  at once (it is in this thread), so a hanging upstream never holds connections.
- A connection is reused only after a complete reply that allowed it, and dropped when
  it has been idle for ``keepalive_expiry_s`` or the server closed it meanwhile.
- A reply body over ``MAX_REPLY_BYTES`` fails its call (``TransportFailure``: no retry,
  nothing of it kept) and closes the connection.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import ssl
from dataclasses import dataclass
from typing import Final, cast
from urllib.parse import urlsplit

import httptools

from backend.exchange import ConnectFailed, ConnectionBroken, Request, TransportFailure

__all__ = ["MAX_REPLY_BYTES", "Http1Transport"]

#: The largest reply body read: a misconfigured or broken upstream (a file server, a loop
#: of output) cannot fill the facade's memory within a call's deadline. ONEWEB's largest
#: replies, task lists, are some KB per task.
MAX_REPLY_BYTES: Final = 64 * 1024 * 1024

#: Bytes that must not appear in a header value or a request target: each could end the
#: line early and start a header or a request of the caller's own.
_FORBIDDEN: Final = frozenset("\r\n\0")
#: Methods whose request has no body unless one is given; others say ``content-length: 0``.
_BODILESS: Final = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where a URL's requests go: the socket address, TLS or not, the ``host`` header."""

    host: str
    port: int
    tls: bool
    netloc: str

    @classmethod
    def of(cls, origin: str) -> _Origin:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportFailure(f"not an http(s) origin: {origin!r}")
        tls = parts.scheme == "https"
        try:
            port = parts.port or (443 if tls else 80)
        except ValueError as exc:
            raise TransportFailure(f"not a port in {origin!r}") from exc
        return cls(parts.hostname, port, tls, parts.netloc)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: at most one request in flight, its reply read by llhttp."""

    def __init__(self, max_reply_bytes: int) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._reply: asyncio.Future[tuple[int, bytes]] | None = None
        self._body: list[bytes] = []
        self._size = 0
        self._max_size = max_reply_bytes
        self._has_length = False
        self._headers_done = False
        #: False once the connection may not carry another request.
        self.reusable = True
        self.idle_since = 0.0

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._reply is None:
            # Bytes nobody asked for (a server talking out of turn): never trust the
            # connection with a next request, whose reply they would be taken for.
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionBroken(f"the reply is not HTTP/1.1 ({exc})"))

    def eof_received(self) -> bool:
        return False  # close the connection: the server will send no more

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self._headers_done and not self._has_length:
            # A reply without a length ends when the server closes the connection.
            self._complete()
        else:
            detail = f": {exc}" if exc else ""
            self._fail(
                ConnectionBroken(f"the upstream closed the connection before a whole reply{detail}")
            )
        # The parser calls back into this object: drop it, so that a closed connection is
        # freed by reference counting, not left to the cyclic collector (as uvicorn does).
        self._parser = None  # type: ignore[assignment]

    # -- llhttp's callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._reply is None:
            # A second reply after the first, unasked for: the connection carries no more.
            self.reusable = False

    def on_header(self, name: bytes, value: bytes) -> None:
        # Framed by its length or by chunks; otherwise the body ends with the connection.
        name = name.lower()
        if name == b"content-length" or (
            name == b"transfer-encoding" and value.rstrip().lower().endswith(b"chunked")
        ):
            self._has_length = True

    def on_headers_complete(self) -> None:
        self._headers_done = self._parser.get_status_code() >= 200

    def on_body(self, body: bytes) -> None:
        if self._reply is None:
            return  # refused already (too large): the connection is closing
        self._size += len(body)
        if self._size > self._max_size:
            self._fail(TransportFailure(f"the reply is larger than {self._max_size} bytes"))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._parser.get_status_code() < 200:
            self._has_length = False  # an interim reply (100 Continue): the real one follows
            return
        if not self._parser.should_keep_alive():
            self.reusable = False
        self._complete()

    # -- the call ------------------------------------------------------------------------

    def send(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self._transport is not None
        self._reply = reply = asyncio.get_running_loop().create_future()
        self._transport.write(data)
        return reply

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    def _complete(self) -> None:
        reply, self._reply = self._reply, None
        body, self._body = b"".join(self._body), []
        self._size = 0
        self._has_length = self._headers_done = False
        if reply is not None and not reply.done():
            reply.set_result((self._parser.get_status_code(), body))

    def _fail(self, exc: TransportFailure) -> None:
        reply, self._reply = self._reply, None
        self.close()
        if reply is not None and not reply.done():
            reply.set_exception(exc)


class Http1Transport:
    """Each request on a pooled HTTP/1.1 connection of the event loop, its URL bytes untouched.

    transport = Http1Transport(max_concurrency=64, keepalive_expiry_s=4.0)
    """

    def __init__(
        self,
        *,
        max_concurrency: int,
        keepalive_expiry_s: float,
        ssl_context: ssl.SSLContext | None = None,
        max_reply_bytes: int = MAX_REPLY_BYTES,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self._max_idle = max_concurrency
        self._keepalive_expiry_s = keepalive_expiry_s
        self._ssl_context = ssl_context
        self._new_connection = functools.partial(_Connection, max_reply_bytes)
        self._origins: dict[str, _Origin] = {}
        #: Idle connections per origin, the most recently used last.
        self._idle: dict[_Origin, collections.deque[_Connection]] = {}
        self._open: set[_Connection] = set()
        self.closed = False

    async def exchange(self, request: Request, *, seconds_left: float) -> tuple[int, bytes]:
        """Send ``request``: the reply's status and its whole body.

        Cancelling the await (the channel's deadline) closes the connection at once.

        status, body = await transport.exchange(Request("GET", url, {}, None), seconds_left=10)
        """
        if self.closed:
            raise TransportFailure("the upstream client is closed")
        origin, data = self._encode(request)
        connection = self._idle_connection(origin) or await self._connect(origin)
        try:
            status, body = await connection.send(data)
        except BaseException:
            self._drop(connection)  # cancelled mid-reply, or broken: never reused
            raise
        self._release(origin, connection)
        return status, body

    async def aclose(self) -> None:
        """Close every connection; later calls fail."""
        self.closed = True
        for connection in self._open:
            connection.close()
        self._open.clear()
        self._idle.clear()

    def _encode(self, request: Request) -> tuple[_Origin, bytes]:
        url = request.url
        at = url.find("/", url.find("//") + 2)
        origin_text, target = (url, "/") if at < 0 else (url[:at], url[at:])
        origin = self._origins.get(origin_text)
        if origin is None:
            origin = self._origins[origin_text] = _Origin.of(origin_text)
        if " " in target or not target.isprintable() or not target.isascii():
            raise TransportFailure("the request target has characters a URL cannot carry")
        lines = [f"{request.method} {target} HTTP/1.1\r\nhost: {origin.netloc}\r\n"]
        for name, value in request.headers.items():
            if not _FORBIDDEN.isdisjoint(value) or not _FORBIDDEN.isdisjoint(name):
                raise TransportFailure(f"header {name!r} has a line break or NUL: not sent")
            lines.append(f"{name}: {value}\r\n")
        content = request.content
        if content is not None:
            lines.append(f"content-length: {len(content)}\r\n")
        elif request.method not in _BODILESS:
            lines.append("content-length: 0\r\n")
        lines.append("\r\n")
        try:
            head = "".join(lines).encode("latin-1")
        except UnicodeEncodeError as exc:
            raise TransportFailure("a header has characters HTTP/1.1 cannot carry") from exc
        return origin, head + content if content else head

    def _idle_connection(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        expired = asyncio.get_running_loop().time() - self._keepalive_expiry_s
        while idle:
            connection = idle.pop()
            if connection.reusable and connection.idle_since > expired:
                return connection
            self._drop(connection)
        return None

    async def _connect(self, origin: _Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        context: ssl.SSLContext | None = None
        if origin.tls:
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            context = self._ssl_context
        try:
            _, connection = await loop.create_connection(
                self._new_connection, origin.host, origin.port, ssl=context
            )
        except ssl.SSLError as exc:
            raise ConnectFailed(f"TLS handshake with {origin.netloc} failed: {exc}") from exc
        except OSError as exc:
            raise ConnectFailed(f"cannot connect to {origin.netloc}: {exc}") from exc
        if self.closed:
            connection.close()
            raise TransportFailure("the upstream client is closed")
        self._open.add(connection)
        return connection

    def _release(self, origin: _Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, collections.deque())
        if not connection.reusable or len(idle) >= self._max_idle or self.closed:
            self._drop(connection)
            return
        connection.idle_since = asyncio.get_running_loop().time()
        idle.append(connection)

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)
