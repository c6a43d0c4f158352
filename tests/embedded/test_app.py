"""The HTTP face: envelopes for unknown paths and methods, encoded slashes, the OpenAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from backend.models import API_PREFIX
from tests.support.http import TLS

from .rest import Rest, error, ok

if TYPE_CHECKING:
    from tests.conftest import RunningRuntime


async def test_unknown_path_is_a_not_found_envelope(rest: Rest) -> None:
    error(await rest.get("/no/such/endpoint"), 404, "no such endpoint", "/no/such/endpoint")


async def test_path_outside_the_api_is_a_not_found_envelope(rest: Rest) -> None:
    error(await rest.client.get("/index.html"), 404, "no such endpoint")


async def test_wrong_method_is_a_method_not_allowed_envelope(rest: Rest) -> None:
    response = await rest.get("/process/start")
    error(response, 405, "method not allowed", "POST")
    assert response.headers["allow"] == "POST"


async def test_encoded_slash_in_a_task_id_is_an_unknown_task(rest: Rest) -> None:
    instance_id = await rest.start("BookingRoom")
    task_id = (await rest.only_task(instance_id))["id"]
    error(await rest.post(f"/tasks/{task_id}%2Fclaim/claim?user=alice"), 404)
    assert (await rest.only_task(instance_id))["assignee"] is None


async def test_encoded_slash_cannot_reach_another_endpoint(rest: Rest) -> None:
    # Decoded, the path would be /instance/{id}/tasks/assign: endpoint 9 on a real instance.
    instance_id = await rest.start("BookingRoom")
    response = await rest.post(f"/instance/{instance_id}%2Ftasks/assign?user=mallory")
    error(response, 404, "'/'")
    assert (await rest.only_task(instance_id))["candidateUsers"] == []


async def test_encoded_slash_is_unknown_through_asgi_too(runtime: RunningRuntime) -> None:
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://runtime", verify=TLS
    ) as client:
        response = await client.get(f"{API_PREFIX}/instance/a%2Fb/tasks")
    error(response, 404, "'/'")


async def test_percent_encoded_space_in_an_id_is_just_unknown(rest: Rest) -> None:
    error(await rest.claim("no such task", "alice"), 404, "'no such task'")


async def test_openapi_document_describes_every_endpoint(rest: Rest) -> None:
    response = await rest.client.get("/BPMREST/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    operations = {
        (method.upper(), path.removeprefix(API_PREFIX))
        for path, item in document["paths"].items()
        for method in item
    }
    assert operations == {
        ("POST", "/process/start"),
        ("POST", "/process/{processName}/start"),
        ("POST", "/tasks/{taskId}/claim"),
        ("POST", "/tasks/{taskId}/unclaim"),
        ("POST", "/tasks/{taskId}/complete"),
        ("GET", "/instance/{instanceId}/tasks"),
        ("GET", "/tasks"),
        ("POST", "/tasks/{taskId}/variables"),
        ("POST", "/tasks/{taskId}/assign"),
        ("POST", "/instance/{instanceId}/tasks/assign"),
        ("POST", "/refreshCache"),
        ("POST", "/classAction"),
    }


async def test_success_envelope_carries_code_zero_and_a_timestamp(rest: Rest) -> None:
    response = await rest.post("/process/start", json={"processName": "BookingRoom"})
    ok(response)
    assert set(response.json()) >= {"data", "code", "timestamp", "totalRecordCount"}
