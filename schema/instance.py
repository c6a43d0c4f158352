"""The ``Instance`` type: a running process instance and its open tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import instance as resolve
from resolvers.context import Context
from resolvers.instance import InstanceRef

from .process import Process

if TYPE_CHECKING:
    from .task import Task

__all__ = ["Instance"]


@strawberry.type(description="A process instance: one run of a process definition.")
class Instance:
    id: strawberry.ID = strawberry.field(description="The instance id, as the upstream gives it.")

    @strawberry.field(description="The process this instance runs, where known.")
    async def process(
        self, root: strawberry.Parent[InstanceRef], info: strawberry.Info[Context, None]
    ) -> Process | None:
        return await resolve.instance_process(info.context, root)  # type: ignore[return-value]

    @strawberry.field(
        description="The instance's open tasks (one upstream call per instance per request)."
    )
    async def tasks(
        self, root: strawberry.Parent[InstanceRef], info: strawberry.Info[Context, None]
    ) -> list[Annotated[Task, strawberry.lazy("schema.task")]] | None:
        return await resolve.instance_tasks(info.context, root)  # type: ignore[return-value]
