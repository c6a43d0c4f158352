"""Listing tasks (endpoints 5 and 6), their variables (7) and assigning them (8 and 9)."""

from __future__ import annotations

from .rest import Rest, error, ok


async def test_instance_tasks_of_unknown_instance_is_not_found(rest: Rest) -> None:
    error(await rest.get("/instance/no-such-instance/tasks"), 404, "no-such-instance")


async def test_instance_tasks_count_is_the_total_record_count(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom")
    response = await rest.get(f"/instance/{instance_id}/tasks")
    assert response.json()["totalRecordCount"] == len(ok(response)) == 1


async def test_tasks_of_user_lists_the_tasks_they_hold(rest: Rest) -> None:
    held = await rest.new_booking_task()
    await rest.new_booking_task()
    ok(await rest.claim(held, "alice"))
    assert [task["id"] for task in await rest.tasks_for(user="alice")] == [held]


async def test_tasks_of_user_lists_unassigned_tasks_offered_to_them(rest: Rest) -> None:
    offered = await rest.new_booking_task()
    ok(await rest.assign(offered, "alice", "bob"))
    assert [task["id"] for task in await rest.tasks_for(user="bob")] == [offered]


async def test_tasks_of_user_omits_offered_tasks_someone_else_holds(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.assign(task_id, "alice", "bob"))
    ok(await rest.claim(task_id, "alice"))
    assert await rest.tasks_for(user="bob") == []


async def test_tasks_of_group_lists_claimed_and_unclaimed_tasks(rest: Rest) -> None:
    claimed = await rest.new_booking_task()
    unclaimed = await rest.new_booking_task()
    ok(await rest.claim(claimed, "alice"))
    listed = {task["id"]: task["status"] for task in await rest.tasks_for(group="Clerk")}
    assert listed == {claimed: "CLAIMED", unclaimed: "READY"}


async def test_tasks_of_group_omits_other_groups(rest: Rest) -> None:
    await rest.new_booking_task()
    assert await rest.tasks_for(group="Manager") == []


async def test_tasks_of_role_lists_nothing_when_no_task_names_roles(rest: Rest) -> None:
    await rest.new_booking_task()
    assert await rest.tasks_for(role="Clerk") == []


async def test_task_listing_is_ordered_by_creation_time_then_id(rest: Rest) -> None:
    for _ in range(5):
        await rest.new_booking_task()
    listed = await rest.tasks_for(group="Clerk")
    assert len(listed) == 5
    assert listed == sorted(listed, key=lambda task: (task["createTime"], task["id"]))


async def test_tasks_without_user_role_or_group_is_bad_input(rest: Rest) -> None:
    error(await rest.get("/tasks"), 400, "exactly one of", "'user'", "'role'", "'group'")


async def test_tasks_with_both_user_and_group_is_bad_input(rest: Rest) -> None:
    response = await rest.get("/tasks", params={"user": "alice", "group": "Clerk"})
    error(response, 400, "exactly one of", "got user, group")


async def test_tasks_with_empty_group_is_bad_input(rest: Rest) -> None:
    error(await rest.get("/tasks", params={"group": ""}), 400, "'group'", "empty")


async def test_variables_of_unknown_task_is_not_found(rest: Rest) -> None:
    error(await rest.variables("no-such-task"), 404, "no-such-task")


async def test_variables_with_empty_body_are_the_instance_data(rest: Rest) -> None:
    instance_id = await rest.start("LeaveRequest", {"days": 2, "who": {"name": "Emma"}})
    task_id = (await rest.only_task(instance_id))["id"]
    response = await rest.post(f"/tasks/{task_id}/variables")
    assert ok(response) == {"days": 2, "who": {"name": "Emma"}}
    assert response.json()["totalRecordCount"] == 2


async def test_variables_with_malformed_json_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    error(await rest.post(f"/tasks/{task_id}/variables", content=b"{"), 400, "not valid JSON")


async def test_variables_of_completed_task_are_still_known(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom", {"guest": "Ann"})
    task_id = (await rest.only_task(instance_id))["id"]
    ok(await rest.complete(task_id, "alice", {"roomBooked": False}))
    assert ok(await rest.variables(task_id)) == {"guest": "Ann", "roomBooked": False}


async def test_assign_sets_exactly_the_given_candidate_users(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.assign(task_id, "alice", "bob"))
    ok(await rest.assign(task_id, "carol"))
    (task,) = await rest.tasks_for(user="carol")
    assert task["candidateUsers"] == ["carol"]
    assert await rest.tasks_for(user="alice") == []


async def test_assign_does_not_claim(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.assign(task_id, "alice"))
    (task,) = await rest.tasks_for(user="alice")
    assert (task["assignee"], task["status"]) == (None, "READY")


async def test_assign_without_user_is_bad_input(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    error(await rest.post(f"/tasks/{task_id}/assign"), 400, "'user'", "at least one")


async def test_assign_of_unknown_task_is_not_found(rest: Rest) -> None:
    error(await rest.assign("no-such-task", "alice"), 404, "no-such-task")


async def test_assign_of_completed_task_is_conflict(rest: Rest) -> None:
    task_id = await rest.new_booking_task()
    ok(await rest.complete(task_id, "alice", {"roomBooked": False}))
    error(await rest.assign(task_id, "bob"), 409, "already completed")


async def test_assign_instance_makes_the_user_the_one_candidate_of_each_open_task(
    rest: Rest,
) -> None:
    instance_id = await rest.start("BookingRoom")
    task_id = (await rest.only_task(instance_id))["id"]
    ok(await rest.assign(task_id, "alice", "bob"))
    response = await rest.post(f"/instance/{instance_id}/tasks/assign", params={"user": "carol"})
    assert ok(response) == ""
    (task,) = await rest.tasks_for(user="carol")
    assert (task["id"], task["candidateUsers"], task["assignee"]) == (task_id, ["carol"], None)


async def test_assign_instance_of_unknown_instance_is_not_found(rest: Rest) -> None:
    response = await rest.post("/instance/no-such-instance/tasks/assign", params={"user": "u"})
    error(response, 404, "no-such-instance")


async def test_assign_instance_without_user_is_bad_input(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom")
    error(await rest.post(f"/instance/{instance_id}/tasks/assign"), 400, "'user'")
