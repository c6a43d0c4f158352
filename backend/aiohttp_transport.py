"""The upstream calls over the network: one pooled ``aiohttp.ClientSession``.

aiohttp was measured against httpx's own client (a quarter of its CPU per call) and
against pyreqwest (Rust): see docs/speed.md. Its failures become the three of
``backend.exchange``, so the channel maps one set of failures.
"""

from __future__ import annotations

import aiohttp
import yarl

from backend.exchange import ConnectFailed, ConnectionBroken, Request, TransportFailure

__all__ = ["AiohttpTransport"]

# Not even the session's default (5 minutes in total): the channel sets the deadline.
_NO_TIMEOUT = aiohttp.ClientTimeout()


class AiohttpTransport:
    """Each request through one pooled ``aiohttp.ClientSession``, its URL bytes untouched.

    Written here rather than taken from ``httpx-aiohttp``, which lets yarl re-quote the
    path (an id's ``%3B`` goes out as ``;``, where a servlet container cuts a segment).
    The session keeps no cookie (the client is shared by every caller), follows no
    redirect, never resends a request by itself and has no timeout: the channel bounds
    the whole call (a per-read timeout would let a trickle go on for ever).

        transport = AiohttpTransport(max_concurrency=64, keepalive_expiry_s=4.0)
    """

    def __init__(self, *, max_concurrency: int, keepalive_expiry_s: float) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self._max_concurrency = max_concurrency
        self._keepalive_expiry_s = keepalive_expiry_s
        self._session: aiohttp.ClientSession | None = None
        self.closed = False

    def _session_in_loop(self) -> aiohttp.ClientSession:
        if self._session is None:  # built here, inside the running event loop
            if self.closed:
                raise TransportFailure("the upstream client is closed")
            connector = aiohttp.TCPConnector(
                limit=self._max_concurrency, keepalive_timeout=self._keepalive_expiry_s
            )
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
            # aiohttp resends a GET once by itself when the connection drops; retries
            # are the channel's decision (reads only, retry_reads times).
            if "_retry_connection" in aiohttp.ClientSession.ATTRS:
                self._session._retry_connection = False
        return self._session

    async def exchange(self, request: Request) -> tuple[int, bytes]:
        """Send ``request``: the reply's status and its whole body.

        status, body = await transport.exchange(Request("GET", url, headers, None))
        """
        session = self._session_in_loop()
        try:
            async with session.request(
                request.method,
                yarl.URL(request.url, encoded=True),
                headers=request.headers,
                data=request.content,
                allow_redirects=False,
                timeout=_NO_TIMEOUT,
            ) as response:
                return response.status, await response.read()
        except aiohttp.ClientConnectorError as exc:  # before ClientOSError, its base
            raise ConnectFailed(_message(exc)) from exc
        except (
            aiohttp.ClientConnectionError,  # reset, disconnected, closed early
            aiohttp.ClientPayloadError,  # the body ended short or was malformed
            aiohttp.ClientResponseError,  # a reply that is not HTTP
        ) as exc:
            raise ConnectionBroken(_message(exc)) from exc
        except aiohttp.ClientError as exc:
            raise TransportFailure(_message(exc)) from exc

    async def aclose(self) -> None:
        """Close the pool's connections; later calls fail."""
        self.closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None


def _message(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
