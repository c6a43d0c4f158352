"""A small REST client for the embedded runtime's tests, and assertions on its envelopes."""

from __future__ import annotations

from typing import Any

import httpx

from backend.models import API_PREFIX


def ok(response: httpx.Response) -> Any:
    """Assert a successful envelope (HTTP 200, code 0) and return its ``data``."""
    body = response.json()
    assert response.status_code == 200, body
    assert body["code"] == 0, body
    assert isinstance(body["timestamp"], int)
    return body["data"]


def error(response: httpx.Response, code: int, *fragments: str) -> str:
    """Assert an error envelope with ``code`` (as HTTP status too) and return its message.

    Every fragment must occur in the message.
    """
    body = response.json()
    assert response.status_code == code, body
    assert body["code"] == code, body
    message = body["message"]
    assert isinstance(message, str) and message, body
    for fragment in fragments:
        assert fragment in message, message
    return message


class Rest:
    """The runtime's endpoints as methods; paths are relative to ``API_PREFIX``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(API_PREFIX + path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(API_PREFIX + path, **kwargs)

    async def start(self, process: str = "BookingRoom", data: Any = None, **fields: Any) -> str:
        body = {"processName": process, **fields}
        if data is not None:
            body["object"] = data
        instance_id = ok(await self.post("/process/start", json=body))
        assert isinstance(instance_id, str)
        return instance_id

    async def tasks_of(self, instance_id: str) -> list[dict[str, Any]]:
        tasks = ok(await self.get(f"/instance/{instance_id}/tasks"))
        assert isinstance(tasks, list)
        return tasks

    async def only_task(self, instance_id: str) -> dict[str, Any]:
        tasks = await self.tasks_of(instance_id)
        assert len(tasks) == 1, tasks
        return tasks[0]

    async def new_booking_task(self, data: dict[str, Any] | None = None) -> str:
        """Start a BookingRoom instance and return the id of its ChooseRoom task."""
        task = await self.only_task(await self.start("BookingRoom", data))
        return str(task["id"])

    async def tasks_for(self, **principal: str) -> list[dict[str, Any]]:
        response = await self.get("/tasks", params=principal)
        tasks = ok(response)
        assert response.json()["totalRecordCount"] == len(tasks)
        return list(tasks)

    async def claim(self, task_id: str, user: str) -> httpx.Response:
        return await self.post(f"/tasks/{task_id}/claim", params={"user": user})

    async def unclaim(self, task_id: str, user: str) -> httpx.Response:
        return await self.post(f"/tasks/{task_id}/unclaim", params={"user": user})

    async def complete(
        self, task_id: str, user: str, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.post(
            f"/tasks/{task_id}/complete", params={"user": user}, json=variables or {}
        )

    async def variables(self, task_id: str) -> httpx.Response:
        return await self.post(f"/tasks/{task_id}/variables", json={})

    async def assign(self, task_id: str, *users: str) -> httpx.Response:
        return await self.post(f"/tasks/{task_id}/assign", params=[("user", u) for u in users])

    async def finish(self, task_id: str, user: str, variables: dict[str, Any]) -> None:
        """Complete a task and insist it worked."""
        ok(await self.complete(task_id, user, variables))
