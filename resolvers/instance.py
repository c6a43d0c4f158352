"""Resolving process instances: an instance is its id plus what its open tasks say about it."""

from __future__ import annotations

from dataclasses import dataclass

from backend.errors import NotFound
from backend.limits import check_id
from backend.models import Process, Task

from .context import Context

__all__ = ["InstanceRef", "find_instance", "instance_process", "instance_tasks", "process_of"]


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """A process instance by id; ``process`` is set where the facade already knows it."""

    id: str
    process: Process | None = None


def process_of(task: Task) -> Process | None:
    """The process a task belongs to, from its own fields."""
    if task.process_name is None:
        return None
    app_name = task.raw.get("appName")
    snap_version = task.raw.get("snapVersion")
    return Process(
        name=task.process_name,
        app_name=None if app_name is None else str(app_name),
        snap_version=None if snap_version is None else str(snap_version),
    )


async def find_instance(ctx: Context, instance_id: str) -> InstanceRef | None:
    """The instance, or None when the upstream does not know it (one tasks-by-instance load)."""
    check_id("id", instance_id)
    try:
        await ctx.loaders.tasks_by_instance.load(instance_id)
    except NotFound:
        return None
    return InstanceRef(instance_id)


async def instance_tasks(ctx: Context, instance: InstanceRef) -> list[Task]:
    """The instance's open tasks."""
    return await ctx.loaders.tasks_by_instance.load(instance.id)


async def instance_process(ctx: Context, instance: InstanceRef) -> Process | None:
    """The instance's process: known already, or read off its open tasks."""
    if instance.process is not None:
        return instance.process
    for task in await ctx.loaders.tasks_by_instance.load(instance.id):
        process = process_of(task)
        if process is not None:
            return process
    return None
