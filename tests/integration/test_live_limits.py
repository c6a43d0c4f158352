"""Caps, identity and slow readers of the live inbox: a connection opening 1,000
subscriptions gets ten, a principal is capped across connections and transports, an ended
subscription gives its slot back, a JWT may come in ``connection_init``, trusted documents
hold over WebSocket, and a client that stops reading is dropped while another subscriber of
the same listing keeps getting its updates."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from backend.models import API_PREFIX, envelope
from server.app import create_app
from server.persisted import sha256_hex
from server.settings import Settings
from tests.support.multipart import MULTIPART_ACCEPT, subscription
from tests.support.servers import Server

from .harness import Facade, Upstream
from .test_live_inbox import (
    CLAIM,
    CLERK,
    LONG_INTERVAL_S,
    SUBSCRIPTION,
    clerk_tasks,
    next_message,
    next_update,
)

if TYPE_CHECKING:  # the root conftest is not importable at run time, only by pytest
    from tests.conftest import ServeFactory


@asynccontextmanager
async def ws_facade(**settings: Any) -> AsyncIterator[Facade]:
    """A facade that serves WebSockets, with these settings."""
    settings.setdefault("allow_user_override", True)
    server = Server(create_app(Settings(**settings)), 0, ws="websockets-sansio")
    server.start()
    try:
        yield Facade(f"http://127.0.0.1:{server.port}")
    finally:
        server.stop()


@asynccontextmanager
async def connection(
    facade: Facade, headers: dict[str, str], **options: Any
) -> AsyncIterator[ClientConnection]:
    """An acknowledged graphql-transport-ws connection."""
    url = facade.base_url.replace("http://", "ws://") + "/graphql"
    async with connect(
        url, subprotocols=["graphql-transport-ws"], additional_headers=headers, **options
    ) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        yield ws


async def subscribe(ws: ClientConnection, operation_id: str, query: str = SUBSCRIPTION) -> None:
    message = {"id": operation_id, "type": "subscribe", "payload": {"query": query}}
    await ws.send(json.dumps(message))


def refusal_code(message: dict[str, Any]) -> str:
    assert message["type"] == "error", message
    code: str = message["payload"][0]["extensions"]["code"]
    return code


async def test_a_connection_opening_a_thousand_subscriptions_gets_ten(
    upstream: Upstream,
) -> None:
    ids = clerk_tasks(upstream, 2)
    async with (
        ws_facade(base_url=upstream.base_url, live_interval_s=LONG_INTERVAL_S) as facade,
        connection(facade, CLERK) as ws,
    ):
        for number in range(1000):
            await subscribe(ws, str(number))
        replies = [await next_message(ws) for _ in range(1000)]
        running = {m["id"] for m in replies if m["type"] == "next"}
        refused = [m for m in replies if m["type"] == "error"]
        assert running == {str(number) for number in range(10)}
        assert len(refused) == 990
        assert {refusal_code(m) for m in refused} == {"TOO_MANY_SUBSCRIPTIONS"}
        assert refused[0]["payload"][0]["extensions"]["limit"] == "connection"
        # The ten go on: a claim reaches each of them.
        await facade.execute(CLAIM, {"id": ids[0]}, user="bob")
        updates = [await next_message(ws) for _ in range(10)]
        assert {m["id"] for m in updates} == running
        assert all(m["payload"]["data"]["inbox"]["removedIds"] == [ids[0]] for m in updates)
        # A completed subscription gives its place back.
        await ws.send(json.dumps({"id": "0", "type": "complete"}))
        await subscribe(ws, "again")
        reply = await next_message(ws)
        assert (reply["id"], reply["type"]) == ("again", "next")


async def _http_status(facade: Facade, headers: dict[str, str]) -> int:
    """The status of a multipart subscription, which is then ended at once."""
    async with (
        httpx.AsyncClient(base_url=facade.base_url, timeout=10) as client,
        subscription(client, "/graphql", SUBSCRIPTION, headers=headers) as parts,
    ):
        if parts.response.status_code == 200:
            await parts.next_payload()
        else:
            await parts.response.aread()
            body = orjson.loads(parts.response.content)
            assert body["errors"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        return parts.response.status_code


async def _eventually(check: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


async def test_a_principal_is_capped_across_connections_and_transports(
    upstream: Upstream,
) -> None:
    ids = clerk_tasks(upstream, 1)
    async with ws_facade(
        base_url=upstream.base_url, live_interval_s=LONG_INTERVAL_S, live_max_per_principal=3
    ) as facade:
        async with (
            connection(facade, CLERK) as first,
            connection(facade, CLERK) as second,
            httpx.AsyncClient(base_url=facade.base_url, timeout=10) as client,
            subscription(client, "/graphql", SUBSCRIPTION, headers=CLERK) as parts,
        ):
            await parts.next_payload()
            await subscribe(first, "a")
            await subscribe(second, "b")
            assert (await next_message(first))["type"] == "next"
            assert (await next_message(second))["type"] == "next"
            # Three held: a fourth is refused over either transport, someone else's is not.
            await subscribe(second, "c")
            refused = await next_message(second)
            assert refusal_code(refused) == "TOO_MANY_SUBSCRIPTIONS"
            assert refused["payload"][0]["extensions"] == {
                "code": "TOO_MANY_SUBSCRIPTIONS",
                "limit": "principal",
                "max": 3,
            }
            assert await _http_status(facade, CLERK) == 429
            assert await _http_status(facade, {"X-Remote-User": "bob"}) == 200
            # The first connection's subscription is unaffected.
            await facade.execute(CLAIM, {"id": ids[0]}, user="zed")
            assert (await next_message(first))["id"] == "a"
            # Completing one frees its place...
            await first.send(json.dumps({"id": "a", "type": "complete"}))
            await _eventually(lambda: _accepted(second, "d"))
            # ... and so does a connection that goes away.
        async with connection(facade, CLERK) as third:
            await _eventually(lambda: _accepted(third, f"e{next(_numbers)}"))
            assert await _http_status(facade, CLERK) == 200


_numbers = itertools.count()


async def _accepted(ws: ClientConnection, operation_id: str) -> bool:
    await subscribe(ws, operation_id)
    reply = await next_message(ws)
    return bool(reply["type"] == "next")


SECRET = "a-test-secret-of-at-least-32-bytes!"


def _bearer(claims: dict[str, Any], key: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, key, 'HS256')}"}


async def test_a_jwt_in_connection_init_is_verified_and_names_the_subscriber(
    upstream: Upstream,
) -> None:
    ids = clerk_tasks(upstream, 1)
    claims = {"sub": "ann", "groups": ["Clerk"], "exp": int(time.time()) + 300}
    async with ws_facade(
        base_url=upstream.base_url, live_interval_s=LONG_INTERVAL_S, jwt_secret=SECRET
    ) as facade:
        for payload, accepted in (
            (_bearer(claims), True),
            (_bearer(claims, key="another-secret-of-32-bytes-or-more"), False),
            (_bearer({**claims, "exp": 1}), False),
            # Trusted headers in the payload are not believed in front of a real upstream.
            (CLERK, False),
        ):
            url = facade.base_url.replace("http://", "ws://") + "/graphql"
            async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                if not accepted:
                    with pytest.raises(ConnectionClosed):
                        await next_message(ws)
                    assert ws.close_code == 4403
                    continue
                assert (await next_message(ws))["type"] == "connection_ack"
                await subscribe(ws, "1")
                first = await next_update(ws)
                assert [task["id"] for task in first["added"]] == ids


async def test_trusted_documents_govern_websocket_subscriptions(
    upstream: Upstream, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(orjson.dumps({sha256_hex(SUBSCRIPTION): SUBSCRIPTION}))
    ids = clerk_tasks(upstream, 1)
    async with (
        ws_facade(
            base_url=upstream.base_url,
            live_interval_s=LONG_INTERVAL_S,
            trusted_documents=manifest,
        ) as facade,
        connection(facade, CLERK) as ws,
    ):
        await subscribe(ws, "ad-hoc", "subscription { inbox { removedIds } }")
        assert refusal_code(await next_message(ws)) == "PERSISTED_QUERY_NOT_IN_LIST"
        await subscribe(ws, "listed")
        first = await next_update(ws)
        assert [task["id"] for task in first["added"]] == ids


# A slow reader: an upstream whose Clerk listing changes at every poll, one subscriber
# that reads everything and one that reads nothing.

TASKS = 100
BULKY = (
    """subscription { inbox { tasks { nodes { id description } } changed { id description } } }"""
)
SLIM = """subscription { inbox { tasks { totalCount } } }"""
SEND_TIMEOUT_S = 0.5


@dataclass
class Churning:
    """An upstream whose group listing differs at every call (a priority goes up): every
    poll makes an update for every subscriber."""

    base_url: str
    polls: int = 0

    async def polling_stopped(self) -> bool:
        """Whether nobody polls it any more (every subscription has let go of it)."""
        before = self.polls
        await asyncio.sleep(0.3)
        return self.polls == before


@pytest.fixture
def churning_upstream(serve_factory: ServeFactory) -> Churning:
    churning = Churning("")

    async def tasks(request: Request) -> JSONResponse:
        if request.query_params.get("group") != "Clerk":
            return JSONResponse(envelope([], total=0))
        churning.polls += 1
        poll = churning.polls
        listing = [
            {
                "id": f"t{n}",
                "name": "Choose Room",
                "instanceId": f"i{n}",
                "processName": "BookingRoom",
                "description": "x" * 2000,
                "priority": poll,
                "candidateGroups": ["Clerk"],
                "status": "READY",
            }
            for n in range(TASKS)
        ]
        return JSONResponse(envelope(listing, total=len(listing)))

    churning.base_url = serve_factory(Starlette(routes=[Route(API_PREFIX + "/tasks", tasks)]))
    return churning


def _small_receive_buffer(url: str) -> socket.socket:
    """A connected socket whose kernel buffer holds little: a stalled reader stalls soon."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = url.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    return sock


async def test_a_client_that_stops_reading_is_dropped_and_others_go_on(
    churning_upstream: Churning,
) -> None:
    async with ws_facade(
        base_url=churning_upstream.base_url,
        live_interval_s=0.05,
        live_send_timeout_s=SEND_TIMEOUT_S,
        live_max_per_principal=1,
    ) as facade:
        stalled = {"X-Remote-User": "sam", "X-Remote-Groups": "Clerk"}
        reader = {"X-Remote-User": "ann", "X-Remote-Groups": "Clerk"}
        async with (
            connection(
                facade,
                stalled,
                sock=_small_receive_buffer(facade.base_url),
                max_queue=1,
                close_timeout=0.5,
                compression=None,  # what it is sent fills the buffers, not a deflated trickle
            ) as hostile,
            connection(facade, reader) as ws,
        ):
            await subscribe(hostile, "bulky", BULKY)
            await subscribe(ws, "slim", SLIM)
            # The hostile client never reads again. Its one slot is taken until the
            # facade drops it; meanwhile the reader's updates keep coming.
            started = time.monotonic()
            received, widest_gap, last = 0, 0.0, started
            dropped_at: float | None = None
            # Until half a second after the drop: the reader is served before, during and after.
            while dropped_at is None or time.monotonic() - dropped_at < 0.5:
                await next_update(ws)
                now = time.monotonic()
                received, widest_gap, last = received + 1, max(widest_gap, now - last), now
                if dropped_at is None and await _http_status(facade, stalled) == 200:
                    dropped_at = now
                assert now - started < 20, "the stalled client was never dropped"
            assert widest_gap < 2.0
            assert received >= 10
        await _eventually(churning_upstream.polling_stopped)


async def test_an_http_subscriber_that_stops_reading_is_dropped(
    churning_upstream: Churning,
) -> None:
    async with ws_facade(
        base_url=churning_upstream.base_url,
        live_interval_s=0.05,
        live_send_timeout_s=SEND_TIMEOUT_S,
        live_max_per_principal=1,
    ) as facade:
        stalled = {"X-Remote-User": "sam", "X-Remote-Groups": "Clerk"}
        body = orjson.dumps({"query": BULKY})
        head = "".join(
            f"{name}: {value}\r\n"
            for name, value in {
                **stalled,
                "Host": "facade",
                "Accept": MULTIPART_ACCEPT,
                "Content-Type": "application/json",
                "Content-Length": str(len(body)),
            }.items()
        )
        hostile = _small_receive_buffer(facade.base_url)
        try:
            # A raw request, then not one byte read.
            hostile.sendall(f"POST /graphql HTTP/1.1\r\n{head}\r\n".encode() + body)
            # First it holds sam's one slot (another is refused), then the facade lets go.
            for wanted in (429, 200):
                started = time.monotonic()
                while await _http_status(facade, stalled) != wanted:
                    assert time.monotonic() - started < 20, f"never {wanted}"
                    await asyncio.sleep(0.1)
            # Its subscription let go of the poller too, not only of its slot.
            await _eventually(churning_upstream.polling_stopped)
        finally:
            hostile.close()
