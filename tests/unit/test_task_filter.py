"""``select`` filters and orders exactly as a plain reference does, over generated task lists;
pages walked with cursors give the whole selection back."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.errors import BadInput
from backend.models import Task
from resolvers.inbox import belongs_to, merge_listings
from resolvers.pagination import paginate
from resolvers.principal import Principal
from resolvers.task_filter import TaskFilter, TaskOrder, TaskOrdering, select

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
FIELDS = ["CREATED_AT", "DUE_AT", "PRIORITY", "NAME", "PROCESS_NAME"]

# Small domains, so that ties, nulls and matches are common.
names = st.sampled_from([None, "Approve", "approve", "Review", "b", ""])
processes = st.sampled_from([None, "Leave", "leave", "Booking"])
users = st.sampled_from([None, "ann", "bob"])
groups = st.sampled_from(["Clerk", "Manager", "HR"])
times = st.one_of(st.none(), st.integers(min_value=0, max_value=4))


@st.composite
def task_lists(draw: st.DrawFn) -> list[Task]:
    ids = draw(
        st.lists(st.text("abcdef", min_size=1, max_size=3), unique=True, min_size=1, max_size=12)
    )
    tasks = []
    for task_id in ids:
        assignee = draw(users)
        tasks.append(
            Task(
                id=task_id,
                instance_id="i-" + task_id,
                name=draw(names),
                definition_id=draw(st.sampled_from([None, "A", "B"])),
                process_name=draw(processes),
                assignee=assignee,
                description=draw(st.sampled_from([None, "Needs a ROOM", "later", ""])),
                priority=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2))),
                create_time=draw(times),
                due_date=draw(times),
                candidate_groups=tuple(draw(st.lists(groups, unique=True, max_size=2))),
                status="READY" if assignee is None else "CLAIMED",
            )
        )
    return tasks


# Bounds a few microseconds off whole milliseconds, some with an offset, some naive (UTC).
instants = st.one_of(
    st.none(),
    st.builds(
        lambda ms, extra, hours, naive: (
            (EPOCH + timedelta(milliseconds=ms) + extra * MICROSECOND).replace(tzinfo=None)
            if naive
            else (EPOCH + timedelta(milliseconds=ms) + extra * MICROSECOND).astimezone(
                timezone(timedelta(hours=hours))
            )
        ),
        st.integers(min_value=0, max_value=4),
        st.sampled_from([0, 1, 999]),
        st.integers(min_value=-12, max_value=12),
        st.booleans(),
    ),
)
#: A value for each filter field; a filter sets a few of them, so that it keeps some tasks.
FILTER_VALUES: dict[str, st.SearchStrategy[object]] = {
    "process_name": st.lists(processes.filter(bool), max_size=2).map(tuple),
    "name": st.lists(names.filter(lambda n: n is not None), max_size=2).map(tuple),
    "definition_id": st.sampled_from([("A",), ("A", "B"), ()]),
    "status": st.sampled_from(["READY", "CLAIMED", "COMPLETED"]),
    "assignee": users.filter(bool),
    "unassigned": st.booleans(),
    "candidate_group": groups,
    "created_after": instants.filter(bool),
    "created_before": instants.filter(bool),
    "due_after": instants.filter(bool),
    "due_before": instants.filter(bool),
    "priority_at_least": st.integers(min_value=0, max_value=3),
    "search": st.sampled_from(["", "room", "APP", "x", "Later"]),
}


@st.composite
def some_filters(draw: st.DrawFn) -> TaskFilter | None:
    chosen = draw(
        st.none() | st.sets(st.sampled_from(sorted(FILTER_VALUES)), min_size=1, max_size=2)
    )
    if chosen is None:
        return None
    return TaskFilter(**{name: draw(FILTER_VALUES[name]) for name in sorted(chosen)})  # type: ignore[arg-type]


filters = some_filters()
orders = st.lists(
    st.builds(TaskOrder, field=st.sampled_from(FIELDS), descending=st.booleans()), max_size=3
)


def _micros(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - EPOCH) // MICROSECOND


def _reference_matches(task: Task, f: TaskFilter) -> bool:
    """The filter's documented meaning, written out field by field."""
    if f.process_name is not None and task.process_name not in f.process_name:
        return False
    if f.name is not None and task.name not in f.name:
        return False
    if f.definition_id is not None and task.definition_id not in f.definition_id:
        return False
    if f.status is not None and task.status != f.status:
        return False
    if f.assignee is not None and task.assignee != f.assignee:
        return False
    if f.unassigned is True and task.assignee is not None:
        return False
    if f.unassigned is False and task.assignee is None:
        return False
    if f.candidate_group is not None and f.candidate_group not in task.candidate_groups:
        return False
    for value, after, before in (
        (task.create_time, f.created_after, f.created_before),
        (task.due_date, f.due_after, f.due_before),
    ):
        if after is not None and (value is None or value * 1000 <= _micros(after)):
            return False
        if before is not None and (value is None or value * 1000 >= _micros(before)):
            return False
    if f.priority_at_least is not None and (
        task.priority is None or task.priority < f.priority_at_least
    ):
        return False
    if f.search is not None:
        texts = [t.lower() for t in (task.name, task.description) if t is not None]
        if not any(f.search.lower() in text for text in texts):
            return False
    return True


def _reference_value(task: Task, field: str) -> int | str | None:
    return {
        "CREATED_AT": task.create_time,
        "DUE_AT": task.due_date,
        "PRIORITY": task.priority,
        "NAME": task.name,
        "PROCESS_NAME": task.process_name,
    }[field]


def _reference_before(a: Task, b: Task, order: list[TaskOrder]) -> bool:
    """Whether ``a`` goes before ``b``: the first term where they differ decides; a task
    without the value goes after one with it; the smaller id goes first."""
    for term in order or [TaskOrder("CREATED_AT")]:
        x, y = _reference_value(a, term.field), _reference_value(b, term.field)
        if x == y:
            continue
        if x is None or y is None:
            return y is None
        if isinstance(x, str) and isinstance(y, str) and x.lower() != y.lower():
            x, y = x.lower(), y.lower()
        return bool(x > y) if term.descending else bool(x < y)  # type: ignore[operator]
    return a.id < b.id


def _reference_select(
    tasks: list[Task], f: TaskFilter | None, order: list[TaskOrder]
) -> list[Task]:
    """Filter, then insert each task before the first one it goes before."""
    result: list[Task] = []
    for task in tasks:
        if f is not None and not _reference_matches(task, f):
            continue
        at = next(
            (i for i, other in enumerate(result) if _reference_before(task, other, order)),
            len(result),
        )
        result.insert(at, task)
    return result


@pytest.mark.parametrize("field", sorted(FILTER_VALUES))
@settings(max_examples=30, deadline=None)
@given(tasks=task_lists(), data=st.data())
def test_each_filter_field_agrees_with_the_reference(
    field: str, tasks: list[Task], data: st.DataObject
) -> None:
    f = TaskFilter(**{field: data.draw(FILTER_VALUES[field])})  # type: ignore[arg-type]
    ours = select(tasks, filter=f, order=None)
    assert [t.id for t in ours] == [t.id for t in _reference_select(tasks, f, [])]


@settings(max_examples=150, deadline=None)
@given(tasks=task_lists(), f=filters, order=orders)
def test_select_agrees_with_the_reference(
    tasks: list[Task], f: TaskFilter | None, order: list[TaskOrder]
) -> None:
    ours = select(tasks, filter=f, order=order)
    assert [t.id for t in ours] == [t.id for t in _reference_select(tasks, f, order)]


@settings(max_examples=150, deadline=None)
@given(tasks=task_lists(), f=filters, order=orders, size=st.integers(min_value=1, max_value=5))
def test_pages_concatenated_are_the_whole_selection(
    tasks: list[Task], f: TaskFilter | None, order: list[TaskOrder], size: int
) -> None:
    ordering = TaskOrdering.of(f, order)
    selected = select(tasks, filter=f, order=ordering.order)
    seen: list[str] = []
    after = None
    while True:
        page = paginate(selected, first=size, after=after, ordering=ordering)
        assert page.total_count == len(selected)
        seen.extend(task.id for task in page.nodes)
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == [task.id for task in selected]


@settings(max_examples=50, deadline=None)
@given(tasks=task_lists(), order=orders, data=st.data())
def test_a_page_after_a_removed_task_starts_where_it_would_have(
    tasks: list[Task], order: list[TaskOrder], data: st.DataObject
) -> None:
    ordering = TaskOrdering.of(None, order)
    selected = select(tasks, filter=None, order=ordering.order)
    if not selected:
        return
    cut = data.draw(st.integers(min_value=0, max_value=len(selected) - 1))
    cursor = paginate(selected, first=cut + 1, after=None, ordering=ordering).end_cursor
    # The task the cursor points at is completed before the next page is asked for.
    remaining = selected[:cut] + selected[cut + 1 :]
    page = paginate(remaining, first=None, after=cursor, ordering=ordering)
    assert [t.id for t in page.nodes] == [t.id for t in selected[cut + 1 :]]


def test_default_order_is_oldest_first_then_id_with_undated_last() -> None:
    tasks = [
        Task(id="c", instance_id="i", create_time=None),
        Task(id="b", instance_id="i", create_time=5),
        Task(id="a", instance_id="i", create_time=5),
        Task(id="d", instance_id="i", create_time=1),
    ]
    assert [t.id for t in select(tasks, filter=None, order=())] == ["d", "a", "b", "c"]


def test_nulls_come_last_when_descending_too() -> None:
    tasks = [
        Task(id="a", instance_id="i", priority=None),
        Task(id="b", instance_id="i", priority=10),
        Task(id="c", instance_id="i", priority=90),
    ]
    ordered = select(tasks, filter=None, order=[TaskOrder("PRIORITY", descending=True)])
    assert [t.id for t in ordered] == ["c", "b", "a"]


@pytest.mark.parametrize(
    ("other_filter", "other_order"),
    [
        (TaskFilter(search="room"), ()),
        (None, (TaskOrder("CREATED_AT", descending=True),)),
        (None, (TaskOrder("NAME"),)),
    ],
)
def test_a_cursor_from_another_filter_or_order_is_bad_input(
    other_filter: TaskFilter | None, other_order: tuple[TaskOrder, ...]
) -> None:
    tasks = [Task(id=str(n), instance_id="i", create_time=n, name="x") for n in range(3)]
    cursor = paginate(tasks, first=1, after=None, ordering=TaskOrdering.of(None, ())).end_cursor
    with pytest.raises(BadInput, match="another filter or order"):
        paginate(tasks, first=1, after=cursor, ordering=TaskOrdering.of(other_filter, other_order))


def test_the_default_order_spelled_out_shares_cursors_with_no_order() -> None:
    tasks = [Task(id=str(n), instance_id="i", create_time=n) for n in range(3)]
    cursor = paginate(tasks, first=1, after=None, ordering=TaskOrdering.of(None, ())).end_cursor
    spelled = TaskOrdering.of(TaskFilter(), [TaskOrder("CREATED_AT")])
    assert [t.id for t in paginate(tasks, first=None, after=cursor, ordering=spelled).nodes] == [
        "1",
        "2",
    ]


def test_merge_listings_keeps_each_task_once_where_it_first_appears() -> None:
    a, b, c = (Task(id=x, instance_id="i") for x in "abc")
    b_again = Task(id="b", instance_id="i", assignee="ann")
    assert merge_listings([[a, b], [b_again, c], []]) == [a, b, c]


def test_a_task_held_by_someone_else_is_not_in_the_inbox() -> None:
    ann = Principal("ann", groups=("Clerk",))
    assert belongs_to(Task(id="t", instance_id="i"), ann)
    assert belongs_to(Task(id="t", instance_id="i", assignee="ann"), ann)
    assert not belongs_to(Task(id="t", instance_id="i", assignee="bob"), ann)


@pytest.mark.parametrize(
    "position",
    [
        [],  # too short
        ["1"],  # a string where the creation time goes
        [True, "1"],  # a boolean is no timestamp
        [1, 2],  # the id must be a string
        [1, "1", "extra"],  # too long
    ],
)
def test_a_forged_cursor_in_the_right_scope_is_bad_input(position: list[object]) -> None:
    ordering = TaskOrdering.of(None, ())
    forged = base64.urlsafe_b64encode(
        orjson.dumps({"v": 1, "s": ordering.scope, "p": position})
    ).decode()
    tasks = [Task(id="1", instance_id="i", create_time=1)]
    with pytest.raises(BadInput, match="invalid cursor"):
        paginate(tasks, first=1, after=forged, ordering=ordering)


def test_timestamps_past_64_bits_filter_sort_and_page_exactly() -> None:
    far = 10**30
    tasks = [
        Task(id="far", instance_id="i", create_time=far),
        Task(id="now", instance_id="i", create_time=1),
    ]
    after = EPOCH + timedelta(days=365 * 1000)
    kept = select(tasks, filter=TaskFilter(created_after=after), order=None)
    assert [t.id for t in kept] == ["far"]
    ordering = TaskOrdering.of(None, [TaskOrder("CREATED_AT", descending=True)])
    cursor = paginate(
        select(tasks, filter=None, order=ordering.order), first=1, after=None, ordering=ordering
    ).end_cursor
    rest = paginate(
        select(tasks, filter=None, order=ordering.order), first=1, after=cursor, ordering=ordering
    )
    assert [t.id for t in rest.nodes] == ["now"]
