"""The facade's ASGI app: ``/graphql``, ``/healthz``, ``/readyz``, ``/metrics``, GraphiQL's
files, and the embedded runtime when no upstream is set; request tracing and CORS around
them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import DisableIntrospection

from backend.broadcast import open_broadcast
from backend.client import UpstreamClient
from backend.exchange import Transport
from backend.inprocess import InProcessTransport
from resolvers.memory import InstanceIndex
from schema import build_schema

from .gc_tuning import tune_gc
from .graphiql import STATIC_PREFIX, Assets, GraphiQLPage
from .graphql import GraphQLEndpoint
from .limits import BodySizeLimit, query_limits
from .live import build_hub
from .logs import configure_logging
from .metrics import Metrics
from .settings import Settings
from .trace import REQUEST_ID_HEADER, RequestTracing, TraceOperation

__all__ = ["EMBEDDED_BASE_URL", "create_app", "create_app_from_env"]

log = logging.getLogger("oneweb_graphql")

#: The base URL the client uses for the embedded runtime it reaches in process.
EMBEDDED_BASE_URL = "http://embedded.invalid"
_RUNTIME_PREFIX = "/BPMREST/"
#: ``/readyz`` answers within this long (a probe's own timeout is often 1 s).
READINESS_TIMEOUT_S = 2.0


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


async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 while the upstream answers, else 503; the circuit's state either way."""
    client: UpstreamClient = request.app.state.client
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_S):
            ready = await client.ping()
    except TimeoutError:
        ready = False
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "circuit": client.circuit_state},
        status_code=200 if ready else 503,
    )


def create_app(settings: Settings | None = None) -> ASGIApp:
    """The facade for these settings (default: from the environment).

    >>> app = create_app(Settings(base_url="http://bpm.example:8080"))
    """
    settings = settings or Settings()
    # A registry per app: two apps in one process (tests, workers) never mix their counts.
    metrics = Metrics() if settings.metrics else None
    runtime_app: Starlette | None = None
    if settings.base_url is None:
        from backend.embedded.app import create_app as create_runtime_app
        from backend.embedded.store import default_db_path

        runtime_app = create_runtime_app(
            db_path=settings.db or default_db_path(), processes_dir=settings.processes
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        transport: Transport | None = None  # Http1Transport, pooled to max_concurrency
        base_url = str(settings.base_url)
        if runtime_app is not None:
            transport = InProcessTransport(runtime_app)
            base_url = EMBEDDED_BASE_URL
        client = UpstreamClient(
            base_url=base_url,
            timeout=settings.timeout_s,
            max_concurrency=settings.max_concurrency,
            transport=transport,
            retry_reads=settings.retry_reads,
            breaker_failure_rate=settings.breaker_failure_rate,
            breaker_min_calls=settings.breaker_min_calls,
            breaker_window_s=settings.breaker_window_s,
            breaker_reset_s=settings.breaker_reset_s,
            observer=None if metrics is None else metrics.observe_upstream,
        )
        app.state.client = client
        broadcast = open_broadcast(settings.broadcast_url)
        app.state.hub = hub = build_hub(
            client, interval_s=settings.live_interval_s, broadcast=broadcast
        )
        hub.start()
        if runtime_app is not None:
            # The runtime tells the hub what it changed, whoever called it: no polling delay.
            runtime_app.state.runtime.on_change = hub.touched
            hub.upstream_tells = True
        try:
            yield
        finally:
            await hub.aclose()
            await broadcast.aclose()
            await client.aclose()
            if runtime_app is not None:
                runtime_app.state.runtime.on_change = None
                runtime_app.state.runtime.close()

    limits = query_limits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_selections=settings.max_selections,
        max_query_chars=settings.max_query_chars,
    )
    extensions = [*limits, TraceOperation]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    routes = [
        Route("/readyz", readyz, methods=["GET"]),
    ]
    graphiql: GraphiQLPage | None = None
    if settings.graphiql:
        assets = Assets()
        # The demo identity only where it names nobody real: the embedded runtime's.
        graphiql = GraphiQLPage(
            assets,
            user_header=settings.user_header,
            groups_header=settings.groups_header,
            demo_identity=runtime_app is not None,
        )
        routes.append(Route(STATIC_PREFIX + "/{name}", assets.endpoint, methods=["GET"]))
    graphql = GraphQLEndpoint(
        build_schema(extensions=extensions),
        settings=settings,
        index=InstanceIndex(),
        on_batch=None if metrics is None else metrics.observe_batch,
        graphiql=graphiql,
    )
    if metrics is not None:
        routes.append(Route("/metrics", metrics.endpoint, methods=["GET"]))
    facade = Starlette(
        routes=[
            Route(
                "/graphql",
                BodySizeLimit(graphql, max_bytes=settings.max_body_bytes),
                methods=["GET", "POST"],
            ),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            *routes,
        ],
        middleware=_cors(settings),
        lifespan=lifespan,
    )
    app = facade if runtime_app is None else _WithRuntime(facade, runtime_app)
    return RequestTracing(app, metrics=metrics)


def _cors(settings: Settings) -> list[Middleware]:
    """CORS for the allow-listed origins only; none listed, no CORS headers at all."""
    origins = settings.cors_origin_list
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
            # Cookies are forwarded upstream, so a listed origin may send them; a
            # wildcard never may.
            allow_credentials="*" not in origins,
            max_age=600,
        )
    ]


def create_app_from_env() -> ASGIApp:
    """The uvicorn factory: a facade configured from the environment (one per worker)."""
    settings = Settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    app = create_app(settings)
    if settings.gc_tuning:
        tune_gc()  # a server process from here on: see server/gc_tuning.py
    return app
