"""Fixtures of the upstream client's unit tests: a scripted upstream on a loopback socket.

The server (``tests/support/scripted_upstream.py``) is real, so every client test goes
through the one request path production takes.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any, Protocol

import pytest

from backend.client import UpstreamClient
from tests.support.scripted_upstream import ScriptedUpstream


class ClientFactory(Protocol):
    """``make_client(**overrides)``: an UpstreamClient on the ``upstream`` unless overridden."""

    def __call__(self, **overrides: Any) -> UpstreamClient: ...


@pytest.fixture
async def upstream() -> AsyncIterator[ScriptedUpstream]:
    """A scripted HTTP/1.1 server on a free loopback port."""
    server = ScriptedUpstream()
    await server.start()
    yield server
    await server.aclose()


@pytest.fixture
async def make_client(upstream: ScriptedUpstream) -> AsyncIterator[ClientFactory]:
    """Build clients (on ``upstream`` by default); every one is closed at teardown."""
    clients: list[UpstreamClient] = []

    def make(**overrides: Any) -> UpstreamClient:
        overrides.setdefault("base_url", upstream.base_url)
        client = UpstreamClient(**overrides)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: ClientFactory) -> UpstreamClient:
    """A client on ``upstream`` with the default settings."""
    return make_client()


@pytest.fixture
def closed_port_url() -> str:
    """The base URL of a loopback port that was just bound and closed: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
