"""The load generator: a process of its own that POSTs one GraphQL request at a concurrency.

It reads one JSON command per line on stdin and answers one JSON line on stdout, so the
orchestrator starts it once. aiohttp with a pool of exactly ``concurrency`` keep-alive
connections keeps its CPU per request small (about 0.1 ms).

    {"url": "http://127.0.0.1:8000/graphql", "body": "{...}", "headers": {...},
     "concurrency": 8, "count": 200, "seconds": 5}
    -> {"latencies_ms": [...], "seconds": 1.9, "failures": 0, "failure": null}

With ``"rest": {"base": UPSTREAM_URL, "user": "dana"}`` instead of a URL and body, each
request is the inbox as a frontend would fetch it from the REST API itself (the direct
peer, see ``rest_inbox``); with ``"timed": true`` in it, the answer also has ``"calls"``:
per request, each upstream call's start and end in ms from the request's start.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp
import orjson
import uvloop

#: The REST API's prefix (``backend.models.API_PREFIX``; the load generator imports no facade code).
API = "/BPMREST/service/runtime"


async def rest_inbox(
    session: aiohttp.ClientSession,
    base: str,
    user: str,
    timings: list[tuple[float, float]] | None = None,
) -> bytes:
    """The inbox as a frontend fetches it from REST: the user's task list, then per task its
    instance's open tasks and its variables, all at once (1 + 20 + 20 calls), joined into one
    JSON document. Raises on any reply that is not a success envelope.

    With ``timings``, each call's start and end (``perf_counter``) are appended to it, in
    the order the calls end (``bench.critical_path`` reads them)."""

    async def call(method: str, path: str) -> Any:
        started = time.perf_counter()
        async with session.request(method, base + API + path) as reply:
            envelope = orjson.loads(await reply.read())
        if reply.status != 200 or envelope.get("code") != 0:
            raise RuntimeError(f"{method} {path}: {reply.status} {envelope}")
        if timings is not None:
            timings.append((started, time.perf_counter()))
        return envelope["data"]

    tasks = await call("GET", f"/tasks?user={user}")
    calls = [call("GET", f"/instance/{task['instanceId']}/tasks") for task in tasks]
    calls += [call("POST", f"/tasks/{task['id']}/variables") for task in tasks]
    replies = await asyncio.gather(*calls)
    count = len(tasks)
    for task, instance_tasks, variables in zip(
        tasks, replies[:count], replies[count:], strict=True
    ):
        task["instance"] = {"id": task["instanceId"], "tasks": instance_tasks}
        task["variables"] = [{"name": k, "value": v} for k, v in variables.items()]
    return orjson.dumps(tasks)


async def run(command: dict[str, Any]) -> dict[str, Any]:
    """Send ``count`` requests (or as many as fit in ``seconds``) from ``concurrency`` workers."""
    concurrency = int(command["concurrency"])
    count = int(command.get("count", 10**9))
    seconds = float(command.get("seconds", 3600))
    body = command.get("body", "").encode()
    headers = {"content-type": "application/json", **command.get("headers", {})}
    latencies: list[float] = []
    calls: list[list[tuple[float, float]]] = []
    failures = 0
    failure: str | None = None
    issued = 0
    started = time.perf_counter()
    deadline = started + seconds
    rest = command.get("rest")
    # The direct peer opens as many connections as its calls in flight need, as a client
    # of its own upstream would; the GraphQL load has exactly one per concurrent client.
    connector = aiohttp.TCPConnector(limit=0 if rest else concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> tuple[bool, bytes]:
            if rest:
                timings: list[tuple[float, float]] | None = [] if rest.get("timed") else None
                started = time.perf_counter()
                try:
                    inbox = await rest_inbox(session, rest["base"], rest["user"], timings)
                except Exception as error:  # counted and reported as a failure
                    return False, repr(error).encode()
                if timings is not None:
                    calls.append([((s - started) * 1000, (e - started) * 1000) for s, e in timings])
                return True, inbox
            async with session.post(command["url"], data=body, headers=headers) as reply:
                content = await reply.read()
            return reply.status == 200 and b'"errors":[{' not in content, content

        async def worker() -> None:
            nonlocal issued, failures, failure
            while issued < count and time.perf_counter() < deadline:
                issued += 1
                sent = time.perf_counter()
                ok, content = await one()
                latencies.append((time.perf_counter() - sent) * 1000)
                if not ok:
                    failures += 1
                    failure = failure or content[:500].decode("utf-8", "replace")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    answer: dict[str, Any] = {
        "latencies_ms": latencies,
        "seconds": time.perf_counter() - started,
        "failures": failures,
        "failure": failure,
    }
    if calls:
        answer["calls"] = calls
    return answer


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        result = await run(json.loads(line))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    uvloop.run(main())  # uvloop comes with uvicorn[standard]
