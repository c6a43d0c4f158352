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
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Final

from backend.errors import BadInput, Conflict, Forbidden, NotFound, OnewebError, UpstreamFailure

from .context import Context, ReportedError

__all__ = ["FieldGuess", "UserProblem", "argument_error", "problem_for"]

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
#: What the client calls an id it refused before any call; the argument or input field
#: that holds it, by preference (``taskId`` in an input, ``id`` in ``task(id:)``).
_ID_NAMES: Final[Mapping[str, tuple[str, ...]]] = {
    "task id": ("taskId", "id"),
    "instance id": ("instanceId", "id"),
    "process name": ("processName", "name"),
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


def _named(message: str, names: Collection[str]) -> str | None:
    """The argument or input field among ``names`` that an upstream message is about."""
    found = _ID.search(message)
    if found is not None:
        return next((name for name in _ID_NAMES[found.group(1)] if name in names), None)
    found = _PARAMETER.search(message)
    if found is not None:
        name = _UPSTREAM_NAMES.get(found.group(1))
        return name if name is not None and name in names else None
    return None


def _field_of(message: str, guess: FieldGuess) -> FieldPath:
    for pattern in (_NEEDED_VARIABLE, _ONE_VARIABLE):
        found = pattern.search(message)
        if found is not None and "variables" in guess.fields:
            return ("input", "variables", found.group(1))
    name = _named(message, guess.fields)
    return guess.default if name is None else ("input", name)


def _graphql_wording(message: str, names: Collection[str]) -> str:
    def parameter(match: re.Match[str]) -> str:
        return f"`{_UPSTREAM_NAMES.get(match.group(1), match.group(1))}`"

    def identifier(match: re.Match[str]) -> str:
        candidates = _ID_NAMES[match.group(1)]
        return (
            f"`{next((name for name in candidates if name in names), candidates[0])}` must not be"
        )

    return _ID.sub(identifier, _PARAMETER.sub(parameter, message))


def argument_error(message: str, arguments: Collection[str]) -> tuple[str, str | None]:
    """A top-level ``BAD_USER_INPUT`` in GraphQL words, and the field argument it is about.

    >>> argument_error("query parameter 'group' must not be empty", ["group"])
    ('`group` must not be empty', 'group')
    """
    return _graphql_wording(message, arguments), _named(message, arguments)


def problem_for(ctx: Context, error: OnewebError, path: Path, guess: FieldGuess) -> UserProblem:
    """The payload problem for ``error``; an upstream failure is also reported at the top level."""
    if isinstance(error, UpstreamFailure):
        ctx.reported.append(ReportedError(error, path))
        return UserProblem(error.graphql_code, error.message)
    if isinstance(error, BadInput):
        return UserProblem(
            error.graphql_code,
            _graphql_wording(error.message, guess.fields),
            _field_of(error.message, guess),
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
