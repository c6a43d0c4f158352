"""The mutation payloads: the state after the mutation, read lazily through the loaders."""

from __future__ import annotations

import strawberry

from resolvers import payload as resolve
from resolvers.context import Context

from .instance import Instance
from .task import Task
from .user_error import UserError

__all__ = ["AssignInstancePayload", "RefreshCachePayload", "StartProcessPayload", "TaskPayload"]

_ERRORS = "Why the mutation did not go through; empty when it did."


@strawberry.type(description="The result of startProcess.")
class StartProcessPayload:
    instance: Instance | None = strawberry.field(description="The new instance.")
    errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(
    description="The result of a task mutation: the task and its instance as they are now."
)
class TaskPayload:
    @strawberry.field(
        description=(
            "The task as it is now; null where it is no longer open (completed), unknown, or the"
            " input was refused. A claim or completion refused because someone else holds the"
            " task shows it as it is, with its assignee."
        )
    )
    async def task(
        self, root: strawberry.Parent[resolve.TaskOutcome], info: strawberry.Info[Context, None]
    ) -> Task | None:
        return await resolve.payload_task(info.context, root)  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "The task's instance; never null after a success. Null where the task or the"
            " input's `instanceId` does not exist (then `errors` says NOT_FOUND)."
        )
    )
    async def instance(
        self, root: strawberry.Parent[resolve.TaskOutcome], info: strawberry.Info[Context, None]
    ) -> Instance | None:
        return await resolve.payload_instance(info.context, root)  # type: ignore[return-value]

    errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="The result of assignInstance.")
class AssignInstancePayload:
    instance: Instance | None = strawberry.field(description="The instance as it is now.")
    errors: list[UserError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="The result of refreshCache.")
class RefreshCachePayload:
    ok: bool = strawberry.field(description="Whether the definitions were reloaded.")
    errors: list[UserError] = strawberry.field(description=_ERRORS)
