"""The ``Variable`` type: one entry of a task's instance data."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

__all__ = ["Variable"]


@strawberry.type(description="One variable of a task's process instance.")
class Variable:
    name: str = strawberry.field(description="The variable name.")
    value: JSON | None = strawberry.field(description="The value, as JSON.")
    type: str = strawberry.field(
        description="The JSON type of the value: STRING, NUMBER, BOOLEAN, OBJECT, ARRAY or NULL."
    )
