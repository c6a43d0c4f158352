"""GraphQL over HTTP's own media type: request errors are 4xx without data; JSON clients keep 200."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.http import TLS

from .harness import Facade, Upstream

SPEC = "application/graphql-response+json"

REQUEST_ERRORS = {
    "parse": {"query": "{"},
    "validation": {"query": "{ noSuchField }"},
    "coercion": {
        "query": "query ($id: ID!) { instance(id: $id) { id } }",
        "variables": {"id": None},
    },
    "limit": {
        "query": "{ " + " ".join(f'a{i}: process(name: "x") {{ name }}' for i in range(101)) + " }"
    },
}


async def _post(facade: Facade, body: Any, accept: str | None) -> httpx.Response:
    headers = {"X-Remote-User": "clerk1", "X-Remote-Groups": "Clerk"}
    if accept:
        headers["Accept"] = accept
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        return await client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize("kind", sorted(REQUEST_ERRORS))
async def test_a_request_error_is_400_without_data_for_the_spec_media_type(
    facade: Facade, upstream: Upstream, kind: str
) -> None:
    reply = await _post(facade, REQUEST_ERRORS[kind], SPEC)

    assert reply.status_code == 400
    assert reply.headers["content-type"] == SPEC
    body = reply.json()
    assert "data" not in body and body["errors"]
    assert upstream.paths() == []


@pytest.mark.parametrize("kind", sorted(REQUEST_ERRORS))
async def test_a_request_error_stays_200_with_null_data_for_json_clients(
    facade: Facade, kind: str
) -> None:
    for accept in (None, "application/json", "*/*"):
        reply = await _post(facade, REQUEST_ERRORS[kind], accept)

        assert reply.status_code == 200, accept
        assert reply.headers["content-type"] == "application/json"
        body = reply.json()
        assert body["data"] is None and body["errors"]


async def test_a_result_with_data_and_errors_is_200_for_the_spec_media_type(
    facade: Facade,
) -> None:
    reply = await _post(
        facade, {"query": "{ tasks { totalCount } }"}, SPEC
    )  # none of user/group/role

    assert reply.status_code == 200
    assert reply.headers["content-type"] == SPEC
    body = reply.json()
    assert body["data"] == {"tasks": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_result_is_answered_in_the_media_type_the_client_prefers(
    facade: Facade, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")
    query = {"query": '{ tasks(group: "Clerk") { totalCount } }'}

    spec = await _post(facade, query, f"{SPEC}, application/json;q=0.9")
    legacy = await _post(facade, query, f"{SPEC};q=0.5, application/json")

    assert (spec.status_code, spec.headers["content-type"]) == (200, SPEC)
    assert (legacy.status_code, legacy.headers["content-type"]) == (200, "application/json")
    assert spec.json() == legacy.json() == {"data": {"tasks": {"totalCount": 1}}}


async def test_a_body_that_is_not_json_is_400_in_the_spec_media_type(facade: Facade) -> None:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        reply = await client.post(
            "/graphql",
            content=b'{"not json',
            headers={"Content-Type": "application/json", "Accept": SPEC},
        )
    assert reply.status_code == 400
    assert reply.headers["content-type"] == SPEC
    assert "data" not in reply.json()
