"""``subscription { inbox }`` over WebSocket (``graphql-transport-ws``) against a facade in
front of a recording upstream: the first update at once, a push after a mutation through
the facade, refusal without a principal, one poll per listing for many subscribers, and a
failing poll that does not end the subscription."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from backend.embedded.recorder import Fault, RecordedCall
from server.app import create_app
from server.settings import Settings
from tests.support.servers import Server

from .harness import Facade, Upstream

if TYPE_CHECKING:  # the root conftest is not importable at run time, only by pytest
    from tests.conftest import ServeFactory

CLERK = {"X-Remote-User": "ann", "X-Remote-Groups": "Clerk"}
SUBSCRIPTION = """subscription($first: Int) { inbox(first: $first) {
  tasks { totalCount nodes { id assignee } } added { id } changed { id assignee } removedIds } }"""
CLAIM = """mutation($id: ID!) { claimTask(input: {taskId: $id}) { errors { message } } }"""
#: Far longer than any test waits: an update that arrives came from a push, not a poll.
LONG_INTERVAL_S = 30.0


@pytest.fixture
def live_facade(upstream: Upstream, serve_factory: ServeFactory) -> Facade:
    """A facade that serves WebSockets, polling every ``LONG_INTERVAL_S``."""
    settings = Settings(
        base_url=upstream.base_url,
        live_interval_s=LONG_INTERVAL_S,
        allow_user_override=True,
        live_init_headers=True,
    )
    return Facade(serve_factory(create_app(settings), ws="websockets-sansio"))


@asynccontextmanager
async def subscribed(
    facade: Facade,
    *,
    headers: Mapping[str, str] | None = None,
    init: Mapping[str, str] | None = None,
    variables: Mapping[str, Any] | None = None,
    query: str = SUBSCRIPTION,
) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection with ``query`` subscribed as id ``1``."""
    url = facade.base_url.replace("http://", "ws://") + "/graphql"
    async with connect(
        url,
        subprotocols=["graphql-transport-ws"],
        additional_headers=dict(headers or {}),  # type: ignore[list-item]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": dict(init or {})}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": query, "variables": dict(variables or {})}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield ws


async def next_message(ws: ClientConnection, timeout_s: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
    return message


async def next_update(ws: ClientConnection, timeout_s: float = 5.0) -> dict[str, Any]:
    message = await next_message(ws, timeout_s)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    update: dict[str, Any] = message["payload"]["data"]["inbox"]
    return update


def clerk_tasks(upstream: Upstream, count: int) -> list[str]:
    return [upstream.open_tasks(upstream.start("BookingRoom"))[0]["id"] for _ in range(count)]


def listing_polls(upstream: Upstream) -> list[str]:
    return [call.query for call in upstream.recorder.calls if call.raw_path.endswith("/tasks")]


async def test_the_first_update_is_the_inbox_and_a_claim_elsewhere_removes_the_task_at_once(
    live_facade: Facade, upstream: Upstream
) -> None:
    ids = clerk_tasks(upstream, 2)
    async with subscribed(live_facade, headers=CLERK) as ws:
        first = await next_update(ws)
        assert sorted(task["id"] for task in first["added"]) == sorted(ids)
        assert first["tasks"]["totalCount"] == 2
        assert first["removedIds"] == [] and first["changed"] == []
        claimed = await live_facade.execute(CLAIM, {"id": ids[0]}, user="bob")
        assert claimed["data"]["claimTask"]["errors"] == []
        # Well within the 30 s interval: the mutation pushed it.
        update = await next_update(ws, timeout_s=5.0)
        assert update["removedIds"] == [ids[0]]
        assert update["added"] == [] and update["changed"] == []
        assert [task["id"] for task in update["tasks"]["nodes"]] == [ids[1]]


async def test_updates_are_text_frames_which_browsers_can_parse(
    live_facade: Facade, upstream: Upstream
) -> None:
    # A binary frame reaches graphql-ws in a browser as a Blob it cannot parse.
    clerk_tasks(upstream, 1)
    async with subscribed(live_facade, headers=CLERK) as ws:
        raw = await asyncio.wait_for(ws.recv(), 5.0)
        assert isinstance(raw, str)
        assert json.loads(raw)["type"] == "next"


async def test_the_subscribers_own_claim_is_a_change_not_a_removal(
    live_facade: Facade, upstream: Upstream
) -> None:
    (task_id,) = clerk_tasks(upstream, 1)
    async with subscribed(live_facade, headers=CLERK) as ws:
        await next_update(ws)
        await live_facade.execute(CLAIM, {"id": task_id}, headers=CLERK)
        update = await next_update(ws)
        assert update["changed"] == [{"id": task_id, "assignee": "ann"}]
        assert update["removedIds"] == []


async def test_first_pages_the_inbox_and_later_tasks_enter_the_page(
    live_facade: Facade, upstream: Upstream
) -> None:
    ids = clerk_tasks(upstream, 3)
    async with subscribed(live_facade, headers=CLERK, variables={"first": 2}) as ws:
        first = await next_update(ws)
        assert [task["id"] for task in first["added"]] == ids[:2]
        assert first["tasks"]["totalCount"] == 3
        await live_facade.execute(CLAIM, {"id": ids[0]}, user="bob")
        update = await next_update(ws)
        assert update["removedIds"] == [ids[0]]
        assert [task["id"] for task in update["added"]] == [ids[2]]


async def refused(facade: Facade, *, headers: Mapping[str, str], init: Mapping[str, str]) -> int:
    """The close code of a connection whose ``connection_init`` the facade refuses."""
    url = facade.base_url.replace("http://", "ws://") + "/graphql"
    async with connect(
        url,
        subprotocols=["graphql-transport-ws"],
        additional_headers=dict(headers),  # type: ignore[arg-type]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": dict(init)}))
        with pytest.raises(ConnectionClosed):
            await next_message(ws)
        assert ws.close_code is not None
        return ws.close_code


async def test_without_a_principal_the_connection_is_refused(
    live_facade: Facade, upstream: Upstream
) -> None:
    clerk_tasks(upstream, 1)
    assert await refused(live_facade, headers={}, init={}) == 4403
    assert listing_polls(upstream) == []


async def test_bad_credentials_are_refused_not_served(
    live_facade: Facade, upstream: Upstream
) -> None:
    clerk_tasks(upstream, 1)
    bad = {"X-Remote-User": "ann\u0007", "X-Remote-Groups": "Clerk"}
    code = await refused(live_facade, headers={"Authorization": "Bearer not-a-jwt"}, init=bad)
    assert code == 4403
    assert listing_polls(upstream) == []


async def test_the_connection_init_payload_is_read_as_headers(
    live_facade: Facade, upstream: Upstream
) -> None:
    ids = clerk_tasks(upstream, 1)
    async with subscribed(live_facade, init=CLERK) as ws:
        first = await next_update(ws)
        assert [task["id"] for task in first["added"]] == ids


async def test_payload_headers_are_not_believed_in_front_of_a_real_upstream_by_default(
    upstream: Upstream,
) -> None:
    # An authenticating proxy sets the trusted headers on the upgrade request; it cannot
    # vouch for a payload, so a client must not name itself there.
    settings = Settings(base_url=upstream.base_url, live_interval_s=LONG_INTERVAL_S)
    server = Server(create_app(settings), 0, ws="websockets-sansio")
    server.start()
    try:
        facade = Facade(f"http://127.0.0.1:{server.port}")
        clerk_tasks(upstream, 1)
        assert await refused(facade, headers={}, init=CLERK) == 4403
    finally:
        server.stop()
    assert listing_polls(upstream) == []


async def test_the_upgrade_identity_wins_over_the_payload(
    live_facade: Facade, upstream: Upstream
) -> None:
    clerk_tasks(upstream, 1)
    someone_else = {"X-Remote-User": "zed"}
    async with subscribed(live_facade, headers=someone_else, init=CLERK) as ws:
        first = await next_update(ws)
        assert first["added"] == []
    assert sorted(listing_polls(upstream)) == ["user=zed"]


async def test_fifty_subscribers_of_a_group_share_one_poll_per_listing(
    live_facade: Facade, upstream: Upstream
) -> None:
    clerk_tasks(upstream, 1)
    upstream.recorder.reset()
    group_only = {"X-Remote-User": "ann", "X-Remote-Groups": "Clerk"}
    async with subscribed(live_facade, headers=group_only) as first_ws:
        await next_update(first_ws)
        connections = [subscribed(live_facade, headers=group_only) for _ in range(49)]
        sockets = [await connection.__aenter__() for connection in connections]
        try:
            updates = await asyncio.gather(*(next_update(ws) for ws in sockets))
            assert all(len(update["added"]) == 1 for update in updates)
            # 50 subscribers, within one interval: one poll of the user and one of the group.
            assert sorted(listing_polls(upstream)) == ["group=Clerk", "user=ann"]
        finally:
            for connection in connections:
                await connection.__aexit__(None, None, None)


async def test_a_failing_poll_keeps_the_subscription_and_its_last_good_state(
    live_facade: Facade, upstream: Upstream
) -> None:
    ids = clerk_tasks(upstream, 2)
    async with subscribed(live_facade, headers=CLERK) as ws:
        await next_update(ws)
        failing = True

        def fault(call: RecordedCall) -> Fault | None:
            return Fault.HTML_500 if failing and call.raw_path.endswith("/tasks") else None

        upstream.recorder.fault = fault
        upstream.recorder.reset()
        # A mutation pokes the pollers: their polls fail, nothing is sent, nothing ends.
        await live_facade.execute(CLAIM, {"id": ids[0]}, user="bob")
        with pytest.raises(TimeoutError):
            await next_message(ws, timeout_s=0.5)
        assert listing_polls(upstream), "the poke made the pollers poll"
        failing = False
        await live_facade.execute(CLAIM, {"id": ids[1]}, user="bob")
        update = await next_update(ws)
        assert sorted(update["removedIds"]) == sorted(ids)
