"""The circuit breaker that stops the client from hammering an upstream that keeps failing.

Written here rather than taken from a library because the asyncio breakers on PyPI
either let every waiting call through when half-open (a thundering herd at the moment
the upstream is most fragile) or read the wall clock; this one lets exactly one probe
through and runs on a monotonic clock that tests can replace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Literal

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]

CLOSED: Final = "closed"
OPEN: Final = "open"
HALF_OPEN: Final = "half_open"


class CircuitBreaker:
    """Counts consecutive upstream failures and, past a threshold, refuses calls for a while.

    - closed: every call goes through; ``threshold`` consecutive failures open it.
    - open: ``allow()`` is False until ``reset_s`` has passed since it opened.
    - half-open: the first ``allow()`` after that lets one probe through and every
      other caller is refused until the probe reports: a success closes the circuit,
      a failure opens it again for another ``reset_s``.

    The owner asks ``allow()`` before each attempt and then reports exactly one of
    ``record_success()``, ``record_failure()`` or ``release()`` (no verdict, e.g. the
    attempt was cancelled). All methods are synchronous, so under asyncio no lock is
    needed.

        breaker = CircuitBreaker(threshold=5, reset_s=5.0)
    """

    def __init__(
        self,
        *,
        threshold: int,
        reset_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1:
            raise ValueError(f"threshold must be at least 1, got {threshold}")
        if reset_s < 0:
            raise ValueError(f"reset_s must not be negative, got {reset_s}")
        self._threshold = threshold
        self._reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        """``"closed"``, ``"open"`` (refusing calls) or ``"half_open"`` (one probe goes through)."""
        if self._opened_at is None:
            return CLOSED
        if self._probe_in_flight or self._clock() - self._opened_at >= self._reset_s:
            return HALF_OPEN
        return OPEN

    @property
    def consecutive_failures(self) -> int:
        """Failures reported since the last success."""
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go to the upstream now; when half-open, the caller is the probe."""
        state = self.state
        if state == CLOSED:
            return True
        if state == HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        """The upstream answered: close the circuit and forget earlier failures."""
        self._failures = 0
        self._opened_at = None
        self._probe_in_flight = False

    def record_failure(self) -> None:
        """The upstream failed: count it, and open (or re-open) the circuit when due."""
        self._failures += 1
        if self._probe_in_flight or self._failures >= self._threshold:
            self._opened_at = self._clock()
        self._probe_in_flight = False

    def release(self) -> None:
        """An allowed call ended without a verdict: let the next caller probe instead."""
        self._probe_in_flight = False
