"""The benchmark's scenarios: each GraphQL request, who sends it, and its physical limits.

``lower_bound`` is the fewest upstream calls that can answer the request (one per distinct
resource it needs); ``levels`` is how many of those calls must wait for one another, so
that ``levels x upstream latency`` is the fastest possible answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

__all__ = [
    "BURST_SIZE",
    "INBOX",
    "INBOX_INSTANCES",
    "TASKS_PER_INSTANCE",
    "Scenario",
    "burst",
    "inbox",
    "task_detail",
]

#: The inbox: one user with 5 Onboarding instances of 4 open tasks each, 3 variables each.
INBOX_INSTANCES = 5
TASKS_PER_INSTANCE = 4
BURST_SIZE = 50

INBOX = """query Inbox($user: String!) {
  tasks(user: $user) {
    totalCount
    nodes {
      id name status assignee candidateUsers createdAt
      instance { id tasks { id name status } }
      variables { name value type }
    }
  }
}"""

TASK_DETAIL = """query TaskDetail($id: ID!, $instanceId: ID!) {
  task(id: $id, instanceId: $instanceId) {
    id name definitionId status assignee candidateUsers candidateGroups createdAt
    process { name }
    variables { name value type }
    instance { id process { name } tasks { id name status } }
  }
}"""


@dataclass(frozen=True)
class Scenario:
    """One GraphQL request of the benchmark and what physics allows it."""

    name: str
    query: str
    variables: dict[str, Any]
    principal: str
    lower_bound: int
    levels: int
    #: Why the lower bound and the levels are what they are.
    note: str
    #: A comparison, not held to the lower bound (the inbox with loaders off).
    comparison: bool = False

    def body(self) -> str:
        """The JSON body of the POST."""
        return orjson.dumps({"query": self.query, "variables": self.variables}).decode()

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Remote-User": self.principal}


def inbox(user: str, *, comparison: bool = False) -> Scenario:
    """A user's tasks, and per task its instance's open tasks and its variables."""
    tasks = INBOX_INSTANCES * TASKS_PER_INSTANCE
    return Scenario(
        name="inbox (loaders off)" if comparison else "inbox",
        query=INBOX,
        variables={"user": user},
        principal=user,
        lower_bound=1 + INBOX_INSTANCES + tasks,
        levels=2,
        note=(
            f"1 task list, then {INBOX_INSTANCES} distinct instances and {tasks} tasks' "
            "variables, all known after the list: 2 levels"
        ),
        comparison=comparison,
    )


def task_detail(user: str, task_id: str, instance_id: str) -> Scenario:
    """One task with its variables and its instance's open tasks."""
    return Scenario(
        name="task detail",
        query=TASK_DETAIL,
        variables={"id": task_id, "instanceId": instance_id},
        principal=user,
        lower_bound=2,
        levels=2,
        note=(
            "the instance's task list, then the task's variables: `task` is null unless the "
            "task is open in that instance (docs/api.md), so its fields wait for the list"
        ),
    )


def burst(user: str, tasks: list[tuple[str, str]]) -> Scenario:
    """``len(tasks)`` claimTask aliases in one request, each payload showing the claimed task."""
    fields = "\n".join(
        f'  c{n}: claimTask(input: {{taskId: "{task_id}", instanceId: "{instance_id}"}}) '
        "{ task { id assignee status } errors { code message } }"
        for n, (task_id, instance_id) in enumerate(tasks)
    )
    count = len(tasks)
    return Scenario(
        name=f"burst ({count} claimTask)",
        query=f"mutation Burst {{\n{fields}\n}}",
        variables={},
        principal=user,
        lower_bound=2 * count,
        levels=2 * count,
        note=(
            f"{count} claims (writes: no batch endpoint, never skipped) + {count} reads: root "
            "mutation fields run serially (GraphQL spec) and each payload shows the state after "
            "its own claim, so every alias needs its own claim then read, one after another"
        ),
    )
