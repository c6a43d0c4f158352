"""``subscription { inbox }`` over HTTP, with the multipart subscription protocol (what
Apollo Client speaks), against a facade in front of a recording upstream: the first part is
the inbox, a later claim arrives as a later part, heartbeats keep the stream alive, and a
request without identity, by GET, as plain JSON or outside the trusted documents is refused
before anything is polled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest

from backend.embedded.recorder import Fault
from server.persisted import sha256_hex
from tests.support.multipart import MULTIPART_ACCEPT, subscription

from .conftest import FacadeFactory
from .harness import Facade, Upstream
from .test_live_inbox import CLAIM, CLERK, LONG_INTERVAL_S, SUBSCRIPTION, clerk_tasks, listing_polls

#: Short enough that a test sees two heartbeats within half a second.
KEEPALIVE_S = 0.1


@pytest.fixture
def http_facade(facade_factory: FacadeFactory, upstream: Upstream) -> Facade:
    return facade_factory(
        upstream.base_url, live_interval_s=LONG_INTERVAL_S, live_keepalive_s=KEEPALIVE_S
    )


async def test_the_first_part_is_the_inbox_and_a_claim_arrives_as_a_later_part(
    http_facade: Facade, upstream: Upstream
) -> None:
    ids = clerk_tasks(upstream, 2)
    async with (
        httpx.AsyncClient(base_url=http_facade.base_url, timeout=10) as client,
        subscription(client, "/graphql", SUBSCRIPTION, headers=CLERK) as parts,
    ):
        assert parts.response.status_code == 200
        assert parts.response.headers["content-type"].startswith("multipart/mixed")
        first = (await parts.next_payload())["data"]["inbox"]
        assert sorted(task["id"] for task in first["added"]) == sorted(ids)
        assert first["tasks"]["totalCount"] == 2 and first["removedIds"] == []
        # Someone else's claim removes the task; the subscriber's own is a change.
        claimed = await http_facade.execute(CLAIM, {"id": ids[0]}, user="bob")
        assert claimed["data"]["claimTask"]["errors"] == []
        update = (await parts.next_payload())["data"]["inbox"]
        assert update["removedIds"] == [ids[0]] and update["added"] == []
        await http_facade.execute(CLAIM, {"id": ids[1]}, headers=CLERK)
        update = (await parts.next_payload())["data"]["inbox"]
        assert update["changed"] == [{"id": ids[1], "assignee": "ann"}]
        assert update["removedIds"] == []


async def test_heartbeats_keep_a_quiet_stream_alive(
    http_facade: Facade, upstream: Upstream
) -> None:
    clerk_tasks(upstream, 1)
    async with (
        httpx.AsyncClient(base_url=http_facade.base_url, timeout=10) as client,
        subscription(client, "/graphql", SUBSCRIPTION, headers=CLERK) as parts,
    ):
        await parts.next_payload()
        before = parts.heartbeats
        with pytest.raises(TimeoutError):
            await parts.next_payload(timeout_s=5 * KEEPALIVE_S)  # nothing changes
        assert parts.heartbeats - before >= 2
        assert not parts.ended


async def _refusal(
    facade: Facade, method: str, *, headers: dict[str, str], query: str = SUBSCRIPTION
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=10) as client:
        if method == "GET":
            return await client.get("/graphql", params={"query": query}, headers=headers)
        return await client.post("/graphql", json={"query": query}, headers=headers)


def _code(reply: httpx.Response) -> str:
    code: str = reply.json()["errors"][0]["extensions"]["code"]
    return code


async def test_without_identity_the_subscription_is_refused(
    http_facade: Facade, upstream: Upstream
) -> None:
    clerk_tasks(upstream, 1)
    reply = await _refusal(http_facade, "POST", headers={"accept": MULTIPART_ACCEPT})
    assert reply.status_code == 401 and _code(reply) == "UNAUTHENTICATED"
    # The trusted header sent twice is no identity (it is a 401 for a query too).
    twice = [("accept", MULTIPART_ACCEPT), ("x-remote-user", "ann"), ("x-remote-user", "bob")]
    async with httpx.AsyncClient(base_url=http_facade.base_url, timeout=10) as client:
        reply = await client.post("/graphql", json={"query": SUBSCRIPTION}, headers=twice)
    assert reply.status_code == 401 and _code(reply) == "UNAUTHENTICATED"
    assert listing_polls(upstream) == []


async def test_a_subscription_by_get_is_refused_as_a_mutation_by_get_is(
    http_facade: Facade, upstream: Upstream
) -> None:
    clerk_tasks(upstream, 1)
    reply = await _refusal(http_facade, "GET", headers={"accept": MULTIPART_ACCEPT, **CLERK})
    assert reply.status_code == 400 and _code(reply) == "BAD_REQUEST"
    assert "GET" in reply.json()["errors"][0]["message"]
    mutation = await _refusal(
        http_facade, "GET", headers=CLERK, query="mutation { refreshCache { ok } }"
    )
    assert mutation.status_code == reply.status_code and _code(mutation) == _code(reply)
    # Without the multipart Accept, a GET subscription is no query either.
    reply = await _refusal(http_facade, "GET", headers=CLERK)
    assert reply.status_code == 400 and _code(reply) == "BAD_REQUEST"
    assert listing_polls(upstream) == []


async def test_a_subscription_as_plain_json_says_what_it_needs(
    http_facade: Facade, upstream: Upstream
) -> None:
    clerk_tasks(upstream, 1)
    reply = await _refusal(http_facade, "POST", headers=CLERK)
    assert reply.status_code == 400 and _code(reply) == "BAD_REQUEST"
    assert "multipart/mixed" in reply.json()["errors"][0]["message"]
    assert listing_polls(upstream) == []


async def test_a_cross_site_form_cannot_open_a_subscription(
    http_facade: Facade, upstream: Upstream
) -> None:
    # A browser sends text/plain and form bodies cross-site without a CORS preflight.
    clerk_tasks(upstream, 1)
    async with httpx.AsyncClient(base_url=http_facade.base_url, timeout=10) as client:
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            reply = await client.post(
                "/graphql",
                content=orjson.dumps({"query": SUBSCRIPTION}),
                headers={"accept": MULTIPART_ACCEPT, "content-type": content_type, **CLERK},
            )
            assert reply.status_code == 400 and _code(reply) == "BAD_REQUEST"
    assert listing_polls(upstream) == []


async def test_trusted_documents_govern_http_subscriptions(
    facade_factory: FacadeFactory, upstream: Upstream, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(orjson.dumps({sha256_hex(SUBSCRIPTION): SUBSCRIPTION}))
    facade = facade_factory(
        upstream.base_url, trusted_documents=manifest, live_interval_s=LONG_INTERVAL_S
    )
    ids = clerk_tasks(upstream, 1)
    other = "subscription { inbox { removedIds } }"
    reply = await _refusal(
        facade, "POST", headers={"accept": MULTIPART_ACCEPT, **CLERK}, query=other
    )
    assert reply.status_code == 400 and _code(reply) == "PERSISTED_QUERY_NOT_IN_LIST"
    assert listing_polls(upstream) == []
    async with (
        httpx.AsyncClient(base_url=facade.base_url, timeout=10) as client,
        subscription(
            client,
            "/graphql",
            None,
            headers=CLERK,
            extensions={"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(SUBSCRIPTION)}},
        ) as parts,
    ):
        first = (await parts.next_payload())["data"]["inbox"]
        assert [task["id"] for task in first["added"]] == ids


async def test_ending_the_request_ends_the_subscription_and_its_polling(
    http_facade: Facade, upstream: Upstream
) -> None:
    clerk_tasks(upstream, 1)
    async with (
        httpx.AsyncClient(base_url=http_facade.base_url, timeout=10) as client,
        subscription(client, "/graphql", SUBSCRIPTION, headers=CLERK) as parts,
    ):
        await parts.next_payload()
    # The poller stopped with its last subscriber: a mutation's poke polls nothing.
    await asyncio.sleep(0.2)
    upstream.recorder.reset()
    await http_facade.execute("mutation { refreshCache { ok } }", user="ann")
    await asyncio.sleep(0.2)
    assert listing_polls(upstream) == []


async def test_a_failing_first_part_carries_its_error_code(
    http_facade: Facade, upstream: Upstream
) -> None:
    # The stream's parts are sent before the extension that codes errors would run.
    upstream.recorder.fault = lambda call: (
        Fault.HTML_500 if call.raw_path.endswith("/tasks") else None
    )
    async with (
        httpx.AsyncClient(base_url=http_facade.base_url, timeout=10) as client,
        subscription(client, "/graphql", SUBSCRIPTION, headers=CLERK) as parts,
    ):
        (error,) = (await parts.next_payload())["errors"]
        assert error["extensions"]["code"] == "UPSTREAM_ERROR"
