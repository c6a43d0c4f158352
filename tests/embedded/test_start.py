"""Starting instances: endpoint 1 (``/process/start``) and the legacy endpoint 2."""

from __future__ import annotations

import uuid

from .rest import Rest, error, ok


async def test_start_answers_a_new_instance_id(rest: Rest) -> None:
    response = await rest.post("/process/start", json={"processName": "BookingRoom"})
    instance_id = ok(response)
    assert uuid.UUID(instance_id)
    assert response.json()["totalRecordCount"] == 1


async def test_start_object_becomes_the_instance_data(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom", {"guest": "Ann", "nights": 2})
    task = await rest.only_task(instance_id)
    assert ok(await rest.variables(task["id"])) == {"guest": "Ann", "nights": 2}


async def test_start_without_object_has_empty_data(rest: Rest) -> None:
    task = await rest.only_task(await rest.start("BookingRoom"))
    assert ok(await rest.variables(task["id"])) == {}


async def test_start_of_unknown_process_is_not_found(rest: Rest) -> None:
    response = await rest.post("/process/start", json={"processName": "NoSuchProcess"})
    error(response, 404, "NoSuchProcess")


async def test_start_with_malformed_json_is_bad_input(rest: Rest) -> None:
    response = await rest.post("/process/start", content=b'{"processName": ')
    error(response, 400, "not valid JSON")


async def test_start_with_a_body_that_is_not_an_object_is_bad_input(rest: Rest) -> None:
    response = await rest.post("/process/start", json=["BookingRoom"])
    error(response, 400, "must be a JSON object", "an array")


async def test_start_without_process_name_is_bad_input(rest: Rest) -> None:
    response = await rest.post("/process/start", json={"object": {}})
    error(response, 400, "processName", "required")


async def test_start_with_empty_body_is_bad_input(rest: Rest) -> None:
    error(await rest.post("/process/start"), 400, "processName")


async def test_start_with_a_process_name_that_is_not_a_string_is_bad_input(rest: Rest) -> None:
    response = await rest.post("/process/start", json={"processName": 7})
    error(response, 400, "processName", "a number")


async def test_start_with_an_object_that_is_not_an_object_is_bad_input(rest: Rest) -> None:
    response = await rest.post(
        "/process/start", json={"processName": "BookingRoom", "object": "guest=Ann"}
    )
    error(response, 400, "'object'", "a string")


async def test_start_with_an_app_name_that_is_not_a_string_is_bad_input(rest: Rest) -> None:
    response = await rest.post(
        "/process/start", json={"processName": "BookingRoom", "appName": ["x"]}
    )
    error(response, 400, "appName")


async def test_legacy_start_takes_the_body_as_the_business_object(rest: Rest) -> None:
    instance_id = ok(await rest.post("/process/LeaveRequest/start", json={"days": 4}))
    task = await rest.only_task(instance_id)
    assert task["definitionId"] == "SubmitRequest"
    assert ok(await rest.variables(task["id"])) == {"days": 4}


async def test_legacy_start_with_empty_body_has_empty_data(rest: Rest) -> None:
    instance_id = ok(await rest.post("/process/BookingRoom/start"))
    task = await rest.only_task(instance_id)
    assert ok(await rest.variables(task["id"])) == {}


async def test_legacy_start_with_a_body_that_is_not_an_object_is_bad_input(rest: Rest) -> None:
    response = await rest.post("/process/BookingRoom/start", json="Ann")
    error(response, 400, "business object", "a string")


async def test_legacy_start_of_unknown_process_is_not_found(rest: Rest) -> None:
    error(await rest.post("/process/Nope/start", json={}), 404, "'Nope'")
