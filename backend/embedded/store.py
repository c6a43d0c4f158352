"""The embedded runtime's SQLite store: one row per instance (its serialized workflow and data)
and one row per user task, written in one transaction per operation.

The database runs in WAL mode with ``synchronous=NORMAL``: a commit survives the process
being killed (``kill -9``); only a power loss can drop the last few commits. Every write
transaction is ``BEGIN IMMEDIATE``, so it holds SQLite's write lock from its first read:
operations are serialized across threads (one connection behind a lock) and across
processes sharing the file (SQLite's lock, waited for up to ``BUSY_TIMEOUT_MS``).

    with store.transaction() as tx:
        row = tx.task("9b1d…")
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import orjson
import platformdirs

from backend.models import STATUS_CLAIMED, STATUS_COMPLETED, STATUS_READY

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DB_FILENAME",
    "CandidateKind",
    "InstanceRow",
    "NewTask",
    "Store",
    "TaskRow",
    "Transaction",
    "default_db_path",
]

#: The file name of the default database inside the user data directory.
DB_FILENAME: Final = "runtime.sqlite3"
#: How long a write waits for another process's write lock before failing.
BUSY_TIMEOUT_MS: Final = 5_000

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS instances (
    id           TEXT PRIMARY KEY,
    process_name TEXT NOT NULL,
    app_name     TEXT,
    snap_version TEXT,
    unique_id    TEXT,
    data         TEXT NOT NULL,
    workflow     TEXT NOT NULL,
    completed    INTEGER NOT NULL DEFAULT 0,
    create_time  INTEGER NOT NULL,
    update_time  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES instances(id),
    definition_id    TEXT NOT NULL,
    name             TEXT,
    process_name     TEXT NOT NULL,
    assignee         TEXT,
    candidate_users  TEXT NOT NULL DEFAULT '[]',
    candidate_groups TEXT NOT NULL DEFAULT '[]',
    candidate_roles  TEXT NOT NULL DEFAULT '[]',
    status           TEXT NOT NULL,
    create_time      INTEGER NOT NULL,
    complete_time    INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_by_instance ON tasks(instance_id, status);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks(status, create_time, id);
CREATE INDEX IF NOT EXISTS tasks_by_assignee ON tasks(assignee, status);
"""

_OPEN: Final = (STATUS_READY, STATUS_CLAIMED)

_TASK_COLUMNS: Final = """
    t.id, t.instance_id, t.definition_id, t.name, t.process_name, t.assignee,
    t.candidate_users, t.candidate_groups, t.candidate_roles, t.status,
    t.create_time, t.complete_time, i.app_name, i.snap_version
"""
_TASK_SELECT: Final = (
    f"SELECT {_TASK_COLUMNS} FROM tasks t JOIN instances i ON i.id = t.instance_id"
)
_OPEN_CLAUSE: Final = f"t.status IN ('{STATUS_READY}', '{STATUS_CLAIMED}')"
_ORDER: Final = "ORDER BY t.create_time, t.id"

#: Which column a ``?role=`` / ``?group=`` listing searches.
CandidateKind = Literal["candidate_groups", "candidate_roles"]


def default_db_path() -> Path:
    """The default database file, in the user's data directory (never inside the repo).

    Creates the directory if it does not exist yet.
    """
    directory = Path(platformdirs.user_data_dir("oneweb-graphql", appauthor=False))
    directory.mkdir(parents=True, exist_ok=True)
    return directory / DB_FILENAME


@dataclass(frozen=True, slots=True)
class InstanceRow:
    """A process instance: its serialized SpiffWorkflow and its data (start object, completions)."""

    id: str
    process_name: str
    app_name: str | None
    snap_version: str | None
    unique_id: str | None
    data: dict[str, Any]
    workflow: str
    completed: bool
    create_time: int


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A user task as stored, joined with its instance's app name and snapshot version."""

    id: str
    instance_id: str
    definition_id: str
    name: str | None
    process_name: str
    assignee: str | None
    candidate_users: tuple[str, ...]
    candidate_groups: tuple[str, ...]
    candidate_roles: tuple[str, ...]
    status: str
    create_time: int
    complete_time: int | None
    app_name: str | None
    snap_version: str | None

    @property
    def is_open(self) -> bool:
        """Whether the task still waits for a user (READY or CLAIMED)."""
        return self.status in _OPEN


def _json_list(value: Sequence[str]) -> str:
    return orjson.dumps(list(value)).decode()


def _str_tuple(text: str) -> tuple[str, ...]:
    return tuple(str(item) for item in orjson.loads(text))


def _task_row(row: sqlite3.Row) -> TaskRow:
    return TaskRow(
        id=row["id"],
        instance_id=row["instance_id"],
        definition_id=row["definition_id"],
        name=row["name"],
        process_name=row["process_name"],
        assignee=row["assignee"],
        candidate_users=_str_tuple(row["candidate_users"]),
        candidate_groups=_str_tuple(row["candidate_groups"]),
        candidate_roles=_str_tuple(row["candidate_roles"]),
        status=row["status"],
        create_time=row["create_time"],
        complete_time=row["complete_time"],
        app_name=row["app_name"],
        snap_version=row["snap_version"],
    )


@dataclass(frozen=True, slots=True)
class NewTask:
    """A user task the engine just made ready, to be inserted as READY."""

    id: str
    definition_id: str
    name: str | None
    candidate_groups: tuple[str, ...]


class Transaction:
    """The queries of one open transaction; get one from ``Store.transaction()``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    # -- instances ---------------------------------------------------------------------

    def instance(self, instance_id: str) -> InstanceRow | None:
        """The instance with this id, or None."""
        row = self._db.execute("SELECT * FROM instances WHERE id = ?", (instance_id,)).fetchone()
        if row is None:
            return None
        return InstanceRow(
            id=row["id"],
            process_name=row["process_name"],
            app_name=row["app_name"],
            snap_version=row["snap_version"],
            unique_id=row["unique_id"],
            data=orjson.loads(row["data"]),
            workflow=row["workflow"],
            completed=bool(row["completed"]),
            create_time=row["create_time"],
        )

    def insert_instance(self, row: InstanceRow) -> None:
        """Store a new instance."""
        self._db.execute(
            "INSERT INTO instances (id, process_name, app_name, snap_version, unique_id, data,"
            " workflow, completed, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.id,
                row.process_name,
                row.app_name,
                row.snap_version,
                row.unique_id,
                orjson.dumps(row.data).decode(),
                row.workflow,
                int(row.completed),
                row.create_time,
                row.create_time,
            ),
        )

    def update_instance(
        self, instance_id: str, *, data: dict[str, Any], workflow: str, completed: bool, now: int
    ) -> None:
        """Replace an instance's data and serialized workflow."""
        self._db.execute(
            "UPDATE instances SET data = ?, workflow = ?, completed = ?, update_time = ?"
            " WHERE id = ?",
            (orjson.dumps(data).decode(), workflow, int(completed), now, instance_id),
        )

    # -- tasks -------------------------------------------------------------------------

    def task(self, task_id: str) -> TaskRow | None:
        """The task with this id, open or completed, or None."""
        row = self._db.execute(f"{_TASK_SELECT} WHERE t.id = ?", (task_id,)).fetchone()
        return None if row is None else _task_row(row)

    def insert_tasks(
        self, instance_id: str, process_name: str, tasks: Iterable[NewTask], *, now: int
    ) -> None:
        """Store tasks the engine made ready; they start READY with no candidate users."""
        self._db.executemany(
            "INSERT INTO tasks (id, instance_id, definition_id, name, process_name,"
            " candidate_groups, status, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    task.id,
                    instance_id,
                    task.definition_id,
                    task.name,
                    process_name,
                    _json_list(task.candidate_groups),
                    STATUS_READY,
                    now,
                )
                for task in tasks
            ],
        )

    def open_tasks_of_instance(self, instance_id: str) -> list[TaskRow]:
        """The open tasks of one instance, oldest first."""
        rows = self._db.execute(
            f"{_TASK_SELECT} WHERE t.instance_id = ? AND {_OPEN_CLAUSE} {_ORDER}", (instance_id,)
        ).fetchall()
        return [_task_row(row) for row in rows]

    def open_tasks_of_user(self, user: str) -> list[TaskRow]:
        """Open tasks assigned to ``user``, plus unassigned ones listing them as a candidate."""
        rows = self._db.execute(
            f"{_TASK_SELECT} WHERE {_OPEN_CLAUSE} AND (t.assignee = ?1 OR (t.assignee IS NULL"
            " AND EXISTS (SELECT 1 FROM json_each(t.candidate_users) WHERE value = ?1)))"
            f" {_ORDER}",
            (user,),
        ).fetchall()
        return [_task_row(row) for row in rows]

    def open_tasks_offered_to(self, column: CandidateKind, name: str) -> list[TaskRow]:
        """Open tasks, claimed or not, whose candidate groups (or roles) contain ``name``."""
        rows = self._db.execute(
            f"{_TASK_SELECT} WHERE {_OPEN_CLAUSE}"
            f" AND EXISTS (SELECT 1 FROM json_each(t.{column}) WHERE value = ?) {_ORDER}",
            (name,),
        ).fetchall()
        return [_task_row(row) for row in rows]

    def claim(self, task_id: str, user: str) -> bool:
        """Compare-and-set: give an open, unassigned task to ``user``. False if it was not."""
        cursor = self._db.execute(
            f"UPDATE tasks SET assignee = ?, status = '{STATUS_CLAIMED}'"
            f" WHERE id = ? AND assignee IS NULL AND status = '{STATUS_READY}'",
            (user, task_id),
        )
        return cursor.rowcount == 1

    def unclaim(self, task_id: str, user: str) -> bool:
        """Compare-and-set: release a task ``user`` holds. False if they did not hold it."""
        cursor = self._db.execute(
            f"UPDATE tasks SET assignee = NULL, status = '{STATUS_READY}'"
            f" WHERE id = ? AND assignee = ? AND status = '{STATUS_CLAIMED}'",
            (task_id, user),
        )
        return cursor.rowcount == 1

    def set_candidate_users(self, task_ids: Sequence[str], users: Sequence[str]) -> None:
        """Make ``users`` exactly the candidate users of each task."""
        encoded = _json_list(users)
        self._db.executemany(
            "UPDATE tasks SET candidate_users = ? WHERE id = ?",
            [(encoded, task_id) for task_id in task_ids],
        )

    def close_tasks(self, task_ids: Iterable[str], *, assignee: str | None, now: int) -> None:
        """Mark tasks COMPLETED (by ``assignee``, or by the engine when None)."""
        self._db.executemany(
            f"UPDATE tasks SET status = '{STATUS_COMPLETED}', complete_time = ?,"
            " assignee = COALESCE(?, assignee) WHERE id = ?",
            [(now, assignee, task_id) for task_id in task_ids],
        )


class Store:
    """The SQLite database behind one runtime; thread-safe, one transaction at a time.

    Opens (and creates) the file at once; ``close()`` is idempotent.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # The connection is shared by the event loop's thread and, in tests, a server thread;
        # the lock above is what makes that safe.
        self._db: sqlite3.Connection | None = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.executescript(_SCHEMA)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._db is None

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self._lock:
            if self._db is None:
                raise RuntimeError("the runtime's store is closed")
            self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Transaction(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection; safe to call more than once."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
