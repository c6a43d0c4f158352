"""Trusted identity headers: read once each, as UTF-8; and the default that keeps users apart.

With the default settings (``ONEWEB_ALLOW_USER_OVERRIDE`` off), a request acts only as
its principal: no header, no acting as anyone.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from tests.support.http import TLS

from .conftest import FacadeFactory
from .harness import Facade, Upstream

CLAIM = (
    "mutation($input: ClaimTaskInput!) "
    "{ claimTask(input: $input) { task { assignee status } errors { code } } }"
)
COMPLETE = (
    "mutation($input: CompleteTaskInput!) { completeTask(input: $input) { errors { code } } }"
)
LIST = "query($user: String!) { tasks(user: $user) { totalCount } }"

Headers = list[tuple[str, bytes]]


@pytest.fixture
def default_facade(serve_factory: Any, upstream: Upstream) -> Facade:
    """A facade with every setting at its default (only the upstream set)."""
    return Facade(serve_factory(create_app(Settings(base_url=upstream.base_url))))


@pytest.fixture
def strict(facade_factory: FacadeFactory, upstream: Upstream) -> Facade:
    return facade_factory(upstream.base_url, allow_user_override=False)


def _task(upstream: Upstream) -> tuple[str, str]:
    """A new open task: (instance id, task id)."""
    instance_id = upstream.start("BookingRoom")
    task_id: str = upstream.open_tasks(instance_id)[0]["id"]
    return instance_id, task_id


async def _post(
    facade: Facade, query: str, variables: dict[str, Any], headers: Headers
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        return await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=[(name.encode(), value) for name, value in headers],
        )


def test_the_override_is_off_by_default() -> None:
    assert Settings().allow_user_override is False


async def test_without_a_header_nobody_completes_bobs_task_as_bob(
    default_facade: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _task(upstream)
    upstream.rest("POST", f"/tasks/{task_id}/claim", params={"user": "bob"})

    completed = await default_facade.execute(
        COMPLETE, {"input": {"taskId": task_id, "user": "bob"}}
    )
    listed = await default_facade.execute(LIST, {"user": "bob"})

    assert completed["data"]["completeTask"]["errors"] == [{"code": "FORBIDDEN"}]
    assert [error["extensions"]["code"] for error in listed["errors"]] == ["FORBIDDEN"]
    assert upstream.paths() == []
    [task] = upstream.open_tasks(instance_id)
    assert (task["id"], task["assignee"], task["status"]) == (task_id, "bob", "CLAIMED")


async def test_with_the_header_bob_completes_his_own_task(
    default_facade: Facade, upstream: Upstream
) -> None:
    _, task_id = _task(upstream)
    upstream.rest("POST", f"/tasks/{task_id}/claim", params={"user": "bob"})

    completed = await default_facade.execute(
        COMPLETE, {"input": {"taskId": task_id, "variables": {"roomBooked": False}}}, user="bob"
    )

    assert completed["data"]["completeTask"]["errors"] == []


DUPLICATED: list[Headers] = [
    [("X-Remote-User", b"bob"), ("X-Remote-User", b"alice")],
    [("X-Remote-User", b"bob"), ("x-remote-user", b"bob")],
    [("X-Remote-User", b"bob"), ("X-Remote-Groups", b"Clerk"), ("X-Remote-Groups", b"Admin")],
    [("X-Remote-User", b"bob"), ("X-Remote-Roles", b"a"), ("X-Remote-Roles", b"b")],
]


async def test_a_trusted_header_sent_twice_is_401(
    default_facade: Facade, upstream: Upstream
) -> None:
    for headers in DUPLICATED:
        reply = await _post(default_facade, LIST, {"user": "bob"}, headers)

        assert reply.status_code == 401, headers
        [error] = reply.json()["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED", headers
        assert "sent 2 times" in error["message"], headers
    assert upstream.paths() == []


async def test_a_utf8_user_header_is_read_as_utf8(strict: Facade, upstream: Upstream) -> None:
    instance_id, task_id = _task(upstream)

    reply = await _post(
        strict, CLAIM, {"input": {"taskId": task_id}}, [("X-Remote-User", "Zoë".encode())]
    )

    assert reply.json()["data"]["claimTask"]["errors"] == []
    [task] = upstream.open_tasks(instance_id)
    assert task["assignee"] == "Zoë"
    listed = await _post(strict, LIST, {"user": "Zoë"}, [("X-Remote-User", "Zoë".encode())])
    assert listed.json() == {"data": {"tasks": {"totalCount": 1}}}


async def test_a_utf8_groups_header_is_read_as_utf8(strict: Facade, upstream: Upstream) -> None:
    reply = await _post(
        strict,
        'query { tasks(group: "Équipe") { totalCount } }',
        {},
        [("X-Remote-User", b"alice"), ("X-Remote-Groups", "Équipe, Clerk".encode())],
    )

    assert reply.json() == {"data": {"tasks": {"totalCount": 0}}}


NOT_NAMES: list[Headers] = [
    [("X-Remote-User", b"\xff\xfe")],
    [("X-Remote-User", b"bob"), ("X-Remote-Groups", b"Cl\xe9rk")],
    [("X-Remote-User", b"u" * 257)],
    [("X-Remote-User", b"bo\tb")],
    [("X-Remote-User", "bo\u0085b".encode())],
]


async def test_a_trusted_header_that_is_not_a_utf8_name_is_401(
    default_facade: Facade, upstream: Upstream
) -> None:
    for headers in NOT_NAMES:
        reply = await _post(default_facade, LIST, {"user": "bob"}, headers)

        assert reply.status_code == 401, headers
        assert reply.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", headers
    assert upstream.paths() == []
