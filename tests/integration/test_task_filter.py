"""``filter`` and ``orderBy`` on ``viewer.inbox`` and ``tasks``, through GraphQL, over an
upstream whose tasks have due dates, priorities, descriptions and gaps (nulls); and cursors
that walk a filtered, ordered list and refuse another filter or order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from backend.embedded.recorder import Recorder
from backend.models import Task

from .conftest import FacadeFactory
from .harness import Facade, listings_app

BASE_MS = 1_700_000_000_000
MINUTE_MS = 60_000


def _at(minutes: int) -> int:
    return BASE_MS + minutes * MINUTE_MS


def _iso(epoch_ms: int, *, hours: int = 0, naive: bool = False) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)
    if naive:
        return moment.replace(tzinfo=None).isoformat()
    return moment.astimezone(timezone(timedelta(hours=hours))).isoformat()


def _task(task_id: str, **fields: Any) -> Task:
    return Task(id=task_id, instance_id="i-" + task_id, **fields)


T1 = _task(
    "t1",
    name="Approve leave",
    definition_id="Approve",
    process_name="LeaveRequest",
    description="Room 12 on Friday",
    priority=80,
    create_time=_at(1),
    due_date=_at(5),
    candidate_groups=("Manager",),
)
T2 = _task(
    "t2",
    name="Choose Room",
    definition_id="ChooseRoom",
    process_name="BookingRoom",
    assignee="ann",
    status="CLAIMED",
    create_time=_at(3),
    candidate_groups=("Clerk",),
)
T3 = _task(
    "t3",
    name="add details",
    definition_id="AddCustomerDetails",
    process_name="BookingRoom",
    description="call the customer",
    priority=50,
    due_date=_at(2),
    candidate_groups=("Clerk",),
)
T4 = _task("t4", description="no name, a ROOM", priority=10, create_time=_at(2), due_date=_at(9))
T5 = _task(
    "t5",
    name="Submit",
    definition_id="Submit",
    process_name="LeaveRequest",
    assignee="ann",
    status="CLAIMED",
    priority=50,
    create_time=_at(2),
    candidate_groups=("Employee",),
)
#: Held by bob: in the Clerk group's listing, never in ann's inbox.
T6 = _task(
    "t6",
    name="Choose Room",
    process_name="BookingRoom",
    assignee="bob",
    status="CLAIMED",
    create_time=_at(0),
    candidate_groups=("Clerk",),
)
LISTINGS = {
    "user=ann": [T2, T5],
    "group=Clerk": [T2, T3, T6],
    "group=Manager": [T1, T4, T2],
}
ANN = {"X-Remote-User": "ann", "X-Remote-Groups": "Clerk,Manager"}

INBOX = """query($filter: TaskFilter, $orderBy: [TaskOrder!], $first: Int, $after: String) {
  viewer { inbox(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id } } } }"""
GROUP = """query($filter: TaskFilter, $orderBy: [TaskOrder!], $first: Int, $after: String) {
  tasks(group: "Clerk", filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id } } }"""


class Fixed:
    """A facade in front of ``LISTINGS``, and the recorder that counts its calls."""

    def __init__(self, facade: Facade, recorder: Recorder) -> None:
        self.facade = facade
        self.recorder = recorder

    async def page(self, query: str = INBOX, **variables: Any) -> dict[str, Any]:
        self.recorder.reset()
        reply = await self.facade.execute(query, variables, headers=ANN)
        assert "errors" not in reply, reply
        data = reply["data"]
        page: dict[str, Any] = data["viewer"]["inbox"] if "viewer" in data else data["tasks"]
        return page

    async def ids(self, query: str = INBOX, **variables: Any) -> list[str]:
        return [node["id"] for node in (await self.page(query, **variables))["nodes"]]

    async def error(self, query: str = INBOX, **variables: Any) -> dict[str, Any]:
        reply = await self.facade.execute(query, variables, headers=ANN)
        assert len(reply["errors"]) == 1, reply
        error: dict[str, Any] = reply["errors"][0]
        return error


@pytest.fixture
def fixed(serve_factory: Any, facade_factory: FacadeFactory) -> Fixed:
    recorder = Recorder(listings_app(LISTINGS))
    return Fixed(facade_factory(serve_factory(recorder)), recorder)


async def test_the_default_order_is_oldest_first_then_id_undated_last(fixed: Fixed) -> None:
    assert await fixed.ids() == ["t1", "t4", "t5", "t2", "t3"]
    assert len(fixed.recorder.calls) == 3


@pytest.mark.parametrize(
    ("task_filter", "expected"),
    [
        ({"processName": ["BookingRoom"]}, ["t2", "t3"]),
        ({"processName": ["LeaveRequest", "BookingRoom"]}, ["t1", "t5", "t2", "t3"]),
        ({"processName": []}, []),
        ({"name": ["Choose Room", "Submit"]}, ["t5", "t2"]),
        ({"definitionId": ["Approve"]}, ["t1"]),
        ({"status": "CLAIMED"}, ["t5", "t2"]),
        ({"status": "READY"}, ["t1", "t4", "t3"]),
        ({"assignee": "ann"}, ["t5", "t2"]),
        ({"assignee": "bob"}, []),
        ({"unassigned": True}, ["t1", "t4", "t3"]),
        ({"unassigned": False}, ["t5", "t2"]),
        ({"candidateGroup": "Clerk"}, ["t2", "t3"]),
        ({"createdAfter": _iso(_at(2))}, ["t2"]),
        ({"createdAfter": _iso(_at(2) - 1, hours=7)}, ["t4", "t5", "t2"]),
        ({"createdBefore": _iso(_at(2), naive=True)}, ["t1"]),
        ({"createdBefore": _iso(_at(2) + 1, hours=-5)}, ["t1", "t4", "t5"]),
        ({"dueAfter": _iso(_at(2))}, ["t1", "t4"]),
        ({"dueBefore": _iso(_at(5))}, ["t3"]),
        ({"dueAfter": _iso(_at(1)), "dueBefore": _iso(_at(9))}, ["t1", "t3"]),
        ({"priorityAtLeast": 50}, ["t1", "t5", "t3"]),
        ({"search": "room"}, ["t1", "t4", "t2"]),
        ({"search": "CUSTOMER"}, ["t3"]),
        ({"processName": ["BookingRoom"], "unassigned": True}, ["t3"]),
    ],
)
async def test_each_filter_keeps_what_it_says(
    fixed: Fixed, task_filter: dict[str, Any], expected: list[str]
) -> None:
    page = await fixed.page(filter=task_filter)
    assert [node["id"] for node in page["nodes"]] == expected
    assert page["totalCount"] == len(expected)
    assert len(fixed.recorder.calls) == 3


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([{"field": "CREATED_AT", "direction": "DESC"}], ["t2", "t4", "t5", "t1", "t3"]),
        ([{"field": "DUE_AT"}], ["t3", "t1", "t4", "t2", "t5"]),
        ([{"field": "DUE_AT", "direction": "DESC"}], ["t4", "t1", "t3", "t2", "t5"]),
        ([{"field": "PRIORITY"}], ["t4", "t3", "t5", "t1", "t2"]),
        ([{"field": "PRIORITY", "direction": "DESC"}], ["t1", "t3", "t5", "t4", "t2"]),
        ([{"field": "NAME"}], ["t3", "t1", "t2", "t5", "t4"]),
        ([{"field": "NAME", "direction": "DESC"}], ["t5", "t2", "t1", "t3", "t4"]),
        (
            [{"field": "PROCESS_NAME"}, {"field": "CREATED_AT", "direction": "DESC"}],
            ["t2", "t3", "t5", "t1", "t4"],
        ),
        ([{"field": "PROCESS_NAME", "direction": "DESC"}], ["t1", "t5", "t2", "t3", "t4"]),
        ([], ["t1", "t4", "t5", "t2", "t3"]),
    ],
)
async def test_each_order_sorts_with_nulls_last(
    fixed: Fixed, order_by: list[dict[str, str]], expected: list[str]
) -> None:
    assert await fixed.ids(orderBy=order_by) == expected


@pytest.mark.parametrize(
    "order_by",
    [
        None,
        [{"field": "DUE_AT", "direction": "DESC"}],
        [{"field": "PRIORITY"}, {"field": "NAME", "direction": "DESC"}],
        [{"field": "PROCESS_NAME"}],
    ],
)
async def test_pages_walked_with_cursors_make_the_whole_list(
    fixed: Fixed, order_by: list[dict[str, str]] | None
) -> None:
    whole = await fixed.ids(orderBy=order_by)
    walked: list[str] = []
    after = None
    while True:
        page = await fixed.page(orderBy=order_by, first=2, after=after)
        assert page["totalCount"] == 5
        assert len(fixed.recorder.calls) == 3  # every page costs the same listings
        walked.extend(node["id"] for node in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == whole


async def test_a_filtered_page_counts_the_filtered_list(fixed: Fixed) -> None:
    page = await fixed.page(filter={"unassigned": True}, first=1)
    assert page["totalCount"] == 3
    assert [node["id"] for node in page["nodes"]] == ["t1"]
    assert page["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    "changed",
    [
        {"filter": {"search": "room"}},
        {"orderBy": [{"field": "CREATED_AT", "direction": "DESC"}]},
        {"filter": {"unassigned": False}, "orderBy": [{"field": "PRIORITY"}]},
    ],
)
async def test_a_cursor_reused_with_another_filter_or_order_is_bad_input(
    fixed: Fixed, changed: dict[str, Any]
) -> None:
    cursor = (await fixed.page(first=2))["pageInfo"]["endCursor"]
    error = await fixed.error(first=2, after=cursor, **changed)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "filter or order" in error["message"]


async def test_a_cursor_works_with_the_same_filter_and_order_spelled_again(fixed: Fixed) -> None:
    spelled = {"filter": {"unassigned": True}, "orderBy": [{"field": "NAME", "direction": "ASC"}]}
    cursor = (await fixed.page(first=1, **spelled))["pageInfo"]["endCursor"]
    defaulted = {"filter": {"unassigned": True}, "orderBy": [{"field": "NAME"}]}
    assert await fixed.ids(first=5, after=cursor, **defaulted) == ["t1", "t4"]


async def test_a_groups_tasks_take_the_same_filter_and_order(fixed: Fixed) -> None:
    # A group's listing is what the upstream says, claimed tasks included.
    assert await fixed.ids(GROUP) == ["t6", "t2", "t3"]
    order = [{"field": "DUE_AT"}]
    assert await fixed.ids(GROUP, filter={"assignee": "bob"}) == ["t6"]
    assert await fixed.ids(GROUP, orderBy=order) == ["t3", "t2", "t6"]
    first = await fixed.page(GROUP, orderBy=order, first=2)
    assert len(fixed.recorder.calls) == 1
    rest = await fixed.ids(GROUP, orderBy=order, after=first["pageInfo"]["endCursor"])
    assert rest == ["t6"]
    error = await fixed.error(GROUP, after=first["pageInfo"]["endCursor"])
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
