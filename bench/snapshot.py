"""Record the upstream replies the scenarios need, from the embedded runtime running real BPMN.

Builds the data (an inbox of 20 tasks over 5 Onboarding instances with 3 variables each,
and 50 more tasks offered to a second user for the claim burst), then sends every
scenario once through the real facade to the runtime behind a capturing wrapper. The last
reply per request (method, raw path and query) is kept: after the burst, each instance's
task list shows its tasks claimed, as the payloads read them. The runtime's
``/BPMREST/openapi.json`` is recorded too, for the GraphQL Mesh peer to build from.
"""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.embedded.app import create_app as create_runtime_app
from backend.embedded.openapi import OPENAPI_PATH
from backend.models import API_PREFIX

from .processes import Facade
from .scenarios import (
    BURST_SIZE,
    INBOX_INSTANCES,
    TASKS_PER_INSTANCE,
    Scenario,
    burst,
    inbox,
    task_detail,
)

__all__ = ["BURST_USER", "INBOX_USER", "Capture", "take"]

INBOX_USER = "dana"
BURST_USER = "erin"


class Capture:
    """ASGI middleware keeping the last reply (status, body) of every distinct request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.replies: dict[str, tuple[int, str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        status = 0
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        self.replies[f"{scope['method']} {target}"] = (status, body.decode())


class _Served:
    """An ASGI app on uvicorn in a background thread, on a free loopback port."""

    def __init__(self, app: ASGIApp) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


def _rest(http: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    envelope = http.request(method, API_PREFIX + path, **kwargs).json()
    assert envelope["code"] == 0, envelope
    return envelope["data"]


def _offer_instances(http: httpx.Client, user: str, count: int) -> list[str]:
    """``count`` Onboarding instances, 3 variables each, every open task offered to ``user``."""
    started = []
    for n in range(count):
        business = {"hire": f"hire-{n}", "department": "Engineering", "startDate": "2025-01-06"}
        instance_id = _rest(
            http, "POST", "/process/start", json={"processName": "Onboarding", "object": business}
        )
        _rest(http, "POST", f"/instance/{instance_id}/tasks/assign", params={"user": user})
        started.append(instance_id)
    return started


def take(path: Path) -> list[Scenario]:
    """Build the data, run each scenario once, write the snapshot to ``path``; the scenarios."""
    with tempfile.TemporaryDirectory(prefix="oneweb-bench-") as tmp:
        runtime = create_runtime_app(db_path=Path(tmp) / "runtime.sqlite3")
        capture = Capture(runtime)
        served = _Served(capture)
        facade: Facade | None = None
        try:
            with httpx.Client(base_url=served.url, timeout=30) as http:
                _offer_instances(http, INBOX_USER, INBOX_INSTANCES)
                burst_instances = -(-BURST_SIZE // TASKS_PER_INSTANCE)
                _offer_instances(http, BURST_USER, burst_instances)
                mine = _rest(http, "GET", "/tasks", params={"user": BURST_USER})
                inbox_tasks = _rest(http, "GET", "/tasks", params={"user": INBOX_USER})
                # The runtime's own OpenAPI description: GraphQL Mesh builds its schema from it.
                http.get(OPENAPI_PATH).raise_for_status()
            claims = [(task["id"], task["instanceId"]) for task in mine[:BURST_SIZE]]
            first = inbox_tasks[0]
            scenarios = [
                inbox(INBOX_USER),
                task_detail(INBOX_USER, first["id"], first["instanceId"]),
                burst(BURST_USER, claims),
            ]
            facade = Facade(served.url, workers=1, env={"ONEWEB_LOADERS": "true"})
            for scenario in scenarios:
                reply = facade.post(scenario.body(), scenario.headers)
                if "errors" in reply:
                    raise RuntimeError(f"{scenario.name} failed: {reply['errors'][:3]}")
        finally:
            if facade is not None:
                facade.stop()
            served.stop()
            runtime.state.runtime.close()
    path.write_text(json.dumps(capture.replies))
    return scenarios
