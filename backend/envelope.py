"""The ONEWEB envelope of a reply: its ``data``, or the typed error the reply stands for.

``{"data": ..., "code": 0, ...}`` is success; any other ``code`` or an HTTP status >= 400
is an error, mapped to ``backend.errors``: a 4xx code or status to its domain error,
anything else (a 5xx, a body that is not an envelope) to ``UpstreamError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from backend.errors import UpstreamError, domain_error_for_code

__all__ = ["unwrap"]

# An upstream message longer than this is cut in error messages.
_MESSAGE_LIMIT: Final = 300


def unwrap(endpoint: str, status: int, content: bytes) -> Any:
    """The ``data`` of a success envelope, else the typed error the reply stands for.

    data = unwrap("tasks_by_instance", response.status_code, response.content)
    """
    envelope = _read_envelope(content)
    if status >= 500:
        detail = (
            f" (code {envelope['code']}: {_message(envelope)})"
            if isinstance(envelope, dict)
            else ""
        )
        raise UpstreamError(f"upstream answered HTTP {status}{detail}", endpoint=endpoint)
    if isinstance(envelope, str):
        refusal = domain_error_for_code(status) if status in (401, 403) else None
        if refusal is not None:
            raise refusal(f"upstream answered HTTP {status}", code=status, endpoint=endpoint)
        raise UpstreamError(f"upstream answered HTTP {status} with {envelope}", endpoint=endpoint)
    code: int = envelope["code"]
    if code == 0 and 200 <= status < 300:
        return envelope.get("data")
    error_code = code or status
    message = _message(envelope)
    error = domain_error_for_code(error_code)
    if error is None:
        raise UpstreamError(
            f"upstream answered HTTP {status} with code {code}: {message}",
            code=code,
            endpoint=endpoint,
        )
    raise error(message, code=error_code, endpoint=endpoint)


def _read_envelope(content: bytes) -> dict[str, Any] | str:
    """The envelope with an int ``code``, or what the body is instead."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return "a body that is not JSON"
    if not isinstance(body, dict):
        return f"JSON {type(body).__name__}, not an envelope"
    code = body.get("code")
    if isinstance(code, str) and code.lstrip("-").isdigit():
        code = body["code"] = int(code)
    if isinstance(code, bool) or not isinstance(code, int):
        return "JSON without an envelope code"
    return body


def _message(envelope: Mapping[str, Any]) -> str:
    message = envelope.get("message")
    if not isinstance(message, str) or not message:
        return f"upstream code {envelope['code']}"
    return message[:_MESSAGE_LIMIT]
