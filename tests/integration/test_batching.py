"""The inbox query costs one upstream call per distinct resource, not one per field."""

from __future__ import annotations

from collections import Counter

from .conftest import FacadeFactory
from .harness import Upstream

INBOX = """query($user: String!) { tasks(user: $user) { totalCount nodes {
  id name instance { id tasks { id name } } variables { name value } } } }"""


def _inbox_of(upstream: Upstream, user: str, instances: int) -> list[str]:
    """``instances`` Onboarding instances (4 open tasks each), every task offered to ``user``."""
    started = [upstream.start("Onboarding", {"hire": f"hire-{n}"}) for n in range(instances)]
    for instance_id in started:
        upstream.rest("POST", f"/instance/{instance_id}/tasks/assign", params={"user": user})
    return started


def _kinds(upstream: Upstream) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for path in upstream.paths():
        if path == "/tasks":
            kinds["tasks_by_principal"] += 1
        elif path.startswith("/instance/"):
            kinds["tasks_by_instance"] += 1
        elif path.endswith("/variables"):
            kinds["variables_by_task"] += 1
    return kinds


async def test_inbox_over_5_instances_of_4_tasks_makes_1_plus_5_plus_20_calls(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    instances = _inbox_of(upstream, "dana", 5)
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(INBOX, {"user": "dana"})
    assert "errors" not in reply
    nodes = reply["data"]["tasks"]["nodes"]
    assert len(nodes) == 20
    assert {node["instance"]["id"] for node in nodes} == set(instances)
    assert all(len(node["instance"]["tasks"]) == 4 for node in nodes)
    assert all(node["variables"][0]["name"] == "hire" for node in nodes)
    assert len(upstream.paths()) == 26
    assert _kinds(upstream) == {
        "tasks_by_principal": 1,
        "tasks_by_instance": 5,
        "variables_by_task": 20,
    }
    assert len(set(upstream.paths())) == 26  # every distinct resource fetched once


async def test_inbox_without_loaders_makes_a_call_per_field(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _inbox_of(upstream, "dana", 5)
    facade = facade_factory(upstream.base_url, loaders=False)
    reply = await facade.execute(INBOX, {"user": "dana"})
    assert len(reply["data"]["tasks"]["nodes"]) == 20
    assert _kinds(upstream) == {
        "tasks_by_principal": 1,
        "tasks_by_instance": 20,
        "variables_by_task": 20,
    }


async def test_one_level_of_fetches_is_in_flight_together_at_the_default_concurrency_cap(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _inbox_of(upstream, "dana", 5)
    upstream.recorder.latency_s = 0.05
    facade = facade_factory(upstream.base_url)
    upstream.recorder.reset()
    await facade.execute(INBOX, {"user": "dana"})
    # The 5 instance fetches and 20 variable fetches start together, after the one list:
    # the default cap does not split the widest level into waves.
    assert upstream.recorder.peak_in_flight == 25
