"""A live subscription that holds no task while it waits.

A subscription served through GraphQL's subscription machinery keeps, between two updates,
a chain of suspended generators (its resolver's, graphql-core's, Strawberry's and each
schema extension's), the operation's execution state and its task: some 30 KB, for an
inbox that changes a few times an hour. A ``Follower`` keeps only its ``View`` and its
place in the hub. When one of its listings changes, the hub calls it back; it computes the
next update in a short-lived task and hands it to ``deliver`` (which executes the
subscription's document once for that update and sends the result).

The handover: the transport runs the subscription through the full GraphQL pipeline once
(parsing, limits, validation, the resolver's checks, the first update), with a ``Handoff``
as its root value. The ``inbox`` resolver leaves its view and its hub place there and
yields the first update; the transport then closes the pipeline and ``follow``s the rest.

    handoff = Handoff()
    ... run the subscription with root_value=handoff, send its first result ...
    follower = handoff.follow(deliver)      # None when the resolver did not hand over
    ...
    follower.close()                        # the client completed, or went away
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from graphql import DocumentNode

from backend.errors import OnewebError

from .live import Hub, Subscriber, Update, View

__all__ = ["Deliver", "Follower", "Handoff"]

log = logging.getLogger("oneweb_graphql.live")

#: Sends one update (or the error that ends the subscription) to the subscriber.
Deliver = Callable[[Update | OnewebError], Awaitable[None]]


class Handoff:
    """The root value of a subscription its transport will continue without GraphQL's
    subscription machinery; the ``inbox`` resolver fills it in (``hand_over``)."""

    __slots__ = ("document", "hub", "subscriber", "view")

    def __init__(self) -> None:
        self.hub: Hub | None = None
        self.view: View | None = None
        self.subscriber: Subscriber | None = None
        #: The subscription's operation and its fragments: what later updates execute.
        self.document: DocumentNode | None = None

    async def first_update(self, hub: Hub, view: View, document: DocumentNode) -> Update:
        """Join the hub for ``view`` and compute its first update (everything ``added``)."""
        self.hub = hub
        self.subscriber = hub.join(view.keys)
        update = view.update(await hub.listings(view.keys))  # raises without any listing
        assert update is not None  # a view's first update always is one
        # Handed over only now: a subscription whose first update failed ends there.
        self.view, self.document = view, document
        return update

    def follow(self, deliver: Deliver) -> Follower | None:
        """The follower that takes over from here, or None when nothing was handed over."""
        hub, view, subscriber = self.hub, self.view, self.subscriber
        if hub is None or view is None or subscriber is None:
            return None
        self.subscriber = None  # the follower owns the hub place now
        return Follower(hub, view, subscriber, deliver)

    def release(self) -> None:
        """Give up the hub place, unless a follower took it (the subscription ended early)."""
        if self.hub is not None and self.subscriber is not None:
            self.hub.leave(self.subscriber)
        self.subscriber = None


class Follower:
    """A subscription after its first update: called back by the hub on a change, it
    computes the next update in a task that lives only while there is work."""

    __slots__ = ("_deliver", "_hub", "_running", "_subscriber", "closed", "view")

    def __init__(self, hub: Hub, view: View, subscriber: Subscriber, deliver: Deliver) -> None:
        self._hub = hub
        self.view = view
        self._subscriber = subscriber
        self._deliver = deliver
        self._running: asyncio.Task[None] | None = None
        self.closed = False
        subscriber.on_change(self._wake)  # at once, if a change came during the handover

    def _wake(self) -> None:
        if self._running is None and not self.closed:
            self._running = asyncio.create_task(self._catch_up(), name="live:follow")

    async def _catch_up(self) -> None:
        """Deliver updates until the view matches the hub's listings."""
        subscriber = self._subscriber
        try:
            while subscriber.changed and not self.closed:
                subscriber.changed = False
                try:
                    update = self.view.update(await self._hub.listings(self.view.keys))
                except OnewebError as error:  # a listing without any good poll
                    await self._deliver(error)
                    return
                if update is not None:
                    await self._deliver(update)
                    del update
        except asyncio.CancelledError:
            pass  # closed, or the connection was dropped: its owner cleans up
        except Exception:
            log.exception("live: an update failed; the subscription waits for the next change")
        finally:
            self._running = None

    def close(self) -> None:
        """End it: leave the hub (a poller nobody needs stops) and stop any update under way."""
        if self.closed:
            return
        self.closed = True
        self._hub.leave(self._subscriber)
        running = self._running
        if running is not None and running is not asyncio.current_task():
            running.cancel()
