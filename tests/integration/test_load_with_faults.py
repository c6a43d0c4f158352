"""Load with faults: 400 inbox queries at concurrency 50 while half the upstream calls fail.

The inbox of ``dana`` spans 5 instances of one open task each: a query costs 11
upstream reads (the list, 5 instance task lists, 5 variable sets). Five of those 11
resources always fail, each its own way: one instance's list hangs past the facade's
timeout (1.25 s), another's connection drops (and its retry too), one task's variables are an
HTML 500 page, another's are garbage, and one is a poison task whose variables ONEWEB
answers with a Java exception in a 500 envelope. The facade runs as its own process (so
that its memory is its own) with its default circuit breaker: the failures are those of
single resources, not an outage, so the circuit stays closed and every healthy field is
exactly right.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.embedded.recorder import Fault, RecordedCall
from backend.models import API_PREFIX
from tests.support.http import TLS
from tests.support.processes import launch

from .harness import Upstream, assert_well_formed

QUERIES = 400
WARM_UP = 50
CONCURRENCY = 50
#: The facade's RSS grows ~9 MiB over the queries after the warm-up (buffers, pools and
#: caches filling up); a leak of ~30 kB a query (a hung call's task or buffer kept) fails.
MAX_GROWTH_BYTES = 20 * 1024 * 1024
#: Short, so that hangs end fast; long enough that the healthy calls of 50 queries, which
#: arrive in bursts of ~500 at a single-threaded upstream, are never timed out: the
#: timeout covers the wait for a slot and the whole reply. Every query waits this long for
#: its hung call, so the number of queries is what keeps the test's time (450 queries, 50
#: at a time: 11 s of hangs).
TIMEOUT_S = 1.25
REPO = Path(__file__).resolve().parents[2]

INBOX = """query Inbox { tasks(user: "dana") { totalCount nodes {
  id name instance { id tasks { id name } } variables { name value } } } }"""

CODES = {
    Fault.HANG: "UPSTREAM_TIMEOUT",
    Fault.DROP: "UPSTREAM_UNAVAILABLE",
    Fault.HTML_500: "UPSTREAM_ERROR",
    Fault.GARBAGE: "UPSTREAM_ERROR",
    Fault.ENVELOPE_500: "UPSTREAM_ERROR",
}


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def no_full_collections() -> Iterator[None]:
    """Keeps the test process's heap out of the garbage collector's sight for a while.

    The upstream runs in this process, and late in a whole-suite run the heap holds
    ~800,000 objects: a full collection then stops every thread for ~0.6 s, longer
    than the facade's timeout, and healthy calls would time out for a reason that is
    the test's, not the facade's.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.fixture
def facade_process(upstream: Upstream, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``oneweb-graphql serve`` in its own process, in front of ``upstream``: (URL, pid)."""
    # The default circuit breaker. One hung call per query in flight holds a slot until
    # its deadline, 50 of them: a cap of 128 leaves 78 for the rest. At the default 64
    # the 14 left make healthy calls queue for slots, and on a busy machine some wait
    # out their deadline, which the timeout, covering that wait, rightly reports.
    settings = {
        "ONEWEB_TIMEOUT_S": str(TIMEOUT_S),
        "ONEWEB_MAX_CONCURRENCY": "128",
        "ONEWEB_LOG_JSON": "true",
    }
    command = launch(
        tmp_path, "serve", "--port", "0", "--upstream", upstream.base_url, env=settings
    )
    try:
        yield command.base_url, command.pid
    finally:
        command.kill()


def _inbox(upstream: Upstream) -> tuple[list[dict[str, Any]], dict[str, Fault]]:
    """Five instances offered to dana; the expected nodes; the failing paths."""
    instances = [upstream.start("BookingRoom", {"guests": n}) for n in range(5)]
    for instance_id in instances:
        upstream.rest("POST", f"/instance/{instance_id}/tasks/assign", params={"user": "dana"})
    nodes = []
    for n, instance_id in enumerate(instances):
        [task] = upstream.open_tasks(instance_id)
        nodes.append(
            {
                "id": task["id"],
                "name": task["name"],
                "instance": {
                    "id": instance_id,
                    "tasks": [{"id": task["id"], "name": task["name"]}],
                },
                "variables": [{"name": "guests", "value": n}],
            }
        )
    faults = {
        f"{API_PREFIX}/instance/{instances[0]}/tasks": Fault.HANG,
        f"{API_PREFIX}/instance/{instances[1]}/tasks": Fault.DROP,
        f"{API_PREFIX}/tasks/{nodes[2]['id']}/variables": Fault.HTML_500,
        f"{API_PREFIX}/tasks/{nodes[3]['id']}/variables": Fault.GARBAGE,
        f"{API_PREFIX}/tasks/{nodes[4]['id']}/variables": Fault.ENVELOPE_500,
    }
    return nodes, faults


def _expected(nodes: list[dict[str, Any]]) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """The reply every query must get: the data with failed fields null, and its errors."""
    broken = [dict(node, instance=dict(node["instance"])) for node in nodes]
    broken[0]["instance"]["tasks"] = None
    broken[1]["instance"]["tasks"] = None
    broken[2]["variables"] = None
    broken[3]["variables"] = None
    broken[4]["variables"] = None
    errors = {
        ("tasks.nodes.0.instance.tasks", CODES[Fault.HANG]),
        ("tasks.nodes.1.instance.tasks", CODES[Fault.DROP]),
        ("tasks.nodes.2.variables", CODES[Fault.HTML_500]),
        ("tasks.nodes.3.variables", CODES[Fault.GARBAGE]),
        ("tasks.nodes.4.variables", CODES[Fault.ENVELOPE_500]),
    }
    return {"tasks": {"totalCount": len(nodes), "nodes": broken}}, errors


async def _load(url: str, count: int, check: Any) -> None:
    """``count`` inbox queries, ``CONCURRENCY`` at a time, each reply passed to ``check``."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    queue = iter(range(count))
    headers = {"X-Remote-User": "dana"}  # the principal whose inbox it is
    async with httpx.AsyncClient(
        base_url=url, limits=limits, timeout=30, headers=headers, verify=TLS
    ) as client:

        async def worker() -> None:
            for _ in queue:
                reply = await client.post(
                    "/graphql", json={"query": INBOX}, headers={"X-Remote-User": "dana"}
                )
                check(reply)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


@pytest.mark.alone
@pytest.mark.usefixtures("no_full_collections")
async def test_400_inbox_queries_with_half_of_upstream_calls_failing(
    upstream: Upstream, facade_process: tuple[str, int]
) -> None:
    url, pid = facade_process
    nodes, faults = _inbox(upstream)
    expected_data, expected_errors = _expected(nodes)

    def decide(call: RecordedCall) -> Fault | None:
        return faults.get(call.raw_path)

    upstream.recorder.fault = decide
    replies = 0

    def check(reply: httpx.Response) -> None:
        nonlocal replies
        body = assert_well_formed(reply.status_code, reply.content)
        assert reply.status_code == 200
        assert body["data"] == expected_data, body["errors"]
        errors = {
            (".".join(map(str, error["path"])), error["extensions"]["code"])
            for error in body["errors"]
        }
        assert errors == expected_errors
        assert len(body["errors"]) == len(expected_errors)
        replies += 1

    await _load(url, WARM_UP, check)
    upstream.recorder.reset()
    rss_before = _rss_bytes(pid)
    started = time.monotonic()
    await _load(url, QUERIES, check)
    seconds = time.monotonic() - started
    growth = _rss_bytes(pid) - rss_before

    assert replies == WARM_UP + QUERIES
    calls = upstream.recorder.calls
    failed = sum(1 for call in calls if call.raw_path in faults)
    [dropped] = [path for path, fault in faults.items() if fault is Fault.DROP]
    retries = sum(1 for call in calls if call.raw_path == dropped) - QUERIES
    # 11 reads per query, plus the one retry of the dropped read, which is made within
    # the call's deadline: a query whose read waited long for a slot may have no time left.
    assert QUERIES * 0.95 <= retries <= QUERIES
    assert len(calls) == QUERIES * 11 + retries
    assert failed == QUERIES * 5 + retries
    async with httpx.AsyncClient(base_url=url, verify=TLS) as client:
        ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["circuit"]) == (200, "closed")
    print(
        f"\n{QUERIES} queries at concurrency {CONCURRENCY} in {seconds:.1f} s; "
        f"upstream calls {len(calls)}, failed {failed} ({failed / len(calls):.0%}); "
        f"facade RSS {rss_before / 2**20:.1f} MiB -> growth {growth / 2**20:+.1f} MiB"
    )
    assert growth < MAX_GROWTH_BYTES
