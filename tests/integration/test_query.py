"""Reading through the facade: task lists, pagination, an instance, a task, variables, a process."""

from __future__ import annotations

import pytest

from tests.support.http import TLS

from .harness import Facade, Upstream

TASK_FIELDS = """
  id name definitionId description priority status assignee owner createdBy createdAt dueAt
  candidateUsers candidateGroups candidateRoles instanceId process { name appName snapVersion }
"""


async def test_group_tasks_show_the_upstream_task_fields(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    reply = await facade.execute(
        f'{{ tasks(group: "Clerk") {{ totalCount nodes {{ {TASK_FIELDS} }} }} }}'
    )
    assert "errors" not in reply
    [task] = reply["data"]["tasks"]["nodes"]
    upstream_task = upstream.open_tasks(instance_id)[0]
    assert task["id"] == upstream_task["id"]
    assert task["name"] == "Choose Room"
    assert task["definitionId"] == "ChooseRoom"
    assert task["status"] == "READY"
    assert task["assignee"] is None
    assert task["candidateGroups"] == ["Clerk"]
    assert task["instanceId"] == instance_id
    assert task["process"]["name"] == "BookingRoom"
    assert task["priority"] == upstream_task["priority"]
    assert task["createdAt"].endswith("+00:00")


async def test_raw_is_the_upstream_task_object(facade: Facade, upstream: Upstream) -> None:
    instance_id = upstream.start("BookingRoom")
    reply = await facade.execute('{ tasks(group: "Clerk") { nodes { raw } } }')
    assert reply["data"]["tasks"]["nodes"][0]["raw"] == upstream.open_tasks(instance_id)[0]


async def test_user_tasks_are_those_assigned_or_offered_to_the_user(
    facade: Facade, upstream: Upstream
) -> None:
    offered = upstream.start("BookingRoom")
    upstream.rest("POST", f"/instance/{offered}/tasks/assign", params={"user": "dana"})
    upstream.start("BookingRoom")  # offered to the Clerk group only
    reply = await facade.execute(
        '{ tasks(user: "dana") { totalCount nodes { instanceId candidateUsers } } }'
    )
    assert reply["data"]["tasks"]["totalCount"] == 1
    assert reply["data"]["tasks"]["nodes"][0] == {"instanceId": offered, "candidateUsers": ["dana"]}


async def test_role_tasks_list_is_empty_when_nothing_is_offered_to_the_role(
    facade: Facade, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")
    reply = await facade.execute('{ tasks(role: "Auditor") { totalCount nodes { id } } }')
    assert reply["data"]["tasks"] == {"totalCount": 0, "nodes": []}


@pytest.mark.parametrize(
    "arguments",
    ["", 'user: "a", group: "b"', 'user: "a", role: "b", group: "c"'],
)
async def test_tasks_needs_exactly_one_principal(facade: Facade, arguments: str) -> None:
    reply = await facade.execute(
        f"{{ tasks({arguments}) {{ totalCount }} }}" if arguments else "{ tasks { totalCount } }"
    )
    assert reply["data"] == {"tasks": None}
    assert reply["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert reply["errors"][0]["path"] == ["tasks"]


async def test_pages_walk_the_whole_list_with_cursors(facade: Facade, upstream: Upstream) -> None:
    for _ in range(5):
        upstream.start("BookingRoom")
    page_query = """query($after: String) { tasks(group: "Clerk", first: 2, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id } } } }"""
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await facade.execute(page_query, {"after": after}))["data"]["tasks"]
        pages += 1
        assert page["totalCount"] == 5
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("cursor", ["not-a-cursor", "b2Zmc2V0Oi0x"])
async def test_a_cursor_the_facade_did_not_make_is_bad_input(facade: Facade, cursor: str) -> None:
    reply = await facade.execute(
        'query($c: String) { tasks(group: "Clerk", after: $c) { totalCount } }', {"c": cursor}
    )
    assert reply["data"] == {"tasks": None}
    assert reply["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_negative_first_is_bad_input(facade: Facade) -> None:
    reply = await facade.execute('{ tasks(group: "Clerk", first: -1) { totalCount } }')
    assert reply["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_instance_shows_its_process_and_open_tasks(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("LeaveRequest")
    reply = await facade.execute(
        "query($id: ID!) { instance(id: $id) { id process { name } tasks { definitionId candidateGroups } } }",
        {"id": instance_id},
    )
    assert reply["data"]["instance"] == {
        "id": instance_id,
        "process": {"name": "LeaveRequest"},
        "tasks": [{"definitionId": "SubmitRequest", "candidateGroups": ["Employee"]}],
    }


async def test_unknown_instance_is_null_without_error(facade: Facade) -> None:
    reply = await facade.execute('{ instance(id: "no-such-instance") { id } }')
    assert reply == {"data": {"instance": None}}


async def test_task_by_id_and_instance(facade: Facade, upstream: Upstream) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = upstream.open_tasks(instance_id)[0]["id"]
    reply = await facade.execute(
        "query($id: ID!, $i: ID!) { task(id: $id, instanceId: $i) { id name instance { id } } }",
        {"id": task_id, "i": instance_id},
    )
    assert reply["data"]["task"] == {
        "id": task_id,
        "name": "Choose Room",
        "instance": {"id": instance_id},
    }


async def test_task_not_open_in_that_instance_is_null(facade: Facade, upstream: Upstream) -> None:
    instance_id = upstream.start("BookingRoom")
    reply = await facade.execute(
        'query($i: ID!) { task(id: "other", instanceId: $i) { id } }', {"i": instance_id}
    )
    assert reply == {"data": {"task": None}}


async def test_variables_carry_values_and_json_types(facade: Facade, upstream: Upstream) -> None:
    business = {
        "customer": "Ada",
        "nights": 3,
        "vip": True,
        "room": {"floor": 2},
        "tags": ["a"],
        "note": None,
    }
    upstream.start("BookingRoom", business)
    reply = await facade.execute(
        '{ tasks(group: "Clerk") { nodes { variables { name value type } } } }'
    )
    variables = reply["data"]["tasks"]["nodes"][0]["variables"]
    assert {v["name"]: v["value"] for v in variables} == business
    assert {v["name"]: v["type"] for v in variables} == {
        "customer": "STRING",
        "nights": "NUMBER",
        "vip": "BOOLEAN",
        "room": "OBJECT",
        "tags": "ARRAY",
        "note": "NULL",
    }


async def test_variables_by_name_keep_the_order_asked_and_skip_missing(
    facade: Facade, upstream: Upstream
) -> None:
    upstream.start("BookingRoom", {"a": 1, "b": 2})
    reply = await facade.execute(
        '{ tasks(group: "Clerk") { nodes { variables(names: ["b", "zz", "a"]) { name } variable(name: "b") { value } missing: variable(name: "zz") { value } } } }'
    )
    node = reply["data"]["tasks"]["nodes"][0]
    assert node["variables"] == [{"name": "b"}, {"name": "a"}]
    assert node["variable"] == {"value": 2}
    assert node["missing"] is None


async def test_process_by_name_needs_no_upstream_call(facade: Facade, upstream: Upstream) -> None:
    reply = await facade.execute('{ process(name: "BookingRoom") { name appName snapVersion } }')
    assert reply["data"]["process"] == {"name": "BookingRoom", "appName": None, "snapVersion": None}
    assert upstream.paths() == []


async def test_get_queries_are_accepted(facade: Facade, upstream: Upstream) -> None:
    import httpx

    upstream.start("BookingRoom")
    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        reply = await client.get(
            "/graphql", params={"query": '{ tasks(group: "Clerk") { totalCount } }'}
        )
    assert reply.json() == {"data": {"tasks": {"totalCount": 1}}}


async def test_browsers_get_graphiql(facade: Facade) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        reply = await client.get("/graphql", headers={"Accept": "text/html"})
    assert reply.status_code == 200
    assert "graphiql" in reply.text.lower()


async def test_healthz_answers(facade: Facade) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        assert (await client.get("/healthz")).status_code == 200
