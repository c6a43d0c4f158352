"""An httpx transport written on aiohttp: a quarter of httpx's own CPU per upstream call.

``backend/transport.py`` uses it two ways: as an ordinary ``httpx.AsyncBaseTransport``,
and through ``exchange``, a fast path that skips httpx's request and response objects.
Either way aiohttp's failures are raised as the httpx exceptions httpx's own transport
raises, so the channel maps one set of failures.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import httpx
import yarl

__all__ = ["AiohttpTransport", "DirectRequest", "httpx_error_for"]

# Not even the session's default (5 minutes in total): the caller sets the deadline.
_NO_TIMEOUT = aiohttp.ClientTimeout()


@dataclass(frozen=True, slots=True)
class DirectRequest:
    """A request for ``AiohttpTransport.exchange``: the URL already percent-encoded."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends each request through one pooled ``aiohttp.ClientSession``.

    Written here rather than taken from ``httpx-aiohttp``, which lets yarl re-quote the
    path (an id's ``%3B`` goes out as ``;``, where a servlet container cuts a segment)
    and reports a refused connection as a timeout. The URL goes out exactly as httpx
    built it; the session keeps no cookie (the client is shared by every caller).
    """

    def __init__(self, *, max_concurrency: int, keepalive_expiry_s: float) -> None:
        self._max_concurrency = max_concurrency
        self._keepalive_expiry_s = keepalive_expiry_s
        self._session: aiohttp.ClientSession | None = None

    def _session_in_loop(self) -> aiohttp.ClientSession:
        if self._session is None:  # built here, inside the running event loop
            connector = aiohttp.TCPConnector(
                limit=self._max_concurrency, keepalive_timeout=self._keepalive_expiry_s
            )
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
            # aiohttp resends a GET once by itself when the connection drops; retries
            # are the channel's decision (reads only, retry_reads times), as with httpx.
            if "_retry_connection" in aiohttp.ClientSession.ATTRS:
                self._session._retry_connection = False
        return self._session

    async def exchange(self, request: DirectRequest) -> tuple[int, bytes]:
        """Send ``request`` straight through aiohttp: the reply's status and body.

        The channel's fast path, without httpx objects; failures raise the httpx
        exceptions ``handle_async_request`` raises, for the channel to map as usual.
        It has no timeout of its own: the channel bounds the whole call with one
        deadline (aiohttp's per-read timeout would let a trickle go on for ever).
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
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise httpx_error_for(exc, httpx.Request(request.method, request.url)) from exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session_in_loop()
        timeout = request.extensions.get("timeout", {})
        content = await request.aread()
        try:
            async with session.request(
                request.method,
                yarl.URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=content or None,
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes, as with its own transport
                timeout=aiohttp.ClientTimeout(
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            ) as response:
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise httpx_error_for(exc, request) from exc
        return httpx.Response(
            response.status, headers=response.raw_headers, content=body, request=request
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def httpx_error_for(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception httpx's own transport raises for what aiohttp raised."""
    message = str(exc) or type(exc).__name__
    kind: type[httpx.TransportError]
    # Timeouts first: aiohttp's timeout errors are also connection errors.
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, TimeoutError):
        kind = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError
    elif isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        kind = httpx.RemoteProtocolError
    elif isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        kind = httpx.ReadError
    else:
        kind = httpx.TransportError
    return kind(message, request=request)
