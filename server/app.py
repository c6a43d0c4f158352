"""The facade's ASGI app: ``/graphql``, ``/healthz``, and the embedded runtime when no upstream is set."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.client import UpstreamClient, make_transport
from backend.inprocess import in_process_transport
from resolvers.memory import InstanceIndex
from schema import build_schema

from .graphql import GraphQLEndpoint
from .limits import BodySizeLimit, query_limits
from .settings import Settings

__all__ = ["EMBEDDED_BASE_URL", "create_app", "create_app_from_env"]

log = logging.getLogger("oneweb_graphql")

#: The base URL the client uses for the embedded runtime it reaches in process.
EMBEDDED_BASE_URL = "http://embedded.invalid"
_RUNTIME_PREFIX = "/BPMREST/"


class _WithRuntime:
    """Sends ``/BPMREST/...`` to the embedded runtime and everything else to the facade."""

    def __init__(self, facade: ASGIApp, runtime: ASGIApp) -> None:
        self.facade = facade
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(_RUNTIME_PREFIX):
            await self.runtime(scope, receive, send)
        else:
            await self.facade(scope, receive, send)


async def healthz(request: Request) -> PlainTextResponse:
    """Liveness: the process answers."""
    return PlainTextResponse("ok")


def create_app(settings: Settings | None = None) -> ASGIApp:
    """The facade for these settings (default: from the environment).

    >>> app = create_app(Settings(base_url="http://bpm.example:8080"))
    """
    settings = settings or Settings()
    runtime_app: Starlette | None = None
    if settings.base_url is None:
        from backend.embedded.app import create_app as create_runtime_app
        from backend.embedded.store import default_db_path

        runtime_app = create_runtime_app(
            db_path=settings.db or default_db_path(), processes_dir=settings.processes
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if runtime_app is None:
            transport = make_transport(settings.transport, max_concurrency=settings.max_concurrency)
            base_url = str(settings.base_url)
        else:
            transport = in_process_transport(runtime_app)
            base_url = EMBEDDED_BASE_URL
        client = UpstreamClient(
            base_url=base_url,
            timeout=settings.timeout_s,
            max_concurrency=settings.max_concurrency,
            transport=transport,
        )
        app.state.client = client
        try:
            yield
        finally:
            await client.aclose()
            if runtime_app is not None:
                runtime_app.state.runtime.close()

    limits = query_limits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
    )
    graphql = GraphQLEndpoint(
        build_schema(extensions=limits), settings=settings, index=InstanceIndex()
    )
    facade = Starlette(
        routes=[
            Route(
                "/graphql",
                BodySizeLimit(graphql, max_bytes=settings.max_body_bytes),
                methods=["GET", "POST"],
            ),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    if runtime_app is None:
        return facade
    return _WithRuntime(facade, runtime_app)


def create_app_from_env() -> ASGIApp:
    """The uvicorn factory: a facade configured from the environment (one per worker)."""
    return create_app(Settings())
