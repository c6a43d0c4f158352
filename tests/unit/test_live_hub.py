"""The live hub's pushes: ``touched`` re-polls the listings named and no others, ``None``
re-polls every one, hubs on one channel hear each other, and which listings show a task."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from backend.broadcast import Hint, MemoryBroadcast
from backend.models import Task
from resolvers.live import Hub, ListingKey
from resolvers.touched import listings_of

KEYS: list[ListingKey] = [("user", "ann"), ("group", "Clerk"), ("group", "Employee")]


class CountingFetch:
    """An upstream whose listings are empty; counts the polls of each listing."""

    def __init__(self) -> None:
        self.polls: Counter[ListingKey] = Counter()

    async def __call__(self, key: ListingKey) -> list[Task]:
        self.polls[key] += 1
        return []


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture
async def channel() -> AsyncIterator[MemoryBroadcast]:
    broadcast = MemoryBroadcast()
    yield broadcast
    await broadcast.aclose()


async def polled_hub(fetch: CountingFetch, broadcast: MemoryBroadcast | None) -> Hub:
    hub = Hub(fetch, interval_s=60.0, broadcast=broadcast)
    hub.start()
    return hub


async def test_touched_polls_the_listings_named_that_are_active(channel: MemoryBroadcast) -> None:
    fetch = CountingFetch()
    hub = await polled_hub(fetch, channel)
    async with hub.subscribe(KEYS):
        await hub.listings(KEYS)
        hub.touched([("group", "Clerk"), ("user", "zed")])
        await settle()
        assert fetch.polls == {("user", "ann"): 1, ("group", "Clerk"): 2, ("group", "Employee"): 1}
    await hub.aclose()


async def test_touched_none_polls_every_active_listing(channel: MemoryBroadcast) -> None:
    fetch = CountingFetch()
    hub = await polled_hub(fetch, channel)
    async with hub.subscribe(KEYS):
        await hub.listings(KEYS)
        hub.touched(None)
        await settle()
        assert set(fetch.polls.values()) == {2}
    await hub.aclose()


async def test_hubs_on_one_channel_poll_what_the_other_touched(channel: MemoryBroadcast) -> None:
    here, there = CountingFetch(), CountingFetch()
    hub, other = await polled_hub(here, channel), await polled_hub(there, channel)
    async with other.subscribe(KEYS):
        await other.listings(KEYS)
        await settle()
        hub.touched([("group", "Employee")])
        await settle()
        assert there.polls[("group", "Employee")] == 2
        assert there.polls[("group", "Clerk")] == 1
        # A hub skips its own hints when they come back: it polled those already.
        other.touched([("user", "ann")])
        await settle()
        assert there.polls[("user", "ann")] == 2
        await channel.publish(Hint.of([("user", "ann")]))  # someone else's
        await settle()
        assert there.polls[("user", "ann")] == 3
    await hub.aclose()
    await other.aclose()


def test_a_task_shows_in_its_assignees_and_its_candidates_listings() -> None:
    task = Task.from_wire(
        {
            "id": "t",
            "instanceId": "i",
            "assignee": "bob",
            "candidateUsers": ["ann"],
            "candidateGroups": ["Clerk"],
            "candidateRoles": ["Approver"],
        }
    )
    assert listings_of(task) == {
        ("user", "bob"),
        ("user", "ann"),
        ("group", "Clerk"),
        ("role", "Approver"),
    }


def test_a_task_without_candidate_fields_touches_unknown_listings() -> None:
    # A ONEWEB server that does not send this project's candidate fields.
    assert listings_of(Task.from_wire({"id": "t", "instanceId": "i", "assignee": "bob"})) is None


class DownBroadcast(MemoryBroadcast):
    """A channel whose every publish fails, as Redis does while it is away."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    async def publish(self, hint: Hint) -> None:
        self.attempts += 1
        raise ConnectionError("refused")


async def test_with_the_channel_down_pushes_stay_local_and_publishes_do_not_pile_up() -> None:
    fetch, down = CountingFetch(), DownBroadcast()
    hub = await polled_hub(fetch, down)
    async with hub.subscribe(KEYS):
        await hub.listings(KEYS)
        for _ in range(50):
            hub.touched([("group", "Clerk")])
            await settle()
        assert fetch.polls[("group", "Clerk")] > 1, "local pollers are poked all the same"
        assert down.attempts == 1, "one failure pauses publishing for a while"
    await hub.aclose()
