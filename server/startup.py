"""The one line the server prints once it listens: where to point a browser, and where the data is."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn
from yarl import URL

from .settings import Settings

__all__ = ["AnnouncingServer", "describe_facade", "listen_url"]

#: uvicorn's exit status when the server could not start (the port is taken, say).
STARTUP_FAILURE = 3


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that calls ``on_start(port)`` once it listens (port 0 resolved)."""

    def __init__(self, config: uvicorn.Config, *, on_start: Callable[[int], None]) -> None:
        super().__init__(config)
        self._on_start = on_start

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._on_start(self.servers[0].sockets[0].getsockname()[1])


def listen_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 host in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def describe_facade(settings: Settings, *, host: str, port: int, version: str) -> str:
    """The start line of ``serve``: its GraphQL URL and the embedded data file or the upstream.

    >>> describe_facade(Settings(base_url="http://bpm:8080"), host="127.0.0.1", port=8000, version="1.0")
    'oneweb-graphql 1.0: GraphiQL at http://127.0.0.1:8000/graphql (upstream http://bpm:8080)'
    """
    ide = "GraphiQL" if settings.graphiql else "GraphQL"
    where = f"{ide} at {listen_url(host, port)}/graphql"
    if settings.base_url:
        # A base URL may carry credentials (http://user:secret@host): never print them.
        upstream = URL(settings.base_url).with_user(None)
        return f"oneweb-graphql {version}: {where} (upstream {upstream})"
    from backend.embedded.store import default_db_path

    db = settings.db or default_db_path()
    return f"oneweb-graphql {version}: {where} (embedded runtime, data in {db})"
