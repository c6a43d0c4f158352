"""Benchmark of the embedded runtime over real HTTP: start, claim and complete per second.

Starts ``oneweb-graphql runtime`` (the real command: uvicorn, one process) on a free loopback
port with a temporary database, then for each concurrency level starts N BookingRoom
instances, claims their ChooseRoom tasks and completes them (``roomBooked: false``, so each
complete runs the gateway and creates AddCustomerDetails). Each phase is bounded in count
and in time. Prints ops/s and p50/p99 latency per operation and concurrency.

    .venv/bin/python bench/runtime_bench.py [--count 400] [--seconds 15] [--concurrency 1 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

API = "/BPMREST/service/runtime"
STARTUP_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class PhaseResult:
    """What one operation achieved at one concurrency."""

    operation: str
    concurrency: int
    count: int
    seconds: float
    latencies_ms: list[float]

    @property
    def ops_per_s(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(q) - 1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(db_path: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "server.cli", "runtime", "--port", str(port)]
    return subprocess.Popen([*command, "--db", str(db_path)], cwd=Path(__file__).parents[1])


async def _wait_until_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the runtime exited during startup")
        try:
            connection = await _Connection.open(port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        await connection.close()
        return
    raise SystemExit("the runtime did not start in time")


class _Connection:
    """A minimal HTTP/1.1 keep-alive client connection.

    httpx costs more CPU per request than the runtime itself; on two cores it would measure
    the client. This one does only what the runtime's replies need (Content-Length bodies).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def call(self, method: str, path: str, body: object = None) -> object:
        """Send one request; the envelope's ``data`` (raises unless HTTP 200 and code 0)."""
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {API}{path} HTTP/1.1\r\nHost: bench\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self._writer.write(head.encode() + payload)
        await self._writer.drain()
        status_line, *headers = (await self._reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in headers
            if line.lower().startswith(b"content-length:")
        )
        reply = json.loads(await self._reader.readexactly(length))
        if not status_line.startswith(b"HTTP/1.1 200") or reply.get("code") != 0:
            raise RuntimeError(f"{method} {path}: {reply}")
        return reply["data"]

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


async def _phase(
    operation: str,
    items: Sequence[str],
    call: Callable[[_Connection, str], Awaitable[str]],
    *,
    connections: Sequence[_Connection],
    seconds: float,
) -> tuple[PhaseResult, list[str]]:
    """Run ``call`` over ``items``, one worker per connection, until done or out of time."""
    queue = list(reversed(items))
    latencies: list[float] = []
    outputs: list[str] = []
    began = time.perf_counter()
    stop_at = began + seconds

    async def worker(connection: _Connection) -> None:
        while queue and time.perf_counter() < stop_at:
            item = queue.pop()
            t0 = time.perf_counter()
            outputs.append(await call(connection, item))
            latencies.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(worker(connection) for connection in connections))
    elapsed = time.perf_counter() - began
    result = PhaseResult(operation, len(connections), len(latencies), elapsed, latencies)
    return result, outputs


async def _start(connection: _Connection, _: str) -> str:
    body = {"processName": "BookingRoom", "appName": "bench", "object": {"n": 1}}
    return str(await connection.call("POST", "/process/start", body))


async def _first_task(connection: _Connection, instance_id: str) -> str:
    tasks = await connection.call("GET", f"/instance/{instance_id}/tasks")
    assert isinstance(tasks, list) and tasks
    return str(tasks[0]["id"])


async def _claim(connection: _Connection, task_id: str) -> str:
    await connection.call("POST", f"/tasks/{task_id}/claim?user=bench")
    return task_id


async def _complete(connection: _Connection, task_id: str) -> str:
    await connection.call("POST", f"/tasks/{task_id}/complete?user=bench", {"roomBooked": False})
    return task_id


async def _run_level(port: int, concurrency: int, count: int, seconds: float) -> list[PhaseResult]:
    connections = [await _Connection.open(port) for _ in range(concurrency)]
    try:
        results = []
        items: Sequence[str] = [""] * count
        for operation, call in (
            ("start", _start),
            ("list", _first_task),
            ("claim", _claim),
            ("complete", _complete),
        ):
            result, items = await _phase(
                operation, items, call, connections=connections, seconds=seconds
            )
            results.append(result)
        return results
    finally:
        for connection in connections:
            await connection.close()


def _table(results: Sequence[PhaseResult]) -> str:
    lines = [
        f"{'operation':<10} {'conc':>4} {'n':>6} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8}",
        "-" * 50,
    ]
    for r in results:
        lines.append(
            f"{r.operation:<10} {r.concurrency:>4} {r.count:>6} {r.ops_per_s:>9.1f}"
            f" {r.percentile(50):>8.2f} {r.percentile(99):>8.2f}"
        )
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="runtime-bench-") as folder:
        port = _free_port()
        process = _serve(Path(folder) / "bench.sqlite3", port)
        try:
            await _wait_until_serving(port, process)
            results: list[PhaseResult] = []
            for concurrency in args.concurrency:
                results += await _run_level(port, concurrency, args.count, args.seconds)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(_table(results))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=400, help="operations per phase (max)")
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per phase")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
