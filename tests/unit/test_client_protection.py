"""How the upstream client protects the upstream: retries, breaker, concurrency cap, observer."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from backend.client import UpstreamClient
from backend.errors import (
    BadInput,
    NotFound,
    OnewebError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from backend.models import envelope
from backend.transport import CIRCUIT_OPEN
from tests.support.scripted_upstream import Fault, RawRequest, Reply, ScriptedUpstream, reply

Factory = Callable[..., UpstreamClient]


def _ok(data: Any = "") -> Reply:
    return reply(200, json=envelope(data))


def _server_error() -> Reply:
    return reply(500, text="<html>down</html>")


READS = [
    pytest.param(lambda c: c.instance_tasks("i1"), [], id="instance_tasks"),
    pytest.param(lambda c: c.tasks(group="Clerk"), [], id="tasks"),
    pytest.param(lambda c: c.task_variables("t1"), {}, id="task_variables"),
]

WRITES = [
    pytest.param(lambda c: c.start_process(process_name="P"), id="start_process"),
    pytest.param(lambda c: c.start_process_legacy("P"), id="start_process_legacy"),
    pytest.param(lambda c: c.claim_task("t1", "alice"), id="claim_task"),
    pytest.param(lambda c: c.unclaim_task("t1", "alice"), id="unclaim_task"),
    pytest.param(lambda c: c.complete_task("t1", "alice", {"x": 1}), id="complete_task"),
    pytest.param(lambda c: c.assign_task("t1", ["alice"]), id="assign_task"),
    pytest.param(lambda c: c.assign_instance("i1", "alice"), id="assign_instance"),
    pytest.param(lambda c: c.refresh_cache(), id="refresh_cache"),
    pytest.param(lambda c: c.refresh_process("P"), id="refresh_process"),
]


# -- retries ----------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "data"), READS)
async def test_read_is_retried_once_after_a_connection_error_and_succeeds(
    upstream: ScriptedUpstream,
    client: UpstreamClient,
    call: Callable[[UpstreamClient], Awaitable[Any]],
    data: Any,
) -> None:
    route = upstream.route().mock(side_effect=[Fault.DROP, _ok(data)])
    assert await call(client) == data
    assert route.call_count == 2


@pytest.mark.parametrize(("retry_reads", "tries"), [(None, 2), (0, 1), (3, 4)])
async def test_failing_read_is_tried_one_more_time_than_retry_reads(
    upstream: ScriptedUpstream, make_client: Factory, retry_reads: int | None, tries: int
) -> None:
    route = upstream.route().mock(side_effect=Fault.DROP)
    settings = {} if retry_reads is None else {"retry_reads": retry_reads}
    with pytest.raises(UpstreamUnavailable):
        await make_client(**settings).instance_tasks("i1")
    assert route.call_count == tries


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Fault.HANG, id="timeout"),
        pytest.param(_server_error(), id="server-error"),
        pytest.param(reply(404, json=envelope(code=404, message="no")), id="not-found"),
    ],
)
async def test_read_is_not_retried_on_anything_but_a_connection_failure(
    upstream: ScriptedUpstream, make_client: Factory, failure: Any
) -> None:
    route = upstream.route().mock(side_effect=[failure, _ok([])])
    # A short deadline only for the hang: an answer must have time to arrive on a busy
    # machine (with 0.1 s, a CI run once timed out before the first call was sent).
    timeout = 0.1 if failure is Fault.HANG else 5.0
    with pytest.raises((UpstreamTimeout, UpstreamError, NotFound)):
        await make_client(timeout=timeout).instance_tasks("i1")
    assert route.call_count == 1


async def test_read_reset_by_the_upstream_is_retried(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    upstream.route().mock(side_effect=Fault.RESET)
    with pytest.raises(UpstreamUnavailable):
        await make_client().tasks(user="alice")
    assert len(upstream.requests) == 2


@pytest.mark.parametrize("call", WRITES)
async def test_write_is_never_retried(
    upstream: ScriptedUpstream,
    make_client: Factory,
    call: Callable[[UpstreamClient], Awaitable[Any]],
) -> None:
    route = upstream.route().mock(side_effect=[Fault.DROP, _ok("i9")])
    with pytest.raises(UpstreamUnavailable):
        await call(make_client(retry_reads=3))
    assert route.call_count == 1


# -- circuit breaker --------------------------------------------------------------------
#
# The breaker's own rules (rate, window, routes, probe) are tested in test_client_breaker.py
# on a hand-moved clock; these show which replies the channel reports as what.

#: A breaker that judges from the fourth call on: small enough to reach in a unit test.
SMALL = {"breaker_min_calls": 4, "breaker_reset_s": 0.05}


def _unavailable() -> Reply:
    return reply(503, text="<html>Service Unavailable</html>")


async def _fail_across_routes(client: UpstreamClient, times: int = 2) -> None:
    """``times`` failed calls on each of two routes."""
    for _ in range(times):
        with pytest.raises(OnewebError):
            await client.claim_task("t1", "alice")
        with pytest.raises(OnewebError):
            await client.instance_tasks("i1")


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_failures_across_routes_open_the_circuit(
    upstream: ScriptedUpstream, make_client: Factory, status: int
) -> None:
    upstream.route().mock(return_value=reply(status, text="<html>down</html>"))
    client = make_client(**SMALL)
    await _fail_across_routes(client, 1)
    assert client.circuit_state == "closed"
    await _fail_across_routes(client, 1)
    assert client.circuit_state == "open"


async def test_open_circuit_fails_fast_without_a_call(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    route = upstream.route().mock(return_value=_unavailable())
    client = make_client(**SMALL)
    await _fail_across_routes(client)
    with pytest.raises(UpstreamUnavailable, match=CIRCUIT_OPEN):
        await client.instance_tasks("i1")
    assert route.call_count == 4


async def test_timeouts_across_routes_open_the_circuit(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    upstream.route().mock(side_effect=Fault.HANG)
    client = make_client(timeout=0.05, **SMALL)
    await _fail_across_routes(client)
    assert client.circuit_state == "open"


async def test_refused_connections_open_the_circuit_from_one_route(
    make_client: Factory, closed_port_url: str
) -> None:
    client = make_client(base_url=closed_port_url, retry_reads=0, **SMALL)
    for _ in range(4):
        with pytest.raises(UpstreamUnavailable):
            await client.tasks(group="Clerk")
    assert client.circuit_state == "open"


async def test_failures_of_one_route_never_open_the_circuit(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    upstream.route(path_regex="/variables$").mock(side_effect=Fault.HANG)
    client = make_client(timeout=0.1, **SMALL)
    results = await asyncio.gather(
        *(client.task_variables("t1") for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(result, UpstreamTimeout) for result in results)
    assert client._channel.breaker.window.failures == 20
    assert client.circuit_state == "closed"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(reply(404, json=envelope(code=404, message="no")), id="404"),
        pytest.param(reply(400, text="<html>Bad Request</html>"), id="html-400"),
        pytest.param(reply(400, text="x" * 100), id="text-400"),
        pytest.param(
            reply(500, json={"code": 500, "message": "java.lang.NullPointerException"}),
            id="envelope-500",
        ),
        pytest.param(_server_error(), id="html-500"),
        pytest.param(reply(200, json=envelope(code=500, message="x")), id="code-500"),
        pytest.param(reply(200, content=b"\x00not json{"), id="garbage"),
    ],
)
async def test_answers_are_the_callers_own_errors_and_never_open_the_circuit(
    upstream: ScriptedUpstream, make_client: Factory, answer: Reply
) -> None:
    upstream.route().mock(return_value=answer)
    client = make_client(**SMALL)
    await _fail_across_routes(client, 10)
    assert client.circuit_state == "closed"


async def test_circuit_half_opens_after_reset_and_a_successful_probe_closes_it(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    route = upstream.route().mock(side_effect=[_unavailable()] * 4 + [_ok([])])
    client = make_client(**SMALL)
    await _fail_across_routes(client)
    assert client.circuit_state == "open"
    await asyncio.sleep(0.06)
    assert client.circuit_state == "half_open"
    assert await client.instance_tasks("i1") == []
    assert client.circuit_state == "closed"
    assert route.call_count == 5


async def test_failed_probe_opens_the_circuit_again(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    route = upstream.route().mock(return_value=_unavailable())
    client = make_client(**SMALL)
    await _fail_across_routes(client)
    await asyncio.sleep(0.06)
    with pytest.raises(UpstreamError):
        await client.claim_task("t1", "alice")
    with pytest.raises(UpstreamUnavailable, match=CIRCUIT_OPEN):
        await client.claim_task("t1", "alice")
    assert route.call_count == 5


async def test_half_open_circuit_lets_exactly_one_probe_through(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    async def slow_ok(request: RawRequest) -> Reply:
        await asyncio.sleep(0.05)
        return _ok([])

    route = upstream.route().mock(side_effect=[_unavailable()] * 4 + [slow_ok] * 3)
    client = make_client(**SMALL)
    await _fail_across_routes(client)
    await asyncio.sleep(0.06)
    results = await asyncio.gather(
        *(client.instance_tasks("i1") for _ in range(3)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, UpstreamUnavailable)]
    assert (len(refused), route.call_count) == (2, 5)


async def test_late_success_of_a_call_admitted_before_the_circuit_opened_leaves_it_open(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    release = asyncio.Event()

    async def slow_ok(request: RawRequest) -> Reply:
        await release.wait()
        return _ok([])

    upstream.route(path_regex="/instance/slow/").mock(side_effect=slow_ok)
    upstream.route().mock(return_value=_unavailable())
    client = make_client(breaker_min_calls=4, breaker_reset_s=60)
    late = asyncio.create_task(client.instance_tasks("slow"))
    await asyncio.sleep(0.01)  # admitted and in flight
    await _fail_across_routes(client)
    assert client.circuit_state == "open"
    release.set()
    assert await late == []
    assert client.circuit_state == "open"


async def test_open_circuit_is_not_retried_for_reads(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    route = upstream.route().mock(return_value=_unavailable())
    client = make_client(retry_reads=3, **SMALL)
    await _fail_across_routes(client)
    with pytest.raises(UpstreamUnavailable, match=CIRCUIT_OPEN):
        await client.instance_tasks("i1")
    assert route.call_count == 4


async def test_ping_is_false_while_the_circuit_is_open_and_makes_no_call(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    route = upstream.route().mock(return_value=_unavailable())
    client = make_client(breaker_min_calls=4, breaker_reset_s=60)
    await _fail_across_routes(client)
    assert await client.ping() is False
    assert route.call_count == 4


async def test_an_id_too_long_for_a_url_is_bad_input_without_a_call_or_a_verdict(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    route = upstream.route().mock(return_value=_ok([]))
    client = make_client(breaker_min_calls=1)
    with pytest.raises(BadInput, match="too long"):
        await client.instance_tasks("a" * 70_000)
    assert (route.call_count, client._channel.breaker.window.calls) == (0, 0)


# -- concurrency cap --------------------------------------------------------------------


async def test_calls_in_flight_never_exceed_max_concurrency(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    in_flight = peak = 0

    async def slow(request: RawRequest) -> Reply:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return _ok([])

    route = upstream.route().mock(side_effect=slow)
    client = make_client(max_concurrency=3)
    await asyncio.gather(*(client.instance_tasks(f"i{n}") for n in range(12)))
    assert (peak, route.call_count) == (3, 12)


async def test_waiting_for_a_free_slot_is_bounded_by_the_timeout(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    async def slow(request: RawRequest) -> Reply:
        await asyncio.sleep(0.3)
        return _ok([])

    upstream.route().mock(side_effect=slow)
    client = make_client(max_concurrency=1, timeout=0.4)
    first, second = await asyncio.gather(
        client.instance_tasks("i1"), client.instance_tasks("i2"), return_exceptions=True
    )
    assert first == []
    assert isinstance(second, UpstreamTimeout)
    assert client.circuit_state == "closed"


async def test_a_call_that_never_gets_a_slot_times_out_without_a_verdict(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    route = upstream.route().mock(return_value=_ok([]))
    client = make_client(max_concurrency=1, timeout=0.1, breaker_min_calls=1)
    # Every slot taken, as by other callers' calls: local load, not an upstream failure.
    await client._channel._slots.acquire()
    for _ in range(3):
        with pytest.raises(UpstreamTimeout, match="no free upstream connection"):
            await client.instance_tasks("i1")
    assert (client.circuit_state, client._channel.breaker.window.calls) == ("closed", 0)
    assert route.call_count == 0


async def test_a_call_that_spent_most_of_its_deadline_waiting_for_a_slot_gives_no_verdict(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    async def slow(request: RawRequest) -> Reply:
        await asyncio.sleep(1)
        return _ok([])

    upstream.route().mock(side_effect=slow)
    client = make_client(max_concurrency=1, timeout=0.3, breaker_min_calls=1)
    await client._channel._slots.acquire()  # taken by another caller for 0.2 s
    asyncio.get_running_loop().call_later(0.2, client._channel._slots.release)
    with pytest.raises(UpstreamTimeout, match="waiting for a free connection"):
        await client.instance_tasks("i1")
    assert client._channel.breaker.window.calls == 0


async def test_a_timeout_of_the_upstream_itself_is_a_verdict(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    async def slow(request: RawRequest) -> Reply:
        await asyncio.sleep(1)
        return _ok([])

    upstream.route().mock(side_effect=slow)
    client = make_client(timeout=0.1, breaker_min_calls=1)
    with pytest.raises(UpstreamTimeout):
        await client.instance_tasks("i1")
    assert client._channel.breaker.window.failures == 1


async def test_the_wait_for_a_slot_counts_inside_the_deadline_of_the_call(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    async def slow(request: RawRequest) -> Reply:
        await asyncio.sleep(0.15)
        return _ok([])

    upstream.route().mock(side_effect=slow)
    client = make_client(max_concurrency=1, timeout=0.25)

    async def timed() -> float:
        started = time.monotonic()
        with contextlib.suppress(UpstreamTimeout):
            await client.instance_tasks("i2")
        return time.monotonic() - started

    first, seconds = await asyncio.gather(client.instance_tasks("i1"), timed())
    # 0.15 s for a slot, then 0.1 s of the deadline left for a 0.15 s answer.
    assert first == []
    assert 0.2 < seconds < 0.35


# -- observer ---------------------------------------------------------------------------


class Recorder:
    """An observer that keeps every (endpoint, outcome, seconds) it is given."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, float]] = []

    def __call__(self, endpoint: str, outcome: str, seconds: float) -> None:
        self.seen.append((endpoint, outcome, seconds))

    @property
    def outcomes(self) -> list[tuple[str, str]]:
        return [(endpoint, outcome) for endpoint, outcome, _ in self.seen]


async def test_observer_gets_endpoint_status_and_duration(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    async def slow(request: RawRequest) -> Reply:
        await asyncio.sleep(0.02)
        return _ok([])

    upstream.route().mock(side_effect=slow)
    recorder = Recorder()
    await make_client(observer=recorder).tasks(user="alice")
    [(endpoint, outcome, seconds)] = recorder.seen
    assert (endpoint, outcome) == ("tasks_by_principal", "200")
    assert 0.015 < seconds < 1


async def test_observer_is_called_once_per_attempt(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    upstream.route().mock(side_effect=[Fault.DROP, _ok([])])
    recorder = Recorder()
    await make_client(observer=recorder).instance_tasks("i1")
    assert recorder.outcomes == [("tasks_by_instance", "unavailable"), ("tasks_by_instance", "200")]


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        pytest.param(reply(409, json=envelope(code=409, message="held")), "409", id="409"),
        pytest.param(_server_error(), "500", id="500"),
        pytest.param(Fault.HANG, "timeout", id="timeout"),
        pytest.param(Fault.DROP, "unavailable", id="unavailable"),
    ],
)
async def test_observer_outcome_names_what_happened(
    upstream: ScriptedUpstream, make_client: Factory, answer: Reply | Fault, outcome: str
) -> None:
    upstream.route().mock(side_effect=[answer])
    recorder = Recorder()
    with pytest.raises(OnewebError):
        timeout = 0.1 if answer is Fault.HANG else 5.0  # only the hang needs a short deadline
        await make_client(observer=recorder, timeout=timeout).claim_task("t1", "alice")
    assert recorder.outcomes == [("claim_task", outcome)]


async def test_observer_sees_circuit_open(upstream: ScriptedUpstream, make_client: Factory) -> None:
    upstream.route().mock(return_value=_unavailable())
    recorder = Recorder()
    client = make_client(observer=recorder, **SMALL)
    await _fail_across_routes(client)
    with pytest.raises(UpstreamUnavailable):
        await client.claim_task("t1", "alice")
    assert recorder.outcomes[-2:] == [("tasks_by_instance", "503"), ("claim_task", "circuit_open")]


async def test_failing_observer_never_fails_the_call(
    upstream: ScriptedUpstream, make_client: Factory
) -> None:
    def broken(endpoint: str, outcome: str, seconds: float) -> None:
        raise RuntimeError("metrics down")

    upstream.route().mock(return_value=_ok([]))
    assert await make_client(observer=broken).instance_tasks("i1") == []
