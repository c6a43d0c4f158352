"""Mutation failures as problems a person can act on: a code, GraphQL wording, the input field.

The upstream speaks REST ("query parameter 'user' must not be empty"); a GraphQL caller
sent an input object. ``problem_for`` names the input field at fault and rewords the
upstream's parameter names as the caller's fields. Where the upstream says which
instance variable a gateway needs (the embedded runtime does: "needs the variable
'roomBooked'"), the field is that variable under ``variables``; elsewhere it is the
mutation's most likely field (``FieldGuess.default``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from backend.errors import BadInput, Conflict, Forbidden, NotFound, OnewebError, UpstreamFailure

from .context import Context, ReportedError

__all__ = ["FieldGuess", "UserProblem", "problem_for"]

Path = tuple[str | int, ...]
FieldPath = tuple[str, ...]

#: The upstream's parameter and body field names, as the GraphQL input calls them.
_UPSTREAM_NAMES: Final[Mapping[str, str]] = {
    "user": "user",
    "processName": "processName",
    "object": "variables",
    "variables": "variables",
    "role": "role",
    "group": "group",
}
#: What the client calls an id it refused before any call, as the input calls it.
_ID_NAMES: Final[Mapping[str, str]] = {
    "task id": "taskId",
    "instance id": "instanceId",
    "process name": "processName",
}
_PARAMETER: Final = re.compile(r"(?:query parameter|field) '(\w+)'")
_ID: Final = re.compile(r"^(task id|instance id|process name) must not be")
_NEEDED_VARIABLE: Final = re.compile(r"needs the variable '([^']+)'")
_ONE_VARIABLE: Final = re.compile(r"for the value of '([^']+)'$")


@dataclass(frozen=True, slots=True)
class UserProblem:
    """A mutation failure the caller can act on: a code, a message, the input field at fault."""

    code: str
    message: str
    field: FieldPath | None = None


@dataclass(frozen=True, slots=True)
class FieldGuess:
    """Which input field an upstream 400 is about, when its message does not say.

    ``default`` is the mutation's most likely field; ``fields`` the input's own field
    names, so that a message naming one (``'user'``) points at it.
    """

    default: FieldPath
    fields: frozenset[str] = field(default_factory=frozenset)


def _field_of(message: str, guess: FieldGuess) -> FieldPath:
    for pattern in (_NEEDED_VARIABLE, _ONE_VARIABLE):
        found = pattern.search(message)
        if found is not None and "variables" in guess.fields:
            return ("input", "variables", found.group(1))
    found = _ID.search(message)
    if found is not None:
        return ("input", _ID_NAMES[found.group(1)])
    found = _PARAMETER.search(message)
    if found is not None:
        name = _UPSTREAM_NAMES.get(found.group(1))
        if name is not None and name in guess.fields:
            return ("input", name)
    return guess.default


def _graphql_wording(message: str) -> str:
    def field_name(match: re.Match[str]) -> str:
        return f"`{_UPSTREAM_NAMES.get(match.group(1), match.group(1))}`"

    message = _PARAMETER.sub(field_name, message)
    return _ID.sub(lambda match: f"`{_ID_NAMES[match.group(1)]}` must not be", message)


def problem_for(ctx: Context, error: OnewebError, path: Path, guess: FieldGuess) -> UserProblem:
    """The payload problem for ``error``; an upstream failure is also reported at the top level."""
    if isinstance(error, UpstreamFailure):
        ctx.reported.append(ReportedError(error, path))
        return UserProblem(error.graphql_code, error.message)
    if isinstance(error, BadInput):
        return UserProblem(
            error.graphql_code, _graphql_wording(error.message), _field_of(error.message, guess)
        )
    return UserProblem(error.graphql_code, error.message, _subject_field(error, guess))


def _subject_field(error: OnewebError, guess: FieldGuess) -> FieldPath | None:
    # NOT_FOUND, CONFLICT, FORBIDDEN: about the task, instance or process the input names.
    if not isinstance(error, NotFound | Conflict | Forbidden):
        return None
    for name in ("taskId", "instanceId", "processName"):
        if name in guess.fields:
            return ("input", name)
    return None
