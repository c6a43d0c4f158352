"""The one error tree of the upstream, raised by the client and mirrored by the embedded runtime.

    OnewebError
    ├── UpstreamFailure            the upstream itself failed; GraphQL error with extensions.code
    │   ├── UpstreamUnavailable    connection refused, DNS, circuit open   -> UPSTREAM_UNAVAILABLE
    │   ├── UpstreamTimeout        no answer within the timeout            -> UPSTREAM_TIMEOUT
    │   └── UpstreamError          5xx, malformed reply, envelope without code -> UPSTREAM_ERROR
    └── DomainError                the caller asked for something the upstream refused
        ├── BadInput               envelope code / HTTP 400                -> BAD_USER_INPUT
        ├── Unauthenticated        envelope code / HTTP 401                -> UNAUTHENTICATED
        ├── Forbidden              envelope code / HTTP 403                -> FORBIDDEN
        ├── NotFound               envelope code / HTTP 404                -> NOT_FOUND
        └── Conflict               envelope code / HTTP 409                -> CONFLICT

Every error carries its data as attributes: ``message``, the envelope ``code`` or HTTP
``status`` where there was one, and the ``endpoint`` that raised it.
"""

from __future__ import annotations

__all__ = [
    "BadInput",
    "Conflict",
    "DomainError",
    "Forbidden",
    "NotFound",
    "OnewebError",
    "Unauthenticated",
    "UpstreamError",
    "UpstreamFailure",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "domain_error_for_code",
]


class OnewebError(Exception):
    """Base of every error the upstream layer raises."""

    #: The GraphQL ``extensions.code`` / ``UserError.code`` this error maps to.
    graphql_code: str = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, code: int | None = None, endpoint: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.endpoint = endpoint


class UpstreamFailure(OnewebError):
    """The upstream could not be reached or answered with something that is not a reply."""


class UpstreamUnavailable(UpstreamFailure):
    """The upstream refused the connection, its name did not resolve, or the circuit is open."""

    graphql_code = "UPSTREAM_UNAVAILABLE"


class UpstreamTimeout(UpstreamFailure):
    """The upstream did not answer within the configured timeout."""

    graphql_code = "UPSTREAM_TIMEOUT"


class UpstreamError(UpstreamFailure):
    """The upstream answered 5xx, or with a body that is not a ONEWEB envelope."""

    graphql_code = "UPSTREAM_ERROR"


class DomainError(OnewebError):
    """The upstream understood the request and refused it (a 4xx envelope code)."""

    #: The envelope code / HTTP status this class stands for.
    status: int = 400


class BadInput(DomainError):
    """The request was malformed: missing user, bad JSON, a body that is not an object."""

    graphql_code = "BAD_USER_INPUT"
    status = 400


class Unauthenticated(DomainError):
    """The upstream did not accept the forwarded credentials."""

    graphql_code = "UNAUTHENTICATED"
    status = 401


class Forbidden(DomainError):
    """The acting user may not do this (e.g. complete a task someone else holds)."""

    graphql_code = "FORBIDDEN"
    status = 403


class NotFound(DomainError):
    """Unknown task, instance or process."""

    graphql_code = "NOT_FOUND"
    status = 404


class Conflict(DomainError):
    """The resource is in a state that forbids the change (e.g. claimed by another user)."""

    graphql_code = "CONFLICT"
    status = 409


_BY_STATUS: dict[int, type[DomainError]] = {
    cls.status: cls for cls in (BadInput, Unauthenticated, Forbidden, NotFound, Conflict)
}


def domain_error_for_code(code: int) -> type[DomainError] | None:
    """The domain error class for a 4xx envelope code or HTTP status, or None for anything else.

    >>> domain_error_for_code(409) is Conflict
    True
    """
    if code in _BY_STATUS:
        return _BY_STATUS[code]
    if 400 <= code < 500:
        return BadInput
    return None
