"""A request leaves nothing for the cyclic garbage collector.

Objects in a reference cycle outlive their request until the collector runs; a collection
then walks all of them at once, a pause on whichever request is running (15-20 ms every
30 inboxes with the bench's collector settings, docs/speed.md). An inbox allocated about
430 such objects: graphql-core's executor keeps its resolvers' helpers as methods bound
to itself, and through the executor the request's context, loaders and parsed replies.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator

import pytest

from .conftest import FacadeFactory
from .harness import Upstream

INBOX = """query($user: String!) { tasks(user: $user) { totalCount nodes {
  id name instance { id tasks { id name } } variables { name value } } } }"""

#: The facade's own per-request objects, and its executor (the embedded runtime's
#: SpiffWorkflow objects, in this process too, are not the facade's business).
REQUEST_TYPES = frozenset(
    {
        "resolvers.context.Context",
        "resolvers.loaders.Loaders",
        "resolvers.loaders.CachingLoader",
        "resolvers.memory.TaskMemory",
        "resolvers.principal.Principal",
        "backend.models.Task",
        "schema.executor.FacadeExecutor",
    }
)


def _name(o: object) -> str:
    return f"{type(o).__module__}.{type(o).__qualname__}"


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """``gc.garbage`` as the collector finds it (``DEBUG_SAVEALL``), with collection paused."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


async def test_an_inbox_request_leaves_no_cycle_behind(
    facade_factory: FacadeFactory, upstream: Upstream, saved_garbage: list[object]
) -> None:
    for n in range(2):
        instance_id = upstream.start("Onboarding", {"hire": f"hire-{n}"})
        upstream.rest("POST", f"/instance/{instance_id}/tasks/assign", params={"user": "dana"})
    facade = facade_factory(upstream.base_url)
    for _ in range(3):
        reply = await facade.execute(INBOX, {"user": "dana"})
        assert len(reply["data"]["tasks"]["nodes"]) == 8
    gc.collect()
    left = Counter(_name(o) for o in saved_garbage if _name(o) in REQUEST_TYPES)
    assert left == Counter()
