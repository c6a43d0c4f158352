"""The load generator: a process of its own that POSTs one GraphQL request at a concurrency.

It reads one JSON command per line on stdin and answers one JSON line on stdout, so the
orchestrator starts it once. aiohttp with a pool of exactly ``concurrency`` keep-alive
connections keeps its CPU per request small (about 0.1 ms).

    {"url": "http://127.0.0.1:8000/graphql", "body": "{...}", "headers": {...},
     "concurrency": 8, "count": 200, "seconds": 5}
    -> {"latencies_ms": [...], "seconds": 1.9, "failures": 0, "failure": null}
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp


async def run(command: dict[str, Any]) -> dict[str, Any]:
    """Send ``count`` requests (or as many as fit in ``seconds``) from ``concurrency`` workers."""
    concurrency = int(command["concurrency"])
    count = int(command.get("count", 10**9))
    seconds = float(command.get("seconds", 3600))
    body = command["body"].encode()
    headers = {"content-type": "application/json", **command.get("headers", {})}
    latencies: list[float] = []
    failures = 0
    failure: str | None = None
    issued = 0
    started = time.perf_counter()
    deadline = started + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal issued, failures, failure
            while issued < count and time.perf_counter() < deadline:
                issued += 1
                sent = time.perf_counter()
                async with session.post(command["url"], data=body, headers=headers) as reply:
                    content = await reply.read()
                latencies.append((time.perf_counter() - sent) * 1000)
                if reply.status != 200 or b'"errors":[{' in content:
                    failures += 1
                    failure = failure or content[:500].decode("utf-8", "replace")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "latencies_ms": latencies,
        "seconds": time.perf_counter() - started,
        "failures": failures,
        "failure": failure,
    }


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        result = await run(json.loads(line))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        asyncio.run(main())
    else:
        uvloop.run(main())
