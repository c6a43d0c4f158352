"""The WebSocket side of ``/graphql``: the live hub's lifetime, and identity from
``connection_init``.

A browser cannot set headers on a WebSocket upgrade, so GraphiQL (and graphql-ws clients
generally) send them as the ``connection_init`` payload. Where the upgrade request carried
no identity, the payload is read as request headers by the same authenticator; a payload
identity never overrides one the upgrade request established.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from backend.broadcast import Broadcast
from backend.client import UpstreamClient
from backend.models import Task
from resolvers.context import Context
from resolvers.live import Hub, ListingKey

from .identity import Authenticator, Unauthenticated

__all__ = [
    "UNAUTHENTICATED_CLOSE",
    "ConnectionInitIdentity",
    "TextFrames",
    "build_hub",
    "payload_headers",
]

#: The close code for a connection without a principal (graphql-ws's "Forbidden").
UNAUTHENTICATED_CLOSE = 4403


def build_hub(
    client: UpstreamClient, *, interval_s: float, broadcast: Broadcast | None = None
) -> Hub:
    """The process's live hub; it polls without any caller's credentials (it serves many)."""

    async def fetch(key: ListingKey) -> list[Task]:
        kind, name = key
        return await client.tasks(**{kind: name}, headers={})

    return Hub(fetch, interval_s=interval_s, broadcast=broadcast)


def payload_headers(payload: object) -> Headers:
    """A ``connection_init`` payload's string values as request headers (names lower-cased)."""
    if not isinstance(payload, dict):
        return Headers({})
    return Headers(
        {str(k).lower(): v for k, v in payload.items() if isinstance(v, str) and "\n" not in v}
    )


class ConnectionInitIdentity(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, reading the principal from the
    ``connection_init`` payload when the upgrade request had none."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        context = self.context
        authenticator: Authenticator | None = getattr(self.view, "authenticator", None)
        trusted = getattr(self.view, "payload_identity", False)
        if context.principal is None and authenticator is not None and trusted:
            try:
                principal = authenticator.principal(payload_headers(message.get("payload")))
            except Unauthenticated:
                principal = None  # the subscription is refused as UNAUTHENTICATED
            if principal is not None:
                self.context = dataclasses.replace(context, principal=principal)
        if self.context.principal is None:
            # Nothing on this connection may run without a principal: refuse it outright.
            await self.websocket.close(code=UNAUTHENTICATED_CLOSE, reason="UNAUTHENTICATED")
            return
        await super().handle_connection_init(message)


class TextFrames(ASGIWebSocketAdapter):
    """Sends every message as a text frame. The facade encodes JSON with orjson (bytes),
    which strawberry would send as binary frames; a browser hands those to graphql-ws as a
    ``Blob``, which it cannot parse, so GraphiQL's subscriptions failed."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
