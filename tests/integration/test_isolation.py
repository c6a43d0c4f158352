"""Credentials never cross requests, and every id reaches the upstream as one encoded segment."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

from backend.models import API_PREFIX

from .conftest import FacadeFactory
from .harness import Facade, Upstream

INBOX = """query($user: String!) { tasks(user: $user) { nodes {
  id instanceId instance { tasks { id } } variables { name value } } } }"""


async def test_concurrent_requests_forward_their_own_authorization_only(
    facade: Facade, upstream: Upstream
) -> None:
    owners: dict[str, str] = {}
    for user in ("alice", "bob"):
        for _ in range(3):
            instance_id = upstream.start("BookingRoom", {"owner": user})
            upstream.rest("POST", f"/instance/{instance_id}/tasks/assign", params={"user": user})
            owners[instance_id] = user
    upstream.recorder.reset()

    async def inbox(user: str) -> dict:
        return await facade.execute(
            INBOX, {"user": user}, headers={"Authorization": f"Bearer token-of-{user}"}
        )

    replies = await asyncio.gather(*(inbox(user) for _ in range(5) for user in ("alice", "bob")))

    for index, reply in enumerate(replies):
        user = ("alice", "bob")[index % 2]
        nodes = reply["data"]["tasks"]["nodes"]
        assert len(nodes) == 3
        assert {owners[node["instanceId"]] for node in nodes} == {user}
        assert all(node["variables"] == [{"name": "owner", "value": user}] for node in nodes)
    calls = upstream.recorder.calls
    task_owner = {task["id"]: owners[iid] for iid in owners for task in upstream.open_tasks(iid)}
    assert len(calls) == 10 * (1 + 3 + 3)
    for call in calls:
        if "user=" in call.query:
            owner = call.query.split("user=")[1]
        elif "/instance/" in call.raw_path:
            owner = owners[call.raw_path.split("/instance/")[1].split("/")[0]]
        else:
            owner = task_owner[call.raw_path.split("/tasks/")[1].split("/")[0]]
        assert call.headers["authorization"] == f"Bearer token-of-{owner}"


async def test_a_cookie_of_one_request_never_reaches_the_upstream_with_another(
    facade: Facade, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")
    await facade.execute(
        '{ tasks(group: "Clerk") { totalCount } }', headers={"Cookie": "JSESSIONID=first"}
    )
    await facade.execute('{ tasks(group: "Clerk") { totalCount } }')
    first, second = upstream.recorder.calls
    assert first.headers["cookie"] == "JSESSIONID=first"
    assert "cookie" not in second.headers


async def test_headers_not_configured_are_not_forwarded(facade: Facade, upstream: Upstream) -> None:
    await facade.execute(
        '{ tasks(group: "Clerk") { totalCount } }',
        headers={"X-Secret-Internal": "x", "Authorization": "Bearer a"},
    )
    [call] = upstream.recorder.calls
    assert "x-secret-internal" not in call.headers
    assert call.headers["authorization"] == "Bearer a"


HOSTILE_ID = "a/../b?c=1#d e"


def _one_segment(raw_path: str, before: str, after: str) -> str:
    """The raw segment between ``before`` and ``after``, asserting it is exactly one segment."""
    assert raw_path.startswith(API_PREFIX + before) and raw_path.endswith(after), raw_path
    segment = raw_path[len(API_PREFIX + before) : len(raw_path) - len(after)]
    assert not any(char in segment for char in "/?# "), segment
    return unquote(segment)


async def test_hostile_instance_id_reaches_the_upstream_as_one_segment(
    facade: Facade, upstream: Upstream
) -> None:
    reply = await facade.execute(
        "query($t: ID!, $i: ID!) { task(id: $t, instanceId: $i) { id } }",
        {"t": HOSTILE_ID, "i": HOSTILE_ID},
    )
    assert reply == {"data": {"task": None}}
    [call] = upstream.recorder.calls
    assert _one_segment(call.raw_path, "/instance/", "/tasks") == HOSTILE_ID


async def test_hostile_task_id_reaches_the_upstream_as_one_segment(
    facade: Facade, upstream: Upstream
) -> None:
    reply = await facade.execute(
        'mutation($t: ID!) { claimTask(input: {taskId: $t, user: "ann"}) { errors { code } } }',
        {"t": HOSTILE_ID},
    )
    assert reply["data"]["claimTask"]["errors"] == [{"code": "NOT_FOUND"}]
    [call] = upstream.recorder.calls
    assert _one_segment(call.raw_path, "/tasks/", "/claim") == HOSTILE_ID
    assert call.query == "user=ann"


async def test_hostile_user_name_stays_in_its_query_value(
    facade: Facade, upstream: Upstream
) -> None:
    await facade.execute('{ tasks(user: "ann&role=Clerk") { totalCount } }')
    [call] = upstream.recorder.calls
    assert call.query == "user=ann%26role%3DClerk"


async def test_dot_segment_ids_are_rejected_before_any_call(
    facade: Facade, upstream: Upstream
) -> None:
    for task_id in ("..", "."):
        reply = await facade.execute(
            'mutation($t: ID!) { completeTask(input: {taskId: $t, user: "ann"}) { errors { code } } }',
            {"t": task_id},
        )
        assert reply["data"]["completeTask"]["errors"] == [{"code": "BAD_USER_INPUT"}]
    assert upstream.paths() == []


async def test_forwarded_headers_are_the_configured_ones(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, forward_headers="X-Tenant")
    await facade.execute(
        '{ tasks(group: "Clerk") { totalCount } }',
        headers={"X-Tenant": "hotel-7", "Authorization": "Bearer a"},
    )
    [call] = upstream.recorder.calls
    assert call.headers["x-tenant"] == "hotel-7"
    assert "authorization" not in call.headers
