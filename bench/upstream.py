"""A canned, recording upstream: replays snapshotted ONEWEB replies with injectable latency.

The replies are real (recorded from the embedded runtime running real BPMN, see
``bench.snapshot``); serving them costs a dictionary lookup and one socket write, so on
a small machine the upstream does not take the CPU the facade is being measured on.
A bare asyncio protocol (on uvloop) speaks just enough HTTP/1.1 for keep-alive clients.

Control paths (not counted): ``GET /__bench/calls`` (the count since the last reset, how
many distinct requests those were, and the requests that had no snapshot),
``POST /__bench/reset``, ``POST /__bench/latency?ms=N``.

A snapshot may also name effects (``--effects``): when a request with a key there arrives
(a claim), the replies it lists replace those of other keys (the listings that claim
changed), so a canned upstream can show a mutation to the pollers of the live inbox.

    python -m bench.upstream --snapshot snapshot.json [--effects effects.json] --port 9000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import uvloop

#: A snapshot key: ``"METHOD /raw/path?query"``, exactly as the facade sends it.
Key = str

_CONTROL = b"/__bench/"
_REASONS = {200: b"OK", 400: b"Bad Request", 403: b"Forbidden", 404: b"Not Found", 409: b"Conflict"}


def _response(status: int, body: bytes) -> bytes:
    reason = _REASONS.get(status, b"Status")
    head = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % (
        status,
        reason,
        len(body),
    )
    return head + body


class CannedUpstream:
    """The replies by key, the latency, and what was asked since the last reset."""

    def __init__(
        self,
        replies: Mapping[Key, tuple[int, bytes]],
        effects: Mapping[Key, Mapping[Key, tuple[int, bytes]]] | None = None,
    ) -> None:
        self.replies = {
            key.encode(): _response(status, body) for key, (status, body) in replies.items()
        }
        self.effects = {
            trigger.encode(): {
                key.encode(): _response(status, body) for key, (status, body) in changed.items()
            }
            for trigger, changed in (effects or {}).items()
        }
        self.latency_s = 0.0
        self.calls = 0
        self.keys: set[bytes] = set()
        self.missing: list[str] = []
        self._not_found = _response(404, b'{"data":null,"code":404,"message":"not in snapshot"}')

    def answer(self, method: bytes, target: bytes) -> bytes:
        """The bytes to send for one request (a control request is answered at once)."""
        if target.startswith(_CONTROL):
            return self._control(method, target)
        self.calls += 1
        key = method + b" " + target
        self.keys.add(key)
        reply = self.replies.get(key)
        if reply is None:
            self.missing.append(key.decode("latin-1"))
            return self._not_found
        changed = self.effects.get(key)
        if changed is not None:
            self.replies.update(changed)
        return reply

    def _control(self, method: bytes, target: bytes) -> bytes:
        parts = urlsplit(target.decode("latin-1"))
        action = parts.path[len("/__bench/") :]
        if action == "reset":
            self.calls = 0
            self.keys.clear()
            self.missing.clear()
        elif action == "latency":
            self.latency_s = float(parse_qs(parts.query)["ms"][0]) / 1000
        elif action != "calls":
            return _response(404, b"{}")
        state = {"calls": self.calls, "keys": len(self.keys), "missing": self.missing[:20]}
        body = json.dumps(state).encode()
        return _response(200, body)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parse each request's head and body, answer after the latency."""

    def __init__(self, upstream: CannedUpstream) -> None:
        self.upstream = upstream
        self.buffer = bytearray()
        self.transport: Any = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buffer[:end]).split(b"\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            del self.buffer[:total]
            method, target, _ = lines[0].split(b" ", 2)
            reply = self.upstream.answer(method, target)
            if self.upstream.latency_s > 0 and not target.startswith(_CONTROL):
                self.loop.call_later(self.upstream.latency_s, self._write, reply)
            else:
                self._write(reply)

    def _write(self, reply: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(reply)


def load_snapshot(path: Path) -> dict[Key, tuple[int, bytes]]:
    """The replies a snapshot file holds: key -> (HTTP status, body bytes)."""
    raw = json.loads(path.read_text())
    return {key: (int(status), body.encode()) for key, (status, body) in raw.items()}


async def serve(upstream: CannedUpstream, host: str, port: int) -> None:
    """Serve until cancelled; prints ``ready`` once listening."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(upstream), host, port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, required=True)
    parser.add_argument("--effects", type=Path, default=None, help="claim -> replies it changes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    effects = None
    if args.effects is not None:
        raw = json.loads(args.effects.read_text())
        effects = {
            trigger: {key: (int(status), body.encode()) for key, (status, body) in changed.items()}
            for trigger, changed in raw.items()
        }
    upstream = CannedUpstream(load_snapshot(args.snapshot), effects)
    uvloop.run(serve(upstream, args.host, args.port))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
