"""Resolving tasks: a principal's task list, one task by id, a task's instance."""

from __future__ import annotations

from collections.abc import Sequence

from backend.errors import BadInput, Forbidden, NotFound
from backend.limits import check_id, check_name
from backend.models import Task

from .context import Context
from .loaders import PrincipalKey
from .pagination import Page, paginate
from .task_filter import TaskFilter, TaskOrder, TaskOrdering, select

__all__ = ["find_task", "list_tasks", "principal_key", "task_page"]


def principal_key(
    ctx: Context, *, user: str | None, role: str | None, group: str | None
) -> PrincipalKey:
    """The one principal a task list is for; ``BadInput`` unless exactly one is given.

    With user overrides off, a principal may list only its own tasks and those of its
    groups and roles (``Forbidden``).
    """
    given: list[PrincipalKey] = []
    if user is not None:
        given.append(("user", user))
    if role is not None:
        given.append(("role", role))
    if group is not None:
        given.append(("group", group))
    if len(given) != 1:
        raise BadInput("tasks takes exactly one of `user`, `role`, `group`")
    kind, name = given[0]
    check_name(kind, name)
    if not ctx.allow_user_override and (
        ctx.principal is None or not ctx.principal.may_list(kind, name)
    ):
        raise Forbidden(f"listing the tasks of {kind} {name!r} is not allowed")
    return given[0]


async def list_tasks(
    ctx: Context, *, user: str | None = None, role: str | None = None, group: str | None = None
) -> list[Task]:
    """The open tasks of one user, role or group."""
    key = principal_key(ctx, user=user, role=role, group=group)
    return await ctx.loaders.tasks_by_principal.load(key)


def task_page(
    tasks: Sequence[Task],
    *,
    filter: TaskFilter | None,
    order: Sequence[TaskOrder] | None,
    first: int | None,
    after: str | None,
) -> Page[Task]:
    """One page of ``tasks`` filtered and ordered; ``totalCount`` counts the filtered list."""
    ordering = TaskOrdering.of(filter, order)
    selected = select(tasks, filter=filter, order=ordering.order)
    return paginate(selected, first=first, after=after, ordering=ordering)


async def find_task(ctx: Context, task_id: str, instance_id: str) -> Task | None:
    """The open task ``task_id`` of instance ``instance_id``, or None where it is not open there."""
    check_id("id", task_id)
    check_id("instanceId", instance_id)
    try:
        tasks = await ctx.loaders.tasks_by_instance.load(instance_id)
    except NotFound:
        return None
    for task in tasks:
        if task.id == task_id:
            return task
    return None
