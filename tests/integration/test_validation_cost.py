"""Validation cost: no document within the body limit takes the event loop for long.

Each hostile document is refused (``QUERY_TOO_COMPLEX``, or graphql-core's own
validation error) or validated well within a second over real HTTP; the bound the
facade aims at is 100 ms (``docs/reliability.md``), asserted here with a margin for a
busy test machine.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.support.http import TLS

from .harness import Facade, Upstream

#: The aim is 100 ms; a loaded 2-core test machine gets ten times that.
BOUND_S = 1.0
#: Tries more of a document over the bound: the fastest of them counts (a once-seen 1.2 s
#: for a document answered in 30 ms was the test worker stalling, not the document).
RETRIES = 2


def fragment_bomb(levels: int = 20) -> str:
    """``levels`` chained fragments, each spreading the next twice: 2**levels selections."""
    parts = ["query Bomb { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels - 1)]
    parts.append(f"fragment F{levels - 1} on Query {{ __typename }}")
    return "\n".join(parts)


def _chain(length: int) -> str:
    parts = ["query Chain { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(length - 1)]
    parts.append(f"fragment F{length - 1} on Query {{ __typename }}")
    return "\n".join(parts)


def _wide(count: int) -> str:
    """``count`` copies of one field: graphql-core compares them pairwise."""
    return "{ " + " ".join(['tasks(group: "Clerk") { totalCount }'] * count) + " }"


def _conflicting(count: int) -> str:
    return "{ " + " ".join(f'tasks(group: "g{i}") {{ totalCount }}' for i in range(count)) + " }"


def _many_fragments(count: int) -> str:
    """``count`` fragments spread side by side, each selecting the same nested field."""
    parts = ["query Many { " + " ".join(f"...F{i}" for i in range(count)) + " }"]
    parts += [
        f'fragment F{i} on Query {{ tasks(group: "Clerk") {{ nodes {{ ...T{i} }} }} }}'
        for i in range(count)
    ]
    parts += [f"fragment T{i} on Task {{ id name instance {{ id }} }}" for i in range(count)]
    return "\n".join(parts)


def _deep_fragments(levels: int) -> str:
    """Nesting through fragments: each fragment's field spreads the next one level down."""
    parts = ['query Deep { tasks(group: "Clerk") { nodes { ...D0 } } }']
    parts += [
        f"fragment D{i} on Task {{ instance {{ tasks {{ ...D{i + 1} }} }} }}" for i in range(levels)
    ]
    parts.append(f"fragment D{levels} on Task {{ id }}")
    return "\n".join(parts)


def _unknown_long_fields(count: int) -> str:
    """Just under the length limit: each unknown field is an error graphql-core locates by
    scanning the document."""
    return "query Long { " + " ".join(f"a{i}_" + "n" * 200 for i in range(count)) + " }"


def _cycle(length: int) -> str:
    parts = ["query Cycle { ...F0 }"]
    parts += [
        f"fragment F{i} on Query {{ ...F{(i + 1) % length} ...F{(i + 1) % length} }}"
        for i in range(length)
    ]
    return "\n".join(parts)


async def _timed(facade: Facade, query: str) -> tuple[float, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        started = time.perf_counter()
        reply = await client.post(
            "/graphql", json={"query": query}, headers={"X-Remote-User": "clerk"}
        )
        return time.perf_counter() - started, reply.json()


def _codes(reply: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in reply.get("errors", ())]


async def test_the_fragment_bomb_is_refused_at_once_while_healthz_answers(
    facade: Facade, upstream: Upstream
) -> None:
    bomb = fragment_bomb(20)
    assert len(bomb.encode()) < 1000

    async def healthz_while(task: asyncio.Future[Any]) -> list[float]:
        waits: list[float] = []
        async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
            while not task.done():
                started = time.perf_counter()
                assert (await client.get("/healthz")).status_code == 200
                waits.append(time.perf_counter() - started)
        return waits

    bombs = asyncio.gather(*(_timed(facade, bomb) for _ in range(5)))
    waits = await healthz_while(bombs)
    results = await bombs

    for elapsed, reply in results:
        assert reply["data"] is None
        [error] = reply["errors"]
        assert error["extensions"] == {
            "code": "QUERY_TOO_COMPLEX",
            "limit": "selections",
            "max": 5000,
        }
        assert elapsed < BOUND_S
    assert max(waits, default=0.0) < BOUND_S
    assert upstream.paths() == []


HOSTILE = [
    ("bomb of 200 levels", fragment_bomb(200), ["QUERY_TOO_COMPLEX"]),
    ("cycle of 300 fragments", _cycle(300), ["QUERY_TOO_COMPLEX"]),
    ("wide: 400 copies of one field", _wide(400), ["QUERY_TOO_COMPLEX"]),
    ("400 conflicting copies", _conflicting(400), ["QUERY_TOO_COMPLEX"]),
    ("many fragments: 120 side by side", _many_fragments(120), ["QUERY_TOO_COMPLEX"]),
    ("deep through fragments", _deep_fragments(40), ["QUERY_TOO_COMPLEX"]),
    ("chain of 600 fragments", _chain(600), ["GRAPHQL_VALIDATION_FAILED"]),
    (
        "a 900 kB string literal",
        '{ process(name: "' + "x" * 900_000 + '") { name } }',
        ["QUERY_TOO_COMPLEX"],
    ),
    (
        "240 unknown fields of 200 characters",
        _unknown_long_fields(240),
        ["GRAPHQL_VALIDATION_FAILED"] * 11,
    ),
]


async def test_hostile_documents_are_answered_within_the_bound(
    facade: Facade, upstream: Upstream
) -> None:
    for name, query, codes in HOSTILE:
        elapsed, reply = await _timed(facade, query)
        for _ in range(RETRIES):
            if elapsed < BOUND_S:
                break
            # A stall of the machine (or of this test process, which also runs the facade)
            # is no cost of the document: a document that is slow to refuse is slow again.
            elapsed = min(elapsed, (await _timed(facade, query))[0])

        assert _codes(reply) == codes, (name, reply)
        assert elapsed < BOUND_S, name
    assert upstream.paths() == []


async def test_fragments_within_the_limits_still_run(facade: Facade, upstream: Upstream) -> None:
    upstream.start("BookingRoom")
    query = """query Inbox { tasks(group: "Clerk") { nodes { ...A ...B } } }
    fragment A on Task { id ...C }
    fragment B on Task { id name ...C }
    fragment C on Task { id instance { id } }"""

    elapsed, reply = await _timed(facade, query)

    assert "errors" not in reply, reply
    [node] = reply["data"]["tasks"]["nodes"]
    assert node["id"] and node["name"] and node["instance"]["id"]
    assert elapsed < BOUND_S


async def test_a_field_repeated_fifty_times_runs_and_fifty_one_is_refused(
    facade: Facade, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")

    _, fifty = await _timed(facade, _wide(50))
    _, fifty_one = await _timed(facade, _wide(51))

    assert fifty == {"data": {"tasks": {"totalCount": 1}}}
    assert fifty_one["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "merged",
        "max": 50,
    }
