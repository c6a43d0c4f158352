"""What the runtime tells ``on_change`` after each committed operation: the task listings
it changed, so that a live inbox in the same process re-polls exactly those."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.embedded.runtime import Runtime
from backend.errors import Conflict


class Told(list[frozenset[tuple[str, str]]]):
    def __call__(self, keys: frozenset[tuple[str, str]]) -> None:
        self.append(keys)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(db_path=tmp_path / "runtime.sqlite3")
    yield runtime
    runtime.close()


def booking_task(runtime: Runtime) -> str:
    instance_id = runtime.start("BookingRoom", data={})
    (task,) = runtime.instance_tasks(instance_id)
    return str(task["id"])


def test_each_operation_names_the_listings_it_changed(runtime: Runtime) -> None:
    runtime.on_change = told = Told()
    task_id = booking_task(runtime)
    runtime.claim(task_id, user="bob")
    runtime.unclaim(task_id, user="bob")
    runtime.assign(task_id, users=["ann"])
    runtime.complete(task_id, user="ann", variables={"roomBooked": False})
    assert told == [
        {("group", "Clerk")},  # start: the new task is offered to Clerk
        {("group", "Clerk"), ("user", "bob")},
        {("group", "Clerk"), ("user", "bob")},
        {("group", "Clerk"), ("user", "ann")},
        # completed by ann (a candidate), and AddCustomerDetails offered to Clerk
        {("group", "Clerk"), ("user", "ann")},
    ]


def test_a_refused_or_idle_operation_names_nothing(runtime: Runtime) -> None:
    task_id = booking_task(runtime)
    runtime.claim(task_id, user="bob")
    runtime.on_change = told = Told()
    with pytest.raises(Conflict):
        runtime.claim(task_id, user="ann")
    runtime.claim(task_id, user="bob")  # already bob's: nothing changed
    assert told == []


def test_a_failing_listener_does_not_undo_or_fail_the_operation(runtime: Runtime) -> None:
    def broken(keys: frozenset[tuple[str, str]]) -> None:
        raise RuntimeError("listener bug")

    runtime.on_change = broken
    task_id = booking_task(runtime)
    runtime.claim(task_id, user="bob")
    assert runtime.tasks_for("user", "bob")[0]["assignee"] == "bob"
