"""Every request has an id: the caller's when sane, else a new one; echoed back and sent upstream."""

from __future__ import annotations

import re

import pytest

from .conftest import FacadeFactory
from .harness import Upstream

QUERY = '{ tasks(group: "Clerk") { nodes { id instance { tasks { id } } variables { name } } } }'


def _upstream_ids(upstream: Upstream) -> set[str | None]:
    return {call.headers.get("x-request-id") for call in upstream.recorder.calls}


async def test_incoming_request_id_is_echoed_and_sent_on_every_upstream_call(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")
    facade = facade_factory(upstream.base_url)
    reply = await facade.post(QUERY, headers={"X-Request-ID": "req-7f3a:42"})
    assert reply.status_code == 200
    assert reply.headers["x-request-id"] == "req-7f3a:42"
    assert len(upstream.recorder.calls) == 3  # the list, the instance, the variables
    assert _upstream_ids(upstream) == {"req-7f3a:42"}


async def test_request_id_is_generated_when_absent(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")
    facade = facade_factory(upstream.base_url)
    first = await facade.post(QUERY)
    generated = first.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert _upstream_ids(upstream) == {generated}
    second = await facade.post(QUERY)
    assert second.headers["x-request-id"] != generated


@pytest.mark.parametrize(
    "insane",
    ["x" * 129, "two words", "<script>", "id;drop", ""],
    ids=["too-long", "space", "markup", "semicolon", "empty"],
)
async def test_insane_request_id_is_replaced(
    facade_factory: FacadeFactory, upstream: Upstream, insane: str
) -> None:
    upstream.start("BookingRoom")
    facade = facade_factory(upstream.base_url)
    reply = await facade.post(QUERY, headers={"X-Request-ID": insane})
    replaced = reply.headers["x-request-id"]
    assert replaced != insane
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    assert _upstream_ids(upstream) == {replaced}


async def test_request_id_is_sent_with_mutations(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = upstream.open_tasks(instance_id)[0]["id"]
    facade = facade_factory(upstream.base_url)
    reply = await facade.post(
        'mutation($t: ID!) { claimTask(input: {taskId: $t, user: "clerk"}) { errors { code } } }',
        {"t": task_id},
        headers={"X-Request-ID": "claim-1"},
    )
    assert reply.json()["data"]["claimTask"]["errors"] == []
    assert upstream.paths()[0].endswith("/claim")
    assert _upstream_ids(upstream) == {"claim-1"}
