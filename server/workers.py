"""``serve --workers N``: N processes on one port, each accepting on its own socket.

uvicorn's own workers share one listening socket, and whichever is awake accepts the
next connections: long-lived keep-alive connections from a load balancer or a client
pool then pile up on one worker while the other idles. Here every worker binds its own
``SO_REUSEPORT`` socket, so the kernel spreads connections evenly over them. The
supervisor forwards SIGINT/SIGTERM to the workers, waits for their graceful shutdown
and exits 0; if a worker dies on its own, it stops the others and exits 1, for the
process manager to restart the whole.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from .shutdown import stop_cleanly_on_signals

__all__ = ["serve_workers"]

#: How long a worker has to finish its requests after the stop signal.
GRACEFUL_STOP_S = 30.0
_POLL_S = 0.2


def _reuseport_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, app: str, options: dict[str, Any]) -> None:
    import uvicorn

    sock = _reuseport_socket(host, port)
    stop_cleanly_on_signals()
    uvicorn.Server(uvicorn.Config(app, factory=True, **options)).run(sockets=[sock])


def _wait_until_accepting(
    host: str, port: int, processes: list[BaseProcess], stopping: list[int]
) -> bool:
    """Whether a worker accepts on ``port`` before any worker dies or a stop signal comes."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    while not stopping and all(process.is_alive() for process in processes):
        try:
            socket.create_connection((target, port), timeout=_POLL_S).close()
            return True
        except OSError:
            processes[0].join(_POLL_S / 4)
    return False


def serve_workers(
    *,
    app: str,
    host: str,
    port: int,
    workers: int,
    options: dict[str, Any],
    on_start: Callable[[int], None] | None = None,
) -> int:
    """Run ``workers`` uvicorn processes serving the app factory ``app`` on ``host:port``.

    ``on_start`` is called with the port once a worker accepts connections.

    >>> serve_workers(app="server.app:create_app_from_env", host="0.0.0.0", port=8000, workers=4, options={})
    """
    # Bound (not listening) for the supervisor's lifetime: resolves port 0, and keeps the
    # port ours between the workers' starts. Only listening sockets receive connections.
    reserved = _reuseport_socket(host, port)
    port = reserved.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = [
        context.Process(target=_worker, args=(host, port, app, options), daemon=False)
        for _ in range(workers)
    ]
    stopping: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    previous: dict[int, Callable[..., Any] | int | None] = {
        sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        for process in processes:
            process.start()
        if on_start is not None and _wait_until_accepting(host, port, processes, stopping):
            on_start(port)
        while not stopping and all(process.is_alive() for process in processes):
            processes[0].join(_POLL_S)
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for process in processes:
            process.join(GRACEFUL_STOP_S)
            if process.is_alive():
                process.kill()
                process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        reserved.close()
    return 0 if stopping else 1
