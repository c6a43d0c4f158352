"""One ``graphql-transport-ws`` connection at ``/graphql``, with the facade's rules on top of
Strawberry's handler: identity from ``connection_init`` (``ConnectionInitIdentity``), the
same persisted/trusted-document rules as HTTP, caps on subscriptions per connection and
per principal, and a client that stops reading is dropped.

Dropping: every message to the client must be handed to the server's socket within
``send_timeout_s``. uvicorn stops accepting writes once a connection's write buffer is
full (the client's and the kernel's buffers being full already), so a send that takes
that long means the client stopped reading. The connection is then given up: its
subscriptions end (their hub places and slots are released, the shared pollers and
other subscribers go on) and the socket is closed once its buffer drains or the
keep-alive ping goes unanswered. Nothing is queued per update meanwhile: a subscription
waits on its one pending send, and the hub only sets its "changed" flag.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from .live import ConnectionInitIdentity
from .live_limits import Slot, TooManySubscriptions
from .persisted import DocumentRefused

if TYPE_CHECKING:
    from .graphql import GraphQLEndpoint

__all__ = ["LiveConnection"]

log = logging.getLogger("oneweb_graphql.live")


class LiveConnection(ConnectionInitIdentity):
    """A WebSocket connection's handler: documents, caps, and dropping a stalled reader."""

    _reader: asyncio.Task[Any] | None = None
    _dropped = False

    @property
    def endpoint(self) -> GraphQLEndpoint:
        endpoint: GraphQLEndpoint = self.view  # type: ignore[assignment]
        return endpoint

    async def handle(self) -> None:
        self._reader = asyncio.current_task()
        try:
            await super().handle()
        except asyncio.CancelledError:
            if not self._dropped:
                raise
            # Our own cancellation (see _drop): the connection is over, not the server.
            if self._reader is not None:
                self._reader.uncancel()

    async def send_message(self, message: Message) -> None:
        if self._dropped:
            raise asyncio.CancelledError
        try:
            async with asyncio.timeout(self.endpoint.live_send_timeout_s):
                await super().send_message(message)
        except TimeoutError:
            self._drop()
            raise asyncio.CancelledError from None

    def _drop(self) -> None:
        """Give up a connection whose client stopped reading: end its subscriptions."""
        if self._dropped:
            return
        self._dropped = True
        log.warning(
            "live: dropped a WebSocket whose client read nothing for %ss",
            self.endpoint.live_send_timeout_s,
        )
        reader = self._reader
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()  # its shutdown cancels every operation of the connection

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        """Strawberry's loop, but a result is emptied once it is sent. Strawberry's and
        graphql-core's generators keep their latest result while they wait for the next
        event, which for an idle subscription is the whole last update (its tasks as
        dicts, some 20 KB for an inbox of two dozen): nothing reads it again."""
        is_first_result = True
        async for result in result_source:
            if is_first_result and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            await operation.send_next(result)
            is_first_result = False
            if isinstance(result.data, dict):
                result.data.clear()
            result.errors = result.extensions = None
            del result

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # Strawberry closes the connection
            return
        endpoint = self.endpoint
        payload: dict[str, Any] = dict(message["payload"])
        try:
            payload["query"] = endpoint.documents.resolve(
                query=payload.get("query"),
                extensions=payload.get("extensions"),
                document_id=payload.get("documentId"),
            )
            if len(self.operations) >= endpoint.live_max_per_connection:
                raise TooManySubscriptions(limit="connection", max=endpoint.live_max_per_connection)
            principal = self.context.principal
            assert principal is not None  # a connection without one is closed at init
            slot = endpoint.slots.acquire(principal.user)
        except DocumentRefused as refusal:
            await self._refuse(message["id"], refusal.message, {"code": refusal.code})
            return
        except TooManySubscriptions as refusal:
            await self._refuse(message["id"], refusal.message, refusal.extensions)
            return
        await super().handle_subscribe(
            SubscribeMessage(id=message["id"], type="subscribe", payload=payload)  # type: ignore[typeddict-item]
        )
        operation = self.operations.get(message["id"])
        if operation is None or operation.task is None:
            slot.release()
        else:
            operation.task.add_done_callback(_releasing(slot))

    async def _refuse(self, operation_id: str, message: str, extensions: dict[str, object]) -> None:
        """An ``error`` for this one subscription; the connection and its others go on."""
        await self.send_message(
            {
                "id": operation_id,
                "type": "error",
                "payload": [{"message": message, "extensions": extensions}],
            }
        )


def _releasing(slot: Slot) -> Any:
    def release(_: asyncio.Task[Any]) -> None:
        slot.release()

    return release
