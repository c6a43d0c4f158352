"""The facade's test harness: a recording upstream and a GraphQL client to a running facade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backend.embedded.recorder import Recorder
from backend.models import API_PREFIX, Task, envelope
from tests.support.http import TLS


@dataclass
class Upstream:
    """The embedded runtime behind a ``Recorder``, served over HTTP."""

    base_url: str
    recorder: Recorder
    app: Starlette

    @property
    def api(self) -> str:
        return self.base_url + API_PREFIX

    def rest(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the runtime directly (not recorded as the facade's) and return the envelope's data."""
        reply = httpx.request(method, self.api + path, verify=TLS, **kwargs)
        body = reply.json()
        assert body["code"] == 0, body
        self.recorder.reset()
        return body["data"]

    def start(self, process_name: str, variables: Mapping[str, Any] | None = None) -> str:
        instance_id: str = self.rest(
            "POST",
            "/process/start",
            json={"processName": process_name, "object": dict(variables or {})},
        )
        return instance_id

    def open_tasks(self, instance_id: str) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = self.rest("GET", f"/instance/{instance_id}/tasks")
        return tasks

    def paths(self) -> list[str]:
        """The paths the facade called since the last reset, below the API prefix."""
        return self.recorder.paths(API_PREFIX)


def listings_app(listings: Mapping[str, Sequence[Task]]) -> Starlette:
    """An upstream that serves fixed task listings, keyed by query (``"group=Clerk"``): tasks
    with due dates, priorities and descriptions, which the embedded runtime never sets."""

    async def tasks(request: Request) -> JSONResponse:
        listing = listings.get(str(request.query_params), ())
        return JSONResponse(envelope([task.to_wire() for task in listing], total=len(listing)))

    return Starlette(routes=[Route(API_PREFIX + "/tasks", tasks)])


class Facade:
    """A running facade and a GraphQL client to it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def post(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        user: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if user is not None:
            sent["X-Remote-User"] = user
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30, verify=TLS) as client:
            return await client.post(
                "/graphql", json={"query": query, "variables": dict(variables or {})}, headers=sent
            )

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        user: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST a GraphQL request; the JSON reply (HTTP 200 asserted)."""
        reply = await self.post(query, variables, user=user, headers=headers)
        assert reply.status_code == 200, reply.text
        result: dict[str, Any] = reply.json()
        return result


def assert_well_formed(status: int, body: bytes) -> dict[str, Any]:
    """A GraphQL answer: no 5xx, a JSON object with ``data`` and/or ``errors``; returns it."""
    assert status < 500, body[:500]
    reply: Any = orjson.loads(body)
    assert isinstance(reply, dict), reply
    assert "data" in reply or "errors" in reply, reply
    assert set(reply) <= {"data", "errors", "extensions"}, reply
    for error in reply.get("errors") or ():
        assert isinstance(error["message"], str), error
    if status == 200 and reply.get("data") is None:
        assert reply.get("errors"), reply
    return reply
