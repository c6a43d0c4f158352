"""The one request path over real loopback sockets: bytes on the wire, pooling, faults.

Production and every client test send through ``Http1Transport`` (its HTTP/1.1 details:
``test_http1_transport.py``); the embedded runtime's facade sends through
``InProcessTransport``, checked here against the same expectations where they apply.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from backend.client import UpstreamClient
from backend.errors import NotFound, UpstreamTimeout, UpstreamUnavailable
from backend.exchange import ConnectFailed, ConnectionBroken
from backend.inprocess import InProcessTransport
from backend.models import API_PREFIX, envelope
from tests.support.scripted_upstream import Fault, ScriptedUpstream, reply

Factory = Callable[..., UpstreamClient]


async def test_id_reaches_the_server_as_one_encoded_segment(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=reply(200, json=envelope([])))
    await client.instance_tasks("a/../b?c=1#d e%2F;x&y")
    target = API_PREFIX + "/instance/a%2F..%2Fb%3Fc%3D1%23d%20e%252F%3Bx%26y/tasks"
    assert [r.target for r in upstream.requests] == [target]


async def test_query_value_reaches_the_server_encoded(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=reply(200, json=envelope("")))
    await client.assign_task("t 1", ["a b", "c&d=e"])
    target = API_PREFIX + "/tasks/t%201/assign?user=a%20b&user=c%26d%3De"
    assert [r.target for r in upstream.requests] == [target]


async def test_headers_and_body_reach_the_server(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=reply(200, json=envelope("")))
    await client.complete_task("t1", "alice", {"ok": True}, headers={"Authorization": "Bearer a"})
    [request] = upstream.requests
    assert (request.method, request.headers["authorization"]) == ("POST", "Bearer a")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "oneweb-graphql"
    assert orjson.loads(request.body) == {"ok": True}


async def test_cookie_set_by_the_server_is_not_sent_again(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    upstream.route().mock(
        return_value=reply(
            200, json=envelope([]), headers={"Set-Cookie": "JSESSIONID=alice; Path=/"}
        )
    )
    # A host name, not an IP: cookie jars refuse cookies from IP addresses anyway.
    client = make_client(base_url=upstream.base_url.replace("127.0.0.1", "localhost"))
    await client.tasks(user="alice", headers={"Cookie": "sid=alice"})
    await client.tasks(user="bob")
    assert [r.headers.get("cookie") for r in upstream.requests] == ["sid=alice", None]


async def test_redirect_is_not_followed(upstream: ScriptedUpstream, client: UpstreamClient) -> None:
    upstream.route().mock(return_value=reply(302, headers={"Location": "/login"}))
    with pytest.raises(Exception, match="302"):
        await client.tasks(user="alice")
    assert len(upstream.requests) == 1


async def test_error_envelope_maps_the_same(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=reply(404, json=envelope(code=404, message="no task")))
    with pytest.raises(NotFound, match="no task"):
        await client.claim_task("t1", "alice")


async def test_refused_connection_is_a_failed_connect(
    make_client: Factory, closed_port_url: str
) -> None:
    with pytest.raises(UpstreamUnavailable) as raised:
        await make_client(base_url=closed_port_url).claim_task("t1", "alice")
    assert isinstance(raised.value.__cause__, ConnectFailed)


@pytest.mark.parametrize("fault", [Fault.DROP, Fault.RESET, Fault.GARBAGE], ids=str)
async def test_a_connection_that_breaks_after_the_request_is_a_broken_one(
    upstream: ScriptedUpstream, make_client: Factory, fault: Fault
) -> None:
    upstream.route().mock(side_effect=fault)
    with pytest.raises(UpstreamUnavailable) as raised:
        await make_client(retry_reads=0).claim_task("t1", "alice")
    assert isinstance(raised.value.__cause__, ConnectionBroken)
    assert not isinstance(raised.value.__cause__, ConnectFailed)


async def test_silent_server_is_upstream_timeout(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    upstream.route().mock(side_effect=Fault.HANG)
    client = make_client(timeout=0.1)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        await client.claim_task("t1", "alice")
    assert time.monotonic() - started < 2


async def test_the_deadline_closes_the_connection_of_a_hanging_call(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    # A deadline that only stopped waiting would leave each connection open until the
    # upstream answered: a hanging upstream would collect them.
    upstream.route().mock(side_effect=Fault.HANG)
    client = make_client(timeout=0.1, retry_reads=0)
    results = await asyncio.gather(
        *(client.instance_tasks(f"i{n}") for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, UpstreamTimeout) for result in results)
    for _ in range(100):  # the server sees the close a moment later: allow a second
        if upstream.closed_while_hanging == 3:
            break
        await asyncio.sleep(0.01)
    assert (upstream.connections, upstream.closed_while_hanging) == (3, 3)


async def test_trickling_reply_is_cut_at_the_deadline_of_the_whole_call(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    # A byte every 20 ms never trips a per-read timeout; the whole reply would take 20 s.
    upstream.route().mock(side_effect=Fault.TRICKLE)
    client = make_client(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout, match=r"within 0\.3 s"):
        await client.instance_tasks("i1")
    assert time.monotonic() - started < 1.0
    assert client.circuit_state == "closed"


async def test_dropped_connection_is_unavailable_and_a_read_is_retried(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(side_effect=Fault.DROP)
    with pytest.raises(UpstreamUnavailable):
        await client.instance_tasks("i1")
    assert len(upstream.requests) == 2


async def test_connections_are_reused_between_calls(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=reply(200, json=envelope([])))
    for _ in range(3):
        await client.instance_tasks("i1")
    assert upstream.connections == 1


# -- the embedded runtime's transport ---------------------------------------------------


def _echo_app() -> tuple[Starlette, list[StarletteRequest]]:
    seen: list[StarletteRequest] = []

    async def echo(request: StarletteRequest) -> Response:
        seen.append(request)
        await request.body()
        return Response(orjson.dumps(envelope([])), media_type="application/json")

    async def crash(request: StarletteRequest) -> Response:
        raise RuntimeError("boom")

    routes = [
        StarletteRoute(API_PREFIX + "/instance/crash/tasks", crash),
        StarletteRoute("/{rest:path}", echo, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes), seen


async def test_in_process_transport_hands_the_same_bytes_to_the_app() -> None:
    app, seen = _echo_app()
    transport = InProcessTransport(app)
    async with UpstreamClient(base_url="http://embedded.invalid", transport=transport) as client:
        await client.assign_task("a;b%2F", ["a b"], headers={"Authorization": "Bearer a"})
    [request] = seen
    assert request.scope["raw_path"] == (API_PREFIX + "/tasks/a%3Bb%252F/assign").encode()
    assert request.scope["query_string"] == b"user=a%20b"
    assert request.headers["authorization"] == "Bearer a"


async def test_in_process_app_that_crashes_is_its_500_reply() -> None:
    app, _ = _echo_app()
    client = UpstreamClient(base_url="http://embedded.invalid", transport=InProcessTransport(app))
    with pytest.raises(Exception, match="HTTP 500"):
        await client.instance_tasks("crash")


async def test_proxy_settings_of_the_environment_are_ignored(
    upstream: ScriptedUpstream,
    make_client: Factory,
    closed_port_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Where calls go is the configuration's business: a proxy from the environment
    # would see every caller's credentials.
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, closed_port_url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    upstream.route().mock(return_value=reply(200, json=envelope([])))
    assert await make_client().tasks(user="alice") == []
    assert len(upstream.requests) == 1
