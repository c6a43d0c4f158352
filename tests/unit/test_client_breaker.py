"""The upstream client's circuit breaker, on a clock the tests move by hand."""

from __future__ import annotations

import pytest

from backend.breaker import CircuitBreaker


class Clock:
    """A monotonic clock that only moves when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(threshold=3, reset_s=5.0, clock=clock)


def _open(breaker: CircuitBreaker) -> None:
    for _ in range(3):
        assert breaker.allow()
        breaker.record_failure()


def test_new_breaker_is_closed_and_allows_calls(breaker: CircuitBreaker) -> None:
    assert breaker.state == "closed"
    assert breaker.allow()


def test_opens_after_threshold_consecutive_failures(breaker: CircuitBreaker) -> None:
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"


def test_open_breaker_refuses_calls_until_reset(breaker: CircuitBreaker, clock: Clock) -> None:
    _open(breaker)
    clock.now += 4.9
    assert not breaker.allow()


def test_success_in_between_resets_the_count(breaker: CircuitBreaker) -> None:
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert (breaker.state, breaker.consecutive_failures) == ("closed", 2)


def test_after_reset_exactly_one_probe_is_allowed(breaker: CircuitBreaker, clock: Clock) -> None:
    _open(breaker)
    clock.now += 5.0
    assert breaker.state == "half_open"
    assert [breaker.allow() for _ in range(3)] == [True, False, False]


def test_successful_probe_closes_the_breaker(breaker: CircuitBreaker, clock: Clock) -> None:
    _open(breaker)
    clock.now += 5.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.allow()


def test_failed_probe_opens_it_again_for_another_reset_period(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    _open(breaker)
    clock.now += 5.0
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()


def test_probe_without_verdict_lets_the_next_caller_probe(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    _open(breaker)
    clock.now += 5.0
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


@pytest.mark.parametrize(("threshold", "reset_s"), [(0, 1.0), (1, -1.0)])
def test_nonsense_settings_are_rejected(threshold: int, reset_s: float) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(threshold=threshold, reset_s=reset_s)
