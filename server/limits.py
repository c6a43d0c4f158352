"""Query limits: how much one request may ask for — body bytes, tokens, depth, aliases.

Every limit is checked before any resolver runs, so a request over a limit costs no
upstream call. The body size is checked by ``BodySizeLimit`` (an ASGI middleware, HTTP
413) before the body is parsed; the others are schema extensions whose errors carry
``extensions.code`` ``QUERY_TOO_COMPLEX``.

>>> extensions = query_limits(max_depth=10, max_aliases=100, max_tokens=5000)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any, cast

from graphql import ASTValidationRule, GraphQLError, ValidationContext, ValidationRule
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from .responses import graphql_error_response

__all__ = [
    "DEFAULT_MAX_ALIASES",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_TOKENS",
    "QUERY_TOO_COMPLEX",
    "BodySizeLimit",
    "query_limits",
]

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"

DEFAULT_MAX_DEPTH = 10
#: Above the 50 ``claimTask`` aliases a claim-all-in-one-request client sends.
DEFAULT_MAX_ALIASES = 100
DEFAULT_MAX_TOKENS = 5000
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

#: How much of an oversized body is read and dropped before the 413 goes out. A client
#: still sending when the server answers and closes may never see the answer (the
#: connection is reset under it); past this many bytes it does not get that courtesy.
DRAIN_BYTES = 16 * 1024 * 1024

# graphql-core's own wording for a document over its token (or comment) budget.
_TOKEN_LIMIT_MESSAGE = re.compile(r"Document contains more than \d+ (tokens|comments)\.")


def _mark(error: GraphQLError, limit: str, maximum: int) -> None:
    error.extensions = {
        **(error.extensions or {}),
        "code": QUERY_TOO_COMPLEX,
        "limit": limit,
        "max": maximum,
    }


class _Marking:
    """A ``ValidationContext`` as one limit rule sees it: what it reports is marked."""

    def __init__(self, context: ValidationContext, limit: str, maximum: int) -> None:
        self._context = context
        self._limit = limit
        self._maximum = maximum

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def report_error(self, error: GraphQLError) -> None:
        _mark(error, self._limit, self._maximum)
        self._context.report_error(error)


def _marked(rule: type[ValidationRule], limit: str, maximum: int) -> type[ValidationRule]:
    """``rule`` (one that checks the whole document when built), its errors marked."""

    class MarkedRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            rule(cast("ValidationContext", _Marking(context, limit, maximum)))

    MarkedRule.__name__ = f"Marked{rule.__name__}"
    return MarkedRule


class _TokenLimit(MaxTokensLimiter):
    """Strawberry's token limit (enforced by the parser), its error marked."""

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.graphql_document is not None:
            return
        for error in context.pre_execution_errors or ():
            if _TOKEN_LIMIT_MESSAGE.search(error.message):
                _mark(error, "tokens", self.max_token_count)


def query_limits(
    *, max_depth: int, max_aliases: int, max_tokens: int
) -> list[Callable[[], SchemaExtension]]:
    """Factories of the schema extensions (one set per operation) that reject a document
    over a limit, before it runs."""
    rules: list[type[ASTValidationRule]] = [
        _marked(depth_validator(max_depth, None), "depth", max_depth),
        _marked(aliases_validator(max_aliases), "aliases", max_aliases),
    ]
    return [
        functools.partial(_TokenLimit, max_token_count=max_tokens),
        functools.partial(AddValidationRules, rules),
    ]


class BodySizeLimit:
    """Answers HTTP 413 to a request whose body is over ``max_bytes``, before the app reads it.

    A declared ``Content-Length`` over the limit is refused at once; otherwise the body
    is read up to the limit and handed on, so at most ``max_bytes`` are ever buffered.

    >>> app = BodySizeLimit(graphql_app, max_bytes=1024 * 1024)
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, already=0)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message]), send)
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                rest = receive if message.get("more_body", False) else None
                await self._refuse(scope, rest, send, already=size)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], then=receive), send)

    async def _refuse(
        self, scope: Scope, receive: Receive | None, send: Send, *, already: int
    ) -> None:
        if receive is not None:
            await _drain(receive, budget=DRAIN_BYTES - already)
        response = graphql_error_response(
            413,
            "PAYLOAD_TOO_LARGE",
            f"request body larger than {self.max_bytes} bytes",
            extensions={"max": self.max_bytes},
        )
        await response(scope, _replay([{"type": "http.disconnect"}]), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _drain(receive: Receive, *, budget: int) -> None:
    """Read and drop the rest of a body, up to ``budget`` bytes."""
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _replay(messages: list[Message], *, then: Receive | None = None) -> Receive:
    """A ``receive`` that hands out ``messages``, then defers to ``then`` (or disconnects)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
