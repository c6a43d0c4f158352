"""Completing tasks (endpoint 4): who may, what the variables do, what a failed gateway leaves."""

from __future__ import annotations

from .rest import Rest, error, ok


async def test_complete_by_the_holder_succeeds(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.claim(task_id, "alice"))
    assert ok(await rest.complete(task_id, "alice", {"roomBooked": False})) == ""


async def test_complete_of_unassigned_task_claims_and_completes_it(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom")
    task_id = (await rest.only_task(instance_id))["id"]
    ok(await rest.complete(task_id, "alice", {"roomBooked": False}))
    assert (await rest.only_task(instance_id))["definitionId"] == "AddCustomerDetails"


async def test_complete_by_another_user_while_held_is_forbidden(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.claim(task_id, "alice"))
    error(await rest.complete(task_id, "bob", {"roomBooked": False}), 403, "'alice'", "'bob'")


async def test_complete_of_completed_task_is_conflict(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.complete(task_id, "alice", {"roomBooked": False}))
    error(await rest.complete(task_id, "alice", {"roomBooked": False}), 409, "already completed")


async def test_complete_of_unknown_task_is_not_found(rest: Rest) -> None:
    error(await rest.complete("no-such-task", "alice"), 404, "no-such-task")


async def test_complete_without_user_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    response = await rest.post(f"/tasks/{task_id}/complete", json={"roomBooked": False})
    error(response, 400, "'user'")


async def test_complete_with_malformed_json_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    response = await rest.post(
        f"/tasks/{task_id}/complete", params={"user": "alice"}, content=b"{roomBooked: false}"
    )
    error(response, 400, "not valid JSON")


async def test_complete_with_variables_that_are_not_an_object_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    response = await rest.post(
        f"/tasks/{task_id}/complete", params={"user": "alice"}, json=[{"roomBooked": False}]
    )
    error(response, 400, "variables", "an array")


async def test_complete_with_empty_body_uses_the_instance_data(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom", {"roomBooked": False})
    task_id = (await rest.only_task(instance_id))["id"]
    ok(await rest.post(f"/tasks/{task_id}/complete", params={"user": "alice"}))
    assert (await rest.only_task(instance_id))["definitionId"] == "AddCustomerDetails"


async def test_complete_variables_override_the_start_object(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom", {"roomBooked": True, "guest": "Ann"})
    task_id = (await rest.only_task(instance_id))["id"]
    ok(await rest.complete(task_id, "alice", {"roomBooked": False}))
    details = await rest.only_task(instance_id)
    assert details["definitionId"] == "AddCustomerDetails"
    assert ok(await rest.variables(details["id"])) == {"roomBooked": False, "guest": "Ann"}


async def test_complete_whose_gateway_lacks_its_variable_is_bad_input_naming_it(
    rest: Rest,
) -> None:
    task_id = await rest.new_booking_task()
    message = error(await rest.complete(task_id, "alice", {"guest": "Ann"}), 400)
    assert "the gateway after ChooseRoom needs the variable 'roomBooked'" in message
    # In the process's words: not the expression engine's.
    assert "is not defined" not in message and "Error evaluating" not in message


async def test_complete_whose_gateway_matches_no_flow_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    message = error(await rest.complete(task_id, "alice", {"roomBooked": "maybe"}), 400)
    assert "the gateway after ChooseRoom found no way on" in message
    assert "'roomBooked'" in message


async def test_failed_complete_leaves_the_instance_exactly_as_before(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom", {"guest": "Ann"})
    before = await rest.only_task(instance_id)
    error(await rest.complete(before["id"], "alice", {"nights": 3}), 400)
    assert await rest.only_task(instance_id) == before
    assert ok(await rest.variables(before["id"])) == {"guest": "Ann"}
    ok(await rest.complete(before["id"], "bob", {"roomBooked": False}))
    assert (await rest.only_task(instance_id))["definitionId"] == "AddCustomerDetails"


async def test_completed_task_is_never_listed(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.complete(task_id, "alice", {"roomBooked": False}))
    listed = await rest.tasks_for(group="Clerk") + await rest.tasks_for(user="alice")
    assert task_id not in {task["id"] for task in listed}
