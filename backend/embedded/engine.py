"""The BPMN engine of the embedded runtime: a thin wrapper over SpiffWorkflow.

It starts workflows, completes user tasks with the instance data, lists the ready user
tasks (with their lane, the candidate group), and turns a workflow into JSON and back.
Every SpiffWorkflow exception is translated here, into ``ProcessError``.

    engine = Engine()
    workflow = engine.start(definition, {"roomBooked": False})
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from backend.embedded.definitions import Definition

__all__ = ["Engine", "ProcessError", "ReadyTask"]


class ProcessError(Exception):
    """The process could not go on with the data it was given (e.g. a gateway condition failed).

    ``message`` names the element and the problem in the words of the process; ``element``
    is the BPMN element id; ``variable`` the one instance variable at fault, where known.
    """

    def __init__(
        self, message: str, *, element: str | None = None, variable: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.element = element
        self.variable = variable


@dataclass(frozen=True, slots=True)
class ReadyTask:
    """A user task the workflow waits for: its id, BPMN element id and name, and its lane."""

    id: str
    definition_id: str
    name: str | None
    lane: str | None


def _innermost(error: BaseException) -> BaseException:
    # SpiffWorkflow wraps the Python error of an expression (NameError, TypeError...) in its own.
    seen = {id(error)}
    cause = error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        error = cause
        cause = error.__cause__ or error.__context__
    return error


def _label(spec: Any) -> str:
    return str(getattr(spec, "bpmn_id", None) or getattr(spec, "name", None) or "the process")


def _condition_names(spec: Any) -> list[str]:
    """The variable names a gateway's conditions read, in order of appearance, each once."""
    names: dict[str, None] = {}
    for condition, _target in getattr(spec, "cond_task_specs", None) or ():
        expression = (getattr(condition, "args", None) or [None])[0]
        if not isinstance(expression, str):
            continue
        try:
            tree = ast.parse(expression, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                names.setdefault(node.id)
    return list(names)


def _process_error(error: SpiffWorkflowException) -> ProcessError:
    # Said in the words of the process (which gateway, which variable), never the engine's.
    spec = getattr(error, "task_spec", None)
    element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    before = [_label(previous) for previous in getattr(spec, "inputs", None) or ()]
    where = f"the gateway after {' / '.join(before)}" if before else f"the element {_label(spec)}"
    inner = _innermost(error)
    if isinstance(inner, NameError) and inner.name:
        return ProcessError(
            f"{where} needs the variable {inner.name!r}, which the instance does not have",
            element=element,
            variable=inner.name,
        )
    names = _condition_names(spec)
    if names:
        read = ", ".join(repr(name) for name in names)
        return ProcessError(
            f"{where} found no way on: none of its conditions holds for the value of {read}",
            element=element,
            variable=names[0] if len(names) == 1 else None,
        )
    summary = " ".join(str(error.args[0] if error.args else error).split())
    return ProcessError(f"{where} could not go on: {summary}", element=element)


class Engine:
    """Runs workflows; holds the serializer, which is safe to share between workflows."""

    def __init__(self) -> None:
        self._serializer = BpmnWorkflowSerializer()

    def start(self, definition: Definition, data: Mapping[str, Any]) -> BpmnWorkflow:
        """A new workflow of ``definition``, run up to its first user tasks with ``data``."""
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs)
        workflow.task_tree.set_data(**data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.set_data(**data)
        self._advance(workflow)
        return workflow

    def complete(self, workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> None:
        """Complete ready user task ``task_id`` with ``data`` as its data, then run on.

        Raises ``KeyError`` when the workflow has no such ready user task, and
        ``ProcessError`` when the process cannot go on; the workflow object is then
        half-changed and must be thrown away.
        """
        task = workflow.tasks.get(UUID(task_id))
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise KeyError(task_id)
        task.data = dict(data)
        try:
            task.run()
        except SpiffWorkflowException as error:
            raise _process_error(error) from error
        self._advance(workflow)

    def ready_tasks(self, workflow: BpmnWorkflow) -> list[ReadyTask]:
        """The user tasks waiting for a person, in the workflow's order."""
        return [
            ReadyTask(
                id=str(task.id),
                definition_id=task.task_spec.bpmn_id or task.task_spec.name,
                name=task.task_spec.bpmn_name,
                lane=task.task_spec.lane,
            )
            for task in workflow.get_tasks(state=TaskState.READY, manual=True)
        ]

    def is_completed(self, workflow: BpmnWorkflow) -> bool:
        """Whether the workflow reached its end."""
        return bool(workflow.is_completed())

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """The workflow as JSON, definition included (a running instance keeps its definition)."""
        return str(self._serializer.serialize_json(workflow))

    def loads(self, text: str) -> BpmnWorkflow:
        """The workflow ``dumps`` wrote."""
        return self._serializer.deserialize_json(text)

    def _advance(self, workflow: BpmnWorkflow) -> None:
        try:
            workflow.do_engine_steps()
        except SpiffWorkflowException as error:
            raise _process_error(error) from error
