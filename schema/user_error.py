"""The ``UserError`` type: a mutation failure the caller can act on."""

from __future__ import annotations

import strawberry

__all__ = ["UserError"]


@strawberry.type(
    description=(
        "Why a mutation did not go through. `code` is NOT_FOUND, CONFLICT, FORBIDDEN or "
        "BAD_USER_INPUT for what the caller asked; UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT or "
        "UPSTREAM_ERROR where the upstream itself failed (also listed as a top-level error)."
    )
)
class UserError:
    code: str = strawberry.field(description="A machine-readable reason.")
    message: str = strawberry.field(description="What went wrong, for a person.")
    field: list[str] | None = strawberry.field(
        description="The path of the input field at fault, where one is."
    )
