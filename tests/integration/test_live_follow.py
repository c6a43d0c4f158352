"""After its first update a WebSocket subscription is followed, not executed as a long
GraphQL operation: while idle nothing of it runs, each update is executed anew (its nested
fields read the upstream again), and completing it or closing the socket ends it."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
from starlette.types import ASGIApp

from backend.embedded.recorder import Fault
from resolvers.live import Hub
from server.app import create_app
from server.settings import Settings

from .harness import Facade, Upstream
from .test_live_inbox import CLAIM, CLERK, LONG_INTERVAL_S, clerk_tasks, next_update, subscribed

if TYPE_CHECKING:  # the root conftest is not importable at run time, only by pytest
    from tests.conftest import ServeFactory

NESTED = """subscription { inbox {
  added { id assignee instance { tasks { id assignee } } }
  changed { id assignee instance { tasks { id assignee } } } } }"""


@pytest.fixture
def app(upstream: Upstream, serve_factory: ServeFactory) -> tuple[ASGIApp, Facade]:
    settings = Settings(
        base_url=upstream.base_url, live_interval_s=LONG_INTERVAL_S, allow_user_override=True
    )
    application = create_app(settings)
    return application, Facade(serve_factory(application, ws="websockets-sansio"))


def hub_of(application: ASGIApp) -> Hub:
    """The live hub of ``create_app``'s app (the Starlette app inside its tracing)."""
    hub: Hub = application.app.state.hub  # type: ignore[attr-defined]
    return hub


def running(application: ASGIApp, *names: str) -> list[str]:
    """The facade's tasks running a coroutine of one of these names."""
    hub = hub_of(application)
    runners = [poller.runner for poller in hub._pollers.values() if poller.runner is not None]
    assert runners, "a subscription is open: its listings are polled"
    loop = runners[0].get_loop()

    async def qualnames() -> list[str]:
        return [task.get_coro().__qualname__ for task in asyncio.all_tasks()]  # type: ignore[union-attr]

    every = asyncio.run_coroutine_threadsafe(qualnames(), loop).result(timeout=5)
    return [name for name in every if name.rsplit(".", 1)[-1] in names]


async def test_an_idle_subscription_runs_nothing_of_its_own(
    app: tuple[ASGIApp, Facade], upstream: Upstream
) -> None:
    application, facade = app
    (task_id,) = clerk_tasks(upstream, 1)
    async with subscribed(facade, headers=CLERK) as ws:
        for number in range(2, 5):  # four subscriptions on the connection
            payload = {"query": "subscription { inbox { removedIds } }"}
            await ws.send(json.dumps({"id": str(number), "type": "subscribe", "payload": payload}))
        updates = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(4)]
        assert sorted(update["id"] for update in updates) == ["1", "2", "3", "4"]
        # The pollers and the connection run; no operation and no follower does.
        await _until(lambda: not running(application, "run_operation", "_catch_up"))
        await facade.execute(CLAIM, {"id": task_id}, headers=CLERK)
        pushed = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(4)]
        by_id = {message["id"]: message["payload"]["data"]["inbox"] for message in pushed}
        assert by_id["1"]["changed"] == [{"id": task_id, "assignee": "ann"}]
        assert by_id["4"] == {"removedIds": []}  # each executed its own document
        await _until(lambda: not running(application, "run_operation", "_catch_up"))


async def test_each_update_reads_nested_fields_anew(
    app: tuple[ASGIApp, Facade], upstream: Upstream
) -> None:
    _, facade = app
    (task_id,) = clerk_tasks(upstream, 1)
    async with subscribed(facade, headers=CLERK, query=NESTED) as ws:
        (added,) = (await next_update(ws))["added"]
        assert added["instance"]["tasks"] == [{"id": task_id, "assignee": None}]
        await facade.execute(CLAIM, {"id": task_id}, headers=CLERK)
        (changed,) = (await next_update(ws))["changed"]
        # Not the instance's tasks as the first update read them.
        assert changed["instance"]["tasks"] == [{"id": task_id, "assignee": "ann"}]


async def test_completing_a_followed_subscription_stops_its_polling(
    app: tuple[ASGIApp, Facade], upstream: Upstream
) -> None:
    application, facade = app
    clerk_tasks(upstream, 1)
    hub = hub_of(application)
    async with subscribed(facade, headers=CLERK) as ws:
        await next_update(ws)
        assert set(hub.active) == {("user", "ann"), ("group", "Clerk")}
        await ws.send(json.dumps({"id": "1", "type": "complete"}))
        await _until(lambda: not hub.active)
        # The id is free again: a new subscription under it gets its own first update.
        payload: dict[str, Any] = {"query": "subscription { inbox { removedIds } }"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        assert (await next_update(ws))["removedIds"] == []
    await _until(lambda: not hub.active)  # the socket closed: its subscription ended


async def _until(condition: Any, timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout_s} s")


async def test_a_first_update_that_fails_ends_the_subscription_and_its_polling(
    app: tuple[ASGIApp, Facade], upstream: Upstream
) -> None:
    application, facade = app
    upstream.recorder.fault = lambda call: (
        Fault.HTML_500 if call.raw_path.endswith("/tasks") else None
    )
    async with subscribed(facade, headers=CLERK) as ws:
        failed = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert failed["type"] == "next" and failed["payload"]["data"] is None
        (error,) = failed["payload"]["errors"]
        assert error["extensions"]["code"] == "UPSTREAM_ERROR"
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"id": "1", "type": "complete"}
        await _until(lambda: not hub_of(application).active)
