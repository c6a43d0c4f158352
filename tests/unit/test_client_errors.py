"""How the upstream client maps replies and transport failures to the typed errors."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest

from backend.client import UpstreamClient
from backend.errors import (
    BadInput,
    Conflict,
    Forbidden,
    NotFound,
    OnewebError,
    Unauthenticated,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from backend.models import envelope
from tests.support.scripted_upstream import Fault, Reply, ScriptedUpstream, reply

HTML_500 = (
    "<html><body><h1>500 Internal Server Error</h1>" + "secret stack " * 100 + "</body></html>"
)


def _json(status: int, body: Any) -> Reply:
    return reply(status, content=orjson.dumps(body), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("response", "error", "code"),
    [
        pytest.param(
            reply(500, text=HTML_500, headers={"Content-Type": "text/html"}),
            UpstreamError,
            None,
            id="html-500-page",
        ),
        pytest.param(
            _json(502, envelope(code=500, message="bad gateway")),
            UpstreamError,
            None,
            id="502-envelope",
        ),
        pytest.param(
            _json(200, envelope(code=404, message="no task")), NotFound, 404, id="200-code-404"
        ),
        pytest.param(
            _json(200, envelope(code=409, message="held")), Conflict, 409, id="200-code-409"
        ),
        pytest.param(
            _json(200, envelope(code=403, message="no")), Forbidden, 403, id="200-code-403"
        ),
        pytest.param(
            _json(200, envelope(code=400, message="bad")), BadInput, 400, id="200-code-400"
        ),
        pytest.param(
            _json(200, envelope(code=401, message="who")), Unauthenticated, 401, id="200-code-401"
        ),
        pytest.param(
            _json(200, envelope(code=422, message="bad")), BadInput, 422, id="200-code-422"
        ),
        pytest.param(
            _json(200, envelope(code=500, message="boom")), UpstreamError, 500, id="200-code-500"
        ),
        pytest.param(
            _json(200, envelope(code=7, message="odd")), UpstreamError, 7, id="200-unknown-code"
        ),
        pytest.param(reply(200, text="garbage{"), UpstreamError, None, id="200-garbage"),
        pytest.param(_json(200, {"data": []}), UpstreamError, None, id="200-json-without-code"),
        pytest.param(_json(200, [1, 2]), UpstreamError, None, id="200-json-array"),
        pytest.param(_json(200, {"code": "yes"}), UpstreamError, None, id="200-code-not-a-number"),
        pytest.param(
            _json(404, envelope(code=404, message="no")), NotFound, 404, id="404-envelope"
        ),
        pytest.param(
            _json(409, envelope(code=409, message="held")), Conflict, 409, id="409-envelope"
        ),
        pytest.param(_json(403, envelope(code=0)), Forbidden, 403, id="403-envelope-code-0"),
        pytest.param(reply(401, text="login"), Unauthenticated, 401, id="401-no-envelope"),
        pytest.param(reply(403, text="denied"), Forbidden, 403, id="403-no-envelope"),
        pytest.param(reply(404, text="<html>"), UpstreamError, None, id="404-no-envelope"),
        pytest.param(reply(302, headers={"Location": "/login"}), UpstreamError, None, id="302"),
        pytest.param(
            _json(200, {"code": "404", "message": "no"}), NotFound, 404, id="code-as-string"
        ),
    ],
)
async def test_reply_maps_to_its_typed_error(
    upstream: ScriptedUpstream,
    client: UpstreamClient,
    response: Reply,
    error: type[OnewebError],
    code: int | None,
) -> None:
    upstream.route().mock(return_value=response)
    with pytest.raises(OnewebError) as raised:
        await client.instance_tasks("i1")
    assert type(raised.value) is error
    assert raised.value.code == code
    assert raised.value.endpoint == "tasks_by_instance"


async def test_domain_error_carries_the_upstream_message(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=_json(200, envelope(code=409, message="held by bob")))
    with pytest.raises(Conflict, match="held by bob"):
        await client.claim_task("t1", "alice")


async def test_server_error_message_names_the_status_and_never_holds_the_body(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=reply(500, text=HTML_500))
    with pytest.raises(UpstreamError) as raised:
        await client.tasks(user="alice")
    assert "HTTP 500" in raised.value.message
    assert "secret" not in raised.value.message
    assert len(raised.value.message) < 200


async def test_garbage_body_message_says_it_is_not_json(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=reply(200, text="garbage{"))
    with pytest.raises(UpstreamError, match=r"HTTP 200 .*not JSON"):
        await client.tasks(user="alice")


async def test_json_without_code_message_says_so(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=_json(200, {"data": []}))
    with pytest.raises(UpstreamError, match="without an envelope code"):
        await client.tasks(user="alice")


@pytest.mark.parametrize(
    ("data", "call"),
    [
        pytest.param([{"name": "no ids"}], lambda c: c.instance_tasks("i1"), id="task-without-ids"),
        pytest.param(["t1"], lambda c: c.tasks(user="a"), id="task-that-is-a-string"),
        pytest.param({"id": "t1"}, lambda c: c.tasks(user="a"), id="list-that-is-an-object"),
        pytest.param(["a"], lambda c: c.task_variables("t1"), id="variables-that-are-a-list"),
        pytest.param(
            "", lambda c: c.start_process(process_name="P"), id="start-without-instance-id"
        ),
    ],
)
async def test_success_envelope_with_malformed_data_is_upstream_error(
    upstream: ScriptedUpstream,
    client: UpstreamClient,
    data: Any,
    call: Callable[[UpstreamClient], Awaitable[Any]],
) -> None:
    upstream.route().mock(return_value=_json(200, envelope(data)))
    with pytest.raises(UpstreamError):
        await call(client)


async def test_task_aliases_and_unknown_fields_are_read(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    wire = {"taskId": "t1", "processInstanceId": "i1", "taskName": "Approve", "extra": 1}
    upstream.route().mock(return_value=_json(200, envelope([wire])))
    [task] = await client.instance_tasks("i1")
    assert (task.id, task.instance_id, task.name, task.raw["extra"]) == ("t1", "i1", "Approve", 1)


async def test_missing_data_is_an_empty_list(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=_json(200, {"code": 0}))
    assert await client.tasks(group="Clerk") == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.DROP, UpstreamUnavailable),
        (Fault.RESET, UpstreamUnavailable),
        (Fault.GARBAGE, UpstreamUnavailable),
        (Fault.HANG, UpstreamTimeout),
        (Fault.TRICKLE, UpstreamTimeout),
    ],
    ids=lambda value: getattr(value, "name", ""),
)
async def test_transport_failure_maps_to_its_typed_error(
    upstream: ScriptedUpstream,
    make_client: Callable[..., UpstreamClient],
    fault: Fault,
    error: type,
) -> None:
    upstream.route().mock(side_effect=fault)
    started = time.monotonic()
    with pytest.raises(OnewebError) as caught:
        # A short deadline only where the deadline is the failure: on a busy machine
        # 0.1 s may pass before a drop or a garbage reply arrives.
        timeout = 0.1 if error is UpstreamTimeout else 1.5
        await make_client(retry_reads=0, timeout=timeout).instance_tasks("i1")
    assert type(caught.value) is error
    assert caught.value.endpoint == "tasks_by_instance"
    assert time.monotonic() - started < 2
    assert len(upstream.requests) == 1


async def test_refused_connection_is_upstream_unavailable(
    make_client: Callable[..., UpstreamClient], closed_port_url: str
) -> None:
    client = make_client(base_url=closed_port_url)
    with pytest.raises(UpstreamUnavailable, match="connection failed"):
        await client.claim_task("t1", "alice")


async def test_unresolvable_host_is_upstream_unavailable(
    make_client: Callable[..., UpstreamClient],
) -> None:
    # .invalid never resolves (RFC 2606): no network is needed to fail.
    client = make_client(base_url="http://upstream.invalid", retry_reads=0)
    with pytest.raises(UpstreamUnavailable, match="connection failed"):
        await client.tasks(user="alice")


async def test_a_closed_client_fails_its_calls_as_upstream_error(
    upstream: ScriptedUpstream, make_client: Callable[..., UpstreamClient]
) -> None:
    upstream.route().mock(return_value=reply(200, json=envelope([])))
    client = make_client()
    await client.aclose()
    with pytest.raises(UpstreamError, match="closed"):
        await client.tasks(user="alice")
    assert upstream.requests == []
