"""The wire models of the ONEWEB Process Runtime REST API, shared by the client and the embedded runtime.

Field names on the wire are ONEWEB's own (docs/runtime.md); the dataclasses use
Python names. ``Task.from_wire`` accepts ONEWEB's aliases and keeps the object as
received in ``raw`` (the same object, not a copy); ``Task.to_wire`` writes the canonical shape.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "API_PREFIX",
    "CODE_BAD_INPUT",
    "CODE_CONFLICT",
    "CODE_FORBIDDEN",
    "CODE_INTERNAL",
    "CODE_NOT_FOUND",
    "CODE_OK",
    "STATUS_CLAIMED",
    "STATUS_COMPLETED",
    "STATUS_READY",
    "Process",
    "Task",
    "envelope",
    "now_ms",
]

#: Every REST path of the runtime starts with this, relative to the base URL.
API_PREFIX: Final = "/BPMREST/service/runtime"

CODE_OK: Final = 0
CODE_BAD_INPUT: Final = 400
CODE_FORBIDDEN: Final = 403
CODE_NOT_FOUND: Final = 404
CODE_CONFLICT: Final = 409
CODE_INTERNAL: Final = 500

STATUS_READY: Final = "READY"
STATUS_CLAIMED: Final = "CLAIMED"
STATUS_COMPLETED: Final = "COMPLETED"

# Wire name -> aliases a real ONEWEB server may send instead.
_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "id": ("taskId",),
    "name": ("taskName",),
    "instanceId": ("processInstanceId",),
}


def now_ms() -> int:
    """Milliseconds since the epoch, the unit of every ONEWEB timestamp."""
    return time.time_ns() // 1_000_000


def envelope(
    data: Any = "",
    *,
    code: int = CODE_OK,
    message: str | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    """A ONEWEB response envelope: ``{"data", "code", "timestamp", "totalRecordCount"[, "message"]}``."""
    body: dict[str, Any] = {"data": data, "code": code, "timestamp": now_ms()}
    if total is not None:
        body["totalRecordCount"] = total
    if message is not None:
        body["message"] = message
    return body


def _pick(data: Mapping[str, Any], key: str) -> Any:
    if key in data:
        return data[key]
    for alias in _ALIASES.get(key, ()):
        if alias in data:
            return data[alias]
    return None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple([str(item) for item in value if item is not None])


@dataclass(frozen=True, slots=True)
class Process:
    """A process definition as the facade knows it: its name, and its app and snapshot where given."""

    name: str
    app_name: str | None = None
    snap_version: str | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """One open (or just completed) user task, as the upstream describes it.

    ``create_time`` and ``due_date`` are epoch milliseconds, as on the wire.
    """

    id: str
    instance_id: str
    name: str | None = None
    definition_id: str | None = None
    process_name: str | None = None
    parent_task_id: str | None = None
    assignee: str | None = None
    owner: str | None = None
    description: str | None = None
    priority: int | None = None
    created_by: str | None = None
    create_time: int | None = None
    due_date: int | None = None
    candidate_users: tuple[str, ...] = ()
    candidate_groups: tuple[str, ...] = ()
    candidate_roles: tuple[str, ...] = ()
    status: str = STATUS_READY
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Task:
        """Read a task object as a real ONEWEB server or the embedded runtime sends it.

        Raises ``ValueError`` when the object has no task id or no instance id.

        >>> Task.from_wire({"taskId": "t1", "processInstanceId": "i1"}).id
        't1'
        """
        task_id = _pick(data, "id")
        instance_id = _pick(data, "instanceId")
        if task_id is None or instance_id is None:
            raise ValueError("task object without id or instanceId")
        assignee = _str_or_none(data.get("assignee"))
        status = data.get("status")
        if status not in (STATUS_READY, STATUS_CLAIMED, STATUS_COMPLETED):
            status = STATUS_CLAIMED if assignee else STATUS_READY
        return cls(
            id=str(task_id),
            instance_id=str(instance_id),
            name=_str_or_none(_pick(data, "name")),
            definition_id=_str_or_none(data.get("definitionId")),
            process_name=_str_or_none(data.get("processName")),
            parent_task_id=_str_or_none(data.get("parentTaskId")),
            assignee=assignee,
            owner=_str_or_none(data.get("owner")),
            description=_str_or_none(data.get("description")),
            priority=_int_or_none(data.get("priority")),
            created_by=_str_or_none(data.get("createBy")),
            create_time=_int_or_none(data.get("createTime")),
            due_date=_int_or_none(data.get("dueDate")),
            candidate_users=_str_list(data.get("candidateUsers")),
            candidate_groups=_str_list(data.get("candidateGroups")),
            candidate_roles=_str_list(data.get("candidateRoles")),
            status=str(status),
            # Not copied: the object is the parsed reply's own, and nothing writes to it.
            raw=data,
        )

    def to_wire(self) -> dict[str, Any]:
        """The canonical wire object (docs/runtime.md), ONEWEB's fields then this project's."""
        return {
            "id": self.id,
            "name": self.name,
            "definitionId": self.definition_id,
            "instanceId": self.instance_id,
            "processName": self.process_name,
            "parentTaskId": self.parent_task_id,
            "assignee": self.assignee,
            "owner": self.owner,
            "description": self.description,
            "priority": self.priority,
            "createBy": self.created_by,
            "createTime": self.create_time,
            "dueDate": self.due_date,
            "candidateUsers": list(self.candidate_users),
            "candidateGroups": list(self.candidate_groups),
            "candidateRoles": list(self.candidate_roles),
            "status": self.status,
        }
