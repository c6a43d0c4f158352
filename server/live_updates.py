"""One update of a followed WebSocket subscription (``resolvers.live_follow``): its
document executed once with the update as root value, as graphql-core executes each event
of a subscription, its errors coded as in any result, sent as a ``next`` message.

The document was parsed, measured against the limits and validated when the subscription
started (its first update ran through the whole pipeline); its variables are coerced
again for each update, which is cheap and keeps nothing between updates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from graphql import DocumentNode, Executor, GraphQLError, execute_subscription_event
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation
from strawberry.types import ExecutionResult

from backend.errors import OnewebError
from resolvers.context import Context
from resolvers.live import Update
from resolvers.live_follow import Deliver
from schema.errors import coded

__all__ = ["sender"]


def sender(
    schema: strawberry.Schema,
    operation: Operation[Context, Any],
    document: DocumentNode,
    fresh_context: Callable[[], Context],
) -> Deliver:
    """What delivers ``operation``'s updates: each executed in a fresh context (its loaders
    must not answer from an earlier update's reads), then sent; an error ends it."""

    async def deliver(update: Update | OnewebError) -> None:
        if isinstance(update, OnewebError):
            error = GraphQLError(update.message, original_error=update)
            await operation.send_next(ExecutionResult(data=None, errors=coded([error], None)))
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
            return
        context = fresh_context()
        result = await _execute(schema, document, update, context, operation)
        await operation.send_next(result)

    return deliver


async def _execute(
    schema: strawberry.Schema,
    document: DocumentNode,
    update: Update,
    context: Context,
    operation: Operation[Context, Any],
) -> ExecutionResult:
    executor_class: type[Executor[Any]] = schema.execution_context_class or Executor
    built = executor_class.build(
        schema._schema,
        document,
        root_value=update,
        context_value=context,
        raw_variable_values=operation.variables,
        operation_name=operation.operation_name,
        is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
    )
    if isinstance(built, list):  # the variables were coerced once already: not expected
        return ExecutionResult(data=None, errors=coded(built, context))
    outcome = execute_subscription_event(built)
    result = await outcome if isinstance(outcome, Awaitable) else outcome
    errors = coded(result.errors, context)
    if errors:
        schema.process_errors(errors)
    return ExecutionResult(data=result.data, errors=errors)
