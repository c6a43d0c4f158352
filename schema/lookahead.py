"""What a task list's selection will load per task: read ahead from the query, once per list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from backend.models import Task
from resolvers.context import Context
from resolvers.pagination import Page
from resolvers.prefetch import prefetch_second_level

__all__ = ["SecondLevel", "prefetch_page", "second_level"]

#: Fields of a task that read its instance's listing, and those that read its variables.
_INSTANCE_TASKS = "tasks"
_VARIABLES = frozenset({"variables", "variable"})


class SecondLevel:
    """Whether a page's tasks select ``instance { tasks }`` and ``variables``/``variable``."""

    __slots__ = ("instance_tasks", "variables")

    def __init__(self, *, instance_tasks: bool, variables: bool) -> None:
        self.instance_tasks = instance_tasks
        self.variables = variables


def second_level(info: strawberry.Info[Any, Any]) -> SecondLevel:
    """Read the selection of a ``TaskConnection`` field: ``nodes`` and ``edges { node }``."""
    instance_tasks = variables = False
    for connection in info.selected_fields:
        for task in _task_selections(connection.selections):
            for field in _fields(task.selections):
                if field.name == "instance":
                    instance_tasks |= any(
                        sub.name == _INSTANCE_TASKS for sub in _fields(field.selections)
                    )
                elif field.name in _VARIABLES:
                    variables = True
    return SecondLevel(instance_tasks=instance_tasks, variables=variables)


async def prefetch_page(info: strawberry.Info[Context, Any], page: Page[Task]) -> None:
    """Start the loads the page's tasks will ask for (``resolvers/prefetch.py`` says why)."""
    wanted = second_level(info)
    if wanted.instance_tasks or wanted.variables:
        await prefetch_second_level(
            info.context,
            (edge.node for edge in page.edges),
            instance_tasks=wanted.instance_tasks,
            variables=wanted.variables,
        )


def _task_selections(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for field in _fields(selections):
        if field.name == "nodes":
            yield field
        elif field.name == "edges":
            yield from (sub for sub in _fields(field.selections) if sub.name == "node")


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, through fragments; none that ``@skip``/``@include`` drop."""
    for selection in selections:
        if not _included(selection.directives):
            continue
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)


def _included(directives: dict[str, dict[str, Any]]) -> bool:
    return not directives.get("skip", {}).get("if", False) and directives.get("include", {}).get(
        "if", True
    )
