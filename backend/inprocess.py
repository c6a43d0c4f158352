"""Reaching an ASGI app in the same process as if it were a remote upstream."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.types import ASGIApp, Message

from backend.exchange import ConnectionBroken, Request

__all__ = ["InProcessTransport"]


class InProcessTransport:
    """Hands each request to ``app`` directly: no socket, the same bytes in and out.

    What the embedded runtime's facade uses (``oneweb-graphql serve`` without
    ``--upstream``). The app sees the scope a server would build from the same request
    line (``raw_path`` exactly as sent); an exception of the app before its reply began
    is a broken connection, as a crashed server's would be.

        UpstreamClient(base_url="http://embedded.invalid", transport=InProcessTransport(app))
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def exchange(self, request: Request, *, seconds_left: float) -> tuple[int, bytes]:
        """Run ``request`` through the app: the reply's status and whole body."""
        url = urlsplit(request.url)
        raw_path = url.path or "/"
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("ascii"),
            "query_string": url.query.encode("ascii"),
            "root_path": "",
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.items()
            ],
            "server": (url.hostname or "", url.port or 80),
            "client": ("127.0.0.1", 0),
        }
        body_sent = False
        replied = asyncio.Event()
        status: int | None = None
        parts: list[bytes] = []

        async def receive() -> Message:
            nonlocal body_sent
            if body_sent:
                await replied.wait()
                return {"type": "http.disconnect"}
            body_sent = True
            return {"type": "http.request", "body": request.content or b"", "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    replied.set()

        try:
            await self._app(scope, receive, send)
        except Exception as exc:
            # Starlette answers 500 before it re-raises: that reply is what a client sees.
            if status is None or not replied.is_set():
                raise ConnectionBroken(f"the embedded runtime failed: {exc!r}") from exc
        if status is None or not replied.is_set():
            raise ConnectionBroken("the embedded runtime closed without a full reply")
        return status, b"".join(parts)

    async def aclose(self) -> None:
        """Nothing to close: the app's own lifespan owns its resources."""
