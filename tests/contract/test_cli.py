"""The ``oneweb-graphql`` command, run as a user runs it."""

from __future__ import annotations

import argparse
import base64
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from backend.embedded.definitions import BUNDLED_PROCESSES_DIR
from schema import sdl
from server.cli import _parser
from server.settings import Settings
from server.startup import describe_facade
from tests.support.ports import free_port

# The console script the package installs, next to the interpreter running the tests.
CLI = [str(Path(sys.executable).parent / "oneweb-graphql")]
START_WAIT_S = 20.0
# One xdist worker runs this module, so that its shared `serve` process starts once.
pytestmark = pytest.mark.xdist_group("cli")
REPO = Path(__file__).resolve().parents[2]

Launch = Callable[..., subprocess.Popen[bytes]]


def _start_line(process: subprocess.Popen[bytes]) -> str:
    """The first line the process prints, which it prints once it listens."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=START_WAIT_S):
            raise AssertionError(f"nothing printed within {START_WAIT_S} s")
    line = process.stdout.readline().decode()
    assert line, process.stderr.read().decode() if process.stderr else "exited"
    return line


def _base_url(process: subprocess.Popen[bytes]) -> str:
    match = re.search(r"at (http://\S+?)(/graphql|/BPMREST\S*) ", _start_line(process))
    assert match, "the start line names no URL"
    return match.group(1)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
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


def test_export_schema_writes_the_sdl_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    result = subprocess.run([*CLI, "export-schema", "-o", str(target)], capture_output=True)
    assert (result.returncode, result.stdout) == (0, b"")
    assert target.read_text() == sdl()


def test_help_lists_every_command() -> None:
    result = subprocess.run([*CLI, "--help"], capture_output=True, check=True)
    for command in ("serve", "runtime", "export-schema", "--version"):
        assert command in result.stdout.decode()


def test_version_is_the_installed_distributions() -> None:
    result = subprocess.run([*CLI, "--version"], capture_output=True, check=True)
    assert result.stdout.decode() == f"oneweb-graphql {version('oneweb-graphql')}\n"


def _options() -> list[tuple[str, argparse.Action]]:
    commands = next(
        action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction)
    )
    return [
        (f"{name} {action.option_strings[-1]}", action)
        for name, command in commands.choices.items()
        for action in command._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction)
    ]


@pytest.mark.parametrize(("option", "action"), _options(), ids=[name for name, _ in _options()])
def test_every_option_has_help_that_shows_its_default(option: str, action: argparse.Action) -> None:
    assert action.help and "(default: " in action.help, option


def test_make_run_passes_port_and_host_to_serve() -> None:
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "HOST=0.0.0.0"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    assert "oneweb-graphql serve --host 0.0.0.0 --port 8123" in result.stdout.decode()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_health_and_graphql_then_stops_cleanly(
    launch: Launch, stop_signal: int
) -> None:
    process = launch("serve", "--port", "0")
    base_url = _base_url(process)
    assert httpx.get(f"{base_url}/healthz").status_code == 200
    reply = httpx.post(
        f"{base_url}/graphql",
        json={"query": '{ tasks(group: "Clerk") { totalCount } }'},
        headers={"X-Remote-User": "clerk", "X-Remote-Groups": "Clerk"},
    )
    assert reply.json() == {"data": {"tasks": {"totalCount": 0}}}
    process.send_signal(stop_signal)
    assert process.wait(timeout=15) == 0


@dataclass(frozen=True)
class Serving:
    """A ``serve`` process shared by the tests that only read from it."""

    process: subprocess.Popen[bytes]
    port: int
    start_line: str
    db: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    db = tmp_path_factory.mktemp("serving") / "runtime.db"
    env = {**os.environ, "ONEWEB_DB": str(db)}
    env.pop("ONEWEB_BASE_URL", None)
    port = free_port()
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield Serving(process, port, _start_line(process), db)
    finally:
        process.kill()
        process.communicate()


def test_serve_prints_its_graphiql_url_and_data_file_once_it_listens(serving: Serving) -> None:
    assert serving.start_line == (
        f"oneweb-graphql {version('oneweb-graphql')}: GraphiQL at "
        f"{serving.base_url}/graphql (embedded runtime, data in {serving.db})\n"
    )
    assert httpx.get(f"{serving.base_url}/healthz").status_code == 200


def test_serve_on_a_taken_port_fails_with_a_clear_message(launch: Launch, serving: Serving) -> None:
    second = launch("serve", "--port", str(serving.port))
    out, err = second.communicate(timeout=15)
    assert second.returncode != 0
    assert b"address already in use" in err.lower() and b"GraphiQL" not in out


def test_serve_mounts_the_embedded_runtime_on_the_same_port(serving: Serving) -> None:
    reply = httpx.get(f"{serving.base_url}/BPMREST/service/runtime/tasks?group=Clerk")
    assert reply.json()["code"] == 0


def test_start_line_names_the_upstream_without_its_credentials() -> None:
    settings = Settings(base_url="https://svc:s3cret@bpm.example:8443/ctx")
    line = describe_facade(settings, host="0.0.0.0", port=8000, version="1.2")
    assert line == (
        "oneweb-graphql 1.2: GraphiQL at http://0.0.0.0:8000/graphql "
        "(upstream https://bpm.example:8443/ctx)"
    )


def test_serve_keeps_its_data_in_db_and_runs_the_processes_of_processes(
    launch: Launch, tmp_path: Path
) -> None:
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "leave.bpmn").write_bytes((BUNDLED_PROCESSES_DIR / "LeaveRequest.bpmn").read_bytes())
    db = tmp_path / "chosen.sqlite3"
    process = launch("serve", "--port", "0", "--db", str(db), "--processes", str(folder))
    base_url = _base_url(process)
    start = 'mutation { startProcess(input: {processName: "%s"}) { errors { code } } }'
    answers = [
        httpx.post(f"{base_url}/graphql", json={"query": start % name}).json()
        for name in ("LeaveRequest", "BookingRoom")
    ]
    assert [a["data"]["startProcess"]["errors"] for a in answers] == [[], [{"code": "NOT_FOUND"}]]
    assert db.exists()
    assert not (tmp_path / "runtime.db").exists()


def test_runtime_serves_rest_and_openapi_alone(launch: Launch, tmp_path: Path) -> None:
    db = tmp_path / "alone.db"
    process = launch("runtime", "--port", "0", "--db", str(db))
    line = _start_line(process)
    base_url = line.split(" at ", 1)[1].split("/BPMREST", 1)[0]
    assert line.endswith(f"/BPMREST/service/runtime (data in {db})\n")
    reply = httpx.get(f"{base_url}/BPMREST/openapi.json")
    assert reply.json()["openapi"].startswith("3.")
    started = httpx.post(
        f"{base_url}/BPMREST/service/runtime/process/start", json={"processName": "BookingRoom"}
    )
    assert started.json()["code"] == 0
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0


def test_serve_prints_nothing_secret(launch: Launch) -> None:
    process = launch("serve", "--port", "0")
    base_url = _base_url(process)
    httpx.post(
        f"{base_url}/graphql",
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


def test_serve_with_workers_runs_that_many_processes_on_one_port(launch: Launch) -> None:
    process = launch("serve", "--port", "0", "--workers", "2")
    base_url = _base_url(process)
    for _ in range(10):  # a new connection each: whichever worker takes it answers alike
        reply = httpx.post(f"{base_url}/graphql", json={"query": '{ process(name: "X") { name } }'})
        assert reply.json() == {"data": {"process": {"name": "X"}}}
    workers = _worker_processes(process.pid)
    assert len(workers) == 2
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_serve_pings_a_websocket_client_every_keepalive_interval(
    launch: Launch, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEWEB_LIVE_KEEPALIVE_S", "0.3")
    host, port = _base_url(launch("serve", "--port", "0")).removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += sock.recv(4096)
        head, _, rest = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        # The client says nothing: the first frame it gets is the server's ping (opcode 9).
        started = time.monotonic()
        first = rest[:1] or sock.recv(1)
        assert first[0] & 0x0F == 0x9
        assert time.monotonic() - started < 3.0


def test_serve_stops_on_a_signal_with_an_http_subscription_open(
    launch: Launch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An open subscription never finishes: the stop waits ONEWEB_TIMEOUT_S, then ends it.
    monkeypatch.setenv("ONEWEB_TIMEOUT_S", "1")
    process = launch("serve", "--port", "0")
    base_url = _base_url(process)
    headers = {
        "X-Remote-User": "clerk",
        "Accept": 'multipart/mixed;subscriptionSpec="1.0", application/json',
    }
    query = {"query": "subscription { inbox { removedIds } }"}
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", f"{base_url}/graphql", json=query, headers=headers) as stream,
    ):
        received = b""
        for chunk in stream.iter_bytes():
            received += chunk
            if b"inbox" in received:
                break  # the subscription runs
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
