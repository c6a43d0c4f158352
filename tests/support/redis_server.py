"""A throwaway ``redis-server`` (Debian's package) on a free loopback port, for the tests of
the live inbox's Redis broadcast; no persistence, its files in a temporary folder.

    with RedisServer.start(tmp_path) as server:
        settings = Settings(broadcast_url=server.url)
        server.kill()          # Redis goes away mid-test
        server.pause()         # or hangs: connections open, no answers (then resume())
        server.restart()       # and comes back on the same port

Without ``redis-server`` on PATH, ``require_redis_server()`` skips the test with how to
install it, and fails it when ``CI=true`` (CI installs it in ``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import pytest

from .ports import free_port

__all__ = ["RedisServer", "require_redis_server"]

_STARTUP_TIMEOUT_S = 10.0


def require_redis_server() -> str:
    """The path of ``redis-server``; skips (or, with ``CI=true``, fails) without it."""
    path = shutil.which("redis-server")
    if path is None:
        message = "redis-server is not installed: install it: apt-get install redis-server"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


class RedisServer:
    """One ``redis-server`` process; ``kill()`` and ``restart()`` it on the same port."""

    def __init__(self, executable: str, directory: Path, port: int) -> None:
        self._executable = executable
        self._directory = directory
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, directory: Path) -> RedisServer:
        server = cls(require_redis_server(), directory, free_port())
        server.restart()
        return server

    def restart(self) -> None:
        """Start the server (again) on its port; returns once it accepts connections."""
        self.kill()
        self._process = subprocess.Popen(
            [
                self._executable,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self._directory),
                "--logfile", "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while not self._answers_ping():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open, nothing answers."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server go on (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """Stop the server at once (SIGKILL: no goodbye to its clients)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
            self._process = None

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.kill()
