"""Starting a task list's second level of upstream calls the moment the list arrives.

graphql-core completes every task of a list (its plain fields, twenty tasks' worth) before
the event loop runs again, and only then do the loaders send the instance listings and
the variables the tasks asked for: that work sat between the list's reply and the first
second-level call, on the critical path. Loading those keys as the list arrives, and
letting the loop start the calls, moves it behind them: it runs while they are in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from strawberry.dataloader import DataLoader

from backend.models import Task

from .context import Context

__all__ = ["prefetch_second_level"]

#: Loop turns until a load's upstream call is on the wire: the loader schedules its batch,
#: the batch starts its calls, each call runs to its first wait.
_TURNS_TO_THE_WIRE = 3


async def prefetch_second_level(
    ctx: Context, tasks: Iterable[Task], *, instance_tasks: bool, variables: bool
) -> None:
    """Load each task's instance listing and/or variables now; the fields find them cached.

    await prefetch_second_level(ctx, page_tasks, instance_tasks=True, variables=True)
    """
    loaders = ctx.loaders
    started: list[Any] = []
    tasks = list(tasks)
    if instance_tasks and isinstance(loaders.tasks_by_instance, DataLoader):
        for instance_id in dict.fromkeys(task.instance_id for task in tasks):
            started.append(loaders.tasks_by_instance.load(instance_id))
    if variables and isinstance(loaders.variables_by_task, DataLoader):
        started.extend(loaders.variables_by_task.load(task.id) for task in tasks)
    if not started:
        return
    for future in started:
        # A field that never reads it (skipped by a directive) must not leave an
        # exception unretrieved; the fields that do read it get it as usual.
        future.add_done_callback(_retrieve)
    for _ in range(_TURNS_TO_THE_WIRE):
        await asyncio.sleep(0)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
