"""A client of the multipart subscription protocol (Apollo's), over real HTTP with httpx.

The request is an ordinary GraphQL POST with ``Accept:
multipart/mixed;subscriptionSpec="1.0",application/json``; the answer is a stream of parts
separated by ``--graphql``, each a JSON object: ``{"payload": {"data": ...}}`` for an
update, ``{}`` for a heartbeat, ``{"payload": null, "errors": [...]}`` for a transport
error. Read as Apollo Client reads it: split on the boundary, skip each part's headers.

    async with subscription(client, "/graphql", query, headers=...) as parts:
        update = await parts.next_payload()
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

__all__ = ["MULTIPART_ACCEPT", "Parts", "subscription"]

MULTIPART_ACCEPT = 'multipart/mixed;subscriptionSpec="1.0",application/json'
_BOUNDARY = b"\r\n--graphql"


class Parts:
    """The parts of one multipart answer, as they arrive."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._chunks = response.aiter_bytes()
        self._buffer = b""
        self.heartbeats = 0
        self.ended = False

    async def next_part(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next part's JSON (a heartbeat included); raises ``EOFError`` at the end."""
        async with asyncio.timeout(timeout_s):
            return await self._part()

    async def next_payload(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next update's ``payload`` (``data`` and/or ``errors``), heartbeats skipped."""
        async with asyncio.timeout(timeout_s):
            while True:
                part = await self._part()
                if part == {}:
                    self.heartbeats += 1
                    continue
                assert "payload" in part, part
                payload: dict[str, Any] = part["payload"]
                return payload

    async def _part(self) -> dict[str, Any]:
        while True:
            index = self._buffer.find(_BOUNDARY)
            if index >= 0:
                part, self._buffer = self._buffer[:index], self._buffer[index + len(_BOUNDARY) :]
                _, _, body = part.partition(b"\r\n\r\n")
                if body.strip():
                    parsed: dict[str, Any] = json.loads(body)
                    return parsed
                continue
            if self._buffer.startswith(b"--"):
                self.ended = True
                raise EOFError("the server ended the stream")
            try:
                self._buffer += await self._chunks.__anext__()
            except StopAsyncIteration:
                self.ended = True
                raise EOFError("the server closed the response") from None


@asynccontextmanager
async def subscription(
    client: httpx.AsyncClient,
    url: str,
    query: str | None,
    *,
    variables: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> AsyncIterator[Parts]:
    """POST ``query`` as a multipart subscription; yields its parts (the response open)."""
    body: dict[str, Any] = {"variables": dict(variables or {})}
    if query is not None:
        body["query"] = query
    if extensions is not None:
        body["extensions"] = dict(extensions)
    sent = {"accept": MULTIPART_ACCEPT, **dict(headers or {})}
    async with client.stream("POST", url, json=body, headers=sent) as response:
        yield Parts(response)
