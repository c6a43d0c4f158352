"""Pushes across replicas through a real Redis (Debian's ``redis-server`` on a free port):
two facades over one upstream (the embedded runtime over HTTP), polling every 30 s so
that only a push can explain an update within seconds; hostile messages on the channel;
Redis killed and restarted under running subscriptions."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from backend.broadcast import MAX_HINT_BYTES, Hint, RedisBroadcast
from backend.models import API_PREFIX
from server.app import create_app
from server.settings import Settings
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.servers import Server

from .harness import Facade, Upstream
from .test_live_inbox import CLAIM, CLERK, LONG_INTERVAL_S, clerk_tasks, next_update, subscribed

# One worker runs these, so the module's Redis starts once.
pytestmark = pytest.mark.xdist_group("redis")

EMPLOYEE = {"X-Remote-User": "emma", "X-Remote-Groups": "Employee"}
CLAIM_IN = """mutation($id: ID!, $instance: ID!) {
  claimTask(input: {taskId: $id, instanceId: $instance}) { errors { message } } }"""
CHANNEL = "oneweb-graphql:live:0"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer.start(tmp_path_factory.mktemp("redis")) as server:
        yield server


@contextmanager
def replica(upstream: Upstream, redis_url: str, *, interval_s: float) -> Iterator[Facade]:
    """A facade over ``upstream`` whose live hub shares hints through ``redis_url``."""
    settings = Settings(
        base_url=upstream.base_url,
        live_interval_s=interval_s,
        allow_user_override=True,
        live_init_headers=True,
        broadcast_url=redis_url,
    )
    server = Server(create_app(settings), 0, ws="websockets-sansio")
    server.start()
    try:
        yield Facade(f"http://127.0.0.1:{server.port}")
    finally:
        server.stop()


@contextmanager
def replicas(upstream: Upstream, server: RedisServer, *, interval_s: float = LONG_INTERVAL_S) -> Iterator[tuple[Facade, Facade]]:  # fmt: skip
    """Two replicas, returned once both listen on the channel."""
    with (
        replica(upstream, server.url, interval_s=interval_s) as a,
        replica(upstream, server.url, interval_s=interval_s) as b,
    ):
        wait_for_listeners(server, 2)
        yield a, b


def wait_for_listeners(server: RedisServer, count: int, timeout_s: float = 10.0) -> None:
    client = redis.Redis.from_url(server.url)
    deadline = time.monotonic() + timeout_s
    try:
        while (listeners := dict(client.pubsub_numsub(CHANNEL))[CHANNEL.encode()]) != count:
            assert time.monotonic() < deadline, f"{listeners} listeners on the channel"
            time.sleep(0.02)
    finally:
        client.close()


def listing_polls(upstream: Upstream) -> set[str]:
    return {call.query for call in upstream.recorder.calls if call.raw_path.endswith(API_PREFIX + "/tasks")}  # fmt: skip


async def test_a_claim_through_one_replica_reaches_a_subscriber_on_the_other(
    redis_server: RedisServer, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    (task,) = upstream.open_tasks(instance_id)
    upstream.start("LeaveRequest")
    with replicas(upstream, redis_server) as (a, b):
        async with subscribed(b, headers=CLERK) as clerk, subscribed(b, headers=EMPLOYEE) as emma:
            assert [added["id"] for added in (await next_update(clerk))["added"]] == [task["id"]]
            await next_update(emma)
            upstream.recorder.reset()
            variables = {"id": task["id"], "instance": instance_id}
            claimed = await a.execute(CLAIM_IN, variables, user="bob")
            assert claimed["data"]["claimTask"]["errors"] == []
            update = await next_update(clerk, timeout_s=3.0)  # the interval is 30 s
            assert update["removedIds"] == [task["id"]]
            # Replica A read who the task is offered to and named that listing alone.
            assert listing_polls(upstream) == {"group=Clerk"}


async def test_a_claim_whose_listings_are_unknown_re_polls_every_listing_on_every_replica(
    redis_server: RedisServer, upstream: Upstream
) -> None:
    (task_id,) = clerk_tasks(upstream, 1)
    upstream.start("LeaveRequest")
    with replicas(upstream, redis_server) as (a, b):
        async with subscribed(b, headers=CLERK) as clerk, subscribed(b, headers=EMPLOYEE) as emma:
            await next_update(clerk)
            await next_update(emma)
            upstream.recorder.reset()
            # Replica A has never seen the task, nor its instance: it cannot tell whose it is.
            await a.execute(CLAIM, {"id": task_id}, user="bob")
            assert (await next_update(clerk, timeout_s=3.0))["removedIds"] == [task_id]
            polls = {"group=Clerk", "group=Employee", "user=ann", "user=emma"}
            for _ in range(150):  # within 3 s
                if listing_polls(upstream) == polls:
                    break
                await asyncio.sleep(0.02)
            assert listing_polls(upstream) == polls


HOSTILE = [
    b"not json",
    b"[1, 2, 3]",
    b'{"v": 2, "keys": null}',
    b'{"v": 1, "keys": "all"}',
    b'{"v": 1, "keys": [["admin", "root"]]}',
    b'{"v": 1, "keys": [["user", 5]]}',
    b'{"v": 1, "keys": [["user", "ann\\u0007"]]}',
    b'{"v": 1, "keys": [["user", ""]]}',
    b'{"v": 1, "keys": [["group"]]}',
    b'{"v": 1, "origin": {"a": 1}, "keys": null}',
    b'{"v": 1, "keys": [' + b",".join([b'["user", "u"]'] * 1000) + b"]}",
    b'{"v": 1, "keys": [["user", "' + b"x" * (MAX_HINT_BYTES + 1) + b'"]]}',
    b"\xff\xfe\x00",
]


async def test_garbage_on_the_channel_is_ignored_and_pushes_go_on(
    redis_server: RedisServer, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    ids = clerk_tasks(upstream, 2)
    with replicas(upstream, redis_server) as (a, b):
        async with subscribed(b, headers=CLERK) as ws:
            await next_update(ws)
            client = redis.Redis.from_url(redis_server.url)
            with caplog.at_level(logging.WARNING, logger="oneweb_graphql.broadcast"):
                for message in HOSTILE:
                    assert client.publish(CHANNEL, message) == 2
                client.close()
                await a.execute(CLAIM, {"id": ids[0]}, user="bob")
                update = await next_update(ws, timeout_s=3.0)
            assert update["removedIds"] == [ids[0]]
            # Logged by both replicas, once each (a flood of them is not a flood of log lines).
            ignored = [r.message for r in caplog.records if "malformed message" in r.message]
            assert len(ignored) == 2, ignored
            assert all(m.startswith(f"live broadcast redis://127.0.0.1:{redis_server.port}/0: ignored 1 malformed message(s)") for m in ignored)  # fmt: skip
            wait_for_listeners(redis_server, 2)  # both still listening


async def test_with_redis_gone_subscriptions_go_on_by_polling_and_the_hubs_reconnect(
    upstream: Upstream, tmp_path: Path
) -> None:
    ids = clerk_tasks(upstream, 2)
    with (
        RedisServer.start(tmp_path) as server,
        replicas(upstream, server, interval_s=0.5) as (
            a,
            b,
        ),
    ):
        async with subscribed(b, headers=CLERK) as ws:
            await next_update(ws)
            server.kill()
            started = time.monotonic()
            claimed = await a.execute(CLAIM, {"id": ids[0]}, user="bob")
            assert claimed["data"]["claimTask"]["errors"] == []
            assert time.monotonic() - started < 1.0, "the mutation does not wait for Redis"
            # No push can cross now: B's next poll (every 0.5 s) brings the change.
            assert (await next_update(ws, timeout_s=5.0))["removedIds"] == [ids[0]]
            async with httpx.AsyncClient(base_url=a.base_url) as http:
                assert (await http.get("/readyz")).status_code == 200  # Redis is not the upstream
            server.restart()
            wait_for_listeners(server, 2)  # both listeners are back, with backoff
            await a.execute(CLAIM, {"id": ids[1]}, user="bob")
            assert (await next_update(ws, timeout_s=5.0))["removedIds"] == [ids[1]]


async def test_without_redis_from_the_start_a_replica_serves_and_pushes_its_own_mutations(
    upstream: Upstream,
) -> None:
    ids = clerk_tasks(upstream, 1)
    nowhere = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    with replica(upstream, nowhere, interval_s=LONG_INTERVAL_S) as facade:
        async with subscribed(facade, headers=CLERK) as ws:
            await next_update(ws)
            claimed = await facade.execute(CLAIM, {"id": ids[0]}, user="bob")
            assert claimed["data"]["claimTask"]["errors"] == []
            # Its own pollers are poked in process: no Redis needed, no 30 s wait.
            assert (await next_update(ws, timeout_s=3.0))["removedIds"] == [ids[0]]


async def test_a_hung_redis_is_left_and_rejoined_once_it_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with RedisServer.start(tmp_path) as server:
        channel = RedisBroadcast(server.url, health_check_s=0.2)
        hints = channel.listen()
        with caplog.at_level(logging.INFO, logger="oneweb_graphql.broadcast"):
            waiting = asyncio.ensure_future(anext(hints))
            await asyncio.to_thread(wait_for_listeners, server, 1)
            server.pause()  # the connection stays up; no pong comes back
            for _ in range(250):  # within 5 s; two silent checks take 0.4 s
                if any("unreachable (TimeoutError)" in r.message for r in caplog.records):
                    break
                await asyncio.sleep(0.02)
            assert any("unreachable (TimeoutError)" in r.message for r in caplog.records)
            server.resume()
            # Back on the channel, the listener asks for every listing to be re-polled.
            assert await asyncio.wait_for(waiting, 5.0) == Hint(None)
        await hints.aclose()
        await channel.aclose()
