"""What the facade remembers about tasks: everything a request has seen, and process-wide only ids.

A request's ``TaskMemory`` holds the task objects its listings returned, so that
``task(id, instanceId)`` and mutation payloads reuse them. The process-wide
``InstanceIndex`` maps task ids to instance ids (never task data, which belongs to the
caller whose credentials fetched it), so that a mutation payload can find a task's
instance without the caller passing it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from threading import Lock

from backend.models import Task

__all__ = ["DEFAULT_INDEX_SIZE", "InstanceIndex", "TaskMemory"]

#: How many task ids the process-wide index keeps before forgetting the oldest.
DEFAULT_INDEX_SIZE = 100_000


class InstanceIndex:
    """A bounded LRU of task id -> instance id, shared by every request of one process.

    >>> index = InstanceIndex(max_size=2); index.remember("t1", "i1"); index.instance_of("t1")
    'i1'
    """

    def __init__(self, *, max_size: int = DEFAULT_INDEX_SIZE) -> None:
        self._max_size = max_size
        self._ids: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()

    def remember(self, task_id: str, instance_id: str) -> None:
        """Record that ``task_id`` belongs to ``instance_id``."""
        with self._lock:
            self._ids[task_id] = instance_id
            self._ids.move_to_end(task_id)
            while len(self._ids) > self._max_size:
                self._ids.popitem(last=False)

    def instance_of(self, task_id: str) -> str | None:
        """The instance id of ``task_id`` if any request has seen it, else None."""
        with self._lock:
            return self._ids.get(task_id)

    def __len__(self) -> int:
        return len(self._ids)


class TaskMemory:
    """The tasks one request has seen, by id; feeds the process-wide ``InstanceIndex``."""

    def __init__(self, index: InstanceIndex) -> None:
        self._index = index
        self._tasks: dict[str, Task] = {}

    def remember_all(self, tasks: Iterable[Task]) -> None:
        """Remember every task of a listing."""
        for task in tasks:
            self._tasks[task.id] = task
            self._index.remember(task.id, task.instance_id)

    def get(self, task_id: str) -> Task | None:
        """The task as last seen in this request, or None."""
        return self._tasks.get(task_id)

    def forget(self, task_id: str) -> None:
        """Drop a task whose state a mutation changed."""
        self._tasks.pop(task_id, None)

    def instance_of(self, task_id: str) -> str | None:
        """The task's instance id, from this request or from the process-wide index."""
        task = self._tasks.get(task_id)
        if task is not None:
            return task.instance_id
        return self._index.instance_of(task_id)
