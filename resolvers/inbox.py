"""The viewer's inbox: the union of the listings of the viewer, each of its groups and each
of its roles, each task once, without the tasks someone else holds.

    tasks = await load_inbox(ctx, principal)          # 1 + groups + roles upstream calls
    page = select(tasks, filter=None, order=())       # resolvers.task_filter
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from backend.models import Task

from .context import Context
from .principal import Principal

__all__ = ["belongs_to", "load_inbox", "merge_listings"]


def merge_listings(listings: Iterable[Sequence[Task]]) -> list[Task]:
    """Every task of ``listings`` once (by id), where it first appears.

    >>> [t.id for t in merge_listings([[a, b], [b, c]])]
    ['a', 'b', 'c']
    """
    seen: set[str] = set()
    merged: list[Task] = []
    for listing in listings:
        for task in listing:
            if task.id not in seen:
                seen.add(task.id)
                merged.append(task)
    return merged


def belongs_to(task: Task, principal: Principal) -> bool:
    """Whether a task that one of ``principal``'s listings returned is in its inbox: it is
    assigned to the principal, or nobody holds it.

    The listing itself says the task is offered to the principal (ONEWEB decides whom a task
    is offered to, and a real server may not send the candidate fields), so only a task held
    by someone else is dropped: group and role listings return claimed tasks too.
    """
    return task.assignee is None or task.assignee == principal.user


async def load_inbox(ctx: Context, principal: Principal) -> list[Task]:
    """The principal's open tasks: assigned to it, or unassigned and offered to it, one of
    its groups or one of its roles; each once.

    One listing per user, group and role, all in flight together (through the request's
    ``tasks_by_principal`` loader, so a listing another field of the request loads is not
    fetched twice). A failed listing fails the inbox: a partial inbox would look complete.
    """
    listings = await asyncio.gather(
        *(ctx.loaders.tasks_by_principal.load(key) for key in dict.fromkeys(principal.listings))
    )
    return [task for task in merge_listings(listings) if belongs_to(task, principal)]
