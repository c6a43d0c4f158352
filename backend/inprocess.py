"""Reaching an ASGI app in the same process as if it were a remote upstream."""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

__all__ = ["in_process_transport"]


def in_process_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """A transport that hands each upstream request to ``app`` directly: no socket, same bytes.

    >>> UpstreamClient(base_url="http://embedded.invalid", transport=in_process_transport(app))
    """
    return httpx.ASGITransport(app=app)
