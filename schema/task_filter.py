"""The inputs that filter and order a task list: ``TaskFilter``, ``TaskOrder`` and their enums."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, cast

import strawberry

from resolvers import task_filter

from .task import TaskStatus

__all__ = [
    "AfterArgument",
    "FilterArgument",
    "FirstArgument",
    "OrderByArgument",
    "OrderDirection",
    "TaskFilter",
    "TaskOrder",
    "TaskOrderField",
    "to_filter",
    "to_order",
]


@strawberry.enum(description="What a task list can be sorted by.")
class TaskOrderField(Enum):
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="When the task was created.")
    DUE_AT = strawberry.enum_value("DUE_AT", description="When the task is due.")
    PRIORITY = strawberry.enum_value("PRIORITY", description="The task's priority.")
    NAME = strawberry.enum_value("NAME", description="The task's name (case-insensitive).")
    PROCESS_NAME = strawberry.enum_value(
        "PROCESS_NAME", description="The name of the task's process (case-insensitive)."
    )


@strawberry.enum(description="Which way a sort goes. Tasks without the value come last either way.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest, earliest or A first.")
    DESC = strawberry.enum_value("DESC", description="Largest, latest or Z first.")


@strawberry.input(
    description=(
        "Which tasks to keep. Every field given must hold; a list field matches any of its "
        "values (an empty list matches nothing). A task without the value a field tests "
        "(no due date, no priority) does not match that field."
    )
)
class TaskFilter:
    process_name: list[str] | None = strawberry.field(
        default=None, description="The task's process name is one of these."
    )
    name: list[str] | None = strawberry.field(
        default=None, description="The task's name is one of these."
    )
    definition_id: list[str] | None = strawberry.field(
        default=None, description="The task's BPMN element id is one of these."
    )
    status: TaskStatus | None = strawberry.field(
        default=None, description="The task stands here (READY or CLAIMED for open tasks)."
    )
    assignee: str | None = strawberry.field(
        default=None, description="The task is held by this user."
    )
    unassigned: bool | None = strawberry.field(
        default=None, description="true: nobody holds the task; false: somebody does."
    )
    candidate_group: str | None = strawberry.field(
        default=None, description="The task is offered to this group."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created strictly after this instant (no offset: UTC)."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created strictly before this instant (no offset: UTC)."
    )
    due_after: datetime | None = strawberry.field(
        default=None, description="Due strictly after this instant (no offset: UTC)."
    )
    due_before: datetime | None = strawberry.field(
        default=None, description="Due strictly before this instant (no offset: UTC)."
    )
    priority_at_least: int | None = strawberry.field(
        default=None, description="The task's priority is this or more."
    )
    search: str | None = strawberry.field(
        default=None,
        description="A case-insensitive substring of the task's name or description.",
    )


@strawberry.input(description="One term of a sort; the list always ends with the task id.")
class TaskOrder:
    field: TaskOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection | None = strawberry.field(
        default=OrderDirection.ASC, description="Which way; ascending by default."
    )


def _strings(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


def to_filter(given: TaskFilter | None) -> task_filter.TaskFilter | None:
    """The resolvers' filter for a ``TaskFilter`` argument."""
    if given is None:
        return None
    return task_filter.TaskFilter(
        process_name=_strings(given.process_name),
        name=_strings(given.name),
        definition_id=_strings(given.definition_id),
        status=None if given.status is None else given.status.name,
        assignee=given.assignee,
        unassigned=given.unassigned,
        candidate_group=given.candidate_group,
        created_after=given.created_after,
        created_before=given.created_before,
        due_after=given.due_after,
        due_before=given.due_before,
        priority_at_least=given.priority_at_least,
        search=given.search,
    )


def to_order(given: Sequence[TaskOrder] | None) -> tuple[task_filter.TaskOrder, ...]:
    """The resolvers' order for an ``orderBy`` argument (empty: the default order)."""
    return tuple(
        task_filter.TaskOrder(
            cast(task_filter.OrderField, term.field.name),
            descending=term.direction is OrderDirection.DESC,
        )
        for term in given or ()
    )


# The arguments every task list takes (`tasks`, `viewer.inbox`), described once.
FilterArgument = Annotated[
    TaskFilter | None, strawberry.argument(description="Keep only these tasks.")
]
OrderByArgument = Annotated[
    list[TaskOrder] | None,
    strawberry.argument(description="Sort by these terms, then by id; absent: oldest first."),
]
FirstArgument = Annotated[
    int | None, strawberry.argument(description="At most this many tasks; absent: all.")
]
AfterArgument = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor (`endCursor` of the same filter and order)."
    ),
]
