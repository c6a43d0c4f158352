"""One ``graphql-transport-ws`` connection at ``/graphql``, with the facade's rules on top of
Strawberry's handler: identity from ``connection_init`` (``ConnectionInitIdentity``), the
same persisted/trusted-document rules as HTTP, caps on subscriptions per connection and
per principal, and a client that stops reading is dropped.

An inbox subscription runs through Strawberry's whole pipeline (parsing, limits,
validation, its resolver's checks) for its first update only; a ``Follower`` then carries
it with nothing suspended between updates, each executed once and sent
(``resolvers.live_follow``, ``live_updates``). Some 30 KB per idle subscription less.

Dropping: every message to the client must be handed to the server's socket within
``send_timeout_s``. uvicorn stops accepting writes once a connection's write buffer is
full (the client's and the kernel's buffers being full already), so a send that takes
that long means the client stopped reading. The connection is then given up: its
subscriptions end (their hub places and slots are released, the shared pollers and
other subscribers go on) and the socket is closed once its buffer drains or the
keep-alive ping goes unanswered. Nothing is queued per update meanwhile: a subscription
waits on its one pending send, and the hub only sets its "changed" flag.

Strawberry's ``run_operation`` is replaced (its loop over the results ends at the
handover) and its private ``_OperationStreamClosed`` caught as it does: a Strawberry
upgrade may move them, which the live tests would show.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    _OperationStreamClosed as OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from resolvers.context import Context
from resolvers.live_follow import Follower, Handoff

from .live import ConnectionInitIdentity
from .live_limits import Slot, TooManySubscriptions
from .live_updates import sender
from .persisted import DocumentRefused

if TYPE_CHECKING:
    from .graphql import GraphQLEndpoint

__all__ = ["LiveConnection"]

log = logging.getLogger("oneweb_graphql.live")


class LiveConnection(ConnectionInitIdentity):
    """A WebSocket connection's handler: documents, caps, and dropping a stalled reader."""

    _reader: asyncio.Task[Any] | None = None
    _dropped = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The slot of each operation whose task runs (it passes to a follower, if any).
        self._slots: dict[str, Slot] = {}
        #: The followed subscriptions (after their first update), with their slots.
        self._followers: dict[str, tuple[Follower, Slot]] = {}

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

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Strawberry's, with a ``Handoff`` as root value: a subscription of the inbox runs
        through the whole pipeline for its first update, then a ``Follower`` goes on
        without it (``resolvers.live_follow``). Any other operation runs as in Strawberry."""
        handoff = Handoff()
        follower: Follower | None = None
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=handoff,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                follower = await self._send_until_handover(operation, result_source, handoff)
            if follower is None:
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            handoff.release()
            slot = self._slots.pop(operation.id, None)
            # Still this connection's operation (the client did not complete it, nor did
            # the connection end meanwhile): the follower carries it from here.
            ongoing = self.operations.get(operation.id) is operation
            if follower is not None and ongoing and slot is not None and not follower.closed:
                self._followers[operation.id] = (follower, slot)
            else:
                if follower is not None:
                    follower.close()
                if slot is not None:
                    slot.release()

    async def _send_until_handover(
        self, operation: Operation[Context, None], result_source: Any, handoff: Handoff
    ) -> Follower | None:
        """Strawberry's loop over the results, until a follower takes over (returned)."""
        is_first_result = True
        async for result in result_source:
            if is_first_result and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return None
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return None
            await operation.send_next(result)
            is_first_result = False
            document = handoff.document
            if document is not None and operation.id in self.operations:
                fresh = functools.partial(self.endpoint.fresh_context, self.context)
                schema: strawberry.Schema = self.schema  # type: ignore[assignment]
                return handoff.follow(sender(schema, operation, document, fresh))
        return None

    async def cleanup_operation(self, operation_id: str) -> None:
        """Strawberry's, and a followed subscription ends too."""
        self._end_follower(operation_id)
        await super().cleanup_operation(operation_id)

    def forget_id(self, id: str) -> None:
        """The operation sent its last message (a follower's error): it ends here."""
        super().forget_id(id)
        self._end_follower(id)

    def _end_follower(self, operation_id: str) -> None:
        """Close the operation's follower, if it has one: its hub place and slot come back."""
        followed = self._followers.pop(operation_id, None)
        if followed is not None:
            follower, slot = followed
            follower.close()
            slot.release()

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
        self._slots[message["id"]] = slot  # the operation's task releases it, or its follower
        await super().handle_subscribe(
            SubscribeMessage(id=message["id"], type="subscribe", payload=payload)  # type: ignore[typeddict-item]
        )
        operation = self.operations.get(message["id"])
        if operation is None or operation.task is None:
            self._slots.pop(message["id"], None)
            slot.release()

    async def _refuse(self, operation_id: str, message: str, extensions: dict[str, object]) -> None:
        """An ``error`` for this one subscription; the connection and its others go on."""
        await self.send_message(
            {
                "id": operation_id,
                "type": "error",
                "payload": [{"message": message, "extensions": extensions}],
            }
        )
