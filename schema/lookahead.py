"""What a task list's selection will load per task: read ahead from the query, once per list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    value_from_ast,
)

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
    """Read the selection of a ``TaskConnection`` field: ``nodes`` and ``edges { node }``.

    It walks graphql-core's nodes: strawberry's ``selected_fields`` converted the whole
    selection, arguments and all, into objects first (26 us warm, about 0.1 ms on the
    critical path, between the list's reply and the second level's first call).
    """
    raw = info._raw_info  # graphql-core's: its nodes, fragments and variables
    # Strawberry hands resolvers the coerced values; graphql-core's own info, a container.
    values: Any = raw.variable_values
    walk = _Walk(raw.fragments, getattr(values, "coerced", values))
    instance_tasks = variables = False
    for task in walk.task_selections(raw.field_nodes):
        for field in walk.fields(task.selection_set):
            name = field.name.value
            if name == "instance":
                instance_tasks |= any(
                    sub.name.value == _INSTANCE_TASKS for sub in walk.fields(field.selection_set)
                )
            elif name in _VARIABLES:
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


class _Walk:
    """The fields of selection sets, through fragments; none that ``@skip``/``@include``
    drop (their conditions read with the request's variables)."""

    def __init__(
        self, fragments: Mapping[str, FragmentDefinitionNode], variables: dict[str, Any]
    ) -> None:
        self._fragments = fragments
        self._variables = variables

    def task_selections(self, connections: Iterable[FieldNode]) -> Iterator[FieldNode]:
        for connection in connections:
            for field in self.fields(connection.selection_set):
                if field.name.value == "nodes":
                    yield field
                elif field.name.value == "edges":
                    yield from (
                        sub for sub in self.fields(field.selection_set) if sub.name.value == "node"
                    )

    def fields(self, selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if selection.directives and not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self.fields(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if fragment is not None:
                    yield from self.fields(fragment.selection_set)

    def _included(self, selection: SelectionNode) -> bool:
        for directive in selection.directives or ():
            kind = directive.name.value
            if kind not in ("skip", "include"):
                continue
            condition = next(
                (a.value for a in directive.arguments or () if a.name.value == "if"), None
            )
            value = (
                None
                if condition is None
                else value_from_ast(condition, GraphQLBoolean, self._variables)
            )
            if bool(value) == (kind == "skip"):
                return False
        return True
