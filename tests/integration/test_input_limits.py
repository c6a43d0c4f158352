"""Input limits through the facade: each bad input is BAD_USER_INPUT naming its field, and
no upstream call is made; bodies that are not a JSON object are 400 with a JSON error."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from tests.support.http import TLS

from .harness import Facade, Upstream

LONG = "x" * 70_000
CLAIM = (
    "mutation($input: ClaimTaskInput!) "
    "{ claimTask(input: $input) { task { id } instance { id } errors { code field } } }"
)
COMPLETE = (
    "mutation($input: CompleteTaskInput!) { completeTask(input: $input) { errors { code field } } }"
)
START = (
    "mutation($input: StartProcessInput!) "
    "{ startProcess(input: $input) { instance { id } errors { code field } } }"
)
ASSIGN = (
    "mutation($input: AssignTaskInput!) { assignTask(input: $input) { errors { code field } } }"
)
ASSIGN_INSTANCE = "mutation($input: AssignInstanceInput!) { assignInstance(input: $input) { errors { code field } } }"
REFRESH = (
    "mutation($input: RefreshCacheInput) { refreshCache(input: $input) { errors { code field } } }"
)


def nested(levels: int) -> dict[str, Any]:
    """A JSON object ``levels`` deep: ``{"a": {"a": ... {}}}``."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def _top_level_error(reply: dict[str, Any]) -> dict[str, Any]:
    [error] = reply["errors"]
    return dict(error["extensions"])


QUERY_CASES = [
    ("query($v: ID!) { instance(id: $v) { id } }", LONG, "id"),
    ('query($v: ID!) { task(id: $v, instanceId: "i") { id } }', LONG, "id"),
    ('query($v: ID!) { task(id: "t", instanceId: $v) { id } }', LONG, "instanceId"),
    ("query($v: String!) { tasks(user: $v) { totalCount } }", LONG, "user"),
    ("query($v: String!) { tasks(user: $v) { totalCount } }", "   ", "user"),
    ("query($v: String!) { tasks(user: $v) { totalCount } }", "bob\x00", "user"),
    ("query($v: String!) { tasks(group: $v) { totalCount } }", "Clerk\n", "group"),
    ("query($v: String!) { tasks(role: $v) { totalCount } }", "r" * 257, "role"),
    ("query($v: String!) { tasks(user: $v) { totalCount } }", "", "user"),
    ("query($v: String!) { process(name: $v) { name } }", LONG, "name"),
]


async def test_a_query_argument_over_a_limit_is_bad_user_input_naming_it(
    facade: Facade, upstream: Upstream
) -> None:
    for query, value, field in QUERY_CASES:
        reply = await facade.execute(query, {"v": value}, user="bob")

        case = (query, value[:20])
        assert _top_level_error(reply) == {"code": "BAD_USER_INPUT", "field": [field]}, case
        assert upstream.paths() == [], case


async def test_names_at_the_limits_pass(facade: Facade, upstream: Upstream) -> None:
    reply = await facade.execute(
        "query($u: String!, $g: String!) { u: tasks(user: $u) { totalCount } "
        "g: tasks(group: $g) { totalCount } }",
        {"u": "u" * 256, "g": "Zoë Ünïcode group"},
    )

    assert reply == {"data": {"u": {"totalCount": 0}, "g": {"totalCount": 0}}}


MUTATION_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (CLAIM, {"taskId": LONG, "user": "bob"}, ["input", "taskId"]),
    (CLAIM, {"taskId": "", "user": "bob"}, ["input", "taskId"]),
    (CLAIM, {"taskId": "t", "user": LONG}, ["input", "user"]),
    (CLAIM, {"taskId": "t", "user": "   "}, ["input", "user"]),
    (CLAIM, {"taskId": "t", "user": "bo\x00b"}, ["input", "user"]),
    (CLAIM, {"taskId": "t", "user": "bob", "instanceId": LONG}, ["input", "instanceId"]),
    (COMPLETE, {"taskId": "t", "user": "bob", "variables": nested(65)}, ["input", "variables"]),
    (
        COMPLETE,
        {"taskId": "t", "user": "bob", "variables": nested(254)},
        ["input", "variables"],
    ),
    (START, {"processName": LONG}, ["input", "processName"]),
    (START, {"processName": "BookingRoom", "variables": nested(65)}, ["input", "variables"]),
    (START, {"processName": "BookingRoom", "uniqueId": LONG}, ["input", "uniqueId"]),
    (ASSIGN, {"taskId": "t", "users": ["ok", "\t"]}, ["input", "users"]),
    (ASSIGN, {"taskId": LONG, "users": ["ok"]}, ["input", "taskId"]),
    (ASSIGN_INSTANCE, {"instanceId": LONG, "user": "bob"}, ["input", "instanceId"]),
    (ASSIGN_INSTANCE, {"instanceId": "i", "user": "a\x7fb"}, ["input", "user"]),
    (REFRESH, {"processName": LONG}, ["input", "processName"]),
]


async def test_a_mutation_input_over_a_limit_is_a_payload_error_naming_it(
    facade: Facade, upstream: Upstream
) -> None:
    for query, given, field in MUTATION_CASES:
        reply = await facade.execute(query, {"input": given}, user="bob")

        assert "errors" not in reply, reply
        [payload] = reply["data"].values()
        assert payload["errors"] == [{"code": "BAD_USER_INPUT", "field": field}], field
        assert upstream.paths() == [], field


async def test_a_refused_instance_id_is_not_read_for_the_payload(
    facade: Facade, upstream: Upstream
) -> None:
    reply = await facade.execute(CLAIM, {"input": {"taskId": "t", "instanceId": LONG}}, user="bob")

    assert reply["data"]["claimTask"] == {
        "task": None,
        "instance": None,
        "errors": [{"code": "BAD_USER_INPUT", "field": ["input", "instanceId"]}],
    }
    assert upstream.paths() == []


async def test_variables_sixty_four_deep_are_accepted(facade: Facade, upstream: Upstream) -> None:
    reply = await facade.execute(
        START, {"input": {"processName": "BookingRoom", "variables": nested(64)}}
    )

    assert reply["data"]["startProcess"]["errors"] == []
    assert reply["data"]["startProcess"]["instance"]["id"]


async def test_a_deep_json_literal_is_refused_too(facade: Facade, upstream: Upstream) -> None:
    literal = "{a: " * 70 + "{}" + "}" * 70
    query = f'mutation {{ startProcess(input: {{processName: "BookingRoom", variables: {literal}}}) {{ errors {{ code field }} }} }}'

    reply = await facade.execute(query)

    assert reply["data"]["startProcess"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": ["input", "variables"]}
    ]
    assert upstream.paths() == []


async def _post(facade: Facade, content: bytes) -> httpx.Response:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        return await client.post(
            "/graphql", content=content, headers={"Content-Type": "application/json"}
        )


async def test_a_body_that_is_not_a_json_object_is_400_with_a_json_error(
    facade: Facade, upstream: Upstream
) -> None:
    for body in (b"null", b'"x"', b"123", b"true", b" false", b"[]", b"[1]"):
        reply = await _post(facade, body)

        assert reply.status_code == 400, body
        assert reply.headers["content-type"] == "application/json", body
        [error] = orjson.loads(reply.content)["errors"]
        assert error["extensions"] == {"code": "BAD_REQUEST"}, body
    assert upstream.paths() == []


async def test_get_with_variables_that_are_not_an_object_is_400(facade: Facade) -> None:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        for variables in ("5", '"x"', "true", "[]", "{"):
            reply = await client.get(
                "/graphql",
                params={"query": "{ __typename }", "variables": variables},
                headers={"Accept": "application/json"},
            )

            assert reply.status_code == 400, variables
            assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST", variables
