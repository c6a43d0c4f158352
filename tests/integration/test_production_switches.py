"""Production switches: introspection and GraphiQL off by configuration, a CORS allow-list."""

from __future__ import annotations

import httpx

from tests.support.http import TLS

from .conftest import FacadeFactory
from .harness import Facade, Upstream

INTROSPECTION = "{ __schema { queryType { name } } }"
LISTED = "https://inbox.example"


async def test_introspection_is_answered_by_default(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    reply = await facade_factory(upstream.base_url).execute(INTROSPECTION)
    assert reply["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_introspection_off_is_rejected_before_execution(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, introspection=False)
    for query in (INTROSPECTION, '{ __type(name: "Task") { name } }'):
        reply = await facade.execute(query)
        assert "data" not in reply or reply["data"] is None
        assert reply["errors"]
        for error in reply["errors"]:
            assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert "introspection has been disabled" in error["message"]
    assert upstream.recorder.calls == []
    # Ordinary queries, __typename included, still work.
    reply = await facade.execute('{ __typename tasks(group: "Clerk") { totalCount } }')
    assert reply["data"] == {"__typename": "Query", "tasks": {"totalCount": 0}}


async def _browse(facade: Facade) -> httpx.Response:
    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        return await client.get("/graphql", headers={"Accept": "text/html"})


async def test_graphiql_is_served_to_browsers_by_default(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    reply = await _browse(facade_factory(upstream.base_url))
    assert reply.status_code == 200
    assert "graphiql" in reply.text.lower()


async def test_graphiql_off_serves_no_ide(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    reply = await _browse(facade_factory(upstream.base_url, graphiql=False))
    assert reply.status_code >= 400
    assert "graphiql" not in reply.text.lower()


async def _preflight(facade: Facade, origin: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        return await client.options(
            "/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )


async def test_cors_preflight_is_allowed_for_a_listed_origin(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, cors_origins=f"{LISTED}, https://ops.example")
    reply = await _preflight(facade, LISTED)
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == LISTED
    assert "POST" in reply.headers["access-control-allow-methods"]
    assert "authorization" in reply.headers["access-control-allow-headers"].lower()
    posted = await facade.post("{ __typename }", headers={"Origin": LISTED})
    assert posted.headers["access-control-allow-origin"] == LISTED
    assert "x-request-id" in posted.headers["access-control-expose-headers"].lower()


async def test_cors_preflight_is_refused_for_an_unlisted_origin(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, cors_origins=LISTED)
    reply = await _preflight(facade, "https://evil.example")
    assert reply.status_code == 400
    assert "access-control-allow-origin" not in reply.headers
    posted = await facade.post("{ __typename }", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in posted.headers


async def test_no_cors_headers_without_an_allow_list(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url)
    reply = await _preflight(facade, LISTED)
    assert "access-control-allow-origin" not in reply.headers
