"""The ``oneweb-graphql`` command, run as a user runs it."""

from __future__ import annotations

import argparse
import base64
import os
import signal
import socket
import subprocess
import time
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from backend.embedded.definitions import BUNDLED_PROCESSES_DIR
from schema import sdl
from server.cli import _parser
from server.settings import Settings
from server.startup import describe_facade
from tests.support.http import TLS
from tests.support.processes import CLI, Command, launch

REPO = Path(__file__).resolve().parents[2]


def test_export_schema_prints_the_sdl() -> None:
    result = subprocess.run([CLI, "export-schema"], capture_output=True, check=True)
    assert result.stdout.decode() == sdl()


def test_export_schema_writes_the_sdl_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    result = subprocess.run([CLI, "export-schema", "-o", str(target)], capture_output=True)
    assert (result.returncode, result.stdout) == (0, b"")
    assert target.read_text() == sdl()


def test_help_lists_every_command() -> None:
    result = subprocess.run([CLI, "--help"], capture_output=True, check=True)
    for command in ("serve", "runtime", "export-schema", "--version"):
        assert command in result.stdout.decode()


def test_version_is_the_installed_distributions() -> None:
    result = subprocess.run([CLI, "--version"], capture_output=True, check=True)
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


def test_serve_prints_its_graphiql_url_and_data_file_once_it_listens(
    live_serve: Command,
) -> None:
    assert live_serve.start_line() == (
        f"oneweb-graphql {version('oneweb-graphql')}: GraphiQL at "
        f"{live_serve.base_url}/graphql (embedded runtime, data in {live_serve.db})\n"
    )
    assert httpx.get(f"{live_serve.base_url}/healthz", verify=TLS).status_code == 200


def test_serve_on_a_taken_port_fails_with_a_clear_message(
    live_serve: Command, tmp_path: Path
) -> None:
    second = launch(tmp_path, "serve", "--port", str(live_serve.port))
    assert second.wait() != 0
    out, err = second.output()
    assert "address already in use" in err.lower() and "GraphiQL" not in out


def test_serve_mounts_the_embedded_runtime_on_the_same_port(live_serve: Command) -> None:
    reply = httpx.get(
        f"{live_serve.base_url}/BPMREST/service/runtime/tasks?group=Clerk", verify=TLS
    )
    assert reply.json()["code"] == 0


def test_start_line_names_the_upstream_without_its_credentials() -> None:
    settings = Settings(base_url="https://svc:s3cret@bpm.example:8443/ctx")
    line = describe_facade(settings, host="0.0.0.0", port=8000, version="1.2")
    assert line == (
        "oneweb-graphql 1.2: GraphiQL at http://0.0.0.0:8000/graphql "
        "(upstream https://bpm.example:8443/ctx)"
    )


def assert_serves_an_empty_queue(base_url: str) -> None:
    """The serve is healthy and answers GraphQL: the Clerk queue of a fresh database is empty."""
    assert httpx.get(f"{base_url}/healthz", verify=TLS).status_code == 200
    reply = httpx.post(
        f"{base_url}/graphql",
        json={"query": '{ tasks(group: "Clerk") { totalCount } }'},
        headers={"X-Remote-User": "clerk", "X-Remote-Groups": "Clerk"},
        verify=TLS,
    )
    assert reply.json() == {"data": {"tasks": {"totalCount": 0}}}


def test_serve_keeps_its_data_in_db_runs_the_processes_of_processes_and_stops_on_sigint(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "leave.bpmn").write_bytes((BUNDLED_PROCESSES_DIR / "LeaveRequest.bpmn").read_bytes())
    db = tmp_path / "chosen.sqlite3"
    command = launch(tmp_path, "serve", "--port", "0", "--db", str(db), "--processes", str(folder))
    try:
        base_url = command.base_url
        assert_serves_an_empty_queue(base_url)
        start = 'mutation { startProcess(input: {processName: "%s"}) { errors { code } } }'
        answers = [
            httpx.post(f"{base_url}/graphql", json={"query": start % name}, verify=TLS).json()
            for name in ("LeaveRequest", "BookingRoom")
        ]
        assert [a["data"]["startProcess"]["errors"] for a in answers] == [
            [],
            [{"code": "NOT_FOUND"}],
        ]
        assert db.exists()
        assert not (tmp_path / "runtime.db").exists()
        assert command.stop(signal.SIGINT) == 0
    finally:
        command.kill()


def test_runtime_serves_rest_and_openapi_alone(tmp_path: Path) -> None:
    db = tmp_path / "alone.db"
    command = launch(tmp_path, "runtime", "--port", "0", "--db", str(db))
    try:
        assert command.start_line() == (
            f"ONEWEB runtime at {command.base_url}/BPMREST/service/runtime (data in {db})\n"
        )
        reply = httpx.get(f"{command.base_url}/BPMREST/openapi.json", verify=TLS)
        assert reply.json()["openapi"].startswith("3.")
        started = httpx.post(
            f"{command.base_url}/BPMREST/service/runtime/process/start",
            json={"processName": "BookingRoom"},
            verify=TLS,
        )
        assert started.json()["code"] == 0
        assert command.stop(signal.SIGINT) == 0
    finally:
        command.kill()


def test_serve_prints_nothing_secret_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    command = launch(tmp_path, "serve", "--port", "0")
    try:
        base_url = command.base_url
        assert_serves_an_empty_queue(base_url)
        httpx.post(
            f"{base_url}/graphql",
            json={"query": '{ tasks(user: "clerk") { totalCount } }'},
            headers={"Authorization": "Bearer s3cret-token", "Cookie": "session=s3cret-cookie"},
            verify=TLS,
        )
        assert command.stop(signal.SIGTERM) == 0
    finally:
        command.kill()
    out, err = command.output()
    assert "s3cret" not in out + err


def _first_frame_after_upgrade(host: str, port: int) -> int:
    """The opcode of the first frame a silent graphql-transport-ws client receives (one
    that offers per-message deflate, which the server declines)."""
    with socket.create_connection((host, port), timeout=5) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Protocol: graphql-transport-ws\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += sock.recv(4096)
        head, _, rest = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        # Offered, refused: deflate state costs ~115 KB per connection (docs/live.md).
        assert b"permessage-deflate" not in head.lower(), head
        first = rest[:1] or sock.recv(1)
        return first[0] & 0x0F


def test_serve_pings_websockets_and_stops_with_an_http_subscription_open(tmp_path: Path) -> None:
    # An open subscription never finishes: the stop waits ONEWEB_TIMEOUT_S, then ends it.
    env = {"ONEWEB_LIVE_KEEPALIVE_S": "0.3", "ONEWEB_TIMEOUT_S": "1"}
    command = launch(tmp_path, "serve", "--port", "0", env=env)
    try:
        host, port = command.base_url.removeprefix("http://").split(":")
        # The client says nothing: the first frame it gets is the server's ping (opcode 9).
        started = time.monotonic()
        assert _first_frame_after_upgrade(host, int(port)) == 0x9
        assert time.monotonic() - started < 3.0
        headers = {
            "X-Remote-User": "clerk",
            "Accept": 'multipart/mixed;subscriptionSpec="1.0", application/json',
        }
        query = {"query": "subscription { inbox { removedIds } }"}
        with (
            httpx.Client(timeout=10, verify=TLS) as client,
            client.stream(
                "POST", f"{command.base_url}/graphql", json=query, headers=headers
            ) as stream,
        ):
            received = b""
            for chunk in stream.iter_bytes():
                received += chunk
                if b"inbox" in received:
                    break  # the subscription runs
            started = time.monotonic()
            assert command.stop(signal.SIGTERM, timeout=10) == 0
        assert time.monotonic() - started < 5
    finally:
        command.kill()
