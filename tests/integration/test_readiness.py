"""``GET /readyz``: 200 while the upstream answers, 503 (JSON) when it does not."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from server.app import create_app
from server.settings import Settings
from tests.support.http import TLS

from .conftest import FacadeFactory
from .harness import Upstream

if TYPE_CHECKING:  # the root conftest is not importable at run time, only by pytest
    from tests.conftest import ServeFactory


async def _readyz(base_url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, verify=TLS) as client:
        return await client.get("/readyz")


async def test_ready_when_the_upstream_answers(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    reply = await _readyz(facade_factory(upstream.base_url).base_url)
    assert reply.status_code == 200
    assert reply.json() == {"status": "ready", "circuit": "closed"}


async def test_ready_with_the_embedded_runtime(serve_factory: ServeFactory, tmp_path: Path) -> None:
    base_url = serve_factory(create_app(Settings(db=tmp_path / "embedded.sqlite3")))
    reply = await _readyz(base_url)
    assert reply.status_code == 200
    assert reply.json()["status"] == "ready"


async def test_not_ready_when_the_upstream_port_is_closed(
    facade_factory: FacadeFactory,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    facade = facade_factory(f"http://127.0.0.1:{closed_port}", retry_reads=0)
    reply = await _readyz(facade.base_url)
    assert reply.status_code == 503
    assert reply.json()["status"] == "unavailable"
    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        assert (await client.get("/healthz")).status_code == 200  # alive all the same
