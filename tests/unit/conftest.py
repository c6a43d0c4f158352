"""Factory fixtures for the upstream client's unit tests: a respx upstream and real loopback ones.

async def test_something(upstream, make_client):
    route = upstream.get("/tasks").mock(return_value=httpx.Response(200, json=envelope([])))
    await make_client().tasks(user="alice")

async def test_on_a_socket(make_loopback, make_client):
    server = await make_loopback(orjson.dumps(envelope([])))   # or behaviour="hang"/"drop"
    await make_client(base_url=server.base_url, transport=None).tasks(user="alice")
    server.requests[0].target                                    # the raw request target
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx
import pytest
import respx

from backend.client import UpstreamClient
from backend.models import API_PREFIX

#: Where the respx upstream lives; routes are relative to its API prefix.
BASE_URL = "http://upstream.test:8080"

Behaviour = Literal["reply", "hang", "drop", "trickle"]

#: Between two bytes of a trickled body: far below any per-read timeout of the tests.
TRICKLE_INTERVAL_S = 0.02


class ClientFactory(Protocol):
    """``make_client(**overrides)``: an UpstreamClient on the respx upstream unless overridden."""

    def __call__(self, **overrides: Any) -> UpstreamClient: ...


@pytest.fixture
def upstream() -> respx.Router:
    """A respx router standing in for the upstream; routes are relative to the API prefix."""
    return respx.Router(base_url=BASE_URL + API_PREFIX, assert_all_called=False)


@pytest.fixture
async def make_client(upstream: respx.Router) -> AsyncIterator[ClientFactory]:
    """Build clients (on the respx upstream by default); every one is closed at teardown."""
    clients: list[UpstreamClient] = []

    def make(**overrides: Any) -> UpstreamClient:
        overrides.setdefault("base_url", BASE_URL)
        overrides.setdefault("transport", httpx.MockTransport(upstream.async_handler))
        client = UpstreamClient(**overrides)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: ClientFactory) -> UpstreamClient:
    """A client on the respx upstream with the default settings."""
    return make_client()


@dataclass
class RawRequest:
    """One request as it reached the loopback server, before any parsing of the target."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LoopbackUpstream:
    """A tiny HTTP/1.1 server on 127.0.0.1 that records each request exactly as received.

    ``behaviour``: ``"reply"`` answers ``status`` with ``body``; ``"hang"`` reads the
    request and never answers; ``"drop"`` reads it and closes the connection;
    ``"trickle"`` answers ``body`` one byte every ``TRICKLE_INTERVAL_S``.
    """

    behaviour: Behaviour
    body: bytes
    status: int = 200
    extra_headers: tuple[tuple[str, str], ...] = ()
    requests: list[RawRequest] = field(default_factory=list)
    connections: int = 0
    base_url: str = ""
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        # Connections the client keeps alive would otherwise wait for a next request.
        for handler in self._handlers:
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away, which is what some tests do
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(RawRequest(method, target, headers, body))
            if self.behaviour == "hang":
                await asyncio.Event().wait()  # until aclose cancels this handler
            if self.behaviour == "drop":
                return
            head = [f"HTTP/1.1 {self.status} X", f"Content-Length: {len(self.body)}"]
            head += [f"{name}: {value}" for name, value in self.extra_headers]
            if self.behaviour == "trickle":
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
                for byte in self.body:
                    await asyncio.sleep(TRICKLE_INTERVAL_S)
                    writer.write(bytes([byte]))
                    await writer.drain()
                continue
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + self.body)
            await writer.drain()


LoopbackFactory = Callable[..., Awaitable[LoopbackUpstream]]


@pytest.fixture
async def make_loopback() -> AsyncIterator[LoopbackFactory]:
    """Start loopback upstreams: ``await make_loopback(body, behaviour=..., status=...)``."""
    servers: list[LoopbackUpstream] = []

    async def make(
        body: bytes = b"",
        *,
        behaviour: Behaviour = "reply",
        status: int = 200,
        extra_headers: tuple[tuple[str, str], ...] = (),
    ) -> LoopbackUpstream:
        server = LoopbackUpstream(behaviour, body, status, extra_headers)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.aclose()


@pytest.fixture
def closed_port_url() -> str:
    """The base URL of a loopback port that was just bound and closed: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
