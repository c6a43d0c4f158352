"""The upstream client's circuit breaker, on a clock the tests move by hand."""

from __future__ import annotations

from typing import Any

import pytest

from backend.breaker import DOWN, UNREACHABLE, UP, Admission, CircuitBreaker, Verdict

WINDOW_S = 10.0
RESET_S = 5.0
MIN_CALLS = 10


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
    return CircuitBreaker(
        failure_rate=0.5, min_calls=MIN_CALLS, window_s=WINDOW_S, reset_s=RESET_S, clock=clock
    )


def _calls(breaker: CircuitBreaker, verdict: Verdict, times: int, *, route: str = "tasks") -> None:
    for _ in range(times):
        admission = breaker.admit()
        assert admission is not None
        breaker.record(admission, verdict, route=route)


def _open(breaker: CircuitBreaker) -> None:
    _calls(breaker, DOWN, MIN_CALLS // 2, route="tasks_by_principal")
    _calls(breaker, DOWN, MIN_CALLS // 2, route="variables_by_task")
    assert breaker.state == "open"


def _half_open(breaker: CircuitBreaker, clock: Clock) -> Admission:
    _open(breaker)
    clock.now += RESET_S
    probe = breaker.admit()
    assert probe is not None and probe.probe
    return probe


# -- when it opens ----------------------------------------------------------------------


def test_new_breaker_is_closed_and_admits_calls(breaker: CircuitBreaker) -> None:
    assert breaker.state == "closed"
    assert breaker.admit() == Admission(0, probe=False)


def test_opens_at_the_failure_rate_over_two_routes_once_the_window_holds_min_calls(
    breaker: CircuitBreaker,
) -> None:
    _calls(breaker, UP, 5)
    _calls(breaker, DOWN, 2, route="tasks_by_principal")
    _calls(breaker, DOWN, 2, route="variables_by_task")
    assert breaker.state == "closed"  # 4 of 9: below the minimum number of calls
    _calls(breaker, DOWN, 1, route="variables_by_task")
    assert breaker.state == "open"  # 5 of 10


def test_stays_closed_below_the_failure_rate(breaker: CircuitBreaker) -> None:
    _calls(breaker, UP, 11)
    _calls(breaker, DOWN, 5, route="tasks_by_principal")
    _calls(breaker, DOWN, 5, route="variables_by_task")
    assert (breaker.state, breaker.window.calls, breaker.window.failures) == ("closed", 21, 10)


def test_failures_on_one_route_never_open_it(breaker: CircuitBreaker) -> None:
    # One hanging endpoint, or one caller's requests for one crafted resource.
    _calls(breaker, DOWN, 1000, route="variables_by_task")
    assert breaker.state == "closed"
    assert breaker.window.failed_routes == {"variables_by_task"}


def test_unreachable_upstream_opens_it_from_one_route(breaker: CircuitBreaker) -> None:
    _calls(breaker, UNREACHABLE, MIN_CALLS - 1)
    assert breaker.state == "closed"
    _calls(breaker, UNREACHABLE, 1)
    assert breaker.state == "open"


def test_answers_of_any_kind_are_never_failures(breaker: CircuitBreaker) -> None:
    _calls(breaker, UP, 1000)
    assert (breaker.state, breaker.window.failures) == ("closed", 0)


def test_failures_older_than_the_window_are_forgotten(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    _calls(breaker, DOWN, MIN_CALLS - 1, route="tasks_by_principal")
    clock.now += WINDOW_S
    _calls(breaker, DOWN, 1, route="variables_by_task")
    assert (breaker.state, breaker.window.calls) == ("closed", 1)


def test_the_window_slides_by_a_tenth(breaker: CircuitBreaker, clock: Clock) -> None:
    _calls(breaker, DOWN, 5, route="tasks_by_principal")
    clock.now += WINDOW_S * 0.9
    _calls(breaker, DOWN, 5, route="variables_by_task")
    assert breaker.state == "open"  # the first five are 9 tenths old: still in the window


# -- open and half-open -------------------------------------------------------------------


def test_open_circuit_refuses_calls_until_reset(breaker: CircuitBreaker, clock: Clock) -> None:
    _open(breaker)
    clock.now += RESET_S - 0.1
    assert breaker.admit() is None


def test_after_reset_exactly_one_probe_is_admitted(breaker: CircuitBreaker, clock: Clock) -> None:
    _open(breaker)
    clock.now += RESET_S
    assert breaker.state == "half_open"
    admitted = [breaker.admit() for _ in range(3)]
    assert [a is not None and a.probe for a in admitted] == [True, False, False]


def test_successful_probe_closes_the_circuit_with_an_empty_window(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    probe = _half_open(breaker, clock)
    breaker.record(probe, UP, route="ping")
    assert (breaker.state, breaker.window.calls) == ("closed", 0)
    assert breaker.admit() is not None


@pytest.mark.parametrize("verdict", [DOWN, UNREACHABLE])
def test_failed_probe_opens_it_again_for_another_reset_period(
    breaker: CircuitBreaker, clock: Clock, verdict: Verdict
) -> None:
    probe = _half_open(breaker, clock)
    breaker.record(probe, verdict, route="ping")
    assert breaker.state == "open"
    clock.now += RESET_S - 0.1
    assert breaker.admit() is None
    clock.now += 0.1
    assert breaker.admit() is not None


def test_probe_without_verdict_lets_the_next_caller_probe(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    probe = _half_open(breaker, clock)
    breaker.release(probe)
    next_probe = breaker.admit()
    assert next_probe is not None and next_probe.probe


# -- verdicts of calls admitted under an earlier state ----------------------------------------


def test_late_success_of_a_call_admitted_before_it_opened_does_not_close_it(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    late = [breaker.admit() for _ in range(3)]
    _open(breaker)
    for admission in late:
        assert admission is not None
        breaker.record(admission, UP, route="tasks_by_instance")
    assert breaker.state == "open"
    clock.now += RESET_S
    assert breaker.state == "half_open"
    probe = breaker.admit()
    assert probe is not None and probe.probe  # the probe is still the one to decide


def test_late_failures_after_the_probe_closed_it_do_not_count(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    late = [breaker.admit() for _ in range(MIN_CALLS)]
    probe = _half_open(breaker, clock)
    breaker.record(probe, UP, route="ping")
    for n, admission in enumerate(late):
        assert admission is not None
        breaker.record(admission, UNREACHABLE, route=f"route-{n}")
    assert (breaker.state, breaker.window.calls) == ("closed", 0)


def test_release_of_an_ordinary_call_changes_nothing(breaker: CircuitBreaker) -> None:
    admission = breaker.admit()
    assert admission is not None
    breaker.release(admission)
    assert (breaker.state, breaker.window.calls) == ("closed", 0)


@pytest.mark.parametrize(
    "settings",
    [
        {"failure_rate": 0.0},
        {"failure_rate": 1.5},
        {"min_calls": 0},
        {"window_s": 0.0},
        {"reset_s": -1.0},
        {"min_routes": 0},
    ],
)
def test_nonsense_settings_are_rejected(settings: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {
        "failure_rate": 0.5,
        "min_calls": 10,
        "window_s": 10.0,
        "reset_s": 5.0,
        **settings,
    }
    with pytest.raises(ValueError):
        CircuitBreaker(**arguments)
