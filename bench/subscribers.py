"""The live benchmark's subscribers: a process of its own holding many ``subscription
{ inbox }`` over a few WebSocket connections (``graphql-transport-ws`` multiplexes them),
and noting when each update arrived.

One JSON command per line on stdin, one JSON line back on stdout:

    {"cmd": "open", "url": "ws://127.0.0.1:8000/graphql", "query": "subscription {...}",
     "users": [["clerk00", {"X-Remote-User": "clerk00", ...}], ...],
     "per_user": 20, "per_connection": 10}
    -> {"subscriptions": 1000, "connections": 100, "seconds": 2.1}   (once all had a first update)
    {"cmd": "events"}  -> {"events": [[user, subscription id, monotonic time, [task ids]], ...],
                           "errors": [...]}   (the updates since the last "events")
    {"cmd": "close"}   -> {"closed": 100}

A task id is listed for an update where it is in ``added``, ``changed`` or ``removedIds``.
Times are ``time.monotonic()`` at receipt, before parsing: on Linux that clock is the
same for every process, so the orchestrator compares it with when a mutation answered.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvloop
from websockets.asyncio.client import ClientConnection, connect

#: Connections opened at once while subscribing.
OPENING = 20
FIRST_UPDATE_TIMEOUT_S = 60.0


@dataclass
class _State:
    events: list[list[Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    connections: list[ClientConnection] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    waiting: set[str] = field(default_factory=set)
    all_first: asyncio.Event = field(default_factory=asyncio.Event)


def _touched(update: dict[str, Any]) -> list[str]:
    return (
        [task["id"] for task in update.get("added", ())]
        + [task["id"] for task in update.get("changed", ())]
        + list(update.get("removedIds", ()))
    )


async def _read(state: _State, ws: ClientConnection, user: str) -> None:
    try:
        async for raw in ws:
            received = time.monotonic()
            message = orjson.loads(raw)
            kind = message.get("type")
            if kind == "next":
                payload = message["payload"]
                sub = message["id"]
                if payload.get("errors"):
                    state.errors.append(f"{user}/{sub}: {payload['errors']}")
                else:
                    state.events.append([user, sub, received, _touched(payload["data"]["inbox"])])
                if sub in state.waiting:
                    state.waiting.discard(sub)
                    if not state.waiting:
                        state.all_first.set()
            elif kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif kind in ("error", "complete"):
                state.errors.append(f"{user}/{message.get('id')}: {kind} {message}")
    except Exception as error:  # a dropped connection is a result, not a crash
        state.errors.append(f"{user}: connection ended: {error!r}")


async def _open_one(
    state: _State,
    url: str,
    query: str,
    user: str,
    headers: dict[str, str],
    ids: list[str],
    gate: asyncio.Semaphore,
) -> None:
    async with gate:
        ws = await connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers=headers,
            max_size=None,
            open_timeout=30,
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"{user}: no connection_ack: {ack}")
        state.connections.append(ws)
        state.readers.append(asyncio.create_task(_read(state, ws, user)))
        for sub in ids:
            await ws.send(json.dumps({"id": sub, "type": "subscribe", "payload": {"query": query}}))


async def _open(state: _State, command: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    per_user, per_connection = int(command["per_user"]), int(command["per_connection"])
    gate = asyncio.Semaphore(OPENING)
    opening = []
    count = 0
    state.all_first.clear()
    for user, headers in command["users"]:
        ids = [f"{user}-{n}-{time.monotonic_ns()}" for n in range(per_user)]
        state.waiting.update(ids)
        count += len(ids)
        for start in range(0, per_user, per_connection):
            chunk = ids[start : start + per_connection]
            opening.append(
                _open_one(state, command["url"], command["query"], user, headers, chunk, gate)
            )
    await asyncio.gather(*opening)
    try:
        await asyncio.wait_for(state.all_first.wait(), FIRST_UPDATE_TIMEOUT_S)
    except TimeoutError:
        return {
            "error": f"{len(state.waiting)} subscriptions had no first update",
            "errors": state.errors[:5],
        }
    return {
        "subscriptions": count,
        "connections": len(state.connections),
        "seconds": round(time.monotonic() - started, 3),
        "errors": state.errors[:5],
    }


async def _close(state: _State) -> dict[str, Any]:
    closed = len(state.connections)
    await asyncio.gather(*(ws.close() for ws in state.connections), return_exceptions=True)
    for reader in state.readers:
        reader.cancel()
    await asyncio.gather(*state.readers, return_exceptions=True)
    state.connections.clear()
    state.readers.clear()
    state.events.clear()
    state.errors.clear()
    return {"closed": closed}


async def main() -> None:
    state = _State()
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        cmd = command["cmd"]
        if cmd == "open":
            answer = await _open(state, command)
        elif cmd == "events":
            answer = {"events": state.events, "errors": state.errors[:20]}
            state.events, state.errors = [], []
        elif cmd == "close":
            answer = await _close(state)
        else:
            answer = {"error": f"unknown command {cmd}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    await _close(state)


if __name__ == "__main__":
    uvloop.run(main())  # uvloop comes with uvicorn[standard]
