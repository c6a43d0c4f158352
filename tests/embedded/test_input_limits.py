"""Input limits in the embedded runtime: the facade's limits, answered with 400 envelopes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from backend.models import API_PREFIX

from .rest import Rest, error, ok

if TYPE_CHECKING:  # the root conftest is not importable at run time, only by pytest
    from tests.conftest import RunningRuntime


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("user", ["bo\x00b", "   ", "\t", "a\x1fb", "a\x85b", "u" * 257], ids=repr)
async def test_a_bad_user_name_is_400_and_never_stored(rest: Rest, user: str) -> None:
    task_id = await rest.new_booking_task()

    error(await rest.claim(task_id, user), 400, "`user`")
    error(await rest.get("/tasks", params={"user": user}), 400, "`user`")
    error(await rest.assign(task_id, "ok", user), 400, "`user`")
    error(await rest.complete(task_id, user), 400, "`user`")

    [task] = await rest.tasks_of(await _instance_of(rest, task_id))
    assert task["assignee"] is None
    assert task["candidateUsers"] != ["ok", user]


async def _instance_of(rest: Rest, task_id: str) -> str:
    for instance_task in await rest.tasks_for(group="Clerk"):
        if instance_task["id"] == task_id:
            return str(instance_task["instanceId"])
    raise AssertionError(task_id)


@pytest.mark.parametrize("kind", ["group", "role"])
async def test_a_blank_group_or_role_is_400(rest: Rest, kind: str) -> None:
    error(await rest.get("/tasks", params={kind: " "}), 400, f"`{kind}`")


async def test_a_name_of_256_characters_with_unicode_is_accepted(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    user = "Zoë" + "z" * 253

    ok(await rest.claim(task_id, user))

    [task] = await rest.tasks_for(user=user)
    assert task["assignee"] == user


ID_PATHS = [
    ("POST", "/tasks/{id}/claim?user=bob", "taskId"),
    ("POST", "/tasks/{id}/unclaim?user=bob", "taskId"),
    ("POST", "/tasks/{id}/complete?user=bob", "taskId"),
    ("POST", "/tasks/{id}/variables", "taskId"),
    ("POST", "/tasks/{id}/assign?user=bob", "taskId"),
    ("GET", "/instance/{id}/tasks", "instanceId"),
    ("POST", "/instance/{id}/tasks/assign?user=bob", "instanceId"),
    ("POST", "/process/{id}/start", "processName"),
]


async def test_an_id_over_1024_characters_is_400(rest: Rest) -> None:
    for method, path, field in ID_PATHS:
        reply = await rest.client.request(method, API_PREFIX + path.format(id="i" * 1025))

        error(reply, 400, f"`{field}`", "1024")


async def test_a_process_name_over_1024_characters_is_400(rest: Rest) -> None:
    reply = await rest.post("/process/start", json={"processName": "p" * 1025})

    error(reply, 400, "`processName`")


async def test_a_70000_character_user_or_id_is_400(runtime: RunningRuntime) -> None:
    """Past the HTTP server's own line limit the refusal is the server's plain 400."""
    url = urlsplit(runtime.base_url)
    long = "x" * 70_000
    for target in (f"/tasks?user={long}", f"/tasks/{long}/claim?user=bob"):
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        writer.write(
            f"GET {API_PREFIX}{target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        assert status_line.split()[1] == b"400", status_line


@pytest.mark.parametrize("levels", [65, 254, 1000])
async def test_a_business_object_nested_too_deep_is_400(rest: Rest, levels: int) -> None:
    deep = '{"a": ' * (levels - 1) + "{}" + "}" * (levels - 1)
    body = '{"processName": "BookingRoom", "object": ' + deep + "}"

    reply = await rest.post(
        "/process/start", content=body, headers={"Content-Type": "application/json"}
    )

    assert reply.status_code == 400, reply.text
    assert reply.json()["code"] == 400


async def test_a_legacy_start_object_nested_too_deep_is_400(rest: Rest) -> None:
    error(await rest.post("/process/BookingRoom/start", json=nested(65)), 400, "`object`")


async def test_completion_variables_nested_too_deep_are_400(rest: Rest) -> None:
    task_id = await rest.new_booking_task()

    error(await rest.complete(task_id, "bob", nested(65)), 400, "`variables`")


async def test_a_business_object_sixty_four_deep_is_stored(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom", nested(64))

    assert await rest.tasks_of(instance_id)
