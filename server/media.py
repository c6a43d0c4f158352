"""The two response media types of GraphQL over HTTP, and the status code each one implies.

A client that accepts ``application/graphql-response+json`` (the spec's own type, which
newer clients send) gets it, and a request error — the document does not parse or
validate, or its variables do not coerce — is then HTTP 400 with no ``data`` entry: the
status alone tells a proxy or a client that nothing ran. A client that accepts only
``application/json`` (older clients, ``*/*``, no ``Accept`` at all) gets the behaviour
it was built for: 200 with ``data: null`` and the errors.

>>> response_media_type("application/graphql-response+json, application/json;q=0.9")
'application/graphql-response+json'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from graphql import GraphQLError

__all__ = [
    "APPLICATION_JSON",
    "GRAPHQL_RESPONSE_JSON",
    "is_request_error",
    "response_media_type",
]

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
APPLICATION_JSON: Final = "application/json"

# What each Accept range stands for, in the order a tie is broken: the spec's own type first.
_RANGES: Final = {
    GRAPHQL_RESPONSE_JSON: GRAPHQL_RESPONSE_JSON,
    APPLICATION_JSON: APPLICATION_JSON,
    # A wildcard is an older client's way of taking what it is given: JSON, as always.
    "application/*": APPLICATION_JSON,
    "*/*": APPLICATION_JSON,
}


def response_media_type(accept: str | None) -> str:
    """The media type to answer with, for this ``Accept`` header (absent: ``application/json``).

    The acceptable type with the highest ``q`` wins; on a tie the spec's type does. A
    header that accepts neither still gets JSON: refusing it (406) would break clients
    that send ``Accept: text/html`` along with their JSON expectations.
    """
    best, best_key = APPLICATION_JSON, (0.0, False)
    for part in (accept or "").split(","):
        media_range, _, parameters = part.partition(";")
        media = _RANGES.get(media_range.strip().lower())
        quality = _quality(parameters)
        if media is None or quality <= 0:
            continue
        key = (quality, media == GRAPHQL_RESPONSE_JSON)
        if key > best_key:
            best, best_key = media, key
    return best


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def is_request_error(data: object, errors: Sequence[GraphQLError] | None) -> bool:
    """Whether a result is a request error: nothing ran, so there is no ``data``.

    Parse and validation errors and variable coercion errors carry no ``path``; an error
    raised while executing always has one (even one that nulled the whole ``data``).
    """
    return data is None and bool(errors) and all(error.path is None for error in errors or ())
