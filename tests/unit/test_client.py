"""The upstream client's requests: each endpoint's method, path, query and body; ids; headers."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

import backend.breaker
import backend.client
import backend.envelope
import backend.transport
from backend.client import UpstreamClient
from backend.errors import BadInput
from backend.models import API_PREFIX, Task, envelope
from tests.support.scripted_upstream import RawRequest, Reply, ScriptedUpstream, reply

TASK = {"id": "t1", "instanceId": "i1", "name": "Choose Room", "candidateGroups": ["Clerk"]}

Call = Callable[[UpstreamClient], Awaitable[Any]]


def _ok(data: Any = "") -> Reply:
    return reply(200, json=envelope(data))


def _fitting_reply(request: RawRequest) -> Reply:
    """A success whose data has the shape the endpoint expects."""
    path = request.path
    if request.method == "GET":
        return _ok([])
    return _ok({} if path.endswith("/variables") else "i9" if path.endswith("/start") else "")


def _body(request: RawRequest) -> Any:
    return orjson.loads(request.body) if request.body else None


ENDPOINTS = [
    pytest.param(
        lambda c: c.start_process(
            process_name="BookingRoom",
            app_name="Hotel",
            unique_id="u-1",
            snap_version="1.0",
            variables={"guests": 2},
        ),
        "POST",
        "/process/start",
        {
            "processName": "BookingRoom",
            "appName": "Hotel",
            "uniqueId": "u-1",
            "snapVersion": "1.0",
            "object": {"guests": 2},
        },
        "i9",
        "i9",
        id="start_process",
    ),
    pytest.param(
        lambda c: c.start_process(process_name="BookingRoom"),
        "POST",
        "/process/start",
        {"processName": "BookingRoom"},
        "i9",
        "i9",
        id="start_process_omits_absent_fields",
    ),
    pytest.param(
        lambda c: c.start_process_legacy("BookingRoom", {"guests": 2}),
        "POST",
        "/process/BookingRoom/start",
        {"guests": 2},
        "i9",
        "i9",
        id="start_process_legacy",
    ),
    pytest.param(
        lambda c: c.start_process_legacy("BookingRoom"),
        "POST",
        "/process/BookingRoom/start",
        {},
        "i9",
        "i9",
        id="start_process_legacy_without_variables",
    ),
    pytest.param(
        lambda c: c.claim_task("t1", "alice"),
        "POST",
        "/tasks/t1/claim?user=alice",
        None,
        "",
        None,
        id="claim_task",
    ),
    pytest.param(
        lambda c: c.unclaim_task("t1", "alice"),
        "POST",
        "/tasks/t1/unclaim?user=alice",
        None,
        "",
        None,
        id="unclaim_task",
    ),
    pytest.param(
        lambda c: c.complete_task("t1", "alice", {"roomBooked": False}),
        "POST",
        "/tasks/t1/complete?user=alice",
        {"roomBooked": False},
        "",
        None,
        id="complete_task",
    ),
    pytest.param(
        lambda c: c.complete_task("t1", "alice"),
        "POST",
        "/tasks/t1/complete?user=alice",
        None,
        "",
        None,
        id="complete_task_without_variables",
    ),
    pytest.param(
        lambda c: c.instance_tasks("i1"),
        "GET",
        "/instance/i1/tasks",
        None,
        [TASK],
        [Task.from_wire(TASK)],
        id="instance_tasks",
    ),
    pytest.param(
        lambda c: c.tasks(user="alice"),
        "GET",
        "/tasks?user=alice",
        None,
        [TASK],
        [Task.from_wire(TASK)],
        id="tasks_of_user",
    ),
    pytest.param(
        lambda c: c.tasks(role="Approver"),
        "GET",
        "/tasks?role=Approver",
        None,
        [],
        [],
        id="tasks_of_role",
    ),
    pytest.param(
        lambda c: c.tasks(group="Clerk"),
        "GET",
        "/tasks?group=Clerk",
        None,
        [TASK],
        [Task.from_wire(TASK)],
        id="tasks_of_group",
    ),
    pytest.param(
        lambda c: c.task_variables("t1"),
        "POST",
        "/tasks/t1/variables",
        {},
        {"roomBooked": True, "guests": 2},
        {"roomBooked": True, "guests": 2},
        id="task_variables",
    ),
    pytest.param(
        lambda c: c.assign_task("t1", ["alice", "bob"]),
        "POST",
        "/tasks/t1/assign?user=alice&user=bob",
        None,
        "",
        None,
        id="assign_task",
    ),
    pytest.param(
        lambda c: c.assign_instance("i1", "alice"),
        "POST",
        "/instance/i1/tasks/assign?user=alice",
        None,
        "",
        None,
        id="assign_instance",
    ),
    pytest.param(
        lambda c: c.refresh_cache(), "POST", "/refreshCache", None, "", None, id="refresh_cache"
    ),
    pytest.param(
        lambda c: c.refresh_process("BookingRoom"),
        "POST",
        "/classAction",
        {"processName": "BookingRoom"},
        "",
        None,
        id="refresh_process",
    ),
]


@pytest.mark.parametrize(("call", "method", "path", "body", "data", "result"), ENDPOINTS)
async def test_endpoint_sends_its_method_path_query_and_body_and_returns_its_data(
    upstream: ScriptedUpstream,
    client: UpstreamClient,
    call: Call,
    method: str,
    path: str,
    body: Any,
    data: Any,
    result: Any,
) -> None:
    route = upstream.route().mock(return_value=_ok(data))
    assert await call(client) == result
    assert route.call_count == 1
    request = route.last
    assert request.method == method
    assert request.target == API_PREFIX + path
    assert _body(request) == body
    if body is not None:
        assert request.headers["Content-Type"] == "application/json"


# Every method that places an id or a process name in the path, with that value.
PATH_IDS: list[Any] = [
    pytest.param(lambda c, x: c.claim_task(x, "alice"), "/tasks/{}/claim", id="claim_task"),
    pytest.param(lambda c, x: c.unclaim_task(x, "alice"), "/tasks/{}/unclaim", id="unclaim_task"),
    pytest.param(lambda c, x: c.complete_task(x, "a"), "/tasks/{}/complete", id="complete_task"),
    pytest.param(lambda c, x: c.task_variables(x), "/tasks/{}/variables", id="task_variables"),
    pytest.param(lambda c, x: c.assign_task(x, ["a"]), "/tasks/{}/assign", id="assign_task"),
    pytest.param(lambda c, x: c.instance_tasks(x), "/instance/{}/tasks", id="instance_tasks"),
    pytest.param(
        lambda c, x: c.assign_instance(x, "a"), "/instance/{}/tasks/assign", id="assign_instance"
    ),
    pytest.param(
        lambda c, x: c.start_process_legacy(x), "/process/{}/start", id="start_process_legacy"
    ),
]


@pytest.mark.parametrize(("call", "template"), PATH_IDS)
async def test_id_with_slash_query_fragment_space_and_dots_is_one_encoded_segment(
    upstream: ScriptedUpstream,
    client: UpstreamClient,
    call: Callable[[UpstreamClient, str], Awaitable[Any]],
    template: str,
) -> None:
    route = upstream.route().mock(side_effect=_fitting_reply)
    await call(client, "a/../b?c=1#d e")
    raw_path = route.last.target.split("?")[0]
    assert raw_path == API_PREFIX + template.format("a%2F..%2Fb%3Fc%3D1%23d%20e")


async def test_percent_in_an_id_is_encoded_not_passed_through(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    route = upstream.route().mock(return_value=_ok([]))
    await client.instance_tasks("50%2F")
    assert route.last.target == API_PREFIX + "/instance/50%252F/tasks"


@pytest.mark.parametrize("bad_id", ["", ".", ".."])
@pytest.mark.parametrize(("call", "template"), PATH_IDS)
async def test_dot_segment_id_is_bad_input_and_no_call_is_made(
    upstream: ScriptedUpstream,
    client: UpstreamClient,
    call: Callable[[UpstreamClient, str], Awaitable[Any]],
    template: str,
    bad_id: str,
) -> None:
    route = upstream.route().mock(return_value=_ok("i9"))
    with pytest.raises(BadInput):
        await call(client, bad_id)
    assert route.call_count == 0


async def test_query_values_are_encoded(upstream: ScriptedUpstream, client: UpstreamClient) -> None:
    route = upstream.route().mock(return_value=_ok([]))
    await client.tasks(user="a b&role=admin#x/y?")
    query = route.last.target.split("?", 1)[1]
    assert query == "user=a%20b%26role%3Dadmin%23x%2Fy%3F"
    assert route.last.params == [("user", "a b&role=admin#x/y?")]


@pytest.mark.parametrize(
    "principals",
    [{}, {"user": "alice", "group": "Clerk"}, {"user": "a", "role": "r", "group": "g"}],
)
async def test_tasks_needs_exactly_one_of_user_role_group(
    upstream: ScriptedUpstream, client: UpstreamClient, principals: dict[str, str]
) -> None:
    route = upstream.route().mock(return_value=_ok([]))
    with pytest.raises(BadInput):
        await client.tasks(**principals)
    assert route.call_count == 0


async def test_assign_task_without_users_is_bad_input(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    route = upstream.route().mock(return_value=_ok())
    with pytest.raises(BadInput):
        await client.assign_task("t1", [])
    assert route.call_count == 0


async def test_assign_task_refuses_a_single_string_for_users(client: UpstreamClient) -> None:
    with pytest.raises(TypeError):
        await client.assign_task("t1", "alice")


async def test_forwarded_headers_reach_the_upstream(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    route = upstream.route().mock(return_value=_ok([]))
    forwarded = {"Authorization": "Bearer a", "Cookie": "sid=1", "X-Request-ID": "req-1"}
    await client.instance_tasks("i1", headers=forwarded)
    sent = route.last.headers
    assert (sent["Authorization"], sent["Cookie"], sent["X-Request-ID"]) == (
        "Bearer a",
        "sid=1",
        "req-1",
    )


async def test_concurrent_calls_each_carry_only_their_own_authorization(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    async def echo_caller(request: RawRequest) -> Reply:
        await asyncio.sleep(0.01)  # both calls are in flight together
        caller = request.headers.get("Authorization", "none")
        return _ok([{"id": caller, "instanceId": "i1"}])

    route = upstream.route().mock(side_effect=echo_caller)
    alice, bob = await asyncio.gather(
        client.tasks(user="alice", headers={"Authorization": "Bearer alice"}),
        client.tasks(user="bob", headers={"Authorization": "Bearer bob"}),
    )
    assert [t.id for t in alice] == ["Bearer alice"]
    assert [t.id for t in bob] == ["Bearer bob"]
    sent = sorted(call.headers.getall("Authorization") for call in route.calls)
    assert sent == [["Bearer alice"], ["Bearer bob"]]


async def test_headers_of_one_call_never_appear_on_the_next(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    route = upstream.route().mock(return_value=_ok([]))
    await client.tasks(user="alice", headers={"Authorization": "Bearer a", "Cookie": "sid=a"})
    await client.tasks(user="bob")
    sent = route.last.headers
    assert "Authorization" not in sent
    assert "Cookie" not in sent


async def test_cookie_set_by_the_upstream_is_never_sent_on_a_later_call(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    route = upstream.route().mock(
        return_value=reply(
            200,
            json=envelope([]),
            headers={"Set-Cookie": "JSESSIONID=alice-session; Path=/"},
        )
    )
    await client.tasks(user="alice", headers={"Cookie": "sid=a"})
    await client.tasks(user="bob")
    assert "Cookie" not in route.last.headers


async def test_base_url_path_is_kept_before_the_api_prefix(
    upstream: ScriptedUpstream, make_client: Callable[..., UpstreamClient]
) -> None:
    route = upstream.route().mock(return_value=_ok([]))
    await make_client(base_url=upstream.base_url + "/oneweb/").instance_tasks("i1")
    assert route.last.target == "/oneweb" + API_PREFIX + "/instance/i1/tasks"


@pytest.mark.parametrize(
    "base_url",
    [
        "upstream.test:8080",
        "ftp://upstream.test",
        "http://h/?q=1",
        "http://user:secret@h/",
        "http://h\u00e9/",
    ],
)
def test_base_url_that_is_not_an_http_url_is_rejected(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        UpstreamClient(base_url=base_url)


async def test_async_with_closes_the_pool(upstream: ScriptedUpstream) -> None:
    upstream.route().mock(return_value=_ok([]))
    async with UpstreamClient(base_url=upstream.base_url) as client:
        await client.instance_tasks("i1")
    await asyncio.sleep(0.05)  # the server sees the kept-alive connection close
    assert upstream.connections == 1
    assert all(task.done() for task in upstream._handlers)


async def test_ping_is_true_when_the_upstream_answers_with_an_envelope(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=reply(404, json=envelope(code=404, message="no")))
    assert await client.ping() is True


async def test_ping_is_false_when_the_upstream_fails(
    upstream: ScriptedUpstream, client: UpstreamClient
) -> None:
    upstream.route().mock(return_value=reply(503, text="<html>down</html>"))
    assert await client.ping() is False


def _top_level_names(module: Any) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")} - {"logger"}


@pytest.mark.parametrize(
    "module", [backend.client, backend.transport, backend.breaker, backend.envelope]
)
def test_all_lists_every_public_name_the_module_defines(module: Any) -> None:
    assert set(module.__all__) - set(vars(module)) == set()
    assert _top_level_names(module) - set(module.__all__) == set()
