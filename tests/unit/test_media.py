"""Which media type a GraphQL answer takes, and what counts as a request error."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from server.media import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    is_request_error,
    response_media_type,
)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, APPLICATION_JSON),
        ("", APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        ("application/json", APPLICATION_JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0.5, application/json", APPLICATION_JSON),
        ("application/graphql-response+json;q=0, */*", APPLICATION_JSON),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8", GRAPHQL_RESPONSE_JSON),
        ("text/html", APPLICATION_JSON),
        ("application/graphql-response+json;q=nonsense", APPLICATION_JSON),
    ],
)
def test_the_response_media_type_follows_accept(accept: str | None, expected: str) -> None:
    assert response_media_type(accept) == expected


def test_errors_without_a_path_and_no_data_are_a_request_error() -> None:
    assert is_request_error(None, [GraphQLError("Syntax Error")])


def test_an_execution_error_is_not_a_request_error_even_when_it_nulls_data() -> None:
    assert not is_request_error(None, [GraphQLError("boom", path=["startProcess"])])
    assert not is_request_error({"tasks": None}, [GraphQLError("Syntax Error")])
    assert not is_request_error(None, None)
