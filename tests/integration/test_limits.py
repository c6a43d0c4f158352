"""Hostile queries: each limit rejects its request with a clear error and no upstream call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from tests.support.http import TLS

from .conftest import FacadeFactory
from .harness import Facade, Upstream


def _nested(depth: int) -> str:
    """A query ``depth`` levels below its root field: tasks > nodes > instance > tasks > ... > id."""
    levels = ['tasks(group: "Clerk")', "nodes"]
    while len(levels) < depth:
        levels += ["instance", "tasks"]
    levels = levels[:depth]
    return "{ " + " { ".join(levels) + " { id" + " }" * len(levels) + " }"


def _aliases(count: int) -> str:
    return (
        "{ "
        + " ".join(f'a{i}: tasks(group: "Clerk") {{ totalCount }}' for i in range(count))
        + " }"
    )


async def _post_raw(facade: Facade, content: Any, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        return await client.post(
            "/graphql",
            content=content,
            headers={"Content-Type": "application/json", **kwargs.pop("headers", {})},
            **kwargs,
        )


def _only_error(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply.get("data") is None, reply
    [error] = reply["errors"]
    assert isinstance(error["message"], str) and error["message"]
    return dict(error["extensions"])


async def test_deep_nesting_is_rejected_before_any_upstream_call(
    facade: Facade, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")

    reply = await facade.execute(_nested(50))

    assert _only_error(reply) == {"code": "QUERY_TOO_COMPLEX", "limit": "depth", "max": 10}
    assert upstream.paths() == []


async def test_a_query_at_the_depth_limit_runs(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")
    facade = facade_factory(upstream.base_url, max_depth=6)

    reply = await facade.execute(_nested(6))

    assert "errors" not in reply, reply
    nodes = reply["data"]["tasks"]["nodes"]
    assert nodes[0]["instance"]["tasks"][0]["instance"]["tasks"][0]["id"]


async def test_a_query_one_level_over_the_depth_limit_is_rejected(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, max_depth=6)

    reply = await facade.execute(_nested(7))

    assert _only_error(reply) == {"code": "QUERY_TOO_COMPLEX", "limit": "depth", "max": 6}


async def test_a_document_is_measured_once_but_held_to_each_facades_own_limits(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    # The cost of a document is kept per document (the same text parses to the same
    # object); the limits it is held to are each facade's, and a refusal is every time.
    upstream.start("BookingRoom")
    strict = facade_factory(upstream.base_url, max_depth=6)
    lenient = facade_factory(upstream.base_url, max_depth=7)

    for _ in range(2):
        reply = await strict.execute(_nested(7))
        assert _only_error(reply) == {"code": "QUERY_TOO_COMPLEX", "limit": "depth", "max": 6}
    reply = await lenient.execute(_nested(7))

    assert "errors" not in reply, reply


async def test_ten_thousand_aliases_are_rejected_before_any_upstream_call(
    facade: Facade, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")

    reply = await facade.execute(_aliases(10_000))

    assert _only_error(reply)["code"] == "QUERY_TOO_COMPLEX"
    assert upstream.paths() == []


async def test_ten_thousand_aliases_are_rejected_by_the_alias_limit_when_tokens_allow_them(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, max_tokens=1_000_000, max_query_chars=1_000_000)

    reply = await facade.execute(_aliases(10_000))

    assert _only_error(reply) == {"code": "QUERY_TOO_COMPLEX", "limit": "aliases", "max": 100}
    assert upstream.paths() == []


async def test_fifty_claim_aliases_are_within_the_default_limits(
    facade: Facade, upstream: Upstream
) -> None:
    claims = " ".join(
        f'c{i}: claimTask(input: {{taskId: "missing-{i}", user: "clerk"}}) '
        "{ task { id status } errors { code } }"
        for i in range(50)
    )

    reply = await facade.execute(f"mutation {{ {claims} }}")

    assert "errors" not in reply, reply
    assert len(reply["data"]) == 50
    assert reply["data"]["c49"]["errors"] == [{"code": "NOT_FOUND"}]


async def test_a_document_over_the_token_limit_is_rejected(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, max_tokens=50)

    reply = await facade.execute(_aliases(10))

    assert _only_error(reply) == {"code": "QUERY_TOO_COMPLEX", "limit": "tokens", "max": 50}
    assert upstream.paths() == []


async def test_a_ten_megabyte_body_is_413_before_any_upstream_call(
    facade: Facade, upstream: Upstream
) -> None:
    padding = "#" * (10 * 1024 * 1024)
    body = orjson.dumps({"query": '{ tasks(group: "Clerk") { totalCount } }' + padding})

    reply = await _post_raw(facade, body)

    assert reply.status_code == 413
    assert reply.headers["content-type"] == "application/json"
    assert _only_error(reply.json()) == {"code": "PAYLOAD_TOO_LARGE", "max": 1024 * 1024}
    assert upstream.paths() == []


async def test_a_streamed_body_without_length_is_413_once_it_passes_the_limit(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, max_body_bytes=1000)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ tasks(group: \\"Clerk\\") { totalCount } }'
        for _ in range(10):
            yield b" " * 200
        yield b'"}'

    reply = await _post_raw(facade, chunks())

    assert reply.status_code == 413
    assert _only_error(reply.json())["code"] == "PAYLOAD_TOO_LARGE"
    assert upstream.paths() == []


async def test_a_body_within_the_limit_runs(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")
    facade = facade_factory(upstream.base_url, max_body_bytes=1000)

    reply = await facade.execute('{ tasks(group: "Clerk") { totalCount } }')

    assert reply == {"data": {"tasks": {"totalCount": 1}}}


async def test_a_batch_of_a_thousand_operations_is_rejected_before_any_upstream_call(
    facade: Facade, upstream: Upstream
) -> None:
    batch = [{"query": '{ tasks(group: "Clerk") { totalCount } }'}] * 1000

    reply = await _post_raw(facade, orjson.dumps(batch))

    assert reply.status_code == 400
    assert _only_error(reply.json()) == {"code": "BAD_REQUEST"}
    assert upstream.paths() == []


async def test_a_batch_of_one_operation_is_rejected_too(facade: Facade, upstream: Upstream) -> None:
    batch = [{"query": '{ tasks(group: "Clerk") { totalCount } }'}]

    reply = await _post_raw(facade, orjson.dumps(batch))

    assert reply.status_code == 400
    assert "Batching" in reply.json()["errors"][0]["message"]
    assert upstream.paths() == []


async def test_a_document_parsed_under_a_larger_token_limit_is_still_refused_under_a_smaller(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    # Parsed documents are shared by their text: the token limit must be part of the key.
    roomy = facade_factory(upstream.base_url, max_tokens=1_000_000)
    assert "errors" not in await roomy.execute(_aliases(10))
    strict = facade_factory(upstream.base_url, max_tokens=50)

    reply = await strict.execute(_aliases(10))

    assert _only_error(reply) == {"code": "QUERY_TOO_COMPLEX", "limit": "tokens", "max": 50}
