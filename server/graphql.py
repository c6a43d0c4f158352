"""The GraphQL endpoint: Strawberry's ASGI view with a per-request ``Context``.

Subscriptions run over WebSocket (``graphql-transport-ws``, see ``live_connection``) and
over HTTP with the multipart subscription protocol (``Accept:
multipart/mixed;subscriptionSpec=1.0``, as Apollo Client sends it): a POST whose answer is
a stream of parts. Either way a subscription takes a slot of its principal's cap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, GraphQLRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.execution import SubscriptionExecutionResult
from strawberry.types.graphql import OperationType

from resolvers.context import Context, build_context
from resolvers.loaders import BatchObserver
from resolvers.memory import InstanceIndex
from resolvers.principal import Principal

from .caching import CachePolicy
from .graphiql import GraphiQLPage
from .identity import BearerToken, Unauthenticated, build_authenticator
from .live import TextFrames
from .live_connection import LiveConnection
from .live_limits import Slot, SubscriptionSlots, TooManySubscriptions
from .media import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, is_request_error, response_media_type
from .persisted import DocumentRefused, PersistedDocuments, PersistedDocumentsView, load_manifest
from .responses import graphql_error_response
from .settings import Settings
from .trace import REQUEST_ID_HEADER, current_trace

if TYPE_CHECKING:
    from backend.client import UpstreamClient
    from resolvers.live import Hub

__all__ = ["GraphQLEndpoint"]

log = logging.getLogger("oneweb_graphql.live")

#: Why a subscription sent as a plain JSON request is refused.
NEEDS_A_STREAM = (
    "a subscription needs a WebSocket (graphql-transport-ws) or a POST with "
    "`Accept: multipart/mixed;subscriptionSpec=1.0`"
)


class GraphQLEndpoint(PersistedDocumentsView, GraphQL[Context, None]):
    """``POST /graphql`` (JSON, or a multipart stream for a subscription), ``GET /graphql``
    (queries, or GraphiQL for a browser), and subscriptions over WebSocket
    (``graphql-transport-ws``)."""

    graphql_transport_ws_handler_class = LiveConnection
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
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL),
            max_subscriptions_per_connection=None,  # LiveConnection's own cap, with a code
        )
        self.live_max_per_connection = settings.live_max_per_connection
        self.live_send_timeout_s = settings.live_send_timeout_s
        self.slots = SubscriptionSlots(per_principal=settings.live_max_per_principal)
        # Strawberry's default heartbeat is 5 s; one keep-alive setting for both transports.
        multipart = self._stream_transport_map[MULTIPART_SUBSCRIPTION_PROTOCOL]
        multipart.heartbeat_interval = settings.live_keepalive_s
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
        principal = self._principal(request)
        if isinstance(request, Request):
            request.state.principal = principal  # for an HTTP subscription's slot
        return self._context(
            request.app.state.client, forwarded, principal, getattr(request.app.state, "hub", None)
        )

    def fresh_context(self, context: Context) -> Context:
        """A new context with ``context``'s credentials and principal, and fresh loaders:
        each update of a WebSocket subscription reads the upstream anew."""
        return self._context(context.client, context.headers, context.principal, context.hub)

    def _context(
        self,
        client: UpstreamClient,
        headers: Mapping[str, str],
        principal: Principal | None,
        hub: Hub | None,
    ) -> Context:
        return build_context(
            client=client,
            headers=headers,
            principal=principal,
            index=self._index,
            allow_user_override=self._settings.allow_user_override,
            loaders_enabled=self._settings.loaders,
            on_batch=self._on_batch,
            hub=hub,
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
        except TooManySubscriptions as refusal:
            response = graphql_error_response(
                429, refusal.code, refusal.message, extensions=refusal.extensions
            )
        except HTTPException as error:
            response = graphql_error_response(error.status_code, None, error.reason)
        self._finish(request, response, media)
        slot: Slot | None = getattr(request.state, "slot", None)
        if slot is None:
            await response(scope, receive, send)
            return
        try:
            await response(scope, receive, self._timed(send))
        except TimeoutError:
            # The client stopped reading: its subscription ends here, the others go on.
            log.warning(
                "live: dropped an HTTP subscription whose client read nothing for %ss",
                self.live_send_timeout_s,
            )
        finally:
            slot.release()
            await _close_stream(response, getattr(request.state, "stream_result", None))

    def _timed(self, send: Send) -> Send:
        """``send``, but a message the client does not take within the send timeout raises."""
        timeout_s = self.live_send_timeout_s

        async def timed(message: Message) -> None:
            async with asyncio.timeout(timeout_s):
                await send(message)

        return timed

    async def create_streaming_response(
        self,
        request: Request | WebSocket,
        stream: Any,
        sub_response: Response,
        headers: Any,
    ) -> Response:
        """A subscription's stream, once its principal has a slot (else 401 or 429)."""
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            raise Unauthenticated("a subscription needs an authenticated principal")
        request.state.slot = self.slots.acquire(principal.user)
        return await super().create_streaming_response(request, stream, sub_response, headers)

    async def _create_streaming_response(
        self,
        request: Request,
        result: SubscriptionExecutionResult,
        protocol: GraphQLRequestProtocol,
        sub_response: Response,
    ) -> Response:
        # Kept so that __call__ can close the subscription however the stream ends.
        request.state.stream_result = result
        return await super()._create_streaming_response(request, result, protocol, sub_response)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """Strawberry's, but no stream by GET: a subscription is no query, and a GET can be
        sent cross-site without a preflight."""
        if (
            request_adapter.method == "GET"
            and isinstance(request_data, GraphQLRequestData)
            and request_data.protocol != "http"
        ):
            raise HTTPException(400, "subscriptions are not allowed when using GET")
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, but a subscription without a streaming transport is a 400 (there
        is nothing to stream it on), not a failed field."""
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, NEEDS_A_STREAM) from error
            raise HTTPException(400, error.as_http_error_reason(request_adapter.method)) from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error

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


async def _close_stream(response: Response, result: object) -> None:
    """End a subscription's stream now, wherever it stopped.

    A stream that ended on its own or by the client's disconnect is closed already. One
    stopped in the middle of a send (a dropped client) is not: its generators would hold
    the subscription (and its place in the hub) until the garbage collector found them.
    """
    body = getattr(response, "body_iterator", None)
    for generator in (body, result):
        aclose = getattr(generator, "aclose", None)
        if aclose is not None:
            await aclose()


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
