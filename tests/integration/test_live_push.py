"""Pushes to live inboxes within one process: a mutation re-polls the listings it touched
and no others (or every one, where it cannot know), a push and the next poll of the same
change send one update, and the embedded runtime pushes changes made on its REST API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from backend.models import API_PREFIX
from server.app import create_app
from server.settings import Settings

from .harness import Facade, Upstream
from .test_live_inbox import (
    CLAIM,
    CLERK,
    LONG_INTERVAL_S,
    clerk_tasks,
    next_message,
    next_update,
    subscribed,
)

if TYPE_CHECKING:  # the root conftest is not importable at run time, only by pytest
    from tests.conftest import ServeFactory

EMPLOYEE = {"X-Remote-User": "emma", "X-Remote-Groups": "Employee"}
MANAGER = {"X-Remote-User": "mia", "X-Remote-Groups": "Manager"}
START = """mutation { startProcess(input: {processName: "LeaveRequest"}) { errors { message } } }"""
COMPLETE = """mutation($id: ID!) { completeTask(input: {taskId: $id}) { errors { message } } }"""
CLAIM_IN = """mutation($id: ID!, $instance: ID!) {
  claimTask(input: {taskId: $id, instanceId: $instance}) { errors { message } } }"""


def facade_polling_every(serve: ServeFactory, upstream: Upstream, interval_s: float) -> Facade:
    settings = Settings(
        base_url=upstream.base_url,
        live_interval_s=interval_s,
        allow_user_override=True,
        live_init_headers=True,
    )
    return Facade(serve(create_app(settings), ws="websockets-sansio"))


@pytest.fixture
def slow_facade(upstream: Upstream, serve_factory: ServeFactory) -> Facade:
    return facade_polling_every(serve_factory, upstream, LONG_INTERVAL_S)


def listing_polls(upstream: Upstream) -> set[str]:
    """The task listings polled since the last reset (``group=Clerk``, ...)."""
    return {call.query for call in upstream.recorder.calls if call.raw_path.endswith(API_PREFIX + "/tasks")}  # fmt: skip


async def test_a_claim_re_polls_the_listings_of_the_task_and_no_others(
    slow_facade: Facade, upstream: Upstream
) -> None:
    (task_id,) = clerk_tasks(upstream, 1)
    upstream.start("LeaveRequest")
    async with (
        subscribed(slow_facade, headers=CLERK) as clerk,
        subscribed(slow_facade, headers=EMPLOYEE) as employee,
    ):
        await next_update(clerk)
        await next_update(employee)
        upstream.recorder.reset()
        claimed = await slow_facade.execute(CLAIM, {"id": task_id}, user="bob")
        assert claimed["data"]["claimTask"]["errors"] == []
        update = await next_update(clerk)
        assert update["removedIds"] == [task_id]
        # The task is offered to Clerk: Employee's and emma's listings are left to their interval.
        assert listing_polls(upstream) == {"group=Clerk"}


async def polls_become(upstream: Upstream, expected: set[str]) -> set[str]:
    """The listings polled since the last reset, once they are ``expected`` (or after 3 s)."""
    for _ in range(150):
        if listing_polls(upstream) == expected:
            break
        await asyncio.sleep(0.02)
    return listing_polls(upstream)


async def test_a_start_and_a_completion_push_the_tasks_they_opened_and_nothing_else(
    slow_facade: Facade, upstream: Upstream
) -> None:
    async with (
        subscribed(slow_facade, headers=EMPLOYEE) as emma,
        subscribed(slow_facade, headers=MANAGER) as mia,
        subscribed(slow_facade, headers=CLERK) as ann,
    ):
        for ws in (emma, mia, ann):
            await next_update(ws)
        upstream.recorder.reset()
        assert (await slow_facade.execute(START, user="emma"))["data"]["startProcess"][
            "errors"
        ] == []
        (submit,) = (await next_update(emma, timeout_s=3.0))["added"]
        assert await polls_become(upstream, {"group=Employee"}) == {"group=Employee"}
        upstream.recorder.reset()
        done = await slow_facade.execute(COMPLETE, {"id": submit["id"]}, headers=EMPLOYEE)
        assert done["data"]["completeTask"]["errors"] == []
        assert (await next_update(emma, timeout_s=3.0))["removedIds"] == [submit["id"]]
        assert len((await next_update(mia, timeout_s=3.0))["added"]) == 1  # ApproveRequest
        # The completed task's group, its user, and the group the next task is offered to.
        expected = {"group=Employee", "user=emma", "group=Manager"}
        assert await polls_become(upstream, expected) == expected


async def test_a_push_and_the_next_poll_of_the_same_change_send_one_update(
    upstream: Upstream, serve_factory: ServeFactory
) -> None:
    facade = facade_polling_every(serve_factory, upstream, 0.1)
    ids = clerk_tasks(upstream, 2)
    async with subscribed(facade, headers=CLERK) as ws:
        await next_update(ws)
        await facade.execute(CLAIM, {"id": ids[0]}, user="bob")
        assert (await next_update(ws))["removedIds"] == [ids[0]]
        upstream.recorder.reset()
        # Several polls see the same claimed task: none of them is news.
        with pytest.raises(TimeoutError):
            await next_message(ws, timeout_s=0.6)
        assert "group=Clerk" in listing_polls(upstream), "the pollers kept polling"


@pytest.fixture
def embedded(tmp_path: Path, serve_factory: ServeFactory) -> str:
    """``serve`` with the embedded runtime, polling every ``LONG_INTERVAL_S``."""
    settings = Settings(
        base_url=None, db=tmp_path / "runtime.sqlite3", live_interval_s=LONG_INTERVAL_S
    )
    return serve_factory(create_app(settings), ws="websockets-sansio")


async def test_the_embedded_runtime_pushes_changes_made_on_its_rest_api(embedded: str) -> None:
    rest = httpx.AsyncClient(base_url=embedded + API_PREFIX)
    async with rest, subscribed(Facade(embedded), init=CLERK) as ws:
        assert (await next_update(ws))["added"] == []
        # Another client starts and claims through the REST API, not through the facade.
        started = await rest.post(
            "/process/start", json={"processName": "BookingRoom", "object": {}}
        )
        instance_id = started.json()["data"]
        added = (await next_update(ws, timeout_s=3.0))["added"]
        assert len(added) == 1
        tasks = (await rest.get(f"/instance/{instance_id}/tasks")).json()["data"]
        assert [task["id"] for task in tasks] == [added[0]["id"]]
        claimed = await rest.post(f"/tasks/{added[0]['id']}/claim", params={"user": "bob"})
        assert claimed.json()["code"] == 0
        assert (await next_update(ws, timeout_s=3.0))["removedIds"] == [added[0]["id"]]
        # A mutation through the facade reaches the runtime in process, which pushes it.
        await rest.post("/process/start", json={"processName": "BookingRoom", "object": {}})
        (second,) = (await next_update(ws, timeout_s=3.0))["added"]
        await Facade(embedded).execute(CLAIM, {"id": second["id"]}, headers=CLERK)
        changed = (await next_update(ws, timeout_s=3.0))["changed"]
        assert changed == [{"id": second["id"], "assignee": "ann"}]
