"""The ``oneweb-graphql`` command in a process of its own, started as a user starts it.

    command = launch(tmp_path, "serve", "--port", "0")  # returns at once
    command.base_url           # waits for the line it prints once it listens; its URL
    command.stop(signal.SIGTERM) == 0
    command.output()           # (stdout, stderr), from files: a pipe nobody reads could fill

Port 0 everywhere: the command binds a free port itself and names it in its start line,
so no port is picked in advance (another process could take it first). The environment
is this one without any ``ONEWEB_*`` variable, plus ``ONEWEB_DB`` in ``folder`` and what
the caller adds. The ``live_serve`` fixture of ``tests/conftest.py`` shares one ``serve``
per test session.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["CLI", "START_WAIT_S", "Command", "launch"]

#: The console script the package installs, next to the interpreter running the tests.
CLI = str(Path(sys.executable).parent / "oneweb-graphql")
START_WAIT_S = 20.0
STOP_WAIT_S = 15.0
_URL = re.compile(r" at (http://[^/\s]+)")
_numbers = itertools.count()


class Command:
    """A started ``oneweb-graphql`` command; its output goes to two files in ``folder``."""

    def __init__(
        self, folder: Path, args: tuple[str, ...], env: dict[str, str], *, new_session: bool
    ) -> None:
        self.db = Path(env["ONEWEB_DB"])
        name = f"{args[0]}-{next(_numbers)}"
        self._stdout, self._stderr = folder / f"{name}.out", folder / f"{name}.err"
        with self._stdout.open("wb") as out, self._stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [CLI, *args], env=env, stdout=out, stderr=err, start_new_session=new_session
            )
        self._new_session = new_session
        self._start_line: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def start_line(self) -> str:
        """The first line printed, which ``serve`` and ``runtime`` print once they listen."""
        deadline = time.monotonic() + START_WAIT_S
        while self._start_line is None:
            text = self._stdout.read_text()
            if "\n" in text:
                self._start_line = text.split("\n", 1)[0] + "\n"
                break
            if self.process.poll() is not None:
                raise AssertionError(f"exited {self.process.returncode}: {self._stderr_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing printed within {START_WAIT_S} s")
            time.sleep(0.02)
        return self._start_line

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, once it listens."""
        match = _URL.search(self.start_line())
        assert match, f"the start line names no URL: {self._start_line!r}"
        return match.group(1)

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def output(self) -> tuple[str, str]:
        """What it printed so far: (stdout, stderr)."""
        return self._stdout.read_text(), self._stderr_text()

    def wait(self, timeout: float = STOP_WAIT_S) -> int:
        return self.process.wait(timeout)

    def stop(self, stop_signal: int = signal.SIGTERM, timeout: float = STOP_WAIT_S) -> int:
        """Send ``stop_signal``; its exit code once it has exited."""
        self.process.send_signal(stop_signal)
        return self.wait(timeout)

    def kill(self) -> None:
        """Kill it (and its process group, if it has one of its own) unless it exited."""
        if self.process.poll() is None:
            if self._new_session:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
        self.process.wait()

    def _stderr_text(self) -> str:
        return self._stderr.read_text(errors="replace")


def launch(
    folder: Path, *args: str, env: dict[str, str] | None = None, new_session: bool = False
) -> Command:
    """Start ``oneweb-graphql *args`` with its data in ``folder``; returns without waiting.

    ``new_session``: a process group of its own, which ``kill()`` kills whole (the
    workers of ``serve --workers``).
    """
    clean = {name: value for name, value in os.environ.items() if not name.startswith("ONEWEB_")}
    environment = {**clean, "ONEWEB_DB": str(folder / "runtime.db"), **(env or {})}
    return Command(folder, args, environment, new_session=new_session)
