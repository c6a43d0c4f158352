"""Generated clients and the GraphQL-over-HTTP audit, against ``oneweb-graphql serve`` as users run it.

with serve(tmp_path) as url:                # the embedded runtime, a temp DB, a free port
    ...
with starting(tmp_path) as served:          # the same, not waited for: served.wait() -> url
    ...
tool = require_tool(EXAMPLES / "typescript" / "node_modules" / ".bin" / "tsc", hint)

The tools (node, npm's packages, ariadne-codegen) are installed once by ``make test``
before pytest starts; a test that lacks one skips, or fails when ``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CLI = Path(sys.executable).parent / "oneweb-graphql"
START_WAIT_S = 20.0
NODE_HINT = "install Node.js >= 20 with npm (e.g. apt-get install nodejs npm), then run make test"


def require_tool(path: Path | str, hint: str) -> str:
    """The tool's path; skips the test when it is missing (fails under ``CI=true``)."""
    found = shutil.which(str(path))
    if found is None:
        _missing(f"{path} not found: {hint}")
    return str(found)


def require_file(path: Path, hint: str) -> Path:
    """``path``, which an install step made; skips when it is missing (fails under ``CI=true``)."""
    if not path.exists():
        _missing(f"{path.relative_to(REPO)} not found: {hint}")
    return path


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run(
    command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs a command; fails the test with its output when it exits non-zero."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    """A started ``oneweb-graphql serve``: its GraphQL ``url``; ``wait()`` until it answers."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}/graphql"

    def wait(self) -> str:
        deadline = time.monotonic() + START_WAIT_S
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1.0)
                return self.url
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"serve did not start:\n{self.log.read_text()}"
                time.sleep(0.05)


@contextlib.contextmanager
def starting(tmp_path: Path, **env: str) -> Iterator[Served]:
    """``oneweb-graphql serve`` on a free port over a fresh database, starting (not yet up)."""
    port = _free_port()
    clean = {name: value for name, value in os.environ.items() if not name.startswith("ONEWEB_")}
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(CLI), "serve", "--port", str(port)],
            env={**clean, "ONEWEB_DB": str(tmp_path / f"runtime-{port}.db"), **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Served(process, port, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def serve(tmp_path: Path, **env: str) -> Iterator[str]:
    """``oneweb-graphql serve`` on a free port over a fresh database; yields its GraphQL URL."""
    with starting(tmp_path, **env) as served:
        yield served.wait()


@pytest.fixture(scope="session")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One ``oneweb-graphql serve`` with the default settings, shared by the tests here."""
    with serve(tmp_path_factory.mktemp("live")) as url:
        yield url
