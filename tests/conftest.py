"""Factory fixtures shared by every test suite: serve ASGI apps on real loopback sockets.

async def test_something(runtime_factory, serve_factory):
    runtime = runtime_factory()             # the embedded runtime: free port, temp DB
    httpx.get(runtime.base_url + "/BPMREST/openapi.json")
    runtime.restart()                       # same port, same DB, a new app
    base_url = serve_factory(any_asgi_app)  # any app, served until teardown

async def test_other(live_serve):
    live_serve.base_url                     # `oneweb-graphql serve`, one per session
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp

from backend.embedded.app import create_app
from tests.support.processes import Command, launch
from tests.support.servers import Server


class RunningRuntime:
    """An embedded runtime served over HTTP: ``base_url``, ``app``, ``stop()``, ``restart()``."""

    def __init__(self, *, db_path: Path, processes_dir: Path | None) -> None:
        self.db_path = db_path
        self.processes_dir = processes_dir
        self.app: Starlette = create_app(db_path=db_path, processes_dir=processes_dir)
        self._server: Server | None = Server(self.app, 0)
        try:
            self._server.start()
        except BaseException:
            self.app.state.runtime.close()
            raise
        self.port = self._server.port
        self.base_url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the server and close the runtime's database; safe to call twice."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.app.state.runtime.close()

    def _stop_later(self, stopping: list[Server]) -> None:
        # uvicorn takes ~0.2 s to wind down; let it do so while the next tests run.
        if self._server is not None:
            self._server.signal_exit()
            stopping.append(self._server)
            self._server = None

    def restart(self) -> None:
        """Stop, then serve a new app over the same database and folder, on the same port."""
        self.stop()
        self.app = create_app(db_path=self.db_path, processes_dir=self.processes_dir)
        self._server = Server(self.app, self.port)
        self._server.start()


class RuntimeFactory(Protocol):
    """``start(db_path=None, processes_dir=None)``: a running runtime (temp DB by default)."""

    def __call__(
        self, db_path: Path | None = None, processes_dir: Path | None = None
    ) -> RunningRuntime: ...


@pytest.fixture(scope="session")
def _stopping_servers() -> Iterator[list[Server]]:
    """Servers told to stop at a test's teardown, joined once at the end of the session."""
    stopping: list[Server] = []
    yield stopping
    for server in stopping:
        server.join()


@pytest.fixture
def runtime_factory(tmp_path: Path, _stopping_servers: list[Server]) -> Iterator[RuntimeFactory]:
    """Start embedded runtimes on free loopback ports; every one is stopped at teardown."""
    started: list[RunningRuntime] = []

    def start(db_path: Path | None = None, processes_dir: Path | None = None) -> RunningRuntime:
        db = db_path or tmp_path / f"runtime-{len(started)}.sqlite3"
        runtime = RunningRuntime(db_path=db, processes_dir=processes_dir)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime._stop_later(_stopping_servers)


class ServeFactory(Protocol):
    """``serve(app)``: the base URL of ``app`` served by uvicorn on a free loopback port
    (with WebSockets: ``ws="websockets-sansio"``)."""

    def __call__(self, app: ASGIApp, *, ws: str = "none") -> str: ...


@pytest.fixture
def serve_factory(_stopping_servers: list[Server]) -> Iterator[ServeFactory]:
    """Serve any ASGI app (a facade, a recording upstream) over real HTTP until teardown."""
    started: list[Server] = []

    def serve(app: ASGIApp, *, ws: str = "none") -> str:
        server = Server(app, 0, ws=ws)
        server.start()
        started.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield serve
    for server in started:
        server.signal_exit()
        _stopping_servers.append(server)


@pytest.fixture(scope="session")
def live_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Command]:
    """One ``oneweb-graphql serve`` per session (so per xdist worker), with the default
    settings over a fresh database, for the tests that need the command as users run it
    and leave it running. They share its database: each starts its own instances.

    Started, not waited for: ``live_serve.base_url`` waits until it listens, so a fixture
    can start something slow (a browser) meanwhile.
    """
    command = launch(tmp_path_factory.mktemp("live-serve"), "serve", "--port", "0")
    yield command
    command.kill()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse tests that share a node id: pytest-xdist would run only the first of them."""
    counts = Counter(item.nodeid for item in items)
    shared = sorted(nodeid for nodeid, count in counts.items() if count > 1)
    if shared:
        raise pytest.UsageError(f"tests share node ids (give each parameter an id): {shared}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a grouped test that pytest-xdist's ``--dist loadgroup`` did not group: it marks
    such a test by a suffix of its node id, which some pytest versions drop; the group's
    tests are then spread as if ungrouped, their shared fixtures set up on every worker."""
    if (
        getattr(item.config.option, "loadgroup", False)
        and item.get_closest_marker("xdist_group")
        and "@" not in item.nodeid
    ):
        pytest.fail("--dist loadgroup does not group with these pytest and pytest-xdist versions")
