"""The upstream calls over the network: one pooled pyreqwest ``Client`` (Rust's reqwest, hyper).

The HTTP/1.1 work (writing the request, parsing the reply, the keep-alive pool) runs in
Rust, on pyreqwest's own runtime thread: a 25-wide fan-out costs the event loop little
more than handing the requests over, about half of what aiohttp's ``ClientSession``
cost per call (docs/speed.md). Its failures become the three of ``backend.exchange``.

What the channel relies on:

- The URL goes out as given: reqwest parses it by the WHATWG rules, which keep every
  percent-escape (``%3B`` stays ``%3B``) and only resolve dot segments, which the client
  never sends (ids of ``.`` or ``..`` are refused, ``%`` itself is escaped).
- No proxy from the environment, no redirects, no cookies, no decompression.
- Each request carries its call's deadline as reqwest's own timeout, because cancelling
  the await alone leaves the request running in Rust (``keeps_deadline``: the channel
  needs no timer of its own where the call waits for no slot).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from pyreqwest import exceptions as errors
from pyreqwest.client import ClientBuilder

from backend.exchange import ConnectFailed, ConnectionBroken, Request, TransportFailure

if TYPE_CHECKING:
    from pyreqwest.client import Client

__all__ = ["ReqwestTransport"]


class ReqwestTransport:
    """Each request through one pooled pyreqwest ``Client``, its URL bytes untouched.

    transport = ReqwestTransport(max_concurrency=64, keepalive_expiry_s=4.0)
    """

    def __init__(self, *, max_concurrency: int, keepalive_expiry_s: float) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self._max_concurrency = max_concurrency
        self._keepalive_expiry_s = keepalive_expiry_s
        self._client: Client | None = None
        self.closed = False

    #: reqwest's timeout ends a request at ``seconds_left`` and raises ``TimeoutError``.
    keeps_deadline = True

    def _client_in_loop(self) -> Client:
        if self._client is None:  # built here, inside the running event loop
            if self.closed:
                raise TransportFailure("the upstream client is closed")
            # No max_connections: the channel's slots cap the calls in flight, and a pool
            # limit here would also count the connections of timed-out calls still closing.
            self._client = (
                ClientBuilder()
                .pool_max_idle_per_host(self._max_concurrency)
                .pool_idle_timeout(timedelta(seconds=self._keepalive_expiry_s))
                # Calls go where the configuration says: never through a proxy from the
                # environment, which would see every caller's credentials.
                .no_proxy()
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

    async def exchange(self, request: Request, *, seconds_left: float) -> tuple[int, bytes]:
        """Send ``request``: the reply's status and its whole body.

        Cancelling the await does not stop the request in pyreqwest's thread: a hanging
        upstream would keep its connection open. reqwest's own timeout ends it after
        ``seconds_left`` (``TimeoutError``), closing the connection.

        status, body = await transport.exchange(Request("GET", url, {}, None), seconds_left=10)
        """
        builder = self._client_in_loop().request(request.method, request.url)
        builder = builder.headers(request.headers)
        builder = builder.timeout(timedelta(seconds=max(seconds_left, 0)))
        if request.content is not None:
            builder = builder.body_bytes(request.content)
        try:
            response = await builder.build().send()
            return response.status, bytes(await response.bytes())
        except errors.RequestTimeoutError as exc:
            # The deadline passed: the channel reports it as its timeout.
            raise TimeoutError(str(exc)) from exc
        except errors.PyreqwestError as exc:
            raise _failure(exc) from exc

    async def aclose(self) -> None:
        """Close the pool's connections; later calls fail."""
        self.closed = True
        if self._client is not None:
            await self._client.close()
            self._client = None


def _causes(exc: BaseException) -> str:
    """pyreqwest's chain of causes (hyper's own words), lower-cased, one per line."""
    details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    return "\n".join(str(cause.get("message", "")) for cause in details.get("causes", [])).lower()


def _failure(exc: BaseException) -> TransportFailure:
    """What pyreqwest raised, as one of the failures of ``backend.exchange``.

    pyreqwest calls every failure to send a ``ConnectError``, also a connection the server
    closed after the request went out; only a failed TCP connect (or name lookup) is a
    failed connect here, and only then is a write known not to have reached the upstream.
    """
    causes = _causes(exc)
    detail = causes.rsplit("\n", 1)[-1] or (str(exc.args[0]) if exc.args else "")
    message = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    if "tcp connect error" in causes or "dns error" in causes:
        return ConnectFailed(message)
    if isinstance(exc, errors.ClientClosedError):
        return TransportFailure(message)
    if isinstance(exc, errors.ReadError | errors.WriteError | errors.BodyDecodeError):
        return ConnectionBroken(message)
    if isinstance(exc, errors.ConnectError | errors.DecodeError | errors.NetworkError):
        # Closed before the reply, or a reply that is not HTTP.
        return ConnectionBroken(message)
    return TransportFailure(message)
