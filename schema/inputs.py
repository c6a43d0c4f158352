"""The mutation inputs."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

__all__ = [
    "AssignInstanceInput",
    "AssignTaskInput",
    "ClaimTaskInput",
    "CompleteTaskInput",
    "RefreshCacheInput",
    "StartProcessInput",
    "UnclaimTaskInput",
]

_USER = "The acting user; absent: the request's authenticated principal."
_INSTANCE = "The task's instance, if the caller knows it: the payload then shows it fresh."


@strawberry.input(description="Start a process instance.")
class StartProcessInput:
    process_name: str = strawberry.field(description="The process to start.")
    app_name: str | None = strawberry.field(default=None, description="The ONEWEB application.")
    unique_id: str | None = strawberry.field(
        default=None, description="A caller-chosen id passed to the upstream as `uniqueId`."
    )
    snap_version: str | None = strawberry.field(default=None, description="The snapshot version.")
    variables: JSON | None = strawberry.field(
        default=None, description="The business object: a JSON object, the instance's first data."
    )
    legacy: bool | None = strawberry.field(
        default=False, description="Use the legacy endpoint `POST /process/{processName}/start`."
    )


@strawberry.input(description="Claim an open task.")
class ClaimTaskInput:
    task_id: strawberry.ID = strawberry.field(description="The task to claim.")
    user: str | None = strawberry.field(default=None, description=_USER)
    instance_id: strawberry.ID | None = strawberry.field(default=None, description=_INSTANCE)


@strawberry.input(description="Release a claim on a task.")
class UnclaimTaskInput:
    task_id: strawberry.ID = strawberry.field(description="The task to release.")
    user: str | None = strawberry.field(default=None, description=_USER)
    instance_id: strawberry.ID | None = strawberry.field(default=None, description=_INSTANCE)


@strawberry.input(description="Complete a task.")
class CompleteTaskInput:
    task_id: strawberry.ID = strawberry.field(description="The task to complete.")
    user: str | None = strawberry.field(default=None, description=_USER)
    instance_id: strawberry.ID | None = strawberry.field(default=None, description=_INSTANCE)
    variables: JSON | None = strawberry.field(
        default=None, description="A JSON object merged into the instance data."
    )


@strawberry.input(description="Offer a task to users (sets its candidate users); nobody claims it.")
class AssignTaskInput:
    task_id: strawberry.ID = strawberry.field(description="The task to assign.")
    users: list[str] = strawberry.field(description="The task's candidate users from now on.")
    instance_id: strawberry.ID | None = strawberry.field(default=None, description=_INSTANCE)


@strawberry.input(description="Offer every open task of an instance to one user.")
class AssignInstanceInput:
    instance_id: strawberry.ID = strawberry.field(description="The instance.")
    user: str = strawberry.field(description="The one candidate user of each open task.")


@strawberry.input(description="Reload process definitions.")
class RefreshCacheInput:
    process_name: str | None = strawberry.field(
        default=None, description="Reload only this process; absent: reload all of them."
    )
