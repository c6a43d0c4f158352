"""The GraphQL schema of the facade: its types, its roots, and its SDL."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from .errors import ErrorCodes, is_unexpected
from .executor import FacadeExecutor
from .fast_paths import install as install_fast_paths
from .mutation import Mutation
from .per_document import PerDocument
from .query import Query
from .subscription import Subscription

__all__ = ["build_schema", "schema", "sdl"]

log = logging.getLogger("oneweb_graphql.errors")


class FacadeSchema(strawberry.Schema):
    """Logs only unexpected errors: a caller's mistake or an upstream refusal is no incident."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_unexpected(error):
                log.error("unexpected error", exc_info=error.original_error)


#: Validation stops after this many errors. graphql-core locates each error by scanning
#: the document from its start, so a long document with many errors would otherwise cost
#: a scan per error; ten tell a client what to fix.
MAX_VALIDATION_ERRORS = 10


def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """Strawberry's validation (its two rules added), at most ``MAX_VALIDATION_ERRORS``."""
    every_rule = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, document, every_rule, max_errors=MAX_VALIDATION_ERRORS)


#: Each document's validation errors (none, mostly), per schema and rules.
_VALIDATED: PerDocument[list[GraphQLError]] = PerDocument()


class _ValidationCache(SchemaExtension):
    """Strawberry's ``ValidationCache``, but skipped for a document an earlier extension
    (a query limit) has already refused, with the error count bounded, and the document
    found by identity (``schema.per_document``)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            schema, rules = context.schema._schema, context.validation_rules
            context.pre_execution_errors = _VALIDATED.get(
                context.graphql_document,
                lambda document: _validate(schema, document, rules),
                id(schema),
                rules,
            )
        yield


#: Parsed documents kept, by their text (each at most ``ONEWEB_MAX_QUERY_CHARS`` long).
PARSED_DOCUMENTS = 128


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def _parse(query: str, options: frozenset[tuple[str, Any]]) -> DocumentNode:
    return parse(query, **dict(options))


class _ParseCache(SchemaExtension):
    """One parse per document text, shared by every request and subscription that sends
    it: a screen sends the same few documents again and again, and each live subscription
    would otherwise keep a parse of its own for as long as it runs. graphql-core never
    changes a parsed document, so sharing one is safe.

    It runs after the length limit (an earlier extension). A document that does not parse
    is left to strawberry, which parses it again and reports the error as usual (the token
    limit marks its own): errors are not cached.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            options = frozenset(context.parse_options.items())
            try:
                context.graphql_document = _parse(context.query, options)
            except GraphQLError:
                pass  # strawberry parses it again, and reports the error
        yield


def build_schema(
    *, extensions: list[Any] | None = None, fast_paths: bool = True
) -> strawberry.Schema:
    """The facade's schema, with the extensions the server adds (limits, metrics).

    ``fast_paths`` (``schema.fast_paths``) lets graphql-core resolve the hot fields without
    strawberry's per-field wrapper; without it, strawberry's own resolvers (the tests
    compare the two).

    Validation is cached (a bounded LRU keyed by the document and the validation rules):
    an inbox screen sends the same query again and again, and validating it cost more CPU
    than executing it.
    """
    built = FacadeSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Parsing and validation are cached; after the limits (the length limit refuses a
        # document before it is parsed; the token limit is a parse option).
        extensions=[ErrorCodes, *(extensions or []), _ParseCache, _ValidationCache],
        # Completes the fields the fast paths mark as plain directly; without the fast
        # paths nothing is marked and it executes as strawberry's own.
        execution_context_class=FacadeExecutor,
    )
    if fast_paths:
        install_fast_paths(built._schema)
    return built


schema = build_schema()


def sdl() -> str:
    """The schema as SDL, exactly as committed in ``schema/schema.graphql``."""
    return schema.as_str() + "\n"
