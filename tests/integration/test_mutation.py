"""Acting through the facade: every mutation, its payload's fresh state, and its payload errors."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import Facade, Upstream

PAYLOAD = "task { id assignee status candidateUsers } instance { id tasks { definitionId } } errors { code message field }"


async def _mutate(
    facade: Facade, name: str, input: dict[str, Any], *, user: str | None = "clerk"
) -> dict[str, Any]:
    reply = await facade.execute(
        f"mutation($input: {name[0].upper() + name[1:]}Input!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}",
        {"input": input},
        user=user,
    )
    assert "errors" not in reply, reply
    payload: dict[str, Any] = reply["data"][name]
    return payload


def _first_task(upstream: Upstream, instance_id: str) -> str:
    task_id: str = upstream.open_tasks(instance_id)[0]["id"]
    return task_id


async def test_start_process_returns_the_instance_with_its_first_task(
    facade: Facade, upstream: Upstream
) -> None:
    reply = await facade.execute(
        'mutation { startProcess(input: {processName: "BookingRoom", appName: "Hotel", snapVersion: "1", variables: {customer: "Ada"}}) {'
        " instance { id process { name appName snapVersion } tasks { definitionId variables { name value } } } errors { code } } }"
    )
    payload = reply["data"]["startProcess"]
    assert payload["errors"] == []
    assert payload["instance"]["process"] == {
        "name": "BookingRoom",
        "appName": "Hotel",
        "snapVersion": "1",
    }
    assert payload["instance"]["tasks"] == [
        {"definitionId": "ChooseRoom", "variables": [{"name": "customer", "value": "Ada"}]}
    ]
    assert upstream.open_tasks(payload["instance"]["id"])[0]["definitionId"] == "ChooseRoom"


async def test_legacy_start_uses_the_legacy_endpoint(facade: Facade, upstream: Upstream) -> None:
    reply = await facade.execute(
        'mutation { startProcess(input: {processName: "LeaveRequest", legacy: true, variables: {days: 2}}) { instance { id } errors { code } } }'
    )
    assert reply["data"]["startProcess"]["errors"] == []
    assert upstream.paths() == ["/process/LeaveRequest/start"]


async def test_start_of_unknown_process_is_not_found(facade: Facade) -> None:
    reply = await facade.execute(
        'mutation { startProcess(input: {processName: "NoSuchProcess"}) { instance { id } errors { code message } } }'
    )
    payload = reply["data"]["startProcess"]
    assert payload["instance"] is None
    assert payload["errors"][0]["code"] == "NOT_FOUND"
    assert "NoSuchProcess" in payload["errors"][0]["message"]


async def test_start_with_variables_that_are_not_an_object_is_bad_input(
    facade: Facade, upstream: Upstream
) -> None:
    reply = await facade.execute(
        'mutation { startProcess(input: {processName: "BookingRoom", variables: [1, 2]}) { instance { id } errors { code field } } }'
    )
    assert reply["data"]["startProcess"]["errors"] == [
        {"code": "BAD_USER_INPUT", "field": ["input", "variables"]}
    ]
    assert upstream.paths() == []


async def test_claim_shows_the_claimer_as_assignee(facade: Facade, upstream: Upstream) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    payload = await _mutate(facade, "claimTask", {"taskId": task_id, "user": "ann"})
    assert payload["errors"] == []
    assert payload["task"]["assignee"] == "ann"
    assert payload["task"]["status"] == "CLAIMED"


async def test_claim_without_user_acts_as_the_remote_user(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    payload = await _mutate(
        facade, "claimTask", {"taskId": task_id, "instanceId": instance_id}, user="bea"
    )
    assert payload["task"]["assignee"] == "bea"
    assert payload["instance"]["id"] == instance_id
    assert upstream.open_tasks(instance_id)[0]["assignee"] == "bea"


async def test_claim_with_neither_user_nor_principal_is_bad_input(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    payload = await _mutate(
        facade, "claimTask", {"taskId": _first_task(upstream, instance_id)}, user=None
    )
    assert payload["task"] is None
    assert payload["errors"][0]["code"] == "BAD_USER_INPUT"
    assert payload["errors"][0]["field"] == ["input", "user"]
    assert upstream.paths() == []


async def test_claim_of_a_task_held_by_another_user_is_conflict(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    await _mutate(facade, "claimTask", {"taskId": task_id, "user": "ann"})
    payload = await _mutate(facade, "claimTask", {"taskId": task_id, "user": "bob"})
    assert payload["errors"][0]["code"] == "CONFLICT"
    assert payload["errors"][0]["field"] == ["input", "taskId"]
    # Refused, the task is still open: the payload shows it as it is, held by ann.
    assert payload["task"]["assignee"] == "ann"
    assert payload["task"]["status"] == "CLAIMED"
    assert payload["instance"]["id"] == instance_id


async def test_claim_of_unknown_task_is_not_found(facade: Facade) -> None:
    payload = await _mutate(facade, "claimTask", {"taskId": "no-such-task"})
    assert payload["errors"][0]["code"] == "NOT_FOUND"
    assert payload["instance"] is None


async def test_unclaim_makes_the_task_ready_again(facade: Facade, upstream: Upstream) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    await _mutate(facade, "claimTask", {"taskId": task_id, "user": "ann"})
    payload = await _mutate(
        facade, "unclaimTask", {"taskId": task_id, "user": "ann", "instanceId": instance_id}
    )
    assert payload["errors"] == []
    assert payload["task"]["assignee"] is None
    assert payload["task"]["status"] == "READY"


async def test_unclaim_by_someone_else_is_forbidden(facade: Facade, upstream: Upstream) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    await _mutate(facade, "claimTask", {"taskId": task_id, "user": "ann"})
    payload = await _mutate(facade, "unclaimTask", {"taskId": task_id, "user": "bob"})
    assert payload["errors"][0]["code"] == "FORBIDDEN"


async def test_complete_with_room_booked_loops_back_to_choose_room(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    await _mutate(facade, "claimTask", {"taskId": task_id, "user": "ann"})
    payload = await _mutate(
        facade,
        "completeTask",
        {
            "taskId": task_id,
            "user": "ann",
            "instanceId": instance_id,
            "variables": {"roomBooked": True},
        },
    )
    assert payload["errors"] == []
    assert payload["task"] is None
    assert payload["instance"]["tasks"] == [{"definitionId": "ChooseRoom"}]
    assert upstream.open_tasks(instance_id)[0]["id"] != task_id


async def test_complete_without_room_booked_goes_on_to_customer_details(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    payload = await _mutate(
        facade,
        "completeTask",
        {"taskId": task_id, "user": "ann", "variables": {"roomBooked": False}},
    )
    assert payload["errors"] == []
    assert [t["definitionId"] for t in upstream.open_tasks(instance_id)] == ["AddCustomerDetails"]


async def test_complete_of_a_task_held_by_another_user_is_forbidden(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    await _mutate(facade, "claimTask", {"taskId": task_id, "user": "ann"})
    payload = await _mutate(
        facade,
        "completeTask",
        {"taskId": task_id, "user": "bob", "variables": {"roomBooked": False}},
    )
    assert payload["errors"][0]["code"] == "FORBIDDEN"
    assert upstream.open_tasks(instance_id)[0]["id"] == task_id


async def test_complete_with_variables_that_are_not_an_object_is_bad_input(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    payload = await _mutate(
        facade, "completeTask", {"taskId": _first_task(upstream, instance_id), "variables": "yes"}
    )
    assert payload["errors"] == [
        {
            "code": "BAD_USER_INPUT",
            "message": "`variables` must be a JSON object",
            "field": ["input", "variables"],
        }
    ]
    assert upstream.paths() == []


async def test_assign_sets_the_candidate_users_without_claiming(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    payload = await _mutate(facade, "assignTask", {"taskId": task_id, "users": ["ann", "bob"]})
    assert payload["errors"] == []
    assert payload["task"]["candidateUsers"] == ["ann", "bob"]
    assert payload["task"]["assignee"] is None
    assert upstream.recorder.calls[0].query == "user=ann&user=bob"


async def test_assign_to_nobody_is_bad_input(facade: Facade, upstream: Upstream) -> None:
    instance_id = upstream.start("BookingRoom")
    payload = await _mutate(
        facade, "assignTask", {"taskId": _first_task(upstream, instance_id), "users": []}
    )
    assert payload["errors"][0]["code"] == "BAD_USER_INPUT"
    assert payload["errors"][0]["field"] == ["input", "users"]


async def test_assign_instance_offers_every_open_task_to_the_user(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("Onboarding")
    reply = await facade.execute(
        'mutation($i: ID!) { assignInstance(input: {instanceId: $i, user: "dana"}) { instance { tasks { candidateUsers } } errors { code } } }',
        {"i": instance_id},
    )
    payload = reply["data"]["assignInstance"]
    assert payload["errors"] == []
    assert [t["candidateUsers"] for t in payload["instance"]["tasks"]] == [["dana"]] * 4


async def test_assign_unknown_instance_is_not_found(facade: Facade) -> None:
    reply = await facade.execute(
        'mutation { assignInstance(input: {instanceId: "nope", user: "dana"}) { instance { id } errors { code } } }'
    )
    assert reply["data"]["assignInstance"] == {"instance": None, "errors": [{"code": "NOT_FOUND"}]}


@pytest.mark.parametrize(
    ("argument", "path"),
    [("", "/refreshCache"), ('(input: {processName: "BookingRoom"})', "/classAction")],
)
async def test_refresh_cache_reloads_all_or_one(
    facade: Facade, upstream: Upstream, argument: str, path: str
) -> None:
    reply = await facade.execute(
        f"mutation {{ refreshCache{argument} {{ ok errors {{ code }} }} }}"
    )
    assert reply["data"]["refreshCache"] == {"ok": True, "errors": []}
    assert upstream.paths() == [path]


async def test_later_mutations_in_one_request_see_earlier_ones(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    reply = await facade.execute(
        """mutation($t: ID!, $i: ID!) {
          before: claimTask(input: {taskId: $t, instanceId: $i}) { task { assignee } }
          done: completeTask(input: {taskId: $t, instanceId: $i, variables: {roomBooked: false}}) {
            task { id } instance { tasks { definitionId assignee } } errors { code } }
        }""",
        {"t": task_id, "i": instance_id},
        user="ann",
    )
    assert reply["data"]["before"] == {"task": {"assignee": "ann"}}
    assert reply["data"]["done"] == {
        "task": None,
        "instance": {"tasks": [{"definitionId": "AddCustomerDetails", "assignee": None}]},
        "errors": [],
    }


async def test_payload_reads_fresh_state_after_a_listing_in_the_same_request(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = _first_task(upstream, instance_id)
    reply = await facade.execute(
        """query($i: ID!) { instance(id: $i) { tasks { id assignee } } }""", {"i": instance_id}
    )
    assert reply["data"]["instance"]["tasks"][0]["assignee"] is None
    # The payload finds the instance from the id index the listing filled, without instanceId.
    payload = await _mutate(facade, "claimTask", {"taskId": task_id}, user="ann")
    assert payload["instance"]["id"] == instance_id
    assert payload["task"]["assignee"] == "ann"
