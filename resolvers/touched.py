"""Which task listings a mutation touched, so that live inboxes re-poll those and no others.

A task shows in its assignee's listing and in its candidate users', groups' and roles'
listings (the REST API's `tasks?user=|group=|role=`). A mutation touches the listings that showed the task
before it (read from what this request or the live hub last saw, else from the upstream)
and those that show it, or the tasks it created, after. Where that cannot be known (the
upstream's task object does not say who its candidates are, the task's instance is not
known), the touched set is ``None``: every active listing re-polls.

Nothing is read, and nothing announced, when nobody listens (no listing is active in this
process and no other replica can hear) or when the upstream announces its changes itself
(the embedded runtime in this process). Reads go through the request's loaders, so the
payload reuses them.

    before = await task_before(ctx, task_id, instance_id)
    ...  # the mutation's own call
    announce(ctx, before.listings, users=["bob"])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from backend.errors import OnewebError
from backend.models import Task

from .context import Context
from .live import ListingKey

__all__ = ["Seen", "Touched", "announce", "instance_listings", "listings_of", "task_before"]

#: Listings a change touched; None: not known, so any listing may have changed.
Touched = frozenset[ListingKey] | None

_CANDIDATE_FIELDS: Final = frozenset({"candidateUsers", "candidateGroups", "candidateRoles"})


def listings_of(task: Task) -> Touched:
    """The listings that show ``task``: its assignee's and its candidates'. None where the
    upstream's task object does not say who its candidates are (a plain ONEWEB server)."""
    if task.raw and not _CANDIDATE_FIELDS & task.raw.keys():
        return None
    keys: set[ListingKey] = {("user", user) for user in task.candidate_users}
    keys.update(("group", group) for group in task.candidate_groups)
    keys.update(("role", role) for role in task.candidate_roles)
    if task.assignee:
        keys.add(("user", task.assignee))
    return frozenset(keys)


def _union(parts: Iterable[Touched]) -> Touched:
    keys: set[ListingKey] = set()
    for part in parts:
        if part is None:
            return None
        keys.update(part)
    return frozenset(keys)


async def _open_tasks(ctx: Context, instance_id: str) -> list[Task] | None:
    try:
        return await ctx.loaders.tasks_by_instance.load(instance_id)
    except OnewebError:
        return None


@dataclass(frozen=True, slots=True)
class Seen:
    """A task before a mutation: the listings that show it, and its instance where known."""

    listings: Touched
    instance_id: str | None = None


async def task_before(ctx: Context, task_id: str, instance_id: str | None) -> Seen:
    """The listings that show the task now, before a mutation changes it."""
    hub = ctx.hub
    if hub is None or not hub.listening:
        return Seen(frozenset(), instance_id)
    task = ctx.memory.get(task_id) or hub.task(task_id)
    if task is None and hub.shared:
        # Another replica may poll a listing of it: ask the upstream who its candidates are.
        tasks = None if instance_id is None else await _open_tasks(ctx, instance_id)
        task = next((task for task in tasks or () if task.id == task_id), None)
        if task is None:
            return Seen(None, instance_id)
    if task is None:  # in no listing active here, and nobody else listens: nothing before
        return Seen(frozenset(), instance_id)
    return Seen(listings_of(task), task.instance_id)


async def instance_listings(ctx: Context, instance_id: str | None) -> Touched:
    """The listings that show the open tasks of an instance now."""
    hub = ctx.hub
    if hub is None or not hub.listening:
        return frozenset()
    tasks = None if instance_id is None else await _open_tasks(ctx, instance_id)
    if tasks is None:
        return None
    return _union(listings_of(task) for task in tasks)


def announce(ctx: Context, *parts: Touched, users: Iterable[str] = ()) -> None:
    """Tell the live hub (and through it every replica) which listings the mutation touched:
    ``parts`` and the listings of ``users`` (the acting user, the users assigned)."""
    if ctx.hub is None or ctx.hub.upstream_tells:
        return
    keys = _union(parts)
    ctx.hub.touched(None if keys is None else keys | {("user", user) for user in users})
