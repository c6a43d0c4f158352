"""How failures reach the caller: every GraphQL error gets an ``extensions.code``.

Errors the upstream layer raised keep their message and get their code
(``UPSTREAM_UNAVAILABLE``, ``NOT_FOUND``, ...). Upstream failures that a mutation
turned into payload errors are also listed here, as top-level errors that null
nothing. Anything unexpected is masked: the caller sees ``INTERNAL_SERVER_ERROR``,
the log sees the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import FieldNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.execution import StreamExecutionResult

from backend.errors import BadInput, OnewebError
from backend.limits import InputRefused
from resolvers.context import Context
from resolvers.problems import argument_error

__all__ = ["INTERNAL_ERROR_MESSAGE", "ErrorCodes", "coded", "is_unexpected"]

log = logging.getLogger("oneweb_graphql.errors")

INTERNAL_ERROR_MESSAGE = "Internal server error"


def is_unexpected(error: GraphQLError) -> bool:
    """True for an error raised by a bug rather than by the caller or the upstream."""
    original = error.original_error
    return original is not None and not isinstance(original, OnewebError | GraphQLError)


def _arguments(error: GraphQLError) -> list[str]:
    node = error.nodes[0] if error.nodes else None
    if not isinstance(node, FieldNode):
        return []
    return [argument.name.value for argument in node.arguments or ()]


def _with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    extensions = dict(error.extensions or {})
    if isinstance(original, BadInput):
        # In GraphQL words, naming the argument at fault where the message says which.
        message, argument = argument_error(original.message, _arguments(error))
        code = original.graphql_code
        named = getattr(original, "field", None)  # an input check may name it itself
        argument = named if isinstance(named, str) else argument
        if argument is not None:
            extensions.setdefault("field", [argument])
    elif isinstance(original, OnewebError):
        message, code = original.message, original.graphql_code
    elif is_unexpected(error):
        message, code = INTERNAL_ERROR_MESSAGE, "INTERNAL_SERVER_ERROR"
    else:
        message = error.message
        code = (error.extensions or {}).get("code") or (
            "GRAPHQL_VALIDATION_FAILED" if error.path is None else "INTERNAL_SERVER_ERROR"
        )
    extensions["code"] = code
    if isinstance(original, InputRefused):
        extensions["field"] = [original.field]  # the argument at fault
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions=extensions,
    )


def coded(errors: list[GraphQLError] | None, context: object) -> list[GraphQLError] | None:
    """A result's errors, each with its ``extensions.code``, and the ones ``context``
    reported (mutations' payload errors); None when there are none."""
    coded_errors = [_with_code(error) for error in errors or ()]
    if isinstance(context, Context):
        coded_errors.extend(
            GraphQLError(
                reported.error.message,
                path=list(reported.path),
                original_error=reported.error,
                extensions={"code": reported.error.graphql_code},
            )
            for reported in context.reported
        )
    return coded_errors or None


class ErrorCodes(SchemaExtension):
    """Give every error of a result its ``extensions.code`` and add the reported ones.

    A streamed result (a subscription's, over WebSocket or multipart HTTP) is coded as it
    is yielded: ``on_operation`` resumes only when the stream ends, after the results were
    sent. Streams add no reported errors (a WebSocket's context is the connection's).
    """

    _streamed = False

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or self._streamed:
            return
        result.errors = coded(result.errors, self.execution_context.context)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._streamed = True
        if isinstance(result, ExecutionResult):
            result.errors = coded(result.errors, None)
        yield
