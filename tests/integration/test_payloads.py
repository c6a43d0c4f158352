"""Honest payloads: a task mutation's payload never shows a phantom, and after a success its
``instance`` is there even where this facade never listed the task (another worker, a restart).

Each test starts a fresh facade, whose process-wide index is empty, as a new worker's is;
the upstream's recorder counts the calls each case costs (docs/payloads.md lists them).
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import FacadeFactory
from .harness import Facade, Upstream

PAYLOAD = "task { id assignee status } instance { id } errors { code message field }"
CLERK = {"X-Remote-User": "ann", "X-Remote-Groups": "Clerk"}


async def _mutate(
    facade: Facade,
    name: str,
    input: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    selection: str = PAYLOAD,
) -> dict[str, Any]:
    reply = await facade.execute(
        f"mutation($input: {name[0].upper() + name[1:]}Input!) {{ {name}(input: $input) {{ {selection} }} }}",
        {"input": input},
        headers=CLERK if headers is None else headers,
    )
    assert "errors" not in reply, reply
    payload: dict[str, Any] = reply["data"][name]
    return payload


def _booking(upstream: Upstream) -> tuple[str, str]:
    instance_id = upstream.start("BookingRoom")
    task_id: str = upstream.open_tasks(instance_id)[0]["id"]
    return instance_id, task_id


@pytest.fixture
def fresh(facade_factory: FacadeFactory, upstream: Upstream) -> Facade:
    """A facade that has never listed anything: its id index is empty."""
    return facade_factory(upstream.base_url)


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("claimTask", {}),
        ("unclaimTask", {}),
        ("completeTask", {"variables": {"roomBooked": False}}),
        ("assignTask", {"users": ["bob"]}),
    ],
)
async def test_unknown_instance_id_is_not_found_on_that_field_and_nothing_is_done(
    fresh: Facade, upstream: Upstream, name: str, extra: dict[str, Any]
) -> None:
    instance_id, task_id = _booking(upstream)
    payload = await _mutate(
        fresh, name, {"taskId": task_id, "instanceId": "no-such-instance", **extra}
    )
    assert payload["instance"] is None
    assert payload["task"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("NOT_FOUND", ["input", "instanceId"])
    ]
    assert upstream.paths() == ["/instance/no-such-instance/tasks"]
    assert upstream.open_tasks(instance_id)[0]["assignee"] is None


async def test_instance_id_of_another_instance_is_refused_before_any_change(
    fresh: Facade, upstream: Upstream
) -> None:
    other_instance, _ = _booking(upstream)
    instance_id, task_id = _booking(upstream)
    payload = await _mutate(fresh, "claimTask", {"taskId": task_id, "instanceId": other_instance})
    assert payload["instance"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("NOT_FOUND", ["input", "taskId"])
    ]
    assert upstream.open_tasks(instance_id)[0]["assignee"] is None


async def test_claim_of_a_task_never_listed_finds_its_instance_in_the_claimers_listing(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    payload = await _mutate(fresh, "claimTask", {"taskId": task_id})
    assert payload == {
        "task": {"id": task_id, "assignee": "ann", "status": "CLAIMED"},
        "instance": {"id": instance_id},
        "errors": [],
    }
    assert upstream.paths() == [f"/tasks/{task_id}/claim", "/tasks"]


async def test_claim_with_a_checked_instance_id_costs_one_read_before(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    payload = await _mutate(fresh, "claimTask", {"taskId": task_id, "instanceId": instance_id})
    assert payload["instance"] == {"id": instance_id}
    assert payload["task"]["assignee"] == "ann"
    instance_tasks = f"/instance/{instance_id}/tasks"
    assert upstream.paths() == [instance_tasks, f"/tasks/{task_id}/claim", instance_tasks]


async def test_complete_of_a_claimed_task_never_listed_shows_its_instance(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    upstream.rest("POST", f"/tasks/{task_id}/claim", params={"user": "ann"})
    payload = await _mutate(
        fresh,
        "completeTask",
        {"taskId": task_id, "variables": {"roomBooked": False}},
        selection="task { id } instance { id tasks { definitionId } } errors { code }",
    )
    assert payload == {
        "task": None,
        "instance": {"id": instance_id, "tasks": [{"definitionId": "AddCustomerDetails"}]},
        "errors": [],
    }
    # The acting user's listing before the call (after it, no listing shows the task).
    assert upstream.paths() == [
        "/tasks",
        f"/tasks/{task_id}/complete",
        f"/instance/{instance_id}/tasks",
    ]


async def test_complete_of_an_unclaimed_group_task_finds_it_in_the_principals_group(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    payload = await _mutate(
        fresh, "completeTask", {"taskId": task_id, "variables": {"roomBooked": True}}
    )
    assert payload["instance"] == {"id": instance_id}
    assert payload["errors"] == []
    assert upstream.paths() == ["/tasks", "/tasks", f"/tasks/{task_id}/complete"]
    assert [call.query for call in upstream.recorder.calls[:2]] == ["user=ann", "group=Clerk"]


async def test_complete_without_selecting_instance_makes_no_lookup(
    fresh: Facade, upstream: Upstream
) -> None:
    _, task_id = _booking(upstream)
    payload = await _mutate(
        fresh,
        "completeTask",
        {"taskId": task_id, "variables": {"roomBooked": False}},
        selection="errors { code }",
    )
    assert payload == {"errors": []}
    assert upstream.paths() == [f"/tasks/{task_id}/complete"]


async def test_unclaim_of_a_task_never_listed_shows_it_ready_in_its_instance(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    upstream.rest("POST", f"/tasks/{task_id}/claim", params={"user": "ann"})
    payload = await _mutate(fresh, "unclaimTask", {"taskId": task_id})
    assert payload == {
        "task": {"id": task_id, "assignee": None, "status": "READY"},
        "instance": {"id": instance_id},
        "errors": [],
    }
    assert upstream.paths() == [
        "/tasks",
        f"/tasks/{task_id}/unclaim",
        f"/instance/{instance_id}/tasks",
    ]


async def test_assign_of_a_task_never_listed_finds_it_in_the_assignees_listing(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    payload = await _mutate(fresh, "assignTask", {"taskId": task_id, "users": ["bob", "cy"]})
    assert payload["instance"] == {"id": instance_id}
    assert payload["task"]["id"] == task_id
    assert upstream.paths() == [f"/tasks/{task_id}/assign", "/tasks", "/tasks"]


async def test_refused_claim_shows_the_task_held_by_its_holder(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    upstream.rest("POST", f"/tasks/{task_id}/claim", params={"user": "zoe"})
    payload = await _mutate(fresh, "claimTask", {"taskId": task_id})
    assert payload["errors"][0]["code"] == "CONFLICT"
    assert payload["task"] == {"id": task_id, "assignee": "zoe", "status": "CLAIMED"}
    assert payload["instance"] == {"id": instance_id}


async def test_refused_complete_shows_the_task_held_by_its_holder(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    upstream.rest("POST", f"/tasks/{task_id}/claim", params={"user": "zoe"})
    payload = await _mutate(
        fresh,
        "completeTask",
        {"taskId": task_id, "instanceId": instance_id, "variables": {"roomBooked": False}},
    )
    assert payload["errors"][0]["code"] == "FORBIDDEN"
    assert payload["task"] == {"id": task_id, "assignee": "zoe", "status": "CLAIMED"}
    assert payload["instance"] == {"id": instance_id}
    # The check of instanceId was the read: the refusal costs no second one.
    assert upstream.paths() == [f"/instance/{instance_id}/tasks", f"/tasks/{task_id}/complete"]


async def test_unknown_task_has_neither_task_nor_instance(fresh: Facade) -> None:
    payload = await _mutate(fresh, "claimTask", {"taskId": "no-such-task"})
    assert payload["task"] is None
    assert payload["instance"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("NOT_FOUND", ["input", "taskId"])
    ]


async def test_gateway_missing_its_variable_names_it_under_variables(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    payload = await _mutate(fresh, "completeTask", {"taskId": task_id, "variables": {}})
    [error] = payload["errors"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["field"] == ["input", "variables", "roomBooked"]
    assert "the gateway after ChooseRoom needs the variable 'roomBooked'" in error["message"]
    for internal in ("Error evaluating", "is not defined", "expression"):
        assert internal not in error["message"]
    assert upstream.open_tasks(instance_id)[0]["id"] == task_id


async def test_gateway_with_no_matching_flow_names_the_variable_it_reads(
    fresh: Facade, upstream: Upstream
) -> None:
    _, task_id = _booking(upstream)
    payload = await _mutate(
        fresh, "completeTask", {"taskId": task_id, "variables": {"roomBooked": "maybe"}}
    )
    [error] = payload["errors"]
    assert error["field"] == ["input", "variables", "roomBooked"]
    assert "none of its conditions holds" in error["message"]


async def test_empty_user_names_the_user_field_in_graphql_words(
    fresh: Facade, upstream: Upstream
) -> None:
    _, task_id = _booking(upstream)
    payload = await _mutate(fresh, "claimTask", {"taskId": task_id, "user": ""})
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", ["input", "user"])
    assert "`user`" in error["message"]
    assert "query parameter" not in error["message"]


async def test_dot_segment_task_id_names_the_task_id_field(
    fresh: Facade, upstream: Upstream
) -> None:
    payload = await _mutate(fresh, "claimTask", {"taskId": ".."})
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", ["input", "taskId"])
    assert error["message"].startswith("`taskId` must not be")
    assert upstream.paths() == []


async def test_complete_refused_for_a_missing_gateway_variable_shows_the_task_still_open(
    fresh: Facade, upstream: Upstream
) -> None:
    instance_id, task_id = _booking(upstream)
    upstream.rest("POST", f"/tasks/{task_id}/claim", params={"user": "ann"})

    payload = await _mutate(fresh, "completeTask", {"taskId": task_id, "instanceId": instance_id})

    assert payload["task"] == {"id": task_id, "assignee": "ann", "status": "CLAIMED"}
    assert payload["instance"] == {"id": instance_id}
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (
        "BAD_USER_INPUT",
        ["input", "variables", "roomBooked"],
    )
