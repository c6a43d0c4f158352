"""Resolving a task's variables: the instance data the upstream returns for the task."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .context import Context

__all__ = ["VariableValue", "json_type", "task_variable", "task_variables"]


@dataclass(frozen=True, slots=True)
class VariableValue:
    """One variable: its name, its JSON value and that value's JSON type."""

    name: str
    value: Any
    type: str


def json_type(value: Any) -> str:
    """The JSON type of a value: STRING NUMBER BOOLEAN OBJECT ARRAY NULL.

    >>> json_type(True), json_type(1.5), json_type(None)
    ('BOOLEAN', 'NUMBER', 'NULL')
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float):
        return "NUMBER"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, dict):
        return "OBJECT"
    return "ARRAY"


async def task_variables(
    ctx: Context, task_id: str, names: Sequence[str] | None = None
) -> list[VariableValue]:
    """The task's variables in the upstream's order, or those of ``names`` that exist, in that order."""
    data = await ctx.loaders.variables_by_task.load(task_id)
    keys = list(data) if names is None else [name for name in names if name in data]
    return [VariableValue(key, data[key], json_type(data[key])) for key in keys]


async def task_variable(ctx: Context, task_id: str, name: str) -> VariableValue | None:
    """One variable of the task, or None where the task has no variable of that name."""
    data = await ctx.loaders.variables_by_task.load(task_id)
    if name not in data:
        return None
    return VariableValue(name, data[name], json_type(data[name]))
