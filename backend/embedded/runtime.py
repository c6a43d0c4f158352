"""The operations of the embedded ONEWEB runtime: start, claim, unclaim, complete, assign,
list tasks, read variables, refresh definitions.

Each operation is one SQLite transaction and runs to its end without yielding to the event
loop, so the operations on an instance are serialized; the workflow is read from the store
and written back in the same transaction, so the database is the only truth and a failed
operation leaves nothing behind. Refusals raise the domain errors of ``backend.errors``
(``NotFound``, ``Conflict``, ``Forbidden``, ``BadInput``).

    runtime = Runtime(db_path=Path("runtime.sqlite3"))
    instance_id = runtime.start("BookingRoom", data={"roomBooked": False})
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

from backend.embedded.definitions import BUNDLED_PROCESSES_DIR, Definitions
from backend.embedded.engine import Engine, ProcessError, ReadyTask
from backend.embedded.store import (
    InstanceRow,
    NewTask,
    Store,
    TaskRow,
    Transaction,
)
from backend.errors import BadInput, Conflict, Forbidden, NotFound
from backend.models import Task, now_ms

__all__ = ["DEFAULT_PRIORITY", "SYSTEM_USER", "OnChange", "Principal", "Runtime", "task_to_wire"]

#: ``priority`` of every task: ONEWEB's default.
DEFAULT_PRIORITY: Final = 50
#: ``createBy`` of every task: the engine created it.
SYSTEM_USER: Final = "system"

_log = logging.getLogger(__name__)

#: Who a task listing is for.
Principal = Literal["user", "role", "group"]
#: Told the task listings an operation changed, once it is committed.
OnChange = Callable[[frozenset[tuple[Principal, str]]], None]


def _listings(rows: Iterable[TaskRow]) -> set[tuple[Principal, str]]:
    """The listings that show these tasks: their assignees' and their candidates'."""
    keys: set[tuple[Principal, str]] = set()
    for row in rows:
        keys.update(("user", user) for user in row.candidate_users)
        keys.update(("group", group) for group in row.candidate_groups)
        keys.update(("role", role) for role in row.candidate_roles)
        if row.assignee:
            keys.add(("user", row.assignee))
    return keys


def _offered(tasks: Iterable[NewTask]) -> set[tuple[Principal, str]]:
    return {("group", group) for task in tasks for group in task.candidate_groups}


def task_to_wire(row: TaskRow) -> dict[str, Any]:
    """The task object of docs/runtime.md, plus ``appName`` and ``snapVersion`` of its start."""
    wire = Task(
        id=row.id,
        instance_id=row.instance_id,
        name=row.name,
        definition_id=row.definition_id,
        process_name=row.process_name,
        assignee=row.assignee,
        priority=DEFAULT_PRIORITY,
        created_by=SYSTEM_USER,
        create_time=row.create_time,
        candidate_users=row.candidate_users,
        candidate_groups=row.candidate_groups,
        candidate_roles=row.candidate_roles,
        status=row.status,
    ).to_wire()
    wire["appName"] = row.app_name
    wire["snapVersion"] = row.snap_version
    return wire


def _new_tasks(ready: Sequence[ReadyTask]) -> list[NewTask]:
    return [
        NewTask(
            id=task.id,
            definition_id=task.definition_id,
            name=task.name,
            candidate_groups=(task.lane,) if task.lane else (),
        )
        for task in ready
    ]


def _open_task(tx: Transaction, task_id: str) -> TaskRow:
    row = tx.task(task_id)
    if row is None:
        raise NotFound(f"unknown task {task_id!r}")
    if not row.is_open:
        raise Conflict(f"task {task_id!r} is already completed")
    return row


class Runtime:
    """One embedded runtime: its definitions, its engine and its store.

    ``processes_dir`` defaults to the bundled samples. Opens the database at once;
    ``close()`` is idempotent. ``on_change``, where set, is told after each committed
    operation which task listings it changed (a live inbox in the same process re-polls them).
    """

    on_change: OnChange | None = None

    def __init__(self, *, db_path: Path, processes_dir: Path | None = None) -> None:
        self.definitions = Definitions(directory=processes_dir or BUNDLED_PROCESSES_DIR)
        if self.definitions.last_report.broken:
            _log.warning("process definitions: %s", self.definitions.last_report.message())
        self.engine = Engine()
        self.store = Store(db_path)

    def close(self) -> None:
        """Close the database; safe to call more than once."""
        self.store.close()

    def _changed(self, keys: Iterable[tuple[Principal, str]]) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(frozenset(keys))
        except Exception:  # the change is committed: a listener's failure is not the caller's
            _log.exception("on_change failed")

    # -- instances -----------------------------------------------------------------------

    def start(
        self,
        process_name: str,
        *,
        data: Mapping[str, Any],
        app_name: str | None = None,
        snap_version: str | None = None,
        unique_id: str | None = None,
    ) -> str:
        """Start an instance of ``process_name`` with ``data``; returns its id."""
        definition = self.definitions.get(process_name)
        if definition is None:
            raise NotFound(f"unknown process {process_name!r}")
        try:
            workflow = self.engine.start(definition, data)
        except ProcessError as error:
            raise BadInput(f"cannot start {process_name!r}: {error.message}") from error
        instance_id = str(uuid.uuid4())
        now = now_ms()
        with self.store.transaction() as tx:
            tx.insert_instance(
                InstanceRow(
                    id=instance_id,
                    process_name=process_name,
                    app_name=app_name,
                    snap_version=snap_version,
                    unique_id=unique_id,
                    data=dict(data),
                    workflow=self.engine.dumps(workflow),
                    completed=self.engine.is_completed(workflow),
                    create_time=now,
                )
            )
            ready = _new_tasks(self.engine.ready_tasks(workflow))
            tx.insert_tasks(instance_id, process_name, ready, now=now)
        self._changed(_offered(ready))
        return instance_id

    def instance_tasks(self, instance_id: str) -> list[dict[str, Any]]:
        """The open tasks of an instance (none once it has ended)."""
        with self.store.transaction(write=False) as tx:
            if tx.instance(instance_id) is None:
                raise NotFound(f"unknown instance {instance_id!r}")
            return [task_to_wire(row) for row in tx.open_tasks_of_instance(instance_id)]

    def assign_instance(self, instance_id: str, *, user: str) -> None:
        """Make ``user`` the one candidate user of every open task of an instance."""
        with self.store.transaction() as tx:
            if tx.instance(instance_id) is None:
                raise NotFound(f"unknown instance {instance_id!r}")
            rows = tx.open_tasks_of_instance(instance_id)
            tx.set_candidate_users([row.id for row in rows], [user])
        self._changed({*_listings(rows), ("user", user)})

    # -- tasks ---------------------------------------------------------------------------

    def tasks_for(self, principal: Principal, name: str) -> list[dict[str, Any]]:
        """Open tasks of a user (assigned, or offered while unassigned), a role or a group."""
        with self.store.transaction(write=False) as tx:
            if principal == "user":
                rows = tx.open_tasks_of_user(name)
            elif principal == "role":
                rows = tx.open_tasks_offered_to("candidate_roles", name)
            else:
                rows = tx.open_tasks_offered_to("candidate_groups", name)
            return [task_to_wire(row) for row in rows]

    def claim(self, task_id: str, *, user: str) -> None:
        """Claim an open task for ``user``; claiming one's own task again is fine."""
        with self.store.transaction() as tx:
            if not tx.claim(task_id, user):
                row = _open_task(tx, task_id)
                if row.assignee != user:
                    raise Conflict(f"task {task_id!r} is already claimed by {row.assignee!r}")
                return  # already the user's: nothing changed
            claimed = tx.task(task_id)
        self._changed(_listings([claimed] if claimed else []))

    def unclaim(self, task_id: str, *, user: str) -> None:
        """Release ``user``'s claim on a task; it is READY again."""
        with self.store.transaction() as tx:
            if not tx.unclaim(task_id, user):
                row = _open_task(tx, task_id)
                if row.assignee is None:
                    raise Conflict(f"task {task_id!r} is not claimed")
                raise Forbidden(f"task {task_id!r} is claimed by {row.assignee!r}, not by {user!r}")
            released = tx.task(task_id)
        self._changed({*_listings([released] if released else []), ("user", user)})

    def assign(self, task_id: str, *, users: Sequence[str]) -> None:
        """Make ``users`` exactly the candidate users of an open task (does not claim it)."""
        if not users:
            raise BadInput("assign needs at least one user")
        with self.store.transaction() as tx:
            row = _open_task(tx, task_id)
            tx.set_candidate_users([task_id], users)
        self._changed({*_listings([row]), *(("user", user) for user in users)})

    def variables(self, task_id: str) -> dict[str, Any]:
        """The data of a task's instance: the start object merged with every completion."""
        with self.store.transaction(write=False) as tx:
            row = tx.task(task_id)
            if row is None:
                raise NotFound(f"unknown task {task_id!r}")
            instance = tx.instance(row.instance_id)
            if instance is None:
                raise NotFound(f"unknown instance {row.instance_id!r} of task {task_id!r}")
            return instance.data

    def complete(self, task_id: str, *, user: str, variables: Mapping[str, Any]) -> None:
        """Complete a task as ``user``, merging ``variables`` into the instance data.

        An unassigned task is claimed and completed in one step. When the process cannot go
        on with the merged data (a gateway condition fails), nothing is written: ``BadInput``.
        """
        with self.store.transaction() as tx:
            row = _open_task(tx, task_id)
            if row.assignee is not None and row.assignee != user:
                raise Forbidden(
                    f"task {task_id!r} is claimed by {row.assignee!r}; {user!r} cannot complete it"
                )
            instance = tx.instance(row.instance_id)
            if instance is None:
                raise NotFound(f"unknown instance {row.instance_id!r} of task {task_id!r}")
            data = {**instance.data, **variables}
            workflow = self.engine.loads(instance.workflow)
            try:
                self.engine.complete(workflow, task_id, data)
            except KeyError:
                raise Conflict(f"task {task_id!r} is no longer waiting in its process") from None
            except ProcessError as error:
                raise BadInput(f"cannot complete task {task_id!r}: {error.message}") from error
            now = now_ms()
            tx.close_tasks([task_id], assignee=user, now=now)
            ready = self.engine.ready_tasks(workflow)
            ready_ids = {task.id for task in ready}
            open_rows = tx.open_tasks_of_instance(instance.id)
            stored = {task.id for task in open_rows}
            # Tasks the engine dropped without a user (none in the bundled processes).
            tx.close_tasks(stored - ready_ids, assignee=None, now=now)
            fresh = _new_tasks([task for task in ready if task.id not in stored])
            tx.insert_tasks(instance.id, instance.process_name, fresh, now=now)
            tx.update_instance(
                instance.id,
                data=data,
                workflow=self.engine.dumps(workflow),
                completed=self.engine.is_completed(workflow),
                now=now,
            )
        dropped = [task for task in open_rows if task.id not in ready_ids]
        self._changed({*_listings([row, *dropped]), ("user", user), *_offered(fresh)})

    # -- definitions ---------------------------------------------------------------------

    def refresh(self) -> str:
        """Rescan the processes folder; returns what was loaded, as a message.

        Running instances keep the definition they started with. When a file is broken the
        good ones are loaded all the same, and ``BadInput`` names the broken file.
        """
        report = self.definitions.refresh()
        if report.broken:
            raise BadInput(f"some process files are broken: {report.message()}")
        return report.message()

    def reload(self, process_name: str) -> str:
        """Reload one process; returns what was loaded, as a message.

        ``NotFound`` when no file defines it any more, ``BadInput`` when its file is broken
        (it keeps its previous definition).
        """
        report = self.definitions.reload(process_name)
        if report.kept:
            raise BadInput(f"the file of process {process_name!r} is broken: {report.message()}")
        if not report.loaded:
            broken = "; ".join(f"{name} ({why})" for name, why in report.broken)
            raise NotFound(
                f"unknown process {process_name!r}: no file of the processes folder defines it"
                + (f" (broken files: {broken})" if broken else "")
            )
        return report.message()
