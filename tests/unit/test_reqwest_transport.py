"""The pyreqwest transport against a real loopback server: bytes out, failures as httpx's."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from backend.aiohttp_transport import DirectRequest
from backend.reqwest_transport import ReqwestTransport

TARGET = "/BPMREST/service/runtime/tasks/a%3Bb%2F..%25/variables?user=x%26y"


@pytest.fixture
async def transport() -> ReqwestTransport:
    return ReqwestTransport(max_concurrency=4, keepalive_expiry_s=5)


async def test_the_request_goes_out_byte_for_byte(
    make_loopback: Any, transport: ReqwestTransport
) -> None:
    server = await make_loopback(b'{"data": {}, "code": 0}', status=404)
    status, body = await transport.exchange(
        DirectRequest("POST", server.base_url + TARGET, {"x-request-id": "r1"}, b"{}")
    )
    await transport.aclose()
    assert (status, body) == (404, b'{"data": {}, "code": 0}')
    [request] = server.requests
    assert (request.method, request.target, request.body) == ("POST", TARGET, b"{}")
    assert request.headers["x-request-id"] == "r1"


async def test_redirects_are_answers_not_followed(
    make_loopback: Any, transport: ReqwestTransport
) -> None:
    server = await make_loopback(b"", status=302, extra_headers=(("Location", "/elsewhere"),))
    status, _ = await transport.exchange(DirectRequest("GET", server.base_url + "/x", {}, None))
    await transport.aclose()
    assert status == 302 and len(server.requests) == 1


async def test_a_dropped_connection_is_a_protocol_error_not_a_connect_error(
    make_loopback: Any, transport: ReqwestTransport
) -> None:
    server = await make_loopback(behaviour="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        await transport.exchange(DirectRequest("POST", server.base_url + "/x", {}, b"{}"))
    await transport.aclose()


async def test_a_refused_connection_is_a_connect_error(
    closed_port_url: str, transport: ReqwestTransport
) -> None:
    with pytest.raises(httpx.ConnectError):
        await transport.exchange(DirectRequest("GET", closed_port_url + "/x", {}, None))
    await transport.aclose()


async def test_cancelling_the_caller_ends_a_hanging_call(
    make_loopback: Any, transport: ReqwestTransport
) -> None:
    server = await make_loopback(behaviour="hang")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await transport.exchange(DirectRequest("GET", server.base_url + "/x", {}, None))
    assert time.monotonic() - started < 2.0  # generous: the deadline is 0.2 s
    await transport.aclose()


async def test_as_an_httpx_transport(make_loopback: Any, transport: ReqwestTransport) -> None:
    server = await make_loopback(b"[1]", extra_headers=(("X-Seen", "yes"),))
    async with httpx.AsyncClient(transport=transport) as client:
        reply = await client.get(server.base_url + TARGET, headers={"Authorization": "Bearer t"})
    assert (reply.status_code, reply.content, reply.headers["x-seen"]) == (200, b"[1]", "yes")
    assert server.requests[0].target == TARGET
    assert server.requests[0].headers["authorization"] == "Bearer t"
