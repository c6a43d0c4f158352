"""The GraphQL endpoint: Strawberry's ASGI view with a per-request ``Context``."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from resolvers.context import Context, build_context
from resolvers.loaders import BatchObserver
from resolvers.memory import InstanceIndex
from resolvers.principal import Principal

from .caching import CachePolicy
from .graphiql import GraphiQLPage
from .identity import BearerToken, Unauthenticated, build_authenticator
from .live import ConnectionInitIdentity, TextFrames
from .media import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, is_request_error, response_media_type
from .persisted import DocumentRefused, PersistedDocuments, PersistedDocumentsView, load_manifest
from .responses import graphql_error_response
from .settings import Settings
from .trace import REQUEST_ID_HEADER, current_trace

__all__ = ["GraphQLEndpoint"]


class GraphQLEndpoint(PersistedDocumentsView, GraphQL[Context, None]):
    """``POST /graphql`` (JSON), ``GET /graphql`` (queries, or GraphiQL for a browser), and
    subscriptions over WebSocket (``graphql-transport-ws``)."""

    graphql_transport_ws_handler_class = ConnectionInitIdentity
    websocket_adapter_class = TextFrames

    def __init__(
        self,
        schema: BaseSchema,
        *,
        settings: Settings,
        index: InstanceIndex,
        on_batch: BatchObserver | None = None,
        graphiql: GraphiQLPage | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql is not None else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self._graphiql = graphiql
        self._settings = settings
        self._forwarded = settings.forwarded_header_names
        self.authenticator = build_authenticator(settings)
        # A proxy vouches for trusted headers on the upgrade request, but it cannot see a
        # connection_init payload: headers there are only believed in development (the
        # embedded runtime) or when configured; a bearer token is verified either way.
        trust_init = settings.live_init_headers
        if trust_init is None:
            trust_init = settings.base_url is None
        self.payload_identity = trust_init or isinstance(self.authenticator, BearerToken)
        self._index = index
        self._on_batch = on_batch
        trusted = settings.trusted_documents
        self.documents = PersistedDocuments(
            max_entries=settings.apq_max_entries,
            max_bytes=settings.apq_max_bytes,
            trusted=None if trusted is None else load_manifest(trusted),
        )
        self._cache = CachePolicy(
            max_age_s=settings.cache_max_age_s, credential_headers=_credential_headers(settings)
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our own GraphiQL page (every file from this facade), not Strawberry's CDN one."""
        assert self._graphiql is not None  # Strawberry asks only when an IDE is configured.
        return self._graphiql.response(request)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        headers = request.headers
        forwarded = {name: headers[name] for name in self._forwarded if name in headers}
        trace = current_trace()
        if trace is not None:
            # The caller's id (or ours): every upstream call of this request carries it.
            forwarded[REQUEST_ID_HEADER.lower()] = trace.request_id
        return build_context(
            client=request.app.state.client,
            headers=forwarded,
            principal=self._principal(request),
            index=self._index,
            allow_user_override=self._settings.allow_user_override,
            loaders_enabled=self._settings.loaders,
            on_batch=self._on_batch,
            hub=getattr(request.app.state, "hub", None),
        )

    def _principal(self, request: Request | WebSocket) -> Principal | None:
        """The request's principal; a WebSocket's bad credentials make it anonymous (its
        subscriptions are refused as ``UNAUTHENTICATED``), an HTTP request's are a 401."""
        if isinstance(request, Request):
            return self.authenticator.principal(request.headers)
        try:
            return self.authenticator.principal(request.headers)
        except Unauthenticated:
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's view, but every refusal before execution is a GraphQL-shaped JSON error."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response
        request = Request(scope, receive=receive)
        media = response_media_type(request.headers.get("accept"))
        try:
            response = await self.run(request)
        except Unauthenticated as error:
            challenge = {"WWW-Authenticate": error.challenge} if error.challenge else None
            response = graphql_error_response(401, None, error.message, headers=challenge)
        except DocumentRefused as refusal:
            # An APQ cache miss is part of the protocol: older clients expect it as a 200.
            status = 200 if refusal.cache_miss and media == APPLICATION_JSON else refusal.status
            response = graphql_error_response(status, refusal.code, refusal.message)
        except HTTPException as error:
            response = graphql_error_response(error.status_code, None, error.reason)
        self._finish(request, response, media)
        await response(scope, receive, send)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's parsing, but a JSON body that is no object (``null``, ``"x"``,
        ``123``, ``true``) is a 400, not a crash; a list is refused by the batching check."""
        content_type, _ = parse_content_type(request.content_type or "")
        if request.method == "POST" and "application/json" in content_type:
            body = await request.get_body()
            start = (body.encode() if isinstance(body, str) else body).lstrip(b" \t\r\n")[:1]
            if start not in (b"{", b"["):
                raise HTTPException(400, "The request body must be a JSON object.")
        return await super().parse_http_body(request)

    def _finish(self, request: Request, response: Response, media: str) -> None:
        """The negotiated media type, its status for a request error, and the cache headers."""
        if not response.headers.get("content-type", "").startswith(APPLICATION_JSON):
            return  # GraphiQL's page, a stream
        response.headers["content-type"] = media
        request_error: bool = getattr(request.state, "request_error", False)
        if request_error and media == GRAPHQL_RESPONSE_JSON:
            response.status_code = 400
        response.headers.update(
            self._cache.headers(
                method=request.method,
                request_headers=request.headers,
                status=response.status_code,
                has_errors=getattr(request.state, "has_errors", True),
            )
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Strawberry's result, without ``data`` for a request error the client wants as such."""
        response_data = await super().process_result(request, result)
        request.state.has_errors = bool(result.errors)
        request.state.request_error = is_request_error(result.data, result.errors)
        if request.state.request_error and (
            response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON
        ):
            response_data.pop("data", None)
        return response_data

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> Any:
        return orjson.loads(data)


def _credential_headers(settings: Settings) -> list[str]:
    """The request headers that make an answer the caller's own (never cached publicly)."""
    return [
        "authorization",
        "cookie",
        *settings.forwarded_header_names,
        settings.user_header,
        settings.groups_header,
        settings.roles_header,
    ]
