"""Query limits: how much one request may ask for — body bytes, length, tokens, depth,
aliases, selections.

Every limit is checked before any resolver runs, so a request over a limit costs no
upstream call. The body size is checked by ``BodySizeLimit`` (an ASGI middleware, HTTP
413) before the body is parsed; the others are schema extensions whose errors carry
``extensions.code`` ``QUERY_TOO_COMPLEX``.

>>> extensions = query_limits(max_depth=10, max_aliases=100, max_tokens=5000, max_selections=5000)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

from graphql import DocumentNode, GraphQLError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import MaxTokensLimiter, SchemaExtension

from schema.per_document import PerDocument

from .document_cost import Cost, largest_merge, measure
from .responses import graphql_error_response

__all__ = [
    "DEFAULT_MAX_ALIASES",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_QUERY_CHARS",
    "DEFAULT_MAX_SELECTIONS",
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
#: Fields of a document with every fragment spread expanded: as many as a document of
#: the default token budget can hold without fragments, so fragments save typing but
#: never multiply the work.
DEFAULT_MAX_SELECTIONS = 5000
#: Characters of a document: room for the default token budget pretty-printed, while
#: lexing it and locating its errors stays within milliseconds.
DEFAULT_MAX_QUERY_CHARS = 50_000
#: Fields that share one response name at one path (after merging): graphql-core
#: compares them pairwise, so this bounds the square. A client repeats a field a few
#: times (the ``id`` of several fragments); one that needs more distinct fields aliases them.
MAX_MERGED_FIELDS = 50
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


def _refusal(message: str, limit: str, maximum: int) -> GraphQLError:
    error = GraphQLError(message)
    _mark(error, limit, maximum)
    return error


class _TokenLimit(MaxTokensLimiter):
    """Strawberry's token limit (enforced by the parser), its error marked; and, before
    the parser runs, the length limit: graphql-core lexes a long string literal one
    character at a time, and locates each error by scanning the document from its start."""

    def __init__(self, *, max_token_count: int, max_chars: int) -> None:
        super().__init__(max_token_count=max_token_count)
        self.max_chars = max_chars

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query is not None and len(query) > self.max_chars:
            raise _refusal(
                f"the document is {len(query)} characters long; allowed: {self.max_chars}",
                "length",
                self.max_chars,
            )
        yield
        context = self.execution_context
        if context.graphql_document is not None:
            return
        for error in context.pre_execution_errors or ():
            if _TOKEN_LIMIT_MESSAGE.search(error.message):
                _mark(error, "tokens", self.max_token_count)


#: Each document's cost and largest merge, measured once (``schema.per_document``).
_COSTS: PerDocument[Cost] = PerDocument()
_MERGES: PerDocument[int] = PerDocument()


class _DocumentLimits(SchemaExtension):
    """Refuses a document over the depth, alias, selection or merge limit before
    validating it.

    The document is measured in one pass that visits each fragment once
    (``document_cost.measure``); only a document within the selection limit is then
    walked expanded (``largest_merge``, linear in that bounded size). A refused document
    never reaches graphql-core's validation rules. Only the first limit exceeded is
    reported, in the order depth, aliases, selections, merged.
    """

    def __init__(self, *, max_depth: int, max_aliases: int, max_selections: int) -> None:
        super().__init__()
        self.max_depth = max_depth
        self.max_aliases = max_aliases
        self.max_selections = max_selections

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            refusal = self._refusal(document, _COSTS.get(document, measure))
            if refusal is not None:
                context.pre_execution_errors = [refusal]
        yield

    def _refusal(self, document: DocumentNode, cost: Cost) -> GraphQLError | None:
        for name, depth in cost.operation_depths:
            if depth > self.max_depth:
                return _refusal(
                    f"'{name}' exceeds maximum operation depth of {self.max_depth}",
                    "depth",
                    self.max_depth,
                )
        if cost.aliases > self.max_aliases:
            return _refusal(
                f"{cost.aliases} aliases found. Allowed: {self.max_aliases}",
                "aliases",
                self.max_aliases,
            )
        expanded = cost.selections + cost.spreads
        if expanded > self.max_selections:
            return _refusal(
                f"the document has {expanded} fields and fragment spreads with its fragments "
                f"expanded; allowed: {self.max_selections}",
                "selections",
                self.max_selections,
            )
        merged = _MERGES.get(document, largest_merge)
        if merged > MAX_MERGED_FIELDS:
            return _refusal(
                f"{merged} fields share one response name at one path; allowed: "
                f"{MAX_MERGED_FIELDS} (give them aliases, or select the field once)",
                "merged",
                MAX_MERGED_FIELDS,
            )
        return None


def query_limits(
    *,
    max_depth: int,
    max_aliases: int,
    max_tokens: int,
    max_selections: int,
    max_query_chars: int = DEFAULT_MAX_QUERY_CHARS,
) -> list[Callable[[], SchemaExtension]]:
    """Factories of the schema extensions (one set per operation) that reject a document
    over a limit, before it is validated or run."""
    return [
        functools.partial(_TokenLimit, max_token_count=max_tokens, max_chars=max_query_chars),
        functools.partial(
            _DocumentLimits,
            max_depth=max_depth,
            max_aliases=max_aliases,
            max_selections=max_selections,
        ),
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
