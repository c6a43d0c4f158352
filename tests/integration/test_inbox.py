"""``viewer { inbox }``: the union of the viewer's, its groups' and its roles' listings, one
upstream call each, all in flight together; each task once; nobody else's claimed tasks."""

from __future__ import annotations

import time

import jwt

from .conftest import FacadeFactory
from .harness import Upstream

ANN = {"X-Remote-User": "ann", "X-Remote-Groups": "Clerk, Manager", "X-Remote-Roles": "auditor"}
INBOX = """query($filter: TaskFilter, $first: Int) { viewer { user groups roles
  inbox(filter: $filter, first: $first) { totalCount nodes { id name assignee } } } }"""


def _clerk_tasks(upstream: Upstream, count: int) -> list[str]:
    """``count`` open ChooseRoom tasks, offered to the Clerk group."""
    return [upstream.open_tasks(upstream.start("BookingRoom"))[0]["id"] for _ in range(count)]


def _listing_calls(upstream: Upstream) -> list[str]:
    return sorted(
        call.query for call in upstream.recorder.calls if call.raw_path.endswith("/tasks")
    )


async def test_the_inbox_costs_one_listing_per_user_group_and_role(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _clerk_tasks(upstream, 3)
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(INBOX, headers=ANN)
    assert "errors" not in reply, reply
    assert reply["data"]["viewer"]["inbox"]["totalCount"] == 3
    assert _listing_calls(upstream) == ["group=Clerk", "group=Manager", "role=auditor", "user=ann"]
    assert len(upstream.paths()) == 4


async def test_the_inbox_costs_the_same_whatever_the_page_or_filter(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _clerk_tasks(upstream, 3)
    facade = facade_factory(upstream.base_url)
    variables = {"filter": {"search": "no task is called this"}, "first": 1}
    reply = await facade.execute(INBOX, variables, headers=ANN)
    assert reply["data"]["viewer"]["inbox"] == {"totalCount": 0, "nodes": []}
    assert len(upstream.paths()) == 4


async def test_the_listings_are_in_flight_together(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _clerk_tasks(upstream, 2)
    facade = facade_factory(upstream.base_url, max_concurrency=32)
    upstream.recorder.latency_s = 0.1
    upstream.recorder.reset()
    await facade.execute(INBOX, headers=ANN)
    calls = upstream.recorder.calls
    assert len(calls) == 4
    assert upstream.recorder.peak_in_flight == 4
    # One level: every listing was sent before the first answer (0.1 s) could arrive.
    assert max(call.at for call in calls) - min(call.at for call in calls) < 0.1


async def test_a_task_in_several_listings_is_in_the_inbox_once(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    (task_id,) = _clerk_tasks(upstream, 1)
    # Offered to ann herself as well as to her group Clerk: in both listings.
    upstream.rest("POST", f"/tasks/{task_id}/assign", params={"user": "ann"})
    upstream.rest("POST", f"/tasks/{task_id}/claim", params={"user": "ann"})
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(INBOX, headers=ANN)
    assert reply["data"]["viewer"]["inbox"] == {
        "totalCount": 1,
        "nodes": [{"id": task_id, "name": "Choose Room", "assignee": "ann"}],
    }
    assert len(upstream.paths()) == 4


async def test_a_task_claimed_by_someone_else_is_not_in_the_inbox(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    mine, theirs = _clerk_tasks(upstream, 2)
    upstream.rest("POST", f"/tasks/{theirs}/claim", params={"user": "bob"})
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(INBOX, headers=ANN)
    assert [node["id"] for node in reply["data"]["viewer"]["inbox"]["nodes"]] == [mine]
    # The group's listing still shows it to bob's colleagues who ask for the group.
    group = await facade.execute('{ tasks(group: "Clerk") { totalCount } }', headers=ANN)
    assert group["data"]["tasks"]["totalCount"] == 2


async def test_the_viewer_is_who_the_trusted_headers_say(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute("{ viewer { user groups roles } }", headers=ANN)
    assert reply["data"]["viewer"] == {
        "user": "ann",
        "groups": ["Clerk", "Manager"],
        "roles": ["auditor"],
    }
    assert upstream.paths() == []


async def test_an_anonymous_request_has_no_viewer_and_no_inbox(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    _clerk_tasks(upstream, 1)
    facade = facade_factory(upstream.base_url)
    reply = await facade.execute(INBOX, headers={"X-Remote-Groups": "Clerk"})
    assert reply == {"data": {"viewer": None}}
    assert upstream.paths() == []


async def test_a_tokens_claims_make_the_viewer_and_its_inbox(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    secret = "a-test-secret-of-at-least-32-bytes!"
    _clerk_tasks(upstream, 2)
    facade = facade_factory(upstream.base_url, jwt_secret=secret, jwt_audience="oneweb")
    token = jwt.encode(
        {
            "sub": "ann",
            "aud": "oneweb",
            "exp": int(time.time()) + 300,
            "groups": ["Clerk"],
            "roles": "auditor",
        },
        secret,
    )
    # The trusted headers are ignored when tokens are verified: a client could set them.
    headers = {"Authorization": f"Bearer {token}", "X-Remote-Groups": "Manager"}
    reply = await facade.execute(INBOX, headers=headers)
    viewer = reply["data"]["viewer"]
    assert (viewer["user"], viewer["groups"], viewer["roles"]) == ("ann", ["Clerk"], ["auditor"])
    assert viewer["inbox"]["totalCount"] == 2
    assert _listing_calls(upstream) == ["group=Clerk", "role=auditor", "user=ann"]
