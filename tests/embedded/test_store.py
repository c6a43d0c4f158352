"""Persistence: the SQLite store keeps everything across a restart and a kill; where it lives."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from backend.embedded.app import create_app
from backend.embedded.store import default_db_path
from tests.support.http import TLS
from tests.support.ports import free_port

from .rest import Rest, ok

if TYPE_CHECKING:
    from tests.conftest import RunningRuntime, RuntimeFactory

REPO = Path(__file__).resolve().parents[2]
SERVE_ALONE = (
    "import sys, uvicorn; from pathlib import Path; from backend.embedded.app import create_app;"
    " uvicorn.run(create_app(db_path=Path(sys.argv[1])), host='127.0.0.1',"
    " port=int(sys.argv[2]), log_level='warning', ws='none')"
)


async def test_restart_keeps_tasks_claims_and_data(runtime: RunningRuntime, rest: Rest) -> None:
    instance_id = await rest.start("LeaveRequest", {"days": 5})
    await rest.finish((await rest.only_task(instance_id))["id"], "emma", {"note": "trip"})
    approve = await rest.only_task(instance_id)
    ok(await rest.claim(approve["id"], "mike"))
    before = await rest.only_task(instance_id)

    runtime.restart()

    assert await rest.only_task(instance_id) == before
    assert ok(await rest.variables(approve["id"])) == {"days": 5, "note": "trip"}
    await rest.finish(approve["id"], "mike", {"approved": True})
    assert await rest.tasks_of(instance_id) == []


async def test_restart_continues_a_workflow_mid_loop(runtime: RunningRuntime, rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom")
    await rest.finish((await rest.only_task(instance_id))["id"], "c", {"roomBooked": True})
    runtime.restart()
    await rest.finish((await rest.only_task(instance_id))["id"], "c", {"roomBooked": False})
    assert (await rest.only_task(instance_id))["definitionId"] == "AddCustomerDetails"


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the runtime process died"
        try:
            httpx.get(f"{base_url}/BPMREST/openapi.json", timeout=1, verify=TLS).raise_for_status()
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the runtime process did not start")


@dataclass
class RuntimeProcess:
    """The runtime served alone in a child process, to be killed."""

    db_path: Path
    base_url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def runtime_process(tmp_path: Path) -> Iterator[RuntimeProcess]:
    db_path, port = tmp_path / "killed.sqlite3", free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_ALONE, str(db_path), str(port)], cwd=REPO
    )
    child = RuntimeProcess(db_path, f"http://127.0.0.1:{port}", process)
    try:
        _wait_until_serving(child.base_url, process)
        yield child
    finally:
        if process.poll() is None:
            child.kill()


async def test_kill_9_loses_no_acknowledged_operation(
    runtime_process: RuntimeProcess, runtime_factory: RuntimeFactory
) -> None:
    async with httpx.AsyncClient(base_url=runtime_process.base_url, verify=TLS) as client:
        rest = Rest(client)
        instance_id = await rest.start("BookingRoom", {"guest": "Ann"})
        task_id = (await rest.only_task(instance_id))["id"]
        await rest.finish(task_id, "clerk", {"roomBooked": False})
        details = await rest.only_task(instance_id)
        ok(await rest.claim(details["id"], "clerk"))
    runtime_process.kill()

    revived = runtime_factory(db_path=runtime_process.db_path)
    async with httpx.AsyncClient(base_url=revived.base_url, verify=TLS) as client:
        rest = Rest(client)
        task = await rest.only_task(instance_id)
        assert (task["id"], task["assignee"]) == (details["id"], "clerk")
        assert ok(await rest.variables(task["id"])) == {"guest": "Ann", "roomBooked": False}


def test_database_runs_in_wal_mode(runtime: RunningRuntime) -> None:
    with sqlite3.connect(runtime.db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_default_db_path_is_in_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = default_db_path()
    assert path.is_relative_to(tmp_path / "data")
    assert path.parent.is_dir()
    assert not path.is_relative_to(REPO)


async def test_app_serves_without_its_lifespan(tmp_path: Path) -> None:
    app = create_app(db_path=tmp_path / "asgi.sqlite3")
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://runtime", verify=TLS
        ) as client:
            await Rest(client).only_task(await Rest(client).start("BookingRoom"))
    finally:
        app.state.runtime.close()


async def test_lifespan_shutdown_closes_the_runtime(tmp_path: Path) -> None:
    app = create_app(db_path=tmp_path / "lifespan.sqlite3")
    async with app.router.lifespan_context(app):
        assert not app.state.runtime.store.closed
    assert app.state.runtime.store.closed


def test_close_can_be_called_twice(tmp_path: Path) -> None:
    app = create_app(db_path=tmp_path / "twice.sqlite3")
    app.state.runtime.close()
    app.state.runtime.close()
    assert app.state.runtime.store.closed
