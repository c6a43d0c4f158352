"""``oneweb-graphql serve --workers 2``: two processes on one port and one SQLite file.

Each request goes on a new connection, so whichever worker the kernel picks answers it:
a task listed by one worker is claimed and completed by any. A second ``serve`` on the
same database has listed nothing, as a process after a restart has not. A mutation's
``instance`` is there every time all the same. SIGTERM stops the workers with the
supervisor, which exits 0.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.http import TLS
from tests.support.processes import Command, launch

HEADERS = {"X-Remote-User": "ann", "X-Remote-Groups": "Clerk"}
API = "/BPMREST/service/runtime"


def _graphql(base_url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    # A new connection per request: the kernel picks the worker.
    reply = httpx.post(
        base_url + "/graphql",
        json={"query": query, "variables": variables},
        headers=HEADERS,
        verify=TLS,
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def _start_booking(base_url: str) -> str:
    reply = httpx.post(
        base_url + API + "/process/start", json={"processName": "BookingRoom"}, verify=TLS
    )
    instance_id: str = reply.json()["data"]
    return instance_id


def _first_task(base_url: str, instance_id: str) -> str:
    reply = httpx.get(f"{base_url}{API}/instance/{instance_id}/tasks", verify=TLS)
    task_id: str = reply.json()["data"][0]["id"]
    return task_id


CLAIM = "mutation($t: ID!) { claimTask(input: {taskId: $t}) { instance { id } task { assignee } errors { code } } }"
COMPLETE = (
    "mutation($t: ID!) { completeTask(input: {taskId: $t, variables: {roomBooked: false}})"
    " { instance { id tasks { definitionId } } task { id } errors { code } } }"
)


def _worker_processes(pid: int) -> list[int]:
    """The children of ``pid`` that serve (multiprocessing's resource tracker is not one)."""
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    return [
        child for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


@pytest.fixture
def supervisor_and_restarted(tmp_path: Path) -> Iterator[tuple[Command, Command]]:
    """``serve --workers 2`` and a plain ``serve`` on one database, started together."""
    started = [
        launch(tmp_path, "serve", "--port", "0", "--workers", "2", new_session=True),
        # The second process starts on the same database and lists nothing, as after a restart.
        launch(tmp_path, "serve", "--port", "0", new_session=True),
    ]
    try:
        yield started[0], started[1]
    finally:
        for command in started:
            command.kill()


def test_workers_share_one_port_and_any_of_them_completes_a_task_another_listed(
    supervisor_and_restarted: tuple[Command, Command],
) -> None:
    supervisor, second = supervisor_and_restarted
    workers, restarted = supervisor.base_url, second.base_url
    for _ in range(10):  # a new connection each: whichever worker takes it answers alike
        reply = httpx.post(
            f"{workers}/graphql", json={"query": '{ process(name: "X") { name } }'}, verify=TLS
        )
        assert reply.json() == {"data": {"process": {"name": "X"}}}
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

    pids = _worker_processes(supervisor.pid)
    assert len(pids) == 2
    assert supervisor.stop(signal.SIGTERM) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
