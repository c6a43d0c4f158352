"""The upstream client over real loopback sockets, on httpx's transport and on aiohttp's."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from backend.client import UpstreamClient, make_transport
from backend.errors import NotFound, UpstreamTimeout, UpstreamUnavailable
from backend.models import API_PREFIX, envelope
from backend.transport import HAS_AIOHTTP

Factory = Callable[..., UpstreamClient]


@pytest.fixture(params=["httpx", "aiohttp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each test runs once on httpx's own transport and once on aiohttp's."""
    return str(request.param)


def _client(make_client: Factory, kind: str, base_url: str, **settings: Any) -> UpstreamClient:
    transport = make_transport(kind, max_concurrency=4)
    return make_client(base_url=base_url, transport=transport, **settings)


def test_auto_picks_the_aiohttp_transport_when_installed() -> None:
    assert HAS_AIOHTTP
    assert isinstance(make_transport("auto", max_concurrency=4), httpx.AsyncBaseTransport)


def test_httpx_kind_means_the_default_transport() -> None:
    assert make_transport("httpx", max_concurrency=4) is None


def test_unknown_transport_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="transport kind"):
        make_transport("curl", max_concurrency=4)


async def test_id_reaches_the_server_as_one_encoded_segment(
    make_client: Factory, make_loopback: Any, kind: str
) -> None:
    server = await make_loopback(orjson.dumps(envelope([])))
    await _client(make_client, kind, server.base_url).instance_tasks("a/../b?c=1#d e%2F;x&y")
    target = API_PREFIX + "/instance/a%2F..%2Fb%3Fc%3D1%23d%20e%252F%3Bx%26y/tasks"
    assert [r.target for r in server.requests] == [target]


async def test_query_value_reaches_the_server_encoded(
    make_client: Factory, make_loopback: Any, kind: str
) -> None:
    server = await make_loopback(orjson.dumps(envelope("")))
    await _client(make_client, kind, server.base_url).assign_task("t 1", ["a b", "c&d=e"])
    target = API_PREFIX + "/tasks/t%201/assign?user=a%20b&user=c%26d%3De"
    assert [r.target for r in server.requests] == [target]


async def test_headers_and_body_reach_the_server(
    make_client: Factory, make_loopback: Any, kind: str
) -> None:
    server = await make_loopback(orjson.dumps(envelope("")))
    client = _client(make_client, kind, server.base_url)
    await client.complete_task("t1", "alice", {"ok": True}, headers={"Authorization": "Bearer a"})
    [request] = server.requests
    assert (request.method, request.headers["authorization"]) == ("POST", "Bearer a")
    assert orjson.loads(request.body) == {"ok": True}


async def test_cookie_set_by_the_server_is_not_sent_again(
    make_client: Factory, make_loopback: Any, kind: str
) -> None:
    server = await make_loopback(
        orjson.dumps(envelope([])), extra_headers=(("Set-Cookie", "JSESSIONID=alice; Path=/"),)
    )
    # A host name, not an IP: cookie jars refuse cookies from IP addresses anyway.
    client = _client(make_client, kind, server.base_url.replace("127.0.0.1", "localhost"))
    await client.tasks(user="alice", headers={"Cookie": "sid=alice"})
    await client.tasks(user="bob")
    assert [r.headers.get("cookie") for r in server.requests] == ["sid=alice", None]


async def test_error_envelope_maps_the_same(
    make_client: Factory, make_loopback: Any, kind: str
) -> None:
    server = await make_loopback(orjson.dumps(envelope(code=404, message="no task")), status=404)
    with pytest.raises(NotFound, match="no task"):
        await _client(make_client, kind, server.base_url).claim_task("t1", "alice")


async def test_refused_connection_is_upstream_unavailable(
    make_client: Factory, closed_port_url: str, kind: str
) -> None:
    with pytest.raises(UpstreamUnavailable) as raised:
        await _client(make_client, kind, closed_port_url).claim_task("t1", "alice")
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


async def test_silent_server_is_upstream_timeout(
    make_client: Factory, make_loopback: Any, kind: str
) -> None:
    server = await make_loopback(behaviour="hang")
    client = _client(make_client, kind, server.base_url, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        await client.claim_task("t1", "alice")
    assert time.monotonic() - started < 2


async def test_trickling_reply_is_cut_at_the_deadline_of_the_whole_call(
    make_client: Factory, make_loopback: Any, kind: str
) -> None:
    # A byte every 20 ms never trips a per-read timeout; the whole reply would take 8 s.
    body = orjson.dumps(envelope([])) + b" " * 400
    server = await make_loopback(body, behaviour="trickle")
    client = _client(make_client, kind, server.base_url, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match=r"within 0\.3 s"):
        await client.instance_tasks("i1")
    assert time.monotonic() - started < 1.0
    assert client.circuit_state == "closed"


async def test_dropped_connection_is_unavailable_and_a_read_is_retried(
    make_client: Factory, make_loopback: Any, kind: str
) -> None:
    server = await make_loopback(behaviour="drop")
    with pytest.raises(UpstreamUnavailable):
        await _client(make_client, kind, server.base_url).instance_tasks("i1")
    assert len(server.requests) == 2


async def test_connections_are_reused_between_calls(
    make_client: Factory, make_loopback: Any, kind: str
) -> None:
    server = await make_loopback(orjson.dumps(envelope([])))
    client = _client(make_client, kind, server.base_url)
    for _ in range(3):
        await client.instance_tasks("i1")
    assert server.connections == 1
