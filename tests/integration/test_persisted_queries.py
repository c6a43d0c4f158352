"""Automatic persisted queries over real HTTP, POST and GET, and the cache headers of GET."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from server.persisted import sha256_hex
from tests.support.http import TLS

from .conftest import FacadeFactory
from .harness import Facade, Upstream

INBOX = 'query Inbox { tasks(group: "Clerk") { totalCount nodes { id name } } }'
#: A query anyone may send (it names no user or group), so its GET answer may be public.
INSTANCE = "query Instance($id: ID!) { instance(id: $id) { tasks { name } } }"
CLERK = {"X-Remote-User": "clerk1", "X-Remote-Groups": "Clerk"}


def _apq(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}


async def _post(facade: Facade, body: dict[str, Any], **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        return await client.post("/graphql", json=body, headers={**CLERK, **headers})


async def _get(facade: Facade, params: dict[str, Any], **headers: str) -> httpx.Response:
    query = {
        name: json.dumps(value) if isinstance(value, dict) else value
        for name, value in params.items()
    }
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        return await client.get("/graphql", params=query, headers=headers)


async def test_an_unknown_hash_is_not_found_then_the_query_registers_it(
    facade: Facade, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")

    miss = await _post(facade, {"extensions": _apq(INBOX)})
    assert miss.status_code == 200  # Apollo's clients expect the miss as a 200 with JSON
    [error] = miss.json()["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert upstream.paths() == []

    registered = await _post(facade, {"query": INBOX, "extensions": _apq(INBOX)})
    hit = await _post(facade, {"extensions": _apq(INBOX)})

    assert registered.json()["data"]["tasks"]["totalCount"] == 1
    assert hit.json() == registered.json()


async def test_a_miss_is_a_404_without_data_for_the_spec_media_type(facade: Facade) -> None:
    reply = await _post(
        facade, {"extensions": _apq(INBOX)}, accept="application/graphql-response+json"
    )
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/graphql-response+json"
    assert "data" not in reply.json()


async def test_a_query_whose_hash_does_not_match_is_bad_input_and_not_registered(
    facade: Facade, upstream: Upstream
) -> None:
    lie = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex("{ __typename }")}}
    reply = await _post(facade, {"query": INBOX, "extensions": lie})

    assert reply.status_code == 400
    assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert upstream.paths() == []
    # The hash that lied still names nothing.
    again = await _post(facade, {"extensions": lie})
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_get_registers_and_runs_by_hash_with_cache_headers(
    facade: Facade, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    variables = {"id": instance_id}
    miss = await _get(facade, {"extensions": _apq(INSTANCE), "variables": variables})
    assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert miss.headers["cache-control"] == "private, no-store"  # a CDN must not keep the miss
    await _get(facade, {"query": INSTANCE, "extensions": _apq(INSTANCE), "variables": variables})

    reply = await _get(facade, {"extensions": _apq(INSTANCE), "variables": variables})

    assert reply.json() == {"data": {"instance": {"tasks": [{"name": "Choose Room"}]}}}
    assert reply.headers["cache-control"] == "public, max-age=60"
    vary = {name.strip().lower() for name in reply.headers["vary"].split(",")}
    assert {"accept", "authorization", "cookie", "x-remote-user", "x-remote-groups"} <= vary


async def test_a_document_id_names_a_registered_query(facade: Facade) -> None:
    await _post(facade, {"query": INBOX, "extensions": _apq(INBOX)})
    reply = await _post(facade, {"documentId": f"sha256:{sha256_hex(INBOX)}"})
    assert reply.json()["data"]["tasks"] is not None


async def test_a_get_by_hash_is_never_the_graphiql_page(facade: Facade) -> None:
    await _post(facade, {"query": INSTANCE, "extensions": _apq(INSTANCE)})
    reply = await _get(
        facade,
        {"extensions": _apq(INSTANCE), "variables": {"id": "unknown"}},
        accept="text/html,*/*",
    )
    assert reply.headers["content-type"] == "application/json"
    assert "data" in reply.json()


@pytest.mark.parametrize(
    "credentials",
    [
        {"Authorization": "Bearer abc"},
        {"Cookie": "session=abc"},
        {"X-Remote-User": "clerk1"},
        {"X-Remote-Groups": "Clerk"},
    ],
)
async def test_a_get_with_credentials_is_never_cached(
    facade: Facade, credentials: dict[str, str]
) -> None:
    reply = await _get(
        facade, {"query": '{ process(name: "BookingRoom") { name } }'}, **credentials
    )
    assert reply.status_code == 200 and "errors" not in reply.json()
    assert reply.headers["cache-control"] == "private, no-store"


async def test_a_get_with_errors_is_never_cached(facade: Facade) -> None:
    reply = await _get(facade, {"query": "{ tasks { totalCount } }"})  # no principal given
    assert reply.json()["errors"]
    assert reply.headers["cache-control"] == "private, no-store"


async def test_mutations_are_never_cached(facade: Facade) -> None:
    mutation = 'mutation { refreshCache(input: {processName: "BookingRoom"}) { ok } }'
    over_get = await _get(facade, {"query": mutation})
    over_post = await _post(facade, {"query": mutation})

    assert over_get.status_code == 400 and "public" not in over_get.headers["cache-control"]
    assert over_post.json()["data"]["refreshCache"]["ok"] is True
    assert "cache-control" not in over_post.headers


async def test_the_cache_max_age_is_a_setting_and_zero_turns_caching_off(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    five = facade_factory(upstream.base_url, cache_max_age_s=5)
    never = facade_factory(upstream.base_url, cache_max_age_s=0)

    public = {"query": '{ process(name: "BookingRoom") { name } }'}

    assert (await _get(five, public)).headers["cache-control"] == "public, max-age=5"
    assert (await _get(never, public)).headers["cache-control"] == "private, no-store"


async def test_the_store_is_bounded_by_its_setting(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, apq_max_entries=2)
    queries = [f"query Q{index} {{ __typename }}" for index in range(3)]
    for query in queries:
        await _post(facade, {"query": query, "extensions": _apq(query)})

    codes = []
    for query in queries:
        reply = (await _post(facade, {"extensions": _apq(query)})).json()
        codes.append(reply["errors"][0]["extensions"]["code"] if "errors" in reply else "ok")

    assert codes == ["PERSISTED_QUERY_NOT_FOUND", "ok", "ok"]
