"""A failing upstream nulls the fields that needed it, with its error code, and nothing else."""

from __future__ import annotations

import socket
import time

import pytest

from backend.embedded.recorder import Fault, RecordedCall

from .conftest import FacadeFactory
from .harness import Upstream

CODES = {
    Fault.HTML_500: "UPSTREAM_ERROR",
    Fault.CODE_500: "UPSTREAM_ERROR",
    Fault.GARBAGE: "UPSTREAM_ERROR",
    Fault.HANG: "UPSTREAM_TIMEOUT",
    Fault.DROP: "UPSTREAM_UNAVAILABLE",  # the connection went away: as good as refused
    Fault.ENVELOPE_500: "UPSTREAM_ERROR",
    Fault.HTML_400: "UPSTREAM_ERROR",  # a 4xx without an envelope: not the runtime's refusal
    Fault.HTML_503: "UPSTREAM_ERROR",
    Fault.TRICKLE: "UPSTREAM_TIMEOUT",  # the whole call is bounded, not each read
}


def _failing(fragment: str, fault: Fault):
    def decide(call: RecordedCall) -> Fault | None:
        return fault if fragment in call.raw_path else None

    return decide


@pytest.mark.parametrize("fault", list(Fault), ids=lambda fault: fault.value)
async def test_failure_under_one_field_nulls_that_field_only(
    facade_factory: FacadeFactory, upstream: Upstream, fault: Fault
) -> None:
    broken = upstream.start("BookingRoom")
    healthy = upstream.start("LeaveRequest")
    upstream.recorder.fault = _failing(f"/instance/{broken}/", fault)
    facade = facade_factory(upstream.base_url, timeout_s=0.5)
    reply = await facade.execute(
        """query($b: ID!, $h: ID!) {
          broken: instance(id: $b) { id }
          healthy: instance(id: $h) { id tasks { definitionId } }
          clerks: tasks(group: "Clerk") { totalCount }
        }""",
        {"b": broken, "h": healthy},
    )
    assert reply["data"] == {
        "broken": None,
        "healthy": {"id": healthy, "tasks": [{"definitionId": "SubmitRequest"}]},
        "clerks": {"totalCount": 1},
    }
    [error] = reply["errors"]
    assert error["path"] == ["broken"]
    assert error["extensions"]["code"] == CODES[fault]


async def test_failed_variables_of_one_task_null_only_its_variables(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    first = upstream.start("BookingRoom", {"n": 1})
    upstream.start("BookingRoom", {"n": 2})
    broken_task = upstream.open_tasks(first)[0]["id"]
    upstream.recorder.fault = _failing(f"/tasks/{broken_task}/variables", Fault.HTML_500)
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute('{ tasks(group: "Clerk") { nodes { id variables { value } } } }')
    nodes = {node["id"]: node["variables"] for node in reply["data"]["tasks"]["nodes"]}
    assert nodes.pop(broken_task) is None
    assert list(nodes.values()) == [[{"value": 2}]]
    assert reply["errors"][0]["path"] == [
        "tasks",
        "nodes",
        0 if reply["data"]["tasks"]["nodes"][0]["id"] == broken_task else 1,
        "variables",
    ]
    assert reply["errors"][0]["extensions"]["code"] == "UPSTREAM_ERROR"


async def test_refused_connection_is_upstream_unavailable(facade_factory: FacadeFactory) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    facade = facade_factory(f"http://127.0.0.1:{closed_port}")
    reply = await facade.execute(
        '{ tasks(group: "Clerk") { totalCount } process(name: "BookingRoom") { name } }'
    )
    assert reply["data"] == {"tasks": None, "process": {"name": "BookingRoom"}}
    assert reply["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


async def test_failed_mutation_is_a_payload_error_and_a_top_level_error_and_nulls_nothing_else(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    broken = upstream.open_tasks(upstream.start("BookingRoom"))[0]["id"]
    healthy = upstream.open_tasks(upstream.start("BookingRoom"))[0]["id"]
    upstream.recorder.fault = _failing(f"/tasks/{broken}/claim", Fault.HTML_500)
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(
        """mutation($b: ID!, $h: ID!) {
          broken: claimTask(input: {taskId: $b, user: "ann"}) { task { id } errors { code } }
          healthy: claimTask(input: {taskId: $h, user: "ann"}) { task { assignee } errors { code } }
        }""",
        {"b": broken, "h": healthy},
    )
    assert reply["data"] == {
        "broken": {"task": None, "errors": [{"code": "UPSTREAM_ERROR"}]},
        "healthy": {"task": {"assignee": "ann"}, "errors": []},
    }
    assert [(e["path"], e["extensions"]["code"]) for e in reply["errors"]] == [
        (["broken"], "UPSTREAM_ERROR")
    ]


async def test_domain_errors_keep_their_upstream_message(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(
        'mutation { claimTask(input: {taskId: "ghost", user: "ann"}) { errors { code message } } }'
    )
    [error] = reply["data"]["claimTask"]["errors"]
    assert error["code"] == "NOT_FOUND"
    assert "ghost" in error["message"]


async def test_trickling_upstream_is_cut_at_the_deadline_of_the_whole_call(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    # A byte every 50 ms never trips a per-read timeout: the reply would take 20 s.
    slow = upstream.start("BookingRoom")
    upstream.recorder.fault = _failing(f"/instance/{slow}/", Fault.TRICKLE)
    facade = facade_factory(upstream.base_url, timeout_s=0.5)
    started = time.monotonic()
    reply = await facade.execute("query($i: ID!) { instance(id: $i) { id } }", {"i": slow})
    assert time.monotonic() - started < 1.5
    assert reply["data"] == {"instance": None}
    assert reply["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
