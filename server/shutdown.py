"""How the server's processes stop: a stop signal after uvicorn's graceful shutdown exits 0."""

from __future__ import annotations

import signal
from types import FrameType

__all__ = ["stop_cleanly_on_signals"]


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_cleanly_on_signals() -> None:
    """Make a stop signal after uvicorn's graceful shutdown an exit with status 0."""
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again to
    # whatever handler was there before it: this one makes that a clean exit (status 0).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_cleanly)
