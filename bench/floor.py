"""``python -m bench.floor [--rounds N]``: the inbox's latency floor for a Python facade here.

The target "p50 at 20 ms upstream latency <= the direct client's" asks whether a facade,
with its extra hop, beats a client that makes 41 calls itself. This measures what the
hop and 26 calls in two levels cost at best on this machine: a bare proxy (asyncio on
uvloop, httptools, the facade's own ``Http1Transport``, orjson; no GraphQL, no framework,
no limits, no breaker) that answers any POST with the inbox, fetched with the same 26
calls and written in the same shape as the facade's answer. It, the facade (as the bench
runs it) and the direct REST client take turns on one canned upstream at 20 ms, so the
machine's noise hits all three alike. Prints each one's p50 and its ratio to the direct
client's: the floor's ratio is how far below the direct client a facade can get here, the
facade's how much of that its own work uses up (docs/speed.md).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import orjson

from . import snapshot
from .load import API
from .processes import Facade, LoadGenerator, Upstream, _stop, free_port, wait_until_serving
from .scenarios import inbox

PER_ROUND = 15
HEADERS = {"accept": "application/json", "authorization": "Basic YmVuY2g6YmVuY2g="}


def _serve(port: int, upstream: str, user: str) -> None:
    """The bare proxy: each request answered with the inbox, 1 + 5 + 20 upstream calls."""
    import httptools
    import uvloop

    from backend.exchange import Request
    from backend.http1_transport import Http1Transport
    from resolvers.variable import json_type

    base = upstream.rstrip("/") + API
    transport = Http1Transport(max_concurrency=32, keepalive_expiry_s=4.0)

    async def fetch(method: str, path: str) -> Any:
        body = b"{}" if method == "POST" else None
        headers = HEADERS if body is None else {**HEADERS, "content-type": "application/json"}
        _, reply = await transport.exchange(
            Request(method, base + path, headers, body), seconds_left=10
        )
        return orjson.loads(reply)["data"]

    async def answer() -> bytes:
        tasks = await fetch("GET", f"/tasks?user={user}")
        instances = list(dict.fromkeys(task["instanceId"] for task in tasks))
        replies = await asyncio.gather(
            *(fetch("GET", f"/instance/{instance}/tasks") for instance in instances),
            *(fetch("POST", f"/tasks/{task['id']}/variables") for task in tasks),
        )
        listings = dict(zip(instances, replies[: len(instances)], strict=True))
        nodes = [
            {
                "id": task["id"],
                "name": task.get("name"),
                "status": task.get("status"),
                "assignee": task.get("assignee"),
                "candidateUsers": task.get("candidateUsers"),
                "createdAt": task.get("createTime"),
                "instance": {
                    "id": task["instanceId"],
                    "tasks": [
                        {
                            "id": other["id"],
                            "name": other.get("name"),
                            "status": other.get("status"),
                        }
                        for other in listings[task["instanceId"]]
                    ],
                },
                "variables": [
                    {"name": name, "value": value, "type": json_type(value)}
                    for name, value in variables.items()
                ],
            }
            for task, variables in zip(tasks, replies[len(instances) :], strict=True)
        ]
        body = orjson.dumps({"data": {"tasks": {"totalCount": len(nodes), "nodes": nodes}}})
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        return head % len(body) + body

    class Proxy(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: Any = transport
            self.parser = httptools.HttpRequestParser(self)

        def data_received(self, data: bytes) -> None:
            self.parser.feed_data(data)

        def on_message_complete(self) -> None:
            asyncio.get_running_loop().create_task(self.respond())

        async def respond(self) -> None:
            self.transport.write(await answer())

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Proxy, "127.0.0.1", port)
        await server.serve_forever()

    uvloop.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "UPSTREAM", "USER"), help="internal")
    args = parser.parse_args()
    if args.serve:
        _serve(int(args.serve[0]), args.serve[1], args.serve[2])
        return 0
    user = snapshot.INBOX_USER
    scenario = inbox(user)
    with tempfile.TemporaryDirectory(prefix="oneweb-floor-") as tmp:
        snapshot_path = Path(tmp) / "snapshot.json"
        snapshot.take(snapshot_path)
        upstream, load = Upstream(snapshot_path), LoadGenerator()
        port = free_port()
        command = [sys.executable, "-m", "bench.floor", "--serve", str(port), upstream.url, user]
        proxy = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent)
        facade = Facade(upstream.url, workers=1, env={"ONEWEB_MAX_CONCURRENCY": "32"})
        try:
            floor_url = f"http://127.0.0.1:{port}/graphql"
            wait_until_serving(
                proxy,
                "the bare proxy",
                lambda: httpx.post(floor_url, content=b"{}", timeout=2).status_code == 200,
            )
            peers = {
                "bare proxy (the floor)": lambda n: load.run(
                    floor_url, "{}", {}, concurrency=1, count=n
                ),
                "this facade": lambda n: load.run(
                    facade.graphql, scenario.body(), scenario.headers, concurrency=1, count=n
                ),
                "direct REST client": lambda n: load.run(
                    "", "", {}, concurrency=1, count=n, rest={"base": upstream.url, "user": user}
                ),
            }
            upstream.set_latency(20)
            for run in peers.values():
                run(5)  # warm-up: connections, caches
            medians: dict[str, list[float]] = {name: [] for name in peers}
            for round_ in range(args.rounds):
                order = list(peers) if round_ % 2 == 0 else list(reversed(peers))
                for name in order:
                    latencies = peers[name](PER_ROUND)["latencies_ms"]
                    medians[name].append(statistics.median(latencies))
        finally:
            _stop(proxy)
            facade.stop()
            load.stop()
            upstream.stop()
    direct = statistics.median(medians["direct REST client"])
    print(f"inbox p50 at 20 ms upstream latency, {args.rounds} interleaved rounds of {PER_ROUND}:")
    for name, values in medians.items():
        p50 = statistics.median(values)
        print(f"  {name:24s} {p50:6.2f} ms  {p50 / direct:.3f}x the direct client")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
