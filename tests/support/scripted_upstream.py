"""A scripted upstream: a real HTTP/1.1 server on 127.0.0.1 for the upstream client's tests.

``ScriptedUpstream`` is a tiny server that records each request exactly as it arrived (the raw
target, before any parsing) and answers from a script: a reply, a sequence of replies,
a coroutine, or a fault a real upstream produces (a hang, a dropped or reset connection,
a trickle, bytes that are not HTTP) or raw bytes of its own (``Raw``). Every client test so goes through the one request
path production takes.

Through the ``upstream`` and ``make_client`` fixtures of ``tests/unit/conftest.py``:

async def test_something(upstream, make_client):
    route = upstream.route().mock(return_value=reply(200, json=envelope([])))
    await make_client().tasks(user="alice")
    route.last.target                                  # "/BPMREST/tasks?user=alice"

async def test_a_fault(upstream, make_client):
    upstream.route().mock(side_effect=[Fault.DROP, reply(200, json=envelope([]))])
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import re
import socket
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from multidict import CIMultiDict

if TYPE_CHECKING:
    from ssl import SSLContext

__all__ = ["Fault", "Raw", "RawRequest", "Reply", "Route", "ScriptedUpstream", "reply"]

#: Between two bytes of a trickled body: far below any per-read timeout of the tests.
TRICKLE_INTERVAL_S = 0.02


class Fault(enum.Enum):
    """What a broken upstream does after reading a request, instead of a plain reply."""

    HANG = "never answers"
    DROP = "closes the connection without a reply"
    RESET = "resets the connection (TCP RST) without a reply"
    TRICKLE = "sends the reply one byte every TRICKLE_INTERVAL_S"
    GARBAGE = "answers bytes that are not HTTP"


@dataclass(frozen=True)
class Reply:
    """A reply as the server writes it: status, headers, body."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Raw:
    """Bytes written as they are, in place of a reply; the connection is closed after them
    if ``close``."""

    data: bytes
    close: bool = False


def reply(
    status: int,
    *,
    json: Any = None,
    text: str | None = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """A reply with a JSON, text or raw body (keyword names as httpx.Response's)."""
    extra = dict(headers or {})
    body = b""
    if json is not None:
        body = orjson.dumps(json)
        extra.setdefault("Content-Type", "application/json")
    elif text is not None:
        body = text.encode()
        extra.setdefault("Content-Type", "text/plain; charset=utf-8")
    elif content is not None:
        body = content
    return Reply(status, body, tuple(extra.items()))


@dataclass
class RawRequest:
    """One request as it reached the server: the target exactly as sent."""

    method: str
    target: str
    headers: CIMultiDict[str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def params(self) -> list[tuple[str, str]]:
        """The query, decoded."""
        return parse_qsl(self.target.partition("?")[2], keep_blank_values=True)


Answer = Reply | Fault | Raw
Handler = Callable[[RawRequest], Answer | Awaitable[Answer]]
Script = Answer | Handler | Sequence[Answer | Handler]


class Route:
    """Requests whose path matches ``path_regex`` (any, if None), and what answers them."""

    def __init__(self, path_regex: str | None) -> None:
        self.pattern = None if path_regex is None else re.compile(path_regex)
        self.calls: list[RawRequest] = []
        self._script: list[Answer | Handler] = []
        self._repeat: Answer | Handler = Reply(404, b"no reply scripted")

    def mock(self, return_value: Answer | None = None, side_effect: Script | None = None) -> Route:
        """Answer with ``return_value`` every time, or with ``side_effect``: one answer or
        coroutine for every call, or a list of them used in turn."""
        if return_value is not None:
            self._repeat = return_value
        elif isinstance(side_effect, Sequence):
            self._script = list(side_effect)
        elif side_effect is not None:
            self._repeat = side_effect
        return self

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def last(self) -> RawRequest:
        return self.calls[-1]

    async def answer(self, request: RawRequest) -> Answer:
        self.calls.append(request)
        step = self._script.pop(0) if self._script else self._repeat
        if isinstance(step, Reply | Fault | Raw):
            return step
        answer = step(request)
        return await answer if inspect.isawaitable(answer) else answer


@dataclass
class ScriptedUpstream:
    """The server: ``route(path_regex)`` adds a route; the first that matches answers."""

    routes: list[Route] = field(default_factory=list)
    requests: list[RawRequest] = field(default_factory=list)
    connections: int = 0
    #: Hanging connections the client closed: what a deadline must do.
    closed_while_hanging: int = 0
    base_url: str = ""
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    def route(self, path_regex: str | None = None) -> Route:
        route = Route(path_regex)
        self.routes.append(route)
        return route

    async def start(self, ssl: SSLContext | None = None) -> None:
        """Listen on a free port; with ``ssl``, speak TLS (``base_url`` is then https)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ssl)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"{'https' if ssl else 'http'}://127.0.0.1:{port}"

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        # Connections the client keeps alive would otherwise wait for a next request.
        for handler in self._handlers:
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away, which is what some tests do
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers: CIMultiDict[str] = CIMultiDict()
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode("latin-1").partition(":")
                headers.add(name.strip(), value.strip())
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = RawRequest(method, target, headers, body)
            self.requests.append(request)
            answer = await self._answer(request)
            if answer is Fault.HANG:
                await reader.read()  # until the client closes (or aclose cancels this handler)
                self.closed_while_hanging += 1
                return
            if answer is Fault.DROP:
                return
            if answer is Fault.RESET:
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            if isinstance(answer, Raw):
                writer.write(answer.data)
                await writer.drain()
                if answer.close:
                    return
                continue
            if answer is Fault.GARBAGE:
                writer.write(b"\x00\x01 this is not HTTP\r\n\r\n")
                await writer.drain()
                return
            trickle = answer is Fault.TRICKLE
            sent = Reply(200, orjson.dumps({"code": 0, "data": "x" * 1000})) if trickle else answer
            assert isinstance(sent, Reply)
            head = [f"HTTP/1.1 {sent.status} X", f"Content-Length: {len(sent.body)}"]
            head += [f"{name}: {value}" for name, value in sent.headers]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            if trickle:
                for byte in sent.body:
                    await asyncio.sleep(TRICKLE_INTERVAL_S)
                    writer.write(bytes([byte]))
                    await writer.drain()
                continue
            writer.write(sent.body)
            await writer.drain()

    async def _answer(self, request: RawRequest) -> Answer:
        for route in self.routes:
            if route.pattern is None or route.pattern.search(request.path):
                return await route.answer(request)
        return Reply(404, b"no route")
