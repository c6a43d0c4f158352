"""The limits on input that the facade and the embedded runtime both enforce, in one place.

Ids and process names are 1 to 1,024 characters; user, group and role names are 1 to
256 characters, not blank, without control characters; JSON values (variables,
business objects) nest at most 64 levels. A value over a limit raises
``InputRefused`` (a ``BadInput``), which names the input at fault: the facade answers
``BAD_USER_INPUT`` naming the field, before any upstream call; the runtime answers 400.

>>> check_name("user", "bob")
'bob'
>>> check_id("taskId", "")
Traceback (most recent call last):
backend.limits.InputRefused: `taskId` must be 1 to 1024 characters, not 0
"""

from __future__ import annotations

import re
from typing import Any, Final

from .errors import BadInput

__all__ = [
    "MAX_ID_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_NAME_CHARS",
    "InputRefused",
    "check_id",
    "check_json_depth",
    "check_name",
    "json_depth_over",
]

MAX_ID_CHARS: Final = 1024
MAX_NAME_CHARS: Final = 256
MAX_JSON_DEPTH: Final = 64

# C0 controls, DEL and C1 controls (Unicode category Cc).
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class InputRefused(BadInput):
    """An input over a limit; ``field`` is its name as the caller sent it (``taskId``, ``user``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_id(field: str, value: str) -> str:
    """``value`` if it is an id (or process name) of 1 to 1,024 characters."""
    if not 1 <= len(value) <= MAX_ID_CHARS:
        raise InputRefused(
            field, f"`{field}` must be 1 to {MAX_ID_CHARS} characters, not {len(value)}"
        )
    return value


def check_name(field: str, value: str) -> str:
    """``value`` if it is a user, group or role name: 1 to 256 characters, not blank,
    without control characters."""
    if not 1 <= len(value) <= MAX_NAME_CHARS:
        raise InputRefused(
            field, f"`{field}` must be 1 to {MAX_NAME_CHARS} characters, not {len(value)}"
        )
    if not value.strip():
        raise InputRefused(field, f"`{field}` must not be blank")
    control = _CONTROL.search(value)
    if control is not None:
        raise InputRefused(
            field,
            f"`{field}` must not contain control characters "
            f"(U+{ord(control.group()):04X} at {control.start()})",
        )
    return value


def json_depth_over(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests objects and arrays deeper than ``limit`` levels (an object
    of scalars is one level). Walks without recursion and stops at the first level over."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list | tuple):
            children = current
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def check_json_depth(field: str, value: Any) -> Any:
    """``value`` if it nests at most 64 levels."""
    if json_depth_over(value):
        raise InputRefused(field, f"`{field}` nests deeper than {MAX_JSON_DEPTH} levels")
    return value
