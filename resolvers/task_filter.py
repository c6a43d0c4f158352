"""Filtering and ordering a task list the upstream returns whole and unsorted.

ONEWEB's task listings take no filter and no sort, so the facade applies both to the
fetched list. Everything here is pure: the same filter and order give the same list for
queries, pages and live updates.

    select(tasks, filter=TaskFilter(process_name=("BookingRoom",)), order=[TaskOrder("DUE_AT")])
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from backend.models import Task

__all__ = [
    "DEFAULT_ORDER",
    "OrderField",
    "Position",
    "TaskFilter",
    "TaskOrder",
    "TaskOrdering",
    "compare_positions",
    "effective_order",
    "position",
    "select",
]

#: What a task list can be ordered by.
OrderField = Literal["CREATED_AT", "DUE_AT", "PRIORITY", "NAME", "PROCESS_NAME"]
#: Where a task sits in an order: the value of each order field (None where the task has
#: none), then the task's id.
Position = tuple[int | str | None, ...]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NUMERIC_FIELDS: Final = frozenset({"CREATED_AT", "DUE_AT", "PRIORITY"})


def _epoch_us(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (an upstream's milliseconds times 1,000 compare
    with it without rounding or overflow)."""
    return (_aware(moment) - _EPOCH) // timedelta(microseconds=1)


def _aware(moment: datetime) -> datetime:
    """A datetime without an offset is taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """Which tasks to keep; every field that is not None must hold (they are ANDed).

    List fields match any of their values (an empty list matches nothing). Date bounds are
    exclusive and compare instants (a bound without an offset is UTC); a task without the
    date, priority or assignee a field tests does not match that field. ``search`` is a
    case-insensitive substring of the task's name or description.

    >>> TaskFilter(unassigned=True, priority_at_least=50).matches(task)
    True
    """

    process_name: tuple[str, ...] | None = None
    name: tuple[str, ...] | None = None
    definition_id: tuple[str, ...] | None = None
    status: str | None = None
    assignee: str | None = None
    unassigned: bool | None = None
    candidate_group: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    due_after: datetime | None = None
    due_before: datetime | None = None
    priority_at_least: int | None = None
    search: str | None = None

    def matches(self, task: Task) -> bool:
        """Whether ``task`` passes every condition this filter sets."""
        return all(check(task) for check in self._checks())

    def _checks(self) -> Iterable[Callable[[Task], bool]]:
        if self.process_name is not None:
            yield lambda task: task.process_name in self.process_name  # type: ignore[operator]
        if self.name is not None:
            yield lambda task: task.name in self.name  # type: ignore[operator]
        if self.definition_id is not None:
            yield lambda task: task.definition_id in self.definition_id  # type: ignore[operator]
        if self.status is not None:
            yield lambda task: task.status == self.status
        if self.assignee is not None:
            yield lambda task: task.assignee == self.assignee
        if self.unassigned is not None:
            yield lambda task: (task.assignee is None) is self.unassigned
        if self.candidate_group is not None:
            yield lambda task: self.candidate_group in task.candidate_groups
        yield from _time_checks("create_time", self.created_after, self.created_before)
        yield from _time_checks("due_date", self.due_after, self.due_before)
        if self.priority_at_least is not None:
            floor = self.priority_at_least
            yield lambda task: task.priority is not None and task.priority >= floor
        if self.search is not None:
            needle = self.search.casefold()
            yield lambda task: any(
                text is not None and needle in text.casefold()
                for text in (task.name, task.description)
            )

    def fingerprint(self) -> str:
        """A canonical text of the conditions set, equal for equal filters."""
        parts = []
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is None:
                continue
            if isinstance(value, datetime):
                value = _aware(value).astimezone(UTC).isoformat()
            parts.append(f"{spec.name}={value!r}")
        return ";".join(parts)


def _time_checks(
    attribute: str, after: datetime | None, before: datetime | None
) -> Iterable[Callable[[Task], bool]]:
    if after is not None:
        lower = _epoch_us(after)

        def is_after(task: Task) -> bool:
            value: int | None = getattr(task, attribute)
            return value is not None and value * 1000 > lower

        yield is_after
    if before is not None:
        upper = _epoch_us(before)

        def is_before(task: Task) -> bool:
            value: int | None = getattr(task, attribute)
            return value is not None and value * 1000 < upper

        yield is_before


@dataclass(frozen=True, slots=True)
class TaskOrder:
    """One term of an order: a field and its direction.

    >>> TaskOrder("DUE_AT", descending=True)
    """

    field: OrderField
    descending: bool = False


#: Oldest first.
DEFAULT_ORDER: Final = (TaskOrder("CREATED_AT"),)


def effective_order(order: Sequence[TaskOrder] | None) -> tuple[TaskOrder, ...]:
    """The order a list is sorted by: the given terms, or the default where none are given."""
    return tuple(order) if order else DEFAULT_ORDER


def _value(task: Task, field: OrderField) -> int | str | None:
    if field == "CREATED_AT":
        return task.create_time
    if field == "DUE_AT":
        return task.due_date
    if field == "PRIORITY":
        return task.priority
    if field == "NAME":
        return task.name
    return task.process_name


def position(task: Task, order: Sequence[TaskOrder]) -> Position:
    """Where ``task`` sits in ``order``: each term's value, then its id (the last tie-break)."""
    return (*(_value(task, term.field) for term in order), task.id)


def _compare_values(a: int | str, b: int | str) -> int:
    if isinstance(a, str) and isinstance(b, str):
        # Names sort as people read them (case-insensitive), exact text breaking ties.
        a_key, b_key = (a.casefold(), a), (b.casefold(), b)
        return (a_key > b_key) - (a_key < b_key)
    return (a > b) - (a < b)  # type: ignore[operator]


def compare_positions(a: Position, b: Position, order: Sequence[TaskOrder]) -> int:
    """-1, 0 or 1 as ``a`` sorts before, with or after ``b`` in ``order``.

    Nulls sort last in either direction; ids break ties, ascending.
    """
    for term, x, y in zip(order, a, b, strict=False):
        if x is None or y is None:
            if x is None and y is None:
                continue
            return 1 if x is None else -1
        result = _compare_values(x, y)
        if result:
            return -result if term.descending else result
    a_id, b_id = str(a[-1]), str(b[-1])
    return (a_id > b_id) - (a_id < b_id)


def _sort_key(field: OrderField) -> Callable[[Task], Any]:
    def key(task: Task) -> Any:
        value = _value(task, field)
        return (value.casefold(), value) if isinstance(value, str) else value

    return key


def select(
    tasks: Iterable[Task], *, filter: TaskFilter | None, order: Sequence[TaskOrder] | None
) -> list[Task]:
    """The tasks that pass ``filter``, sorted by ``order`` (default: oldest first), then id.

    The same order as ``compare_positions``, by stable sorts from the last term to the
    first (with plain keys: several times faster than one sort through a comparison).
    """
    result = sorted(
        (task for task in tasks if filter is None or filter.matches(task)),
        key=lambda task: task.id,
    )
    for term in reversed(effective_order(order)):
        present = [task for task in result if _value(task, term.field) is not None]
        absent = [task for task in result if _value(task, term.field) is None]
        # reverse=True keeps equal tasks in their order: sorting stays stable.
        present.sort(key=_sort_key(term.field), reverse=term.descending)
        result = present + absent
    return result


@dataclass(frozen=True, slots=True)
class TaskOrdering:
    """A filter and an order as cursors see them: a scope that names them, a task's
    position, a comparison of positions, and a check of a position read from a cursor."""

    filter: TaskFilter | None
    order: tuple[TaskOrder, ...]

    @classmethod
    def of(cls, filter: TaskFilter | None, order: Sequence[TaskOrder] | None) -> TaskOrdering:
        """The ordering of a list selected with this filter and order."""
        return cls(filter, effective_order(order))

    @property
    def scope(self) -> str:
        """A short hash of the filter and the order; a cursor is valid only in its scope."""
        terms = ",".join(f"{t.field}:{'DESC' if t.descending else 'ASC'}" for t in self.order)
        conditions = self.filter.fingerprint() if self.filter is not None else ""
        return hashlib.sha256(f"{conditions}|{terms}".encode()).hexdigest()[:16]

    def position(self, task: Task) -> Position:
        return position(task, self.order)

    def compare(self, a: Position, b: Position) -> int:
        return compare_positions(a, b, self.order)

    def is_valid(self, candidate: Sequence[object]) -> bool:
        """Whether ``candidate`` has the shape of a position in this order."""
        if len(candidate) != len(self.order) + 1 or not isinstance(candidate[-1], str):
            return False
        for term, value in zip(self.order, candidate, strict=False):
            if value is None:
                continue
            if term.field in _NUMERIC_FIELDS:
                if isinstance(value, bool) or not isinstance(value, int):
                    return False
            elif not isinstance(value, str):
                return False
        return True
