"""Reading what a caller sent to the embedded runtime: JSON bodies and query parameters.

Everything a caller can get wrong ends here as ``BadInput`` with a message that names the
parameter or field, so that no malformed request reaches the runtime.

    user = one_query(request, "user")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson
from starlette.requests import Request

from backend.embedded.runtime import Principal
from backend.errors import BadInput
from backend.limits import check_id, check_json_depth, check_name

__all__ = [
    "PRINCIPALS",
    "StartRequest",
    "json_object",
    "many_query",
    "one_query",
    "path_id",
    "principal",
    "process_name_of",
    "start_request",
]

#: The query parameters that choose whose tasks ``GET /tasks`` lists.
PRINCIPALS: Final[tuple[Principal, ...]] = ("user", "role", "group")

_START_TEXT_FIELDS: Final = ("appName", "snapVersion", "uniqueId")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


async def json_object(request: Request, *, what: str = "the body") -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}``."""
    body = await request.body()
    if not body.strip():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadInput(f"{what} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise BadInput(f"{what} must be a JSON object, not {_json_type(value)}")
    return value


def path_id(request: Request, name: str, field: str) -> str:
    """The id in path segment ``name`` (1 to 1,024 characters), ``field`` in errors."""
    return check_id(field, str(request.path_params[name]))


def one_query(request: Request, name: str) -> str:
    """The one value of query parameter ``name``, a user, group or role name (1 to 256
    characters, not blank, no control characters)."""
    values = request.query_params.getlist(name)
    if not values:
        raise BadInput(f"query parameter {name!r} is required")
    if len(values) > 1:
        raise BadInput(f"query parameter {name!r} must be given once, not {len(values)} times")
    if not values[0]:
        raise BadInput(f"query parameter {name!r} must not be empty")
    return check_name(name, values[0])


def many_query(request: Request, name: str) -> list[str]:
    """Every value of query parameter ``name``: at least one, none empty, duplicates dropped."""
    values = request.query_params.getlist(name)
    if not values:
        raise BadInput(f"query parameter {name!r} is required (at least one)")
    if not all(values):
        raise BadInput(f"query parameter {name!r} must not be empty")
    return list(dict.fromkeys(check_name(name, value) for value in values))


def principal(request: Request) -> tuple[Principal, str]:
    """Which of ``user``, ``role`` or ``group`` a listing is for, and the name: exactly one."""
    given = [kind for kind in PRINCIPALS if kind in request.query_params]
    if len(given) != 1:
        raise BadInput(
            "give exactly one of the query parameters 'user', 'role' or 'group'"
            + (f" (got {', '.join(given)})" if given else "")
        )
    return given[0], one_query(request, given[0])


@dataclass(frozen=True, slots=True)
class StartRequest:
    """The body of ``POST /process/start``."""

    process_name: str
    data: dict[str, Any]
    app_name: str | None = None
    snap_version: str | None = None
    unique_id: str | None = None


def start_request(body: dict[str, Any]) -> StartRequest:
    """Check a start body: a string ``processName``, an optional ``object`` that is an object."""
    process_name = process_name_of(body)
    data = body.get("object")
    if data is None:
        data = {}
    elif not isinstance(data, dict):
        raise BadInput(f"field 'object' must be a JSON object, not {_json_type(data)}")
    check_json_depth("object", data)
    texts: dict[str, str | None] = {}
    for field in _START_TEXT_FIELDS:
        value = body.get(field)
        if value is not None and not isinstance(value, str):
            raise BadInput(f"field {field!r} must be a string, not {_json_type(value)}")
        texts[field] = value
    if texts["uniqueId"] is not None:
        check_id("uniqueId", texts["uniqueId"])
    return StartRequest(
        process_name=process_name,
        data=data,
        app_name=texts["appName"],
        snap_version=texts["snapVersion"],
        unique_id=texts["uniqueId"],
    )


def process_name_of(body: dict[str, Any]) -> str:
    """The non-empty string field ``processName`` of a body."""
    if "processName" not in body:
        raise BadInput("field 'processName' is required")
    name = body["processName"]
    if not isinstance(name, str):
        raise BadInput(f"field 'processName' must be a string, not {_json_type(name)}")
    if not name:
        raise BadInput("field 'processName' must not be empty")
    return check_id("processName", name)
