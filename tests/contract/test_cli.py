"""The ``oneweb-graphql`` command (CONTRACT section 3), run as a user runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from schema import sdl

# The console script the package installs, next to the interpreter running the tests.
CLI = [str(Path(sys.executable).parent / "oneweb-graphql")]
START_WAIT_S = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            return httpx.get(url, timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {START_WAIT_S} s")


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def run(*args: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "ONEWEB_DB": str(tmp_path / "runtime.db")}
        env.pop("ONEWEB_BASE_URL", None)
        process = subprocess.Popen(
            [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()  # reaps it and closes its pipes


def test_export_schema_prints_the_sdl() -> None:
    result = subprocess.run([*CLI, "export-schema"], capture_output=True, check=True)
    assert result.stdout.decode() == sdl()


def test_help_lists_every_command() -> None:
    result = subprocess.run([*CLI, "--help"], capture_output=True, check=True)
    for command in ("serve", "runtime", "export-schema"):
        assert command in result.stdout.decode()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_health_and_graphql_then_stops_cleanly(launch, stop_signal: int) -> None:
    port = _free_port()
    process = launch("serve", "--port", str(port))
    assert _wait_until_up(f"http://127.0.0.1:{port}/healthz", process).status_code == 200
    reply = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": '{ tasks(group: "Clerk") { totalCount } }'},
    )
    assert reply.json() == {"data": {"tasks": {"totalCount": 0}}}
    process.send_signal(stop_signal)
    assert process.wait(timeout=15) == 0


def test_serve_mounts_the_embedded_runtime_on_the_same_port(launch) -> None:
    port = _free_port()
    process = launch("serve", "--port", str(port))
    _wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    reply = httpx.get(f"http://127.0.0.1:{port}/BPMREST/service/runtime/tasks?group=Clerk")
    assert reply.json()["code"] == 0
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_runtime_serves_rest_and_openapi_alone(launch, tmp_path: Path) -> None:
    port = _free_port()
    process = launch("runtime", "--port", str(port), "--db", str(tmp_path / "alone.db"))
    reply = _wait_until_up(f"http://127.0.0.1:{port}/BPMREST/openapi.json", process)
    assert reply.json()["openapi"].startswith("3.")
    started = httpx.post(
        f"http://127.0.0.1:{port}/BPMREST/service/runtime/process/start",
        json={"processName": "BookingRoom"},
    )
    assert started.json()["code"] == 0
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0


def test_serve_prints_nothing_secret(launch) -> None:
    port = _free_port()
    process = launch("serve", "--port", str(port))
    _wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": '{ tasks(user: "clerk") { totalCount } }'},
        headers={"Authorization": "Bearer s3cret-token", "Cookie": "session=s3cret-cookie"},
    )
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=15)
    assert b"s3cret" not in out + err


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


def test_serve_with_workers_runs_that_many_processes_on_one_port(launch) -> None:
    port = _free_port()
    process = launch("serve", "--port", str(port), "--workers", "2")
    _wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    for _ in range(10):  # a new connection each: whichever worker takes it answers alike
        reply = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": '{ process(name: "X") { name } }'}
        )
        assert reply.json() == {"data": {"process": {"name": "X"}}}
    workers = _worker_processes(process.pid)
    assert len(workers) == 2
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
