"""GraphQL-shaped HTTP error responses, for requests refused before any operation runs.

A request refused at the HTTP level (too large, unauthenticated, not GraphQL) still
gets a body a GraphQL client can read: ``{"errors": [{"message", "extensions": {"code"}}]}``.

>>> graphql_error_response(413, "PAYLOAD_TOO_LARGE", "request body larger than 1048576 bytes")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["HTTP_STATUS_CODES", "graphql_error_response"]

#: The ``extensions.code`` of an HTTP-level refusal, by status.
HTTP_STATUS_CODES: Mapping[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def graphql_error_response(
    status_code: int,
    code: str | None,
    message: str,
    *,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An HTTP ``status_code`` response whose JSON body is one GraphQL error with ``code``."""
    code = code or HTTP_STATUS_CODES.get(status_code, "BAD_REQUEST")
    error = {"message": message, "extensions": {**(extensions or {}), "code": code}}
    return Response(
        orjson.dumps({"errors": [error]}),
        status_code=status_code,
        media_type="application/json",
        headers=dict(headers or {}),
    )
