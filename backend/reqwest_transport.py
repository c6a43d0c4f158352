"""An httpx transport on pyreqwest (Rust's reqwest and hyper): the upstream calls' lean path.

Like ``AiohttpTransport`` it serves two ways: as an ordinary ``httpx.AsyncBaseTransport``
and through ``exchange``, the channel's fast path without httpx's objects. The HTTP/1.1
work (writing the request, parsing the reply, the keep-alive pool) runs in Rust on
pyreqwest's own runtime thread, so a 25-wide fan-out costs the event loop little more
than handing the requests over: against the bench's canned upstream, 0.06-0.09 ms of
process CPU per call where aiohttp's ``ClientSession`` took 0.10-0.15 ms, and the fan-out
went out in about half the time (bench/README.md).

What the facade relies on:

- The URL goes out as given: reqwest parses it by the WHATWG rules, which keep every
  percent-escape (``%3B`` stays ``%3B``) and only resolve dot segments, which the client
  never sends (ids of ``.`` or ``..`` are refused, ``%`` itself is escaped).
- No redirects, no cookies, no decompression, no timeout of its own: the channel bounds
  each call with one deadline, and cancelling the awaiting task drops the request.
- Failures are raised as the httpx exceptions httpx's own transport raises, so the channel
  maps one set of failures whatever the transport.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
from pyreqwest import exceptions as errors
from pyreqwest.client import ClientBuilder

if TYPE_CHECKING:
    from pyreqwest.client import Client

    from backend.aiohttp_transport import DirectRequest

__all__ = ["ReqwestTransport", "httpx_error_for"]


class ReqwestTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends each request through one pooled pyreqwest ``Client``."""

    def __init__(self, *, max_concurrency: int, keepalive_expiry_s: float) -> None:
        self._max_concurrency = max_concurrency
        self._keepalive_expiry_s = keepalive_expiry_s
        self._client: Client | None = None

    def _client_in_loop(self) -> Client:
        if self._client is None:  # built here, inside the running event loop
            self._client = (
                ClientBuilder()
                .max_connections(self._max_concurrency)
                .pool_max_idle_per_host(self._max_concurrency)
                .pool_idle_timeout(timedelta(seconds=self._keepalive_expiry_s))
                .follow_redirects(False)
                .default_cookie_store(False)
                .gzip(False)
                .brotli(False)
                .zstd(False)
                .deflate(False)
                .http1_only()
                .tcp_nodelay(True)
                .build()
            )
        return self._client

    async def exchange(self, request: DirectRequest) -> tuple[int, bytes]:
        """Send ``request``: the reply's status and body (the channel's fast path).

        It has no timeout of its own: the channel bounds the whole call with one deadline.
        """
        builder = self._client_in_loop().request(request.method, request.url)
        builder = builder.headers(request.headers)
        if request.content is not None:
            builder = builder.body_bytes(request.content)
        try:
            response = await builder.build().send()
            return response.status, bytes(await response.bytes())
        except errors.PyreqwestError as exc:
            raise httpx_error_for(exc, httpx.Request(request.method, request.url)) from exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        builder = self._client_in_loop().request(request.method, str(request.url))
        builder = builder.headers(list(request.headers.multi_items()))
        content = await request.aread()
        if content:
            builder = builder.body_bytes(content)
        timeout = request.extensions.get("timeout", {})
        total = max((value for value in timeout.values() if value is not None), default=None)
        if total is not None:
            builder = builder.timeout(timedelta(seconds=total))
        try:
            response = await builder.build().send()
            body = bytes(await response.bytes())
        except errors.PyreqwestError as exc:
            raise httpx_error_for(exc, request) from exc
        return httpx.Response(
            response.status, headers=list(response.headers.items()), content=body, request=request
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _causes(exc: BaseException) -> str:
    """pyreqwest's chain of causes (hyper's own words), lower-cased, one per line."""
    details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    return "\n".join(str(cause.get("message", "")) for cause in details.get("causes", [])).lower()


def httpx_error_for(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception httpx's own transport raises for what pyreqwest raised.

    pyreqwest calls every failure to send a ``ConnectError``, also a connection the server
    closed after the request went out; only a failed TCP connect is one to httpx (and
    only then is a write known not to have reached the upstream).
    """
    causes = _causes(exc)
    message = causes.rsplit("\n", 1)[-1] or (str(exc.args[0]) if exc.args else type(exc).__name__)
    kind: type[httpx.TransportError]
    if isinstance(exc, errors.ConnectTimeoutError | errors.PoolTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, errors.WriteTimeoutError):
        kind = httpx.WriteTimeout
    elif isinstance(exc, errors.RequestTimeoutError):
        kind = httpx.ReadTimeout
    elif "tcp connect error" in causes or "dns error" in causes:
        kind = httpx.ConnectError
    elif isinstance(exc, errors.BodyDecodeError | errors.ReadError):
        kind = httpx.ReadError
    elif isinstance(exc, errors.WriteError):
        kind = httpx.WriteError
    elif isinstance(exc, errors.ConnectError | errors.DecodeError):
        # Closed before the reply, or a reply that is not HTTP.
        kind = httpx.RemoteProtocolError
    else:
        kind = httpx.TransportError
    return kind(message, request=request)
