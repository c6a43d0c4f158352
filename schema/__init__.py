"""The GraphQL schema of the facade: its types, its roots, and its SDL."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ValidationCache
from strawberry.types import ExecutionContext

from .errors import ErrorCodes, is_unexpected
from .fast_paths import install as install_fast_paths
from .mutation import Mutation
from .query import Query

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
        # No ParserCache: it parses inside its own hook, before the token limit can mark
        # the error. Validation, the costly step, is cached (keyed by the rules too).
        extensions=[ErrorCodes, *(extensions or []), ValidationCache],
    )
    if fast_paths:
        install_fast_paths(built._schema)
    return built


schema = build_schema()


def sdl() -> str:
    """The schema as SDL, exactly as committed in ``schema/schema.graphql``."""
    return schema.as_str() + "\n"
