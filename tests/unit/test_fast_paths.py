"""The fast paths resolve every hot field exactly as strawberry's own resolvers do."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType

from backend.models import API_PREFIX, envelope
from resolvers.context import build_context
from resolvers.memory import InstanceIndex
from resolvers.principal import Principal
from schema import build_schema
from schema.fast_paths import install
from tests.support.scripted_upstream import ScriptedUpstream, reply

EVERY_HOT_FIELD = """query($user: String!) {
  tasks(user: $user) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
    nodes {
      id name definitionId description priority assignee candidateUsers candidateGroups
      candidateRoles owner createdBy instanceId status createdAt dueAt raw
      process { name appName snapVersion }
      instance { id process { name } tasks { id status } }
      variables { name value type }
      some: variables(names: ["b", "missing", "a"]) { name value type }
      variable(name: "a") { name value type }
      none: variable(name: "missing") { name }
    }
  }
}"""

TASKS = [
    {
        "id": "t1",
        "instanceId": "i1",
        "name": "Review",
        "definitionId": "review",
        "processName": "Onboarding",
        "appName": "HR",
        "snapVersion": "3",
        "assignee": "ann",
        "priority": 50,
        "createTime": 1_700_000_000_000,
        "dueDate": 1_700_000_360_000,
        "candidateUsers": ["ann", "bob"],
        "candidateGroups": ["hr"],
        "status": "CLAIMED",
        "extra": {"kept": True},
    },
    {"taskId": "t2", "processInstanceId": "i1", "dueDate": None},
]
VARIABLES = {"a": 1, "b": "two", "c": None, "d": [1], "e": {"f": True}}


async def _run(schema_fast: bool, upstream: ScriptedUpstream, make_client: Any) -> Any:
    schema = build_schema(fast_paths=schema_fast)
    context = build_context(
        client=make_client(), headers={}, principal=Principal("ann"), index=InstanceIndex()
    )
    result = await schema.execute(
        EVERY_HOT_FIELD, variable_values={"user": "ann"}, context_value=context
    )
    assert result.errors is None, result.errors
    return result.data


async def test_fast_paths_answer_as_strawberry_does(
    upstream: ScriptedUpstream, make_client: Any
) -> None:
    upstream.route(rf"^{API_PREFIX}/tasks$").mock(return_value=reply(200, json=envelope(TASKS)))
    upstream.route(r"/instance/i1/tasks$").mock(return_value=reply(200, json=envelope(TASKS)))
    upstream.route(r"/tasks/t\d/variables$").mock(return_value=reply(200, json=envelope(VARIABLES)))
    fast = await _run(True, upstream, make_client)
    plain = await _run(False, upstream, make_client)
    assert fast == plain
    first = fast["tasks"]["nodes"][0]
    assert first["status"] == "CLAIMED" and first["raw"]["extra"] == {"kept": True}
    assert [v["name"] for v in first["some"]] == ["b", "a"]


def test_every_field_of_the_hot_types_is_swapped() -> None:
    schema = build_schema()._schema
    strawberry_resolvers = build_schema(fast_paths=False)._schema
    for name in ("Task", "Instance", "Variable", "Process"):
        fast, plain = schema.type_map[name], strawberry_resolvers.type_map[name]
        assert isinstance(fast, GraphQLObjectType) and isinstance(plain, GraphQLObjectType)
        for field_name, field in fast.fields.items():
            assert field.resolve is not plain.fields[field_name].resolve, (name, field_name)
            assert field.resolve.__module__ == "schema.fast_paths", (name, field_name)


def test_a_field_whose_arguments_changed_is_refused() -> None:
    schema = build_schema(fast_paths=False)._schema
    task = schema.type_map["Task"]
    assert isinstance(task, GraphQLObjectType)
    task.fields["variables"].args.pop("names")
    with pytest.raises(RuntimeError, match=r"Task.variables: arguments"):
        install(schema)


SHARED_LISTING = """query($user: String!) {
  tasks(user: $user) { nodes { id instance { tasks { id createdAt } } } }
}"""


async def test_a_listing_shared_by_tasks_reports_its_errors_under_each_of_them(
    upstream: ScriptedUpstream, make_client: Any
) -> None:
    # The two tasks of one instance complete its one listing; a listing task whose
    # creation time is out of any date's range fails under both of them, not only the
    # first (a completion with errors is never shared).
    poison = {"id": "t3", "instanceId": "i1", "createTime": 9 * 10**18}
    upstream.route(rf"^{API_PREFIX}/tasks$").mock(return_value=reply(200, json=envelope(TASKS)))
    upstream.route(r"/instance/i1/tasks$").mock(
        return_value=reply(200, json=envelope([*TASKS, poison]))
    )
    schema = build_schema()
    context = build_context(
        client=make_client(), headers={}, principal=Principal("ann"), index=InstanceIndex()
    )

    result = await schema.execute(
        SHARED_LISTING, variable_values={"user": "ann"}, context_value=context
    )

    assert result.data is not None and result.errors is not None
    assert sorted(error.path for error in result.errors) == [  # type: ignore[type-var]
        ["tasks", "nodes", 0, "instance", "tasks", 2, "createdAt"],
        ["tasks", "nodes", 1, "instance", "tasks", 2, "createdAt"],
    ]
    listings = [node["instance"]["tasks"] for node in result.data["tasks"]["nodes"]]
    assert listings[0] == listings[1]
    assert [task["createdAt"] for task in listings[0]][1:] == [None, None]
