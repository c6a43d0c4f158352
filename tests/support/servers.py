"""A uvicorn server in a background thread of the test process, on a loopback port.

Function-scoped tests use the ``serve_factory`` / ``runtime_factory`` fixtures of
``tests/conftest.py``. A fixture that shares one live server among many tests (a
session-scoped facade for browser or codegen tests, say) uses ``serving``:

    @pytest.fixture(scope="session")
    def live_facade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        db = tmp_path_factory.mktemp("live") / "runtime.sqlite3"
        with serving(create_app(Settings(base_url=None, db=db))) as base_url:
            yield base_url

Under pytest-xdist every worker process has its own session, so its own such server.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

__all__ = ["STARTUP_TIMEOUT_S", "Server", "serving"]

STARTUP_TIMEOUT_S = 10.0


class Server:
    """One uvicorn server in a background thread, on an already bound socket."""

    def __init__(self, app: ASGIApp, port: int, *, ws: str = "none") -> None:
        # No WebSockets unless asked (``ws="websockets-sansio"``): the legacy module warns
        # on import.
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws=ws)
        self._server = uvicorn.Server(config)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                raise RuntimeError("the uvicorn server did not start")
            time.sleep(0.005)

    def signal_exit(self) -> None:
        self._server.should_exit = True

    def join(self) -> None:
        self._thread.join(STARTUP_TIMEOUT_S)
        self._socket.close()

    def stop(self) -> None:
        self.signal_exit()
        self.join()


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL, stops it on exit."""
    server = Server(app, 0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()
