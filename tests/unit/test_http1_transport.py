"""The network transport against what real servers send: framing, reuse, TLS, hostile bytes.

``tests/unit/test_client_transport.py`` has the request path's faults (refused, dropped,
reset, hanging, trickling); these are the HTTP/1.1 details a hand-off to the event loop
must get right itself: replies framed by chunks or by the connection's end, interim
replies, connections the server ends, bytes nobody asked for, and headers that would
start a request of the caller's own.
"""

from __future__ import annotations

import asyncio
import gc
import ssl
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest
import trustme

from backend.client import UpstreamClient
from backend.errors import UpstreamError, UpstreamUnavailable
from backend.exchange import ConnectFailed, Request, TransportFailure
from backend.http1_transport import Http1Transport
from backend.models import envelope
from tests.support.scripted_upstream import Raw, ScriptedUpstream, reply

Factory = Callable[..., UpstreamClient]

VARIABLES = {"amount": 120, "note": "x" * 200}
BODY = orjson.dumps(envelope(VARIABLES))


def _head(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


#: The variables' reply as a server frames it by its length.
OK = _head("HTTP/1.1 200 OK", f"Content-Length: {len(BODY)}") + BODY


async def test_a_chunked_reply_is_read_whole(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    half = len(BODY) // 2
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (
        half,
        BODY[:half],
        len(BODY) - half,
        BODY[half:],
    )
    upstream.route().mock(
        return_value=Raw(_head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + chunks)
    )
    assert await client.task_variables("t1") == VARIABLES
    assert await client.task_variables("t1") == VARIABLES
    assert upstream.connections == 1


async def test_a_reply_that_ends_with_the_connection_is_read_to_its_end(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    # A proxy's HTML error page, framed by closing the connection (no length).
    page = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
    upstream.route().mock(
        side_effect=[
            Raw(
                _head("HTTP/1.1 500 Internal Server Error", "Content-Type: text/html") + page,
                close=True,
            ),
            Raw(OK),
        ]
    )
    with pytest.raises(UpstreamError, match="HTTP 500"):
        await client.task_variables("t1")
    assert await client.task_variables("t1") == VARIABLES
    assert upstream.connections == 2


async def test_a_reply_whose_transfer_coding_is_not_chunked_ends_with_the_connection(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    # HTTP/1.1: a reply whose last transfer coding is not chunked is read until the close.
    head = _head("HTTP/1.1 200 OK", "Transfer-Encoding: identity")
    upstream.route().mock(return_value=Raw(head + BODY, close=True))
    assert await client.task_variables("t1") == VARIABLES


async def test_a_reply_cut_short_of_its_length_is_a_broken_connection(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    cut = Raw(OK[: -len(BODY) + 5], close=True)
    upstream.route().mock(return_value=cut)
    with pytest.raises(UpstreamUnavailable, match="before a whole reply"):
        await make_client(retry_reads=0).instance_tasks("i1")


async def test_connection_close_in_the_reply_is_honoured(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    once = Raw(_head("HTTP/1.1 200 OK", f"Content-Length: {len(BODY)}", "Connection: close") + BODY)
    upstream.route().mock(return_value=once)
    client = make_client(retry_reads=0)  # a retry would hide a reused connection's failure
    assert await client.task_variables("t1") == VARIABLES
    assert await client.task_variables("t1") == VARIABLES
    assert upstream.connections == 2


async def test_an_idle_connection_the_server_closed_is_not_used_again(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    # The server closes after its reply without saying so (its keep-alive ran out).
    closing = Raw(OK, close=True)
    upstream.route().mock(return_value=closing)
    client = make_client(retry_reads=0)
    assert await client.task_variables("t1") == VARIABLES
    await asyncio.sleep(0.05)  # the server's FIN arrives while the connection is idle
    assert await client.task_variables("t1") == VARIABLES
    assert (upstream.connections, len(upstream.requests)) == (2, 2)


async def test_a_closed_connection_is_freed_without_the_cyclic_collector(
    upstream: ScriptedUpstream,
) -> None:
    # llhttp's parser calls back into its connection: unless the connection drops it when
    # closed, every closed connection waits for the cyclic collector.
    closing = Raw(OK, close=True)
    upstream.route().mock(return_value=closing)
    transport = Http1Transport(max_concurrency=2, keepalive_expiry_s=4.0)
    gc.collect()
    gc.disable()
    try:
        await transport.exchange(Request("GET", upstream.base_url + "/x", {}, None), seconds_left=5)
        [idle] = transport._idle.values()
        connection = weakref.ref(idle[-1])
        for _ in range(100):  # the server's close arrives a moment later
            await asyncio.sleep(0.01)
            if not connection().reusable:  # type: ignore[union-attr]
                break
        # The next call finds it closed and drops it; nothing else holds it.
        await transport.exchange(Request("GET", upstream.base_url + "/x", {}, None), seconds_left=5)
        assert connection() is None
    finally:
        gc.enable()
        await transport.aclose()


async def test_an_interim_reply_is_skipped(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=Raw(_head("HTTP/1.1 100 Continue") + OK))
    assert await client.task_variables("t1") == VARIABLES


async def test_bytes_after_the_reply_never_answer_the_next_request(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    # A server that answers one request twice: the second reply must not be taken for
    # the answer to the next request, which may be another caller's.
    stale = orjson.dumps(envelope({"owner": "someone else"}))
    extra = _head("HTTP/1.1 200 OK", f"Content-Length: {len(stale)}") + stale
    upstream.route().mock(side_effect=[Raw(OK + extra), reply(200, json=envelope({"owner": "me"}))])
    assert await client.task_variables("t1") == VARIABLES
    assert await client.task_variables("t2") == {"owner": "me"}
    assert upstream.connections == 2


@pytest.mark.parametrize(
    "value",
    ["Bearer a\r\nX-Injected: 1", "Bearer a\nGET /evil HTTP/1.1", "Bearer a\0", "Bearer ä€"],
    ids=["crlf", "lf", "nul", "not-latin-1"],
)
async def test_a_header_that_would_end_its_line_is_never_sent(
    upstream: ScriptedUpstream, client: UpstreamClient, value: str
) -> None:
    upstream.route().mock(return_value=reply(200, json=envelope([])))
    with pytest.raises(UpstreamError, match="request failed"):
        await client.tasks(user="alice", headers={"Authorization": value})
    assert upstream.requests == []
    assert await client.tasks(user="alice") == []  # the connection pool is unharmed


async def test_a_target_with_a_space_or_control_character_is_never_sent(
    upstream: ScriptedUpstream,
) -> None:
    transport = Http1Transport(max_concurrency=2, keepalive_expiry_s=4.0)
    for target in ("/a b", "/a\r\nHost: evil", "/a\x7f"):
        with pytest.raises(TransportFailure, match="cannot carry"):
            await transport.exchange(
                Request("GET", upstream.base_url + target, {}, None), seconds_left=5
            )
    assert upstream.requests == []
    await transport.aclose()


async def test_an_idle_connection_past_its_expiry_is_replaced(upstream: ScriptedUpstream) -> None:
    upstream.route().mock(return_value=reply(200, json=envelope([])))
    transport = Http1Transport(max_concurrency=2, keepalive_expiry_s=0.05)
    request = Request("GET", upstream.base_url + "/x", {}, None)
    await transport.exchange(request, seconds_left=5)
    await transport.exchange(request, seconds_left=5)
    await asyncio.sleep(0.1)
    await transport.exchange(request, seconds_left=5)
    assert upstream.connections == 2
    await transport.aclose()


async def test_no_more_connections_stay_idle_than_the_cap(upstream: ScriptedUpstream) -> None:
    upstream.route().mock(return_value=reply(200, json=envelope([])))
    transport = Http1Transport(max_concurrency=2, keepalive_expiry_s=4.0)
    request = Request("GET", upstream.base_url + "/x", {}, None)
    for _ in range(2):
        await asyncio.gather(*(transport.exchange(request, seconds_left=5) for _ in range(5)))
    assert upstream.connections == 5 + 3  # the second round reused the 2 kept idle
    await transport.aclose()


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
async def test_a_reply_over_the_size_limit_fails_its_call_only(
    upstream: ScriptedUpstream, framing: str
) -> None:
    # A misconfigured upstream (a file server, say) must not fill the facade's memory.
    big = b"x" * 5000
    head = {
        "length": _head("HTTP/1.1 200 OK", f"Content-Length: {len(big)}"),
        "chunked": _head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"),
        "close": _head("HTTP/1.1 200 OK"),
    }[framing]
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(big), big) if framing == "chunked" else big
    upstream.route("/big").mock(return_value=Raw(head + body, close=framing == "close"))
    upstream.route("/small").mock(return_value=Raw(OK))
    transport = Http1Transport(max_concurrency=2, keepalive_expiry_s=4.0, max_reply_bytes=4096)
    with pytest.raises(TransportFailure, match="larger than 4096 bytes"):
        await transport.exchange(
            Request("GET", upstream.base_url + "/big", {}, None), seconds_left=5
        )
    small = Request("GET", upstream.base_url + "/small", {}, None)
    assert await transport.exchange(small, seconds_left=5) == (200, BODY)
    assert upstream.connections == 2  # the refused reply's connection was not reused
    await transport.aclose()


async def test_a_closed_transport_sends_nothing(upstream: ScriptedUpstream) -> None:
    transport = Http1Transport(max_concurrency=2, keepalive_expiry_s=4.0)
    await transport.aclose()
    with pytest.raises(TransportFailure, match="closed"):
        await transport.exchange(Request("GET", upstream.base_url + "/x", {}, None), seconds_left=5)
    assert upstream.connections == 0


# -- TLS -----------------------------------------------------------------------------------


@pytest.fixture
async def tls_upstream(tmp_path: Path) -> AsyncIterator[tuple[ScriptedUpstream, Path]]:
    """A scripted upstream over TLS, its certificate signed by a CA of the test's own."""
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    server = ScriptedUpstream()
    await server.start(ssl=server_context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    yield server, ca_file
    await server.aclose()


async def test_an_https_upstream_is_reached_over_verified_tls(
    tls_upstream: tuple[ScriptedUpstream, Path],
    make_client: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, ca_file = tls_upstream
    server.route().mock(return_value=reply(200, json=envelope(VARIABLES)))
    # The system's trust store, as OpenSSL reads it: SSL_CERT_FILE names the test's CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    base_url = server.base_url.replace("127.0.0.1", "localhost")
    client = make_client(base_url=base_url)
    assert await client.task_variables("t1") == VARIABLES
    assert await client.task_variables("t1") == VARIABLES
    assert server.connections == 1
    assert server.requests[0].headers["host"] == base_url.removeprefix("https://")


async def test_an_https_upstream_with_an_untrusted_certificate_is_never_sent_a_request(
    tls_upstream: tuple[ScriptedUpstream, Path], make_client: Factory
) -> None:
    server, _ = tls_upstream
    server.route().mock(return_value=reply(200, json=envelope([])))
    client = make_client(base_url=server.base_url.replace("127.0.0.1", "localhost"), retry_reads=0)
    with pytest.raises(UpstreamUnavailable, match="TLS") as raised:
        await client.tasks(user="alice", headers={"Authorization": "Bearer secret"})
    assert isinstance(raised.value.__cause__, ConnectFailed)
    assert server.requests == []
