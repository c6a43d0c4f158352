"""The live inbox: one poller per distinct task listing, shared by every subscription.

A ``Hub`` (one per process) keeps, for each listing some subscription needs
(``("user" | "group" | "role", name)``), a poller that fetches it every ``interval_s``
seconds and keeps the last good answer. Pollers are refcounted: the first subscriber of
a listing starts its poller, the last one to leave stops it. A failed poll keeps the last
good listing. ``Hub.poke()`` makes every poller poll now (a mutation went through).

Each subscription (``watch``) merges its principal's listings with the same pure functions
as the ``viewer.inbox`` query, filters, orders and pages them, and yields an ``Update``
only when its view changed: subscriptions make no upstream calls of their own.

    hub = Hub(client, interval_s=2.0)
    async for update in watch(hub, principal, filter=None, order=None, first=20): ...
    await hub.aclose()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from backend.errors import OnewebError
from backend.models import Task

from .inbox import belongs_to, merge_listings
from .pagination import Page
from .principal import ListingKind, Principal
from .task import task_page
from .task_filter import TaskFilter, TaskOrder

__all__ = ["Fetch", "Hub", "ListingKey", "Update", "watch"]

log = logging.getLogger("oneweb_graphql.live")

#: A listing a poller keeps: ``("user" | "group" | "role", name)``.
ListingKey = tuple[ListingKind, str]
#: Fetches one listing from the upstream.
Fetch = Callable[[ListingKey], Awaitable[list[Task]]]


@dataclass(eq=False)
class _Subscriber:
    """Set whenever one of the subscriber's listings changes."""

    changed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(eq=False)
class _Poller:
    key: ListingKey
    subscribers: set[_Subscriber] = field(default_factory=set)
    tasks: list[Task] | None = None
    #: The failure of the latest poll while there is no good listing yet.
    error: OnewebError | None = None
    polled: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    runner: asyncio.Task[None] | None = None

    def notify(self) -> None:
        for subscriber in self.subscribers:
            subscriber.changed.set()


class Hub:
    """The process's pollers, one per listing that at least one subscription needs."""

    def __init__(self, fetch: Fetch, *, interval_s: float) -> None:
        self._fetch = fetch
        self.interval_s = interval_s
        self._pollers: dict[ListingKey, _Poller] = {}

    @property
    def active(self) -> tuple[ListingKey, ...]:
        """The listings being polled now."""
        return tuple(self._pollers)

    def poke(self) -> None:
        """Poll every active listing now (something changed through this facade)."""
        for poller in self._pollers.values():
            poller.wake.set()

    @contextlib.asynccontextmanager
    async def subscribe(self, keys: Sequence[ListingKey]) -> AsyncIterator[_Subscriber]:
        """A subscriber to ``keys``: their pollers run while it is inside the block."""
        subscriber = _Subscriber()
        for key in keys:
            poller = self._pollers.get(key)
            if poller is None:
                poller = self._pollers[key] = _Poller(key)
                poller.runner = asyncio.create_task(self._run(poller), name=f"live:{key}")
            poller.subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            for key in keys:
                poller = self._pollers[key]
                poller.subscribers.discard(subscriber)
                if not poller.subscribers:
                    del self._pollers[key]
                    assert poller.runner is not None
                    poller.runner.cancel()

    async def listings(self, keys: Sequence[ListingKey]) -> list[list[Task]]:
        """The last good listing of each key, after each has been polled at least once.

        Raises the upstream's error where a listing has never been fetched successfully.
        """
        pollers = [self._pollers[key] for key in keys]
        for poller in pollers:
            await poller.polled.wait()
        result: list[list[Task]] = []
        for poller in pollers:
            if poller.tasks is None:
                assert poller.error is not None
                raise poller.error
            result.append(poller.tasks)
        return result

    async def _run(self, poller: _Poller) -> None:
        while True:
            poller.wake.clear()
            try:
                tasks = await self._fetch(poller.key)
            except OnewebError as error:
                # Keep the last good listing; without one, subscribers learn of the error.
                log.warning("live poll of %s failed: %s", poller.key[0], error.message)
                if poller.tasks is None:
                    poller.error = error
                    poller.notify()
            else:
                poller.error = None
                if tasks != poller.tasks:
                    poller.tasks = tasks
                    poller.notify()
            poller.polled.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await poller.wake.wait()

    async def aclose(self) -> None:
        """Stop every poller (the process is shutting down)."""
        runners = [p.runner for p in self._pollers.values() if p.runner is not None]
        self._pollers.clear()
        for runner in runners:
            runner.cancel()
        await asyncio.gather(*runners, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class Update:
    """One update of a subscription's view: the page now, and how it differs from the last."""

    tasks: Page[Task]
    added: list[Task]
    changed: list[Task]
    removed_ids: list[str]


async def watch(
    hub: Hub,
    principal: Principal,
    *,
    filter: TaskFilter | None,
    order: Sequence[TaskOrder] | None,
    first: int | None,
) -> AsyncIterator[Update]:
    """The principal's inbox, first as it is (everything ``added``), then each time it changes."""
    keys = list(dict.fromkeys(principal.listings))
    async with hub.subscribe(keys) as subscriber:
        sent: dict[str, Task] | None = None
        total = -1
        while True:
            subscriber.changed.clear()
            listings = await hub.listings(keys)
            inbox = [task for task in merge_listings(listings) if belongs_to(task, principal)]
            page = task_page(inbox, filter=filter, order=order, first=first, after=None)
            now = {task.id: task for task in page.nodes}
            before = sent or {}
            added = [task for key, task in now.items() if key not in before]
            changed = [task for key, task in now.items() if key in before and before[key] != task]
            removed = [key for key in before if key not in now]
            if sent is None or added or changed or removed or page.total_count != total:
                sent, total = now, page.total_count
                yield Update(page, added, changed, removed)
            await subscriber.changed.wait()
