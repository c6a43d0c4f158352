"""A followed subscription: a change during the handover is not lost, nothing runs while it
is idle (a poll without news or a failed one delivers nothing), and closing it stops the
polling it alone needed."""

from __future__ import annotations

import asyncio

import pytest
from graphql import DocumentNode

from backend.errors import UpstreamUnavailable
from backend.models import Task
from resolvers.live import Hub, ListingKey, Update, View
from resolvers.live_follow import Deliver, Handoff
from resolvers.principal import Principal

ANN = Principal(user="ann", groups=("Clerk",), roles=())


def task(task_id: str, assignee: str | None = None) -> Task:
    return Task.from_wire(
        {
            "id": task_id,
            "name": "Choose Room",
            "status": "READY" if assignee is None else "RESERVED",
            "assignee": assignee,
            "candidateGroups": ["Clerk"],
            "instanceId": "i1",
            "createTime": 1_700_000_000_000,
        }
    )


class Listings:
    """An upstream whose group listing the test sets; counts polls, can fail."""

    def __init__(self) -> None:
        self.clerk: list[Task] = [task("t1")]
        self.polls = 0
        self.failing = False

    async def __call__(self, key: ListingKey) -> list[Task]:
        self.polls += 1
        if self.failing:
            raise UpstreamUnavailable("down")
        return list(self.clerk) if key == ("group", "Clerk") else []


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def recorded() -> tuple[list[Update | Exception], Deliver]:
    """What a follower delivers, and where to."""
    delivered: list[Update | Exception] = []

    async def deliver(update: Update | Exception) -> None:
        delivered.append(update)

    return delivered, deliver


async def handed_over(hub: Hub) -> tuple[Handoff, Update]:
    handoff = Handoff()
    view = View(ANN, filter=None, order=None, first=None)
    return handoff, await handoff.first_update(hub, view, DocumentNode(definitions=()))


async def test_a_change_during_the_handover_is_delivered_once_it_is_followed() -> None:
    listings = Listings()
    hub = Hub(listings, interval_s=60.0)
    handoff, first = await handed_over(hub)
    assert [t.id for t in first.added] == ["t1"]
    listings.clerk = [task("t1"), task("t2")]
    hub.poke()  # the change lands before anyone follows
    await settle()
    delivered, deliver = recorded()
    follower = handoff.follow(deliver)
    assert follower is not None
    await settle()
    (update,) = delivered
    assert isinstance(update, Update) and [t.id for t in update.added] == ["t2"]
    follower.close()
    await hub.aclose()


@pytest.mark.parametrize("failing", [False, True], ids=["no news", "failing poll"])
async def test_an_idle_follower_runs_nothing_and_a_poll_without_news_delivers_nothing(
    failing: bool,
) -> None:
    listings = Listings()
    hub = Hub(listings, interval_s=60.0)
    handoff, _ = await handed_over(hub)
    delivered, deliver = recorded()
    follower = handoff.follow(deliver)
    assert follower is not None
    # A failed poll keeps the last good listing: nothing to deliver, nothing ends.
    listings.failing = failing
    hub.poke()
    await settle()
    assert listings.polls == 4 and delivered == []  # two listings, each polled again
    assert not follower.closed
    names = {t.get_name() for t in asyncio.all_tasks() if not t.done()}
    assert "live:follow" not in names  # no task while idle
    follower.close()
    await hub.aclose()


async def test_closing_stops_the_polling_it_alone_needed_and_an_unfollowed_handoff_too() -> None:
    listings = Listings()
    hub = Hub(listings, interval_s=60.0)
    handoff, _ = await handed_over(hub)
    kept, _ = await handed_over(hub)
    follower = handoff.follow(recorded()[1])
    assert follower is not None
    follower.close()
    follower.close()  # again: nothing
    assert hub.active == (("user", "ann"), ("group", "Clerk"))  # the other still needs them
    kept.release()  # ended before its follower took over
    assert not hub.active
    await hub.aclose()
