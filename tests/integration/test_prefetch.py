"""A task list starts its second level as it arrives: the same calls, the same answers."""

from __future__ import annotations

from .conftest import FacadeFactory
from .harness import Upstream
from .test_batching import _inbox_of, _kinds

THROUGH_FRAGMENTS = """query($user: String!, $skip: Boolean!) { tasks(user: $user) {
  edges { node { ...Row } } } }
fragment Row on Task { id ... on Task { instance { id tasks { id } } }
  variables @skip(if: $skip) { name } }"""


async def test_selections_through_fragments_are_prefetched_and_answered(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _inbox_of(upstream, "dana", 2)
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(THROUGH_FRAGMENTS, {"user": "dana", "skip": False})
    assert "errors" not in reply
    nodes = [edge["node"] for edge in reply["data"]["tasks"]["edges"]]
    assert all(len(node["instance"]["tasks"]) == 4 for node in nodes)
    assert all(node["variables"][0]["name"] == "hire" for node in nodes)
    assert _kinds(upstream) == {
        "tasks_by_principal": 1,
        "tasks_by_instance": 2,
        "variables_by_task": 8,
    }


async def test_a_skipped_field_is_never_fetched(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _inbox_of(upstream, "dana", 2)
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(THROUGH_FRAGMENTS, {"user": "dana", "skip": True})
    assert "errors" not in reply
    assert _kinds(upstream) == {"tasks_by_principal": 1, "tasks_by_instance": 2}


async def test_a_page_prefetches_only_its_own_tasks(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _inbox_of(upstream, "dana", 3)
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(
        "query($user: String!) { tasks(user: $user, first: 2) { nodes { variables { name } } } }",
        {"user": "dana"},
    )
    assert len(reply["data"]["tasks"]["nodes"]) == 2
    assert _kinds(upstream)["variables_by_task"] == 2


async def test_an_excluded_instance_listing_is_never_fetched(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _inbox_of(upstream, "dana", 2)
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(
        "query($user: String!, $with: Boolean!) { tasks(user: $user) { nodes { id "
        "instance @include(if: $with) { tasks { id } } variables @include(if: true) { name } } } }",
        {"user": "dana", "with": False},
    )
    assert "errors" not in reply
    assert all("instance" not in node for node in reply["data"]["tasks"]["nodes"])
    assert _kinds(upstream) == {"tasks_by_principal": 1, "variables_by_task": 8}
