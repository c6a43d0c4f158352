"""``python -m bench.transports``: the upstream transport against other HTTP clients, bare.

The facade's ``Http1Transport`` and each other client installed (aiohttp, which the bench
extra brings; pyreqwest and aiosonic if present: ``pip install pyreqwest aiosonic``) send
the inbox's second level, 25 calls at once, to the canned upstream, on uvloop, one client
after another in alternating rounds. Per client: the round's median at 20 ms upstream
latency (how much of the round is the client's), and the process CPU per call at latency 0
(all threads, so a client's own runtime thread counts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import uvloop

from backend.exchange import Request
from backend.http1_transport import Http1Transport

from . import snapshot
from .processes import Upstream

#: A client: given the URLs, an async context that yields "send one GET, return its body".
Client = Callable[[], AbstractAsyncContextManager[Callable[[str], Awaitable[bytes]]]]
HEADERS = {"accept": "application/json", "authorization": "Basic YmVuY2g6YmVuY2g="}


class _Facade:
    async def __aenter__(self) -> Callable[[str], Awaitable[bytes]]:
        self.transport = Http1Transport(max_concurrency=32, keepalive_expiry_s=4.0)

        async def get(url: str) -> bytes:
            return (
                await self.transport.exchange(Request("GET", url, HEADERS, None), seconds_left=5)
            )[1]

        return get

    async def __aexit__(self, *exc: object) -> None:
        await self.transport.aclose()


class _Aiohttp:
    async def __aenter__(self) -> Callable[[str], Awaitable[bytes]]:
        import aiohttp

        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32))

        async def get(url: str) -> bytes:
            async with self.session.get(url, headers=HEADERS) as reply:
                return await reply.read()

        return get

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()


class _Pyreqwest:
    async def __aenter__(self) -> Callable[[str], Awaitable[bytes]]:
        from pyreqwest.client import ClientBuilder

        self.client = ClientBuilder().pool_max_idle_per_host(32).http1_only().build()

        async def get(url: str) -> bytes:
            reply = await self.client.get(url).headers(HEADERS).build().send()
            return bytes(await reply.bytes())

        return get

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()


class _Aiosonic:
    async def __aenter__(self) -> Callable[[str], Awaitable[bytes]]:
        import aiosonic

        self.client = aiosonic.HTTPClient()

        async def get(url: str) -> bytes:
            reply = await self.client.get(url, headers=HEADERS)
            return bytes(await reply.content())

        return get

    async def __aexit__(self, *exc: object) -> None:
        pass


CLIENTS: dict[str, tuple[str | None, Client]] = {
    "facade (Http1Transport)": (None, _Facade),
    "aiohttp": ("aiohttp", _Aiohttp),
    "pyreqwest": ("pyreqwest", _Pyreqwest),
    "aiosonic": ("aiosonic", _Aiosonic),
}


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


async def _round(client: Client, urls: list[str], rounds: int) -> tuple[float, float]:
    async with client() as get:
        for _ in range(3):
            await asyncio.gather(*(get(url) for url in urls))
        took, cpu = [], _cpu()
        for _ in range(rounds):
            started = time.perf_counter()
            await asyncio.gather(*(get(url) for url in urls))
            took.append(time.perf_counter() - started)
        cpu = _cpu() - cpu
    return statistics.median(took) * 1000, cpu / rounds / len(urls) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    present = {}
    for name, (module, client) in CLIENTS.items():
        try:
            if module:
                __import__(module)
        except ImportError:
            print(f"{name}: not installed, left out")
            continue
        present[name] = client
    with tempfile.TemporaryDirectory(prefix="oneweb-transports-") as tmp:
        snapshot_path = Path(tmp) / "snapshot.json"
        snapshot.take(snapshot_path)
        upstream = Upstream(snapshot_path)
        try:
            replies: dict[str, Any] = json.loads(snapshot_path.read_text())
            gets = [key.split(" ", 1)[1] for key in replies if key.startswith("GET ")]
            urls = [upstream.url.rstrip("/") + gets[n % len(gets)] for n in range(25)]
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in present}
            for _ in range(args.rounds):
                for name, client in present.items():
                    upstream.set_latency(20)
                    at_20, _ = uvloop.run(_round(client, urls, 30))
                    upstream.set_latency(0)
                    _, per_call = uvloop.run(_round(client, urls, 150))
                    results[name].append((at_20, per_call))
        finally:
            upstream.stop()
    print(f"{len(urls)} calls at once, {args.rounds} alternating rounds, medians")
    print(f"{'client':<26}{'round at 20 ms':>16}{'CPU per call at 0 ms':>24}")
    for name, runs in results.items():
        at_20 = statistics.median(run[0] for run in runs)
        per_call = statistics.median(run[1] for run in runs)
        print(f"{name:<26}{at_20:>13.2f} ms{per_call:>21.0f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
