"""Honest payloads across processes: ``oneweb-graphql serve --workers 2`` on one SQLite file.

Each request goes on a new connection, so whichever worker the kernel picks answers it:
a task listed by one worker is claimed and completed by any. A second ``serve`` on the
same database has listed nothing, as a process after a restart has not. A mutation's
``instance`` is there every time all the same.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CLI = str(Path(sys.executable).parent / "oneweb-graphql")
START_WAIT_S = 20.0
HEADERS = {"X-Remote-User": "ann", "X-Remote-Groups": "Clerk"}
API = "/BPMREST/service/runtime"

Serve = Callable[..., list[str]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve(["--workers", "2"], [])``: one ``serve`` process per argument list, all on one
    database, started together; their base URLs once each answers."""
    env = {**os.environ, "ONEWEB_DB": str(tmp_path / "runtime.sqlite3")}
    env.pop("ONEWEB_BASE_URL", None)
    running: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "serve.log"

    def start(*arguments: list[str]) -> list[str]:
        urls = []
        for extra in arguments:
            port = _free_port()
            with log.open("ab") as err:
                running.append(
                    subprocess.Popen(
                        [CLI, "serve", "--port", str(port), *extra],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                        start_new_session=True,  # its own process group: teardown stops its workers
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + START_WAIT_S
        for process, base_url in zip(running[-len(urls) :], urls, strict=True):
            while True:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"{base_url} did not answer in time"
                try:
                    httpx.get(base_url + "/healthz", timeout=1.0)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
        return urls

    yield start
    for process in running:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _graphql(base_url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    # A new connection per request: the kernel picks the worker.
    reply = httpx.post(
        base_url + "/graphql", json={"query": query, "variables": variables}, headers=HEADERS
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def _start_booking(base_url: str) -> str:
    reply = httpx.post(base_url + API + "/process/start", json={"processName": "BookingRoom"})
    instance_id: str = reply.json()["data"]
    return instance_id


def _first_task(base_url: str, instance_id: str) -> str:
    reply = httpx.get(f"{base_url}{API}/instance/{instance_id}/tasks")
    task_id: str = reply.json()["data"][0]["id"]
    return task_id


CLAIM = "mutation($t: ID!) { claimTask(input: {taskId: $t}) { instance { id } task { assignee } errors { code } } }"
COMPLETE = (
    "mutation($t: ID!) { completeTask(input: {taskId: $t, variables: {roomBooked: false}})"
    " { instance { id tasks { definitionId } } task { id } errors { code } } }"
)


def test_payload_instance_is_there_in_any_worker_and_in_a_process_that_never_listed(
    serve: Serve,
) -> None:
    # The second process starts on the same database and lists nothing, as after a restart.
    workers, restarted = serve(["--workers", "2"], [])
    bookings = [_start_booking(workers) for _ in range(6)]
    tasks = {instance_id: _first_task(workers, instance_id) for instance_id in bookings}
    listed = _graphql(workers, '{ tasks(group: "Clerk") { nodes { id } } }', {})
    assert {node["id"] for node in listed["tasks"]["nodes"]} == set(tasks.values())

    for instance_id, task_id in list(tasks.items())[:3]:
        claimed = _graphql(workers, CLAIM, {"t": task_id})["claimTask"]
        assert claimed == {
            "instance": {"id": instance_id},
            "task": {"assignee": "ann"},
            "errors": [],
        }
        done = _graphql(workers, COMPLETE, {"t": task_id})["completeTask"]
        assert done["errors"] == []
        assert done["instance"] == {
            "id": instance_id,
            "tasks": [{"definitionId": "AddCustomerDetails"}],
        }

    for instance_id, task_id in list(tasks.items())[3:]:
        claimed = _graphql(restarted, CLAIM, {"t": task_id})["claimTask"]
        assert claimed["instance"] == {"id": instance_id}
        done = _graphql(restarted, COMPLETE, {"t": task_id})["completeTask"]
        assert done["errors"] == []
        assert done["instance"]["id"] == instance_id
