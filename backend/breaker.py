"""The circuit breaker: fails calls fast while the upstream as a whole is down, and only then.

It protects the upstream from a stampede; it is not an error counter. It opens on the
rate of "down" verdicts over a sliding window, and only when they span more than one
route (or no connection could be opened at all), so that one caller's crafted request
or one bad record upstream, which fail on one route, never open it for everyone.

Written here rather than taken from PyPI: aiobreaker, pybreaker, purgatory and
circuitbreaker all open on a count of consecutive failures, with no failure rate over a
time window and no notion of which route failed; purgatory (the asyncio one) also lets
any success close a half-open circuit, including the late success of a call admitted
before the circuit opened, and reads the wall clock. This one lets exactly one probe
through, ignores every verdict of a call admitted under an earlier state, and runs on a
monotonic clock that tests can replace.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = [
    "CLOSED",
    "DOWN",
    "HALF_OPEN",
    "OPEN",
    "UNREACHABLE",
    "UP",
    "Admission",
    "BreakerState",
    "CircuitBreaker",
    "Verdict",
    "WindowCounts",
]

BreakerState = Literal["closed", "open", "half_open"]

CLOSED: Final = "closed"
OPEN: Final = "open"
HALF_OPEN: Final = "half_open"

Verdict = Literal["up", "down", "unreachable"]

#: The upstream answered, whatever it said (a 4xx, a 500 with or without an envelope,
#: garbage): it is working, and the error, if any, is that call's own.
UP: Final = "up"
#: No complete answer on this route (a timeout, a reset connection, 502/503/504): the
#: upstream may be down, or only this route or resource may be.
DOWN: Final = "down"
#: No connection could be opened (refused, no such host, connect timeout): nothing in
#: the request can cause that, so it speaks for every route.
UNREACHABLE: Final = "unreachable"

#: The window is kept as this many buckets: it slides by a tenth of its length.
_BUCKETS: Final = 10


@dataclass(frozen=True, slots=True)
class Admission:
    """A call let through by ``CircuitBreaker.admit``; hand it back with the call's verdict."""

    epoch: int
    probe: bool


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """What the closed circuit has seen in its window: calls with a verdict, and the bad ones."""

    calls: int
    failures: int
    #: The routes with a DOWN verdict; every route, as far as the rule goes, after UNREACHABLE.
    failed_routes: frozenset[str]
    unreachable: int


@dataclass(slots=True)
class _Bucket:
    index: int
    calls: int = 0
    failures: int = 0
    unreachable: int = 0
    failed_routes: set[str] = field(default_factory=set)


class CircuitBreaker:
    """Opens when the upstream as a whole fails; only a half-open probe closes it again.

    - closed: every call goes through. Each verdict lands in a window of ``window_s``
      seconds. The circuit opens when the window holds at least ``min_calls`` verdicts,
      at least ``failure_rate`` of them are DOWN or UNREACHABLE, and the DOWN ones span
      at least ``min_routes`` routes (or one is UNREACHABLE).
    - open: ``admit()`` refuses every call until ``reset_s`` has passed since it opened.
    - half-open: the first ``admit()`` after that is the probe, every other caller is
      refused until the probe reports: UP closes the circuit (with an empty window),
      DOWN or UNREACHABLE opens it again for another ``reset_s``.

    Verdicts of calls admitted before the circuit last opened or closed are ignored: a
    late success does not close it, a late failure does not count against the new window.
    The owner calls ``admit()`` before each attempt and then exactly one of
    ``record(admission, verdict, route=...)`` or ``release(admission)`` (no verdict, e.g.
    the call was cancelled or never left the process). All methods are synchronous, so
    under asyncio no lock is needed.

        breaker = CircuitBreaker(failure_rate=0.5, min_calls=20, window_s=10, reset_s=5)
    """

    def __init__(
        self,
        *,
        failure_rate: float,
        min_calls: int,
        window_s: float,
        reset_s: float,
        min_routes: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < failure_rate <= 1:
            raise ValueError(f"failure_rate must be in (0, 1], got {failure_rate}")
        if min_calls < 1:
            raise ValueError(f"min_calls must be at least 1, got {min_calls}")
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        if reset_s < 0:
            raise ValueError(f"reset_s must not be negative, got {reset_s}")
        if min_routes < 1:
            raise ValueError(f"min_routes must be at least 1, got {min_routes}")
        self._failure_rate = failure_rate
        self._min_calls = min_calls
        self._bucket_s = window_s / _BUCKETS
        self._reset_s = reset_s
        self._min_routes = min_routes
        self._clock = clock
        self._buckets: list[_Bucket] = []
        self._epoch = 0
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
    def window(self) -> WindowCounts:
        """The verdicts in the current window (empty while the circuit is not closed)."""
        buckets = self._live_buckets(self._bucket_index())
        routes: set[str] = set()
        for bucket in buckets:
            routes |= bucket.failed_routes
        return WindowCounts(
            calls=sum(bucket.calls for bucket in buckets),
            failures=sum(bucket.failures for bucket in buckets),
            failed_routes=frozenset(routes),
            unreachable=sum(bucket.unreachable for bucket in buckets),
        )

    def admit(self) -> Admission | None:
        """Let a call through (when half-open: as the probe), or None: the circuit is open."""
        state = self.state
        if state == CLOSED:
            return Admission(self._epoch, probe=False)
        if state == HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return Admission(self._epoch, probe=True)
        return None

    def record(self, admission: Admission, verdict: Verdict, *, route: str) -> None:
        """The verdict of an admitted call on ``route`` (e.g. the endpoint's name)."""
        if admission.probe and self._probe_in_flight and admission.epoch == self._epoch:
            self._probe_in_flight = False
            if verdict == UP:
                self._close()
            else:
                self._open()
            return
        if admission.epoch != self._epoch or self._opened_at is not None:
            return  # admitted under an earlier state: it says nothing about this one
        bucket = self._current_bucket()
        bucket.calls += 1
        if verdict == UP:
            return
        bucket.failures += 1
        if verdict == UNREACHABLE:
            bucket.unreachable += 1
        else:
            bucket.failed_routes.add(route)
        if self._should_open():
            self._open()

    def release(self, admission: Admission) -> None:
        """An admitted call ended without a verdict: when it was the probe, the next caller probes."""
        if admission.probe and admission.epoch == self._epoch:
            self._probe_in_flight = False

    def _should_open(self) -> bool:
        counts = self.window
        if counts.calls < self._min_calls:
            return False
        if counts.failures < math.ceil(self._failure_rate * counts.calls - 1e-9):
            return False
        return counts.unreachable > 0 or len(counts.failed_routes) >= self._min_routes

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._epoch += 1
        self._buckets.clear()

    def _close(self) -> None:
        self._opened_at = None
        self._epoch += 1
        self._buckets.clear()

    def _bucket_index(self) -> int:
        return math.floor(self._clock() / self._bucket_s)

    def _live_buckets(self, index: int) -> list[_Bucket]:
        return [bucket for bucket in self._buckets if bucket.index > index - _BUCKETS]

    def _current_bucket(self) -> _Bucket:
        index = self._bucket_index()
        if self._buckets and self._buckets[-1].index == index:
            return self._buckets[-1]
        self._buckets = self._live_buckets(index)
        bucket = _Bucket(index)
        self._buckets.append(bucket)
        return bucket
