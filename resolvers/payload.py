"""What a task mutation's payload shows: the task as it is now and its instance, never a phantom.

The instance of a task is known from the input's ``instanceId`` (checked against the
upstream), from a listing this request or this process saw, or else found in the task
listings that must show the task: the acting user's, then the principal's groups' and
roles'. Which listings, and whether before or after the mutation's own call, depends on
the mutation (``docs/payloads.md`` counts the calls of each case). Every read goes
through the request's loaders, so a listing fetched for one purpose serves the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from backend.errors import NotFound
from backend.models import Task

from .context import Context
from .instance import InstanceRef
from .loaders import PrincipalKey
from .problems import UserProblem

__all__ = [
    "TaskOutcome",
    "find_in_listings",
    "payload_instance",
    "payload_task",
    "principal_listings",
]

#: Codes of a refusal where the task is still open as it was: the payload shows it.
SHOWN_WHEN_REFUSED = frozenset({"CONFLICT", "FORBIDDEN"})


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What a task mutation did: which task, its instance where known, and its problems.

    ``instance_id`` is known to exist (checked input, or a listing showed it).
    ``listings`` are tiers of task listings that show the task after the mutation, searched
    in order where the instance is not known. ``open`` is False once the task completed.
    """

    task_id: str
    instance_id: str | None = None
    listings: tuple[tuple[PrincipalKey, ...], ...] = ()
    open: bool = True
    errors: list[UserProblem] = field(default_factory=list)


def principal_listings(ctx: Context) -> tuple[PrincipalKey, ...]:
    """The listings of the principal's groups and roles (its user listing is searched first)."""
    principal = ctx.principal
    if principal is None:
        return ()
    return (
        *(("group", group) for group in principal.groups),
        *(("role", role) for role in principal.roles),
    )


async def find_in_listings(
    ctx: Context, task_id: str, tiers: Sequence[Sequence[PrincipalKey]]
) -> Task | None:
    """The task as the first tier of listings that has it shows it; one tier's listings load
    together (one level of upstream calls), the next tier only when the task was not found."""
    seen: set[PrincipalKey] = set()
    for tier in tiers:
        keys = [key for key in dict.fromkeys(tier) if key not in seen]
        seen.update(keys)
        listings = await asyncio.gather(*(ctx.loaders.tasks_by_principal.load(key) for key in keys))
        for listing in listings:
            for task in listing:
                if task.id == task_id:
                    return task
    return None


def _shows_task(outcome: TaskOutcome) -> bool:
    if not outcome.open:
        return False
    return all(_leaves_task_as_it_was(problem) for problem in outcome.errors)


def _leaves_task_as_it_was(problem: UserProblem) -> bool:
    """A refusal after which the task is still open and unchanged: held by someone else,
    not allowed, or variables that cannot complete it (a gateway's missing variable)."""
    if problem.code in SHOWN_WHEN_REFUSED:
        return True
    field = problem.field or ()
    return problem.code == "BAD_USER_INPUT" and tuple(field[:2]) == ("input", "variables")


async def payload_task(ctx: Context, outcome: TaskOutcome) -> Task | None:
    """The task as it is now; None where it is no longer open, unknown, or the input was refused."""
    if not _shows_task(outcome):
        return None
    if outcome.instance_id is not None:
        try:
            tasks = await ctx.loaders.tasks_by_instance.load(outcome.instance_id)
        except NotFound:
            return None
        return next((task for task in tasks if task.id == outcome.task_id), None)
    return await find_in_listings(ctx, outcome.task_id, outcome.listings)


async def payload_instance(ctx: Context, outcome: TaskOutcome) -> InstanceRef | None:
    """The task's instance; None only where the mutation found no task or instance to act on."""
    if any(problem.code == NotFound.graphql_code for problem in outcome.errors):
        return None
    if outcome.instance_id is not None:
        return InstanceRef(outcome.instance_id)
    if outcome.errors and not _shows_task(outcome):
        return None
    task = await find_in_listings(ctx, outcome.task_id, outcome.listings)
    return None if task is None else InstanceRef(task.instance_id)
