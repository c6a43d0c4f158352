"""The ``Query`` root: task lists, an instance, a task, a process."""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend import models
from backend.limits import check_id
from resolvers import instance as resolve_instance
from resolvers import task as resolve_task
from resolvers.context import Context
from resolvers.principal import Principal

from .instance import Instance
from .lookahead import prefetch_page
from .process import Process
from .task import Task, TaskConnection
from .task_filter import (
    AfterArgument,
    FilterArgument,
    FirstArgument,
    OrderByArgument,
    to_filter,
    to_order,
)
from .viewer import Viewer

__all__ = ["Query"]


@strawberry.type(description="Reading tasks, instances and processes.")
class Query:
    @strawberry.field(
        description=(
            "Who the request is for, with their inbox; null when the request has no "
            "authenticated principal."
        )
    )
    def viewer(self, info: strawberry.Info[Context, None]) -> Viewer | None:
        principal: Principal | None = info.context.principal
        return principal  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "The open tasks of exactly one of a user (assigned to them, or offered to them and "
            "unclaimed), a role or a group (claimed or not), filtered and sorted by the facade. "
            "One upstream call per request, whatever the page or filter."
        )
    )
    async def tasks(
        self,
        info: strawberry.Info[Context, None],
        user: Annotated[str | None, strawberry.argument(description="A user's to-do list.")] = None,
        role: Annotated[str | None, strawberry.argument(description="A role's tasks.")] = None,
        group: Annotated[str | None, strawberry.argument(description="A group's tasks.")] = None,
        filter: FilterArgument = None,
        order_by: OrderByArgument = None,
        first: FirstArgument = None,
        after: AfterArgument = None,
    ) -> TaskConnection | None:
        tasks = await resolve_task.list_tasks(info.context, user=user, role=role, group=group)
        page = resolve_task.task_page(
            tasks, filter=to_filter(filter), order=to_order(order_by), first=first, after=after
        )
        await prefetch_page(info, page)
        return page  # type: ignore[return-value]

    @strawberry.field(
        description="A process instance by id; null where the upstream does not know it."
    )
    async def instance(
        self,
        info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The instance id.")],
    ) -> Instance | None:
        return await resolve_instance.find_instance(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "An open task by id. ONEWEB reads tasks by instance, so the instance id is needed; "
            "null where the task is not open in that instance."
        )
    )
    async def task(
        self,
        info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The task id.")],
        instance_id: Annotated[
            strawberry.ID, strawberry.argument(description="The id of the task's instance.")
        ],
    ) -> Task | None:
        return await resolve_task.find_task(info.context, id, instance_id)  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "A process by name. ONEWEB has no endpoint that describes a process, so this makes "
            "no upstream call and carries only the name."
        )
    )
    def process(
        self,
        name: Annotated[str, strawberry.argument(description="The process name.")],
    ) -> Process | None:
        return models.Process(name=check_id("name", name))  # type: ignore[return-value]
