"""The caching loader: one call per distinct key, one batch per loop turn, and each key's
waiters served as that key's reply arrives, not when the batch's last one does."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.loaders import CachingLoader


class Upstream:
    """A fetch whose replies the test releases one key at a time."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.replies: dict[str, asyncio.Future[str]] = {}

    async def fetch(self, key: str) -> str:
        self.calls.append(key)
        self.replies[key] = asyncio.get_running_loop().create_future()
        return await self.replies[key]


async def _turns(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_key_is_served_while_another_keys_call_is_in_flight() -> None:
    upstream = Upstream()
    batches: list[tuple[str, int]] = []
    loader = CachingLoader(
        upstream.fetch, name="things", on_batch=lambda name, size: batches.append((name, size))
    )
    fast, slow = loader.load("a"), loader.load("b")
    await _turns()
    assert upstream.calls == ["a", "b"]
    assert batches == [("things", 2)]
    upstream.replies["a"].set_result("A")
    await _turns()
    assert fast.done() and await fast == "A"
    assert not slow.done()  # its call is still out
    upstream.replies["b"].set_result("B")
    assert await slow == "B"


async def test_each_distinct_key_is_fetched_once_and_cached() -> None:
    upstream = Upstream()
    loader = CachingLoader(upstream.fetch, name="things")
    first = [loader.load("a"), loader.load("a"), loader.load("b")]
    await _turns()
    upstream.replies["a"].set_result("A")
    upstream.replies["b"].set_result("B")
    assert await asyncio.gather(*first) == ["A", "A", "B"]
    assert await loader.load("a") == "A"
    assert upstream.calls == ["a", "b"]
    loader.clear("a")
    loader.clear("never-loaded")  # no error
    again = loader.load("a")
    await _turns()
    upstream.replies["a"].set_result("A2")
    assert await again == "A2"
    assert upstream.calls == ["a", "b", "a"]


async def test_a_failing_key_fails_only_its_own_waiters() -> None:
    upstream = Upstream()
    loader = CachingLoader(upstream.fetch, name="things")
    bad, good = loader.load("bad"), loader.load("good")
    await _turns()
    upstream.replies["bad"].set_exception(RuntimeError("upstream said no"))
    upstream.replies["good"].set_result("fine")
    with pytest.raises(RuntimeError, match="upstream said no"):
        await bad
    assert await good == "fine"


async def test_keys_of_later_turns_form_a_new_batch() -> None:
    upstream = Upstream()
    batches: list[int] = []
    loader = CachingLoader(upstream.fetch, name="things", on_batch=lambda _, n: batches.append(n))
    loader.load("a")
    await _turns()
    loader.load("b")
    loader.load("c")
    await _turns()
    assert batches == [1, 2]
    for reply in upstream.replies.values():
        reply.set_result("x")


async def test_calls_stop_when_no_one_waits_for_the_batch_any_more() -> None:
    upstream = Upstream()
    loader = CachingLoader(upstream.fetch, name="things")
    a, b = loader.load("a"), loader.load("b")
    await _turns()
    a.cancel()
    await _turns()
    assert not upstream.replies["b"].cancelled()  # someone still waits for b
    b.cancel()
    await _turns()
    assert upstream.replies["a"].cancelled() and upstream.replies["b"].cancelled()
