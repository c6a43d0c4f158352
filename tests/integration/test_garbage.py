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

from backend.models import Task
from resolvers.context import Context
from schema.executor import FacadeExecutor

from .conftest import FacadeFactory
from .harness import Upstream

INBOX = """query($user: String!) { tasks(user: $user) { totalCount nodes {
  id name instance { id tasks { id name } } variables { name value } } } }"""


def _of_this_test(o: object, upstream_url: str, task_ids: set[str]) -> str | None:
    """What ``o`` is, if it is a request object of this test's facade (other tests' servers
    may still be stopping in this process, and leave their own garbage)."""
    if isinstance(o, Context):
        return "Context" if o.client.base_url == upstream_url else None
    if isinstance(o, FacadeExecutor):
        context = o.context_value
        return (
            "FacadeExecutor"
            if isinstance(context, Context) and context.client.base_url == upstream_url
            else None
        )
    if isinstance(o, Task):
        return "Task" if o.id in task_ids else None
    return None


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
    task_ids: set[str] = set()
    for _ in range(3):
        reply = await facade.execute(INBOX, {"user": "dana"})
        nodes = reply["data"]["tasks"]["nodes"]
        assert len(nodes) == 8
        task_ids.update(node["id"] for node in nodes)
    gc.collect()
    left = Counter(
        kind
        for o in saved_garbage
        if (kind := _of_this_test(o, upstream.base_url, task_ids)) is not None
    )
    assert left == Counter()
