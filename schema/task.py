"""The ``Task`` type, its status, and its connection for paginated lists."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from backend import models
from resolvers import variable as resolve_variable
from resolvers.context import Context
from resolvers.instance import InstanceRef, process_of

from .instance import Instance
from .process import Process
from .variable import Variable

__all__ = ["PageInfo", "Task", "TaskConnection", "TaskEdge", "TaskStatus", "as_datetime"]


@strawberry.enum(description="Where a task stands.")
class TaskStatus(Enum):
    READY = strawberry.enum_value("READY", description="Open, and nobody has claimed it.")
    CLAIMED = strawberry.enum_value("CLAIMED", description="Open, and a user holds it.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="Done.")


def as_datetime(epoch_ms: int | None) -> datetime | None:
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


@strawberry.type(description="A user task of a process instance.")
class Task:
    id: strawberry.ID = strawberry.field(description="The upstream task id, unchanged.")
    name: str | None = strawberry.field(description="The task's name, as shown to people.")
    definition_id: str | None = strawberry.field(
        description="The task's id in the process definition (the BPMN element id)."
    )
    description: str | None = strawberry.field(description="The task's description.")
    priority: int | None = strawberry.field(
        description="The task's priority (ONEWEB: 50 by default)."
    )
    assignee: str | None = strawberry.field(description="The user who holds the task, if any.")
    candidate_users: list[str] = strawberry.field(description="Users the task is offered to.")
    candidate_groups: list[str] = strawberry.field(
        description="Groups the task is offered to (BPMN lanes)."
    )
    candidate_roles: list[str] = strawberry.field(description="Roles the task is offered to.")
    owner: str | None = strawberry.field(description="The task's owner, if any.")
    created_by: str | None = strawberry.field(description="Who created the task.")
    instance_id: strawberry.ID = strawberry.field(description="The id of the task's instance.")

    @strawberry.field(description="Where the task stands: READY, CLAIMED or COMPLETED.")
    def status(self, root: strawberry.Parent[models.Task]) -> TaskStatus:
        return TaskStatus(root.status)

    @strawberry.field(description="When the task was created.")
    def created_at(self, root: strawberry.Parent[models.Task]) -> datetime | None:
        return as_datetime(root.create_time)

    @strawberry.field(description="When the task is due, if it has a due date.")
    def due_at(self, root: strawberry.Parent[models.Task]) -> datetime | None:
        return as_datetime(root.due_date)

    @strawberry.field(description="The task's process instance (no upstream call by itself).")
    def instance(self, root: strawberry.Parent[models.Task]) -> Instance:
        return InstanceRef(root.instance_id)  # type: ignore[return-value]

    @strawberry.field(description="The task's process, from the task's own fields.")
    def process(self, root: strawberry.Parent[models.Task]) -> Process | None:
        return process_of(root)  # type: ignore[return-value]

    @strawberry.field(
        description="The task's variables (its instance data); one upstream call per task per request."
    )
    async def variables(
        self,
        root: strawberry.Parent[models.Task],
        info: strawberry.Info[Context, None],
        names: Annotated[
            list[str] | None,
            strawberry.argument(description="Only these variables, in this order; absent: all."),
        ] = None,
    ) -> list[Variable] | None:
        return await resolve_variable.task_variables(info.context, root.id, names)  # type: ignore[return-value]

    @strawberry.field(
        description="One variable of the task, or null where it has none of that name."
    )
    async def variable(
        self,
        root: strawberry.Parent[models.Task],
        info: strawberry.Info[Context, None],
        name: Annotated[str, strawberry.argument(description="The variable's name.")],
    ) -> Variable | None:
        return await resolve_variable.task_variable(info.context, root.id, name)  # type: ignore[return-value]

    @strawberry.field(description="The upstream task object exactly as received.")
    def raw(self, root: strawberry.Parent[models.Task]) -> JSON:
        value: Any = dict(root.raw)
        return value  # type: ignore[no-any-return]


@strawberry.type(description="Where a page sits in a whole list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: str | None = strawberry.field(description="The cursor of the page's first item.")
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item; pass it as `after` for the next page."
    )


@strawberry.type(description="A task and its cursor in a list.")
class TaskEdge:
    cursor: str = strawberry.field(description="The task's position, for `after`.")
    node: Task = strawberry.field(description="The task.")


@strawberry.type(description="One page of a task list (Relay connection).")
class TaskConnection:
    total_count: int = strawberry.field(description="How many tasks the whole list has.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    edges: list[TaskEdge] = strawberry.field(description="The page's tasks with their cursors.")
    nodes: list[Task] = strawberry.field(description="The page's tasks.")
