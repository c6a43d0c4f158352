"""The live inbox: one poller per distinct task listing, shared by every subscription.

A ``Hub`` (one per process) keeps, for each listing some subscription needs
(``("user" | "group" | "role", name)``), a poller that fetches it every ``interval_s``
seconds and keeps the last good answer. Pollers are refcounted: the first subscriber of
a listing starts its poller, the last one to leave stops it. A failed poll keeps the last
good listing. ``Hub.touched(keys)`` makes the pollers of those listings poll now (a
mutation went through, or the embedded runtime changed them) and tells the other replicas
through the broadcast channel (``backend.broadcast``); ``keys=None`` means every listing.
A hub hears the others' hints while ``Hub.start()``'s listener runs.

Each subscription (``watch``) merges its principal's listings with the same pure functions
as the ``viewer.inbox`` query, filters, orders and pages them, and yields an ``Update``
only when its view changed: subscriptions make no upstream calls of their own.

    hub = Hub(fetch, interval_s=2.0, broadcast=MemoryBroadcast())
    hub.start()
    async for update in watch(hub, View(principal, filter=None, order=None, first=20)): ...
    await hub.aclose()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from backend.broadcast import Broadcast, Hint, MemoryBroadcast
from backend.errors import OnewebError
from backend.models import Task

from .inbox import belongs_to, merge_listings
from .pagination import Page
from .principal import ListingKind, Principal
from .task import task_page
from .task_filter import TaskFilter, TaskOrder

__all__ = ["Fetch", "Hub", "ListingKey", "Subscriber", "Update", "View", "watch"]

log = logging.getLogger("oneweb_graphql.live")

#: A listing a poller keeps: ``("user" | "group" | "role", name)``.
ListingKey = tuple[ListingKind, str]
#: Fetches one listing from the upstream.
Fetch = Callable[[ListingKey], Awaitable[list[Task]]]
#: After a failed publish, hints are not sent for this long (one is tried after it).
_RETRY_S = 1.0


class Subscriber:
    """A place in the hub: ``changed`` is set whenever one of its listings changes, and
    its callback (if any) is called. It holds no task and no event, so that an idle
    subscription costs little."""

    __slots__ = ("_callback", "changed", "keys")

    def __init__(self, keys: Sequence[ListingKey]) -> None:
        self.keys = tuple(keys)
        self.changed = False
        self._callback: Callable[[], None] | None = None

    def notify(self) -> None:
        self.changed = True
        if self._callback is not None:
            self._callback()

    def on_change(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` on every change from now on, and at once if one is pending."""
        self._callback = callback
        if callback is not None and self.changed:
            callback()


@dataclass(eq=False)
class _Poller:
    key: ListingKey
    subscribers: set[Subscriber] = field(default_factory=set)
    tasks: list[Task] | None = None
    #: The failure of the latest poll while there is no good listing yet.
    error: OnewebError | None = None
    polled: asyncio.Event = field(default_factory=asyncio.Event)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    runner: asyncio.Task[None] | None = None

    def notify(self) -> None:
        for subscriber in list(self.subscribers):
            subscriber.notify()


class Hub:
    """The process's pollers, one per listing that at least one subscription needs."""

    def __init__(
        self, fetch: Fetch, *, interval_s: float, broadcast: Broadcast | None = None
    ) -> None:
        self._fetch = fetch
        self.interval_s = interval_s
        self._pollers: dict[ListingKey, _Poller] = {}
        self._broadcast = broadcast
        #: Whether other processes hear this hub's hints (Redis), not only this process.
        self.shared = broadcast is not None and not isinstance(broadcast, MemoryBroadcast)
        self._origin = uuid.uuid4().hex
        #: Set where the upstream itself calls ``touched`` for every change it commits (the
        #: embedded runtime in this process): mutations then need not work out their own.
        self.upstream_tells = False
        self._background: set[asyncio.Task[None]] = set()
        #: When the latest publish failed (loop time), while the channel has not taken one since.
        self._publish_failed_at: float | None = None

    @property
    def active(self) -> tuple[ListingKey, ...]:
        """The listings being polled now."""
        return tuple(self._pollers)

    @property
    def listening(self) -> bool:
        """Whether a mutation should work out which listings it touched: the upstream does
        not say so itself, and a listing is active here or other replicas may have some."""
        return not self.upstream_tells and (self.shared or bool(self._pollers))

    def task(self, task_id: str) -> Task | None:
        """The task as the latest poll of an active listing showed it, or None."""
        for poller in self._pollers.values():
            for task in poller.tasks or ():
                if task.id == task_id:
                    return task
        return None

    def poke(self, keys: Iterable[ListingKey] | None = None) -> None:
        """Poll ``keys`` now, those of them that are active here (None: every active one)."""
        if keys is None:
            pollers: Iterable[_Poller] = self._pollers.values()
        else:
            pollers = (p for key in keys if (p := self._pollers.get(key)) is not None)
        for poller in pollers:
            poller.wake.set()

    def touched(self, keys: Iterable[ListingKey] | None) -> None:
        """A change touched ``keys`` (None: unknown, any listing): poll those active here
        now and tell the other replicas. Never raises and never waits on the channel."""
        hint = Hint.of(keys, origin=self._origin)
        if hint.keys is not None and not hint.keys:
            return
        self.poke(hint.keys)
        failed_at = self._publish_failed_at
        if failed_at is not None and asyncio.get_running_loop().time() - failed_at < _RETRY_S:
            return  # the channel is down: no pile of doomed publishes, polling covers it
        if self._broadcast is not None:
            self._spawn(self._publish(self._broadcast, hint), name="live:publish")

    def start(self) -> None:
        """Listen to the other replicas' hints (until ``aclose``)."""
        if self._broadcast is not None:
            self._spawn(self._listen(self._broadcast), name="live:listen")

    def _spawn(self, work: Awaitable[None], *, name: str) -> None:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _publish(self, broadcast: Broadcast, hint: Hint) -> None:
        try:
            await broadcast.publish(hint)
        except Exception as error:  # the channel is a shortcut; polling is the fallback
            if self._publish_failed_at is None:
                log.warning(
                    "live hints not published (%s); polling covers them till the channel is back",
                    type(error).__name__,
                )
            self._publish_failed_at = asyncio.get_running_loop().time()
        else:
            if self._publish_failed_at is not None:
                log.info("live hints published again")
            self._publish_failed_at = None

    async def _listen(self, broadcast: Broadcast) -> None:
        while True:
            try:
                async for hint in broadcast.listen():
                    if hint.origin != self._origin:  # this hub polled its own keys already
                        self.poke(hint.keys)
            except Exception:  # a bug in the channel must not end live pushes for good
                log.exception("live broadcast listener failed; restarting it")
            await asyncio.sleep(1.0)

    def join(self, keys: Sequence[ListingKey]) -> Subscriber:
        """A place for a subscriber of ``keys``: their pollers run until it ``leave``s."""
        subscriber = Subscriber(keys)
        for key in subscriber.keys:
            poller = self._pollers.get(key)
            if poller is None:
                poller = self._pollers[key] = _Poller(key)
                poller.runner = asyncio.create_task(self._run(poller), name=f"live:{key}")
            poller.subscribers.add(subscriber)
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        """Give the place up (again: nothing); a poller nobody needs any more stops."""
        subscriber.on_change(None)
        for key in subscriber.keys:
            poller = self._pollers.get(key)
            if poller is None or subscriber not in poller.subscribers:
                continue
            poller.subscribers.discard(subscriber)
            if not poller.subscribers:
                del self._pollers[key]
                assert poller.runner is not None
                poller.runner.cancel()

    @contextlib.asynccontextmanager
    async def subscribe(self, keys: Sequence[ListingKey]) -> AsyncIterator[Subscriber]:
        """A subscriber to ``keys``: their pollers run while it is inside the block."""
        subscriber = self.join(keys)
        try:
            yield subscriber
        finally:
            self.leave(subscriber)

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
        """Stop every poller and the listener (the process is shutting down)."""
        runners = [p.runner for p in self._pollers.values() if p.runner is not None]
        runners.extend(self._background)
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


class View:
    """One subscription's view of its principal's inbox: all it keeps between updates is
    the tasks it sent (shared with the pollers' listings, not copies) and their count."""

    __slots__ = ("_sent", "_total", "filter", "first", "keys", "order", "principal")

    def __init__(
        self,
        principal: Principal,
        *,
        filter: TaskFilter | None,
        order: Sequence[TaskOrder] | None,
        first: int | None,
    ) -> None:
        self.principal = principal
        self.keys: tuple[ListingKey, ...] = tuple(dict.fromkeys(principal.listings))
        self.filter = filter
        self.order = order
        self.first = first
        self._sent: dict[str, Task] | None = None
        self._total = -1

    def update(self, listings: list[list[Task]]) -> Update | None:
        """The update from what was sent last (the first: everything) to ``listings``, or
        None when the view did not change; an update returned counts as sent."""
        update = _diff(
            listings,
            self.principal,
            self._sent,
            self._total,
            filter=self.filter,
            order=self.order,
            first=self.first,
        )
        if update is not None:
            self._sent = {task.id: task for task in update.tasks.nodes}
            self._total = update.tasks.total_count
        return update


async def watch(hub: Hub, view: View) -> AsyncIterator[Update]:
    """The view's updates: first the inbox as it is (everything ``added``), then each time
    it changes.

    An update is emptied (its lists cleared) when the next one is asked for: use it before.
    """
    async with hub.subscribe(view.keys) as subscriber:
        changed = asyncio.Event()
        subscriber.on_change(changed.set)
        while True:
            changed.clear()
            subscriber.changed = False
            update = view.update(await hub.listings(view.keys))
            if update is not None:
                yield update
                # Resumed: the update was executed and sent, but the GraphQL layers above
                # keep it while they wait for the next; its page's cursors need not stay.
                _empty(update)
                del update
            await changed.wait()


def _empty(update: Update) -> None:
    update.tasks.edges.clear()
    update.added.clear()
    update.changed.clear()
    update.removed_ids.clear()


def _diff(
    listings: list[list[Task]],
    principal: Principal,
    sent: dict[str, Task] | None,
    total: int,
    *,
    filter: TaskFilter | None,
    order: Sequence[TaskOrder] | None,
    first: int | None,
) -> Update | None:
    """The update from what was ``sent`` (None: nothing yet) to the view now, or None."""
    inbox = [task for task in merge_listings(listings) if belongs_to(task, principal)]
    page = task_page(inbox, filter=filter, order=order, first=first, after=None)
    now = {task.id: task for task in page.nodes}
    before = sent or {}
    added = [task for key, task in now.items() if key not in before]
    changed = [task for key, task in now.items() if key in before and before[key] != task]
    removed = [key for key in before if key not in now]
    if sent is None or added or changed or removed or page.total_count != total:
        return Update(page, added, changed, removed)
    return None
