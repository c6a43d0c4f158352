"""The benchmark's processes: the facade (the real ``oneweb-graphql serve``), the canned
upstream and the load generator, each started on its own so none takes another's CPU
unnoticed, plus the CPU time a process (and its workers) has used."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "Facade",
    "LoadGenerator",
    "RedisServer",
    "Subscribers",
    "Upstream",
    "cpu_seconds",
    "free_port",
    "rss_kb",
    "wait_until_serving",
]

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 20.0
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(kid) for kid in children.read().split()]
    except OSError:
        return []


def _with_descendants(pid: int, own: Callable[[int], float]) -> float:
    """``own(pid)`` plus the same of each of its descendants still alive (Linux ``/proc``)."""
    total = own(pid)
    for kid in _children(pid):
        try:
            total += _with_descendants(kid, own)
        except OSError:
            pass  # it ended meanwhile
    return total


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _rss_kb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its descendants (Linux ``/proc``)."""
    return _with_descendants(pid, _cpu_seconds)


def rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` and its descendants in KiB (Linux ``/proc``)."""
    return int(_with_descendants(pid, _rss_kb))


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_serving(
    process: subprocess.Popen[Any], name: str, answers: Callable[[], bool]
) -> None:
    """Poll ``answers()`` until it is true; stop ``process`` and raise if it exits first or
    ``STARTUP_TIMEOUT_S`` passes. A refused or failed connection counts as not yet."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            if answers():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    _stop(process)
    raise RuntimeError(f"{name} did not start")


def _command(script: str, module: str) -> list[str]:
    # The console script next to this interpreter, as a user runs it; else the module.
    installed = Path(sys.executable).parent / script
    return [str(installed)] if installed.exists() else [sys.executable, "-m", module]


class Facade:
    """``oneweb-graphql serve --upstream URL --workers N`` on a free port, until ``stop``."""

    def __init__(
        self, upstream: str, *, workers: int, env: Mapping[str, str], log: Path | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            *_command("oneweb-graphql", "server.cli"),
            "serve",
            "--port",
            str(self.port),
            "--upstream",
            upstream,
            "--workers",
            str(workers),
        ]
        # Its access log goes to a file: a terminal would make the bench measure the terminal.
        self._log = open(log or os.devnull, "ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "ONEWEB_GC_TUNING": "true", **env},
            stdout=self._log,
            stderr=self._log,
        )
        wait_until_serving(self.process, "the facade", self._healthy)
        # Workers answer /healthz one by one: let all of them come up.
        time.sleep(0.5 if workers > 1 else 0)

    def _healthy(self) -> bool:
        return httpx.get(self.url + "/healthz", timeout=1).status_code == 200

    @property
    def graphql(self) -> str:
        return self.url + "/graphql"

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def rss_kb(self) -> int:
        """Resident memory of the facade process and its workers, in KiB."""
        return rss_kb(self.process.pid)

    def loaded(self, library: str) -> bool:
        """Whether the facade process has ``library``'s extension module mapped (Linux)."""
        with open(f"/proc/{self.process.pid}/maps") as maps:
            return any(f"/{library}/" in line for line in maps)

    def post(self, body: str, headers: Mapping[str, str]) -> dict[str, Any]:
        reply = httpx.post(
            self.graphql,
            content=body,
            headers={"content-type": "application/json", **headers},
            timeout=60,
        )
        reply.raise_for_status()
        result: dict[str, Any] = reply.json()
        return result

    def stop(self) -> None:
        _stop(self.process)
        self._log.close()


class Upstream:
    """``python -m bench.upstream`` serving a snapshot on a free port, until ``stop``."""

    def __init__(self, snapshot: Path, *, effects: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "bench.upstream", "--snapshot", str(snapshot)]
        if effects is not None:
            command += ["--effects", str(effects)]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            _stop(self.process)
            raise RuntimeError("the canned upstream did not start")
        self._http = httpx.Client(base_url=self.url + "/__bench", timeout=5)

    def set_latency(self, ms: float) -> None:
        self._http.post("/latency", params={"ms": ms}).raise_for_status()

    def reset(self) -> None:
        self._http.post("/reset").raise_for_status()

    def calls(self) -> tuple[int, list[str]]:
        """Calls since the last reset, and the first requests the snapshot had no reply for."""
        state = self._http.get("/calls").json()
        return int(state["calls"]), list(state["missing"])

    def distinct_calls(self) -> int:
        """How many distinct requests (method, path and query) since the last reset."""
        return int(self._http.get("/calls").json()["keys"])

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self._http.close()
        _stop(self.process)


class _JsonLinesChild:
    """A ``python -m MODULE`` child: one JSON command per line in, one JSON answer per line out."""

    module = ""
    name = ""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, command: Mapping[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps(command) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            line = ""  # it died before reading the command; its stderr says why
        else:
            line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} died (exit code {self.process.wait(10)})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        """Never raises for a child that died already: the caller's ``finally`` goes on to
        stop the other processes (an upstream left running holds the caller's output pipe
        open, and whatever reads it waits forever)."""
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass  # it died with a command unread in the pipe
        _stop(self.process)


class LoadGenerator(_JsonLinesChild):
    """``python -m bench.load``: runs a load for each command, answers with its figures."""

    module = "bench.load"
    name = "the load generator"

    def run(
        self,
        url: str,
        body: str,
        headers: Mapping[str, str],
        *,
        concurrency: int,
        count: int | None = None,
        seconds: float | None = None,
        rest: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST ``body`` to ``url``; or with ``rest`` (``{"base", "user"}``), fetch the inbox
        from the REST API itself, as the direct peer (``bench.load.rest_inbox``)."""
        command: dict[str, Any] = {
            "url": url,
            "body": body,
            "headers": dict(headers),
            "concurrency": concurrency,
        }
        if rest is not None:
            command["rest"] = dict(rest)
        if count is not None:
            command["count"] = count
        if seconds is not None:
            command["seconds"] = seconds
        result = self._ask(command)
        if result["failures"]:
            raise RuntimeError(f"{result['failures']} failed requests, e.g. {result['failure']}")
        return result


class Subscribers(_JsonLinesChild):
    """``python -m bench.subscribers``: many live-inbox subscriptions over a few WebSockets."""

    module = "bench.subscribers"
    name = "the subscribers' process"

    def _ask(self, command: Mapping[str, Any]) -> dict[str, Any]:
        answer = super()._ask(command)
        if "error" in answer:
            raise RuntimeError(f"subscribers: {answer['error']} {answer.get('errors')}")
        return answer

    def open(
        self,
        url: str,
        query: str,
        users: list[tuple[str, dict[str, str]]],
        *,
        per_user: int,
        per_connection: int,
    ) -> dict[str, Any]:
        """Subscribe ``per_user`` times for each user; returns once every one had its first
        update."""
        return self._ask(
            {
                "cmd": "open",
                "url": url,
                "query": query,
                "users": users,
                "per_user": per_user,
                "per_connection": per_connection,
            }
        )

    def events(self) -> dict[str, Any]:
        """The updates received since the last call: ``[user, id, monotonic time, ids]``."""
        return self._ask({"cmd": "events"})

    def close(self) -> None:
        self._ask({"cmd": "close"})


class RedisServer:
    """Debian's ``redis-server`` on a free loopback port, nothing saved, until ``stop``."""

    def __init__(self, executable: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        # Nothing is saved: a pub/sub channel needs no persistence.
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        _stop(self.process)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        _stop(self.process)
