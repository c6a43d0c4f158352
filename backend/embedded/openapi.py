"""The OpenAPI 3 description of the embedded runtime's REST API (``/BPMREST/openapi.json``).

Written by hand from ONEWEB's API reference (docs/runtime.md), so that it documents ONEWEB's API rather than
this implementation; the schemathesis test holds the two together.

    document = openapi_document()
"""

from __future__ import annotations

from typing import Any, Final

from backend.models import API_PREFIX

__all__ = ["OPENAPI_PATH", "openapi_document"]

#: Where the description is served (absolute, beside the API).
OPENAPI_PATH: Final = "/BPMREST/openapi.json"

_STRINGS: Final = {"type": "array", "items": {"type": "string"}}
_NULLABLE_STRING: Final = {"type": "string", "nullable": True}
#: Epoch milliseconds do not fit a 32-bit integer: generators (GraphQL Mesh, openapi-generator)
#: need ``int64`` to pick a wide type.
_EPOCH_MS: Final = {"type": "integer", "format": "int64", "description": "Epoch milliseconds."}

_SCHEMAS: Final[dict[str, Any]] = {
    "Code": {
        "type": "integer",
        "description": "0 is success; any other code is an error, as its HTTP status.",
        "enum": [0, 400, 403, 404, 405, 409, 500],
    },
    "TaskStatus": {
        "type": "string",
        "description": "READY: nobody holds the task; CLAIMED: a user holds it.",
        "enum": ["READY", "CLAIMED"],
    },
    "Envelope": {
        "type": "object",
        "description": "Every response. `code` 0 is success; any other code is an error.",
        "required": ["data", "code", "timestamp"],
        "properties": {
            "data": {"description": 'The result; `""` for actions without one.'},
            "code": {"$ref": "#/components/schemas/Code"},
            "timestamp": _EPOCH_MS,
            "totalRecordCount": {"type": "integer"},
            "message": {"type": "string"},
        },
    },
    "Task": {
        "type": "object",
        "description": "An open user task, with ONEWEB's field names.",
        "required": ["id", "instanceId", "definitionId", "processName", "status"],
        "properties": {
            "id": {"type": "string"},
            "name": _NULLABLE_STRING,
            "definitionId": {"type": "string", "description": "The BPMN element id."},
            "instanceId": {"type": "string"},
            "processName": {"type": "string", "description": "The BPMN process id."},
            "parentTaskId": _NULLABLE_STRING,
            "assignee": _NULLABLE_STRING,
            "owner": _NULLABLE_STRING,
            "description": _NULLABLE_STRING,
            "priority": {"type": "integer"},
            "createBy": {"type": "string"},
            "createTime": _EPOCH_MS,
            "dueDate": {**_EPOCH_MS, "nullable": True},
            "candidateUsers": _STRINGS,
            "candidateGroups": _STRINGS,
            "candidateRoles": _STRINGS,
            "status": {"$ref": "#/components/schemas/TaskStatus"},
            "appName": _NULLABLE_STRING,
            "snapVersion": _NULLABLE_STRING,
        },
    },
    "StartRequest": {
        "type": "object",
        "required": ["processName"],
        "properties": {
            "processName": {"type": "string", "minLength": 1},
            "appName": {"type": "string"},
            "uniqueId": {"type": "string"},
            "snapVersion": {"type": "string"},
            "object": {"type": "object", "description": "The business object (instance data)."},
        },
        "example": {"processName": "BookingRoom", "appName": "Hotel", "object": {"guest": "Ann"}},
    },
    "ProcessRef": {
        "type": "object",
        "required": ["processName"],
        "properties": {"processName": {"type": "string", "minLength": 1}},
    },
    "Variables": {
        "type": "object",
        "description": "Variable name -> JSON value.",
        "additionalProperties": True,
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(schema: dict[str, Any], *, required: bool) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


#: The success replies, each a named schema, so that generated clients get named types
#: (``TaskList`` rather than ``tasks_200_response``) shared by the operations alike.
_REPLIES: Final[dict[str, Any]] = {}


def _envelope(name: str, data: dict[str, Any], description: str) -> dict[str, Any]:
    _REPLIES[name] = {
        "description": description,
        "allOf": [_ref("Envelope"), {"type": "object", "properties": {"data": data}}],
    }
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _responses(ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    reasons = {
        400: "Bad input: malformed JSON, a body that is not an object, a missing parameter.",
        403: "Not allowed: the task is held by another user.",
        404: "Unknown task, instance or process.",
        409: "Conflict: the task is held by another user, not claimed, or already completed.",
    }
    responses = {"200": ok}
    for code in errors:
        responses[str(code)] = {
            "description": reasons[code],
            "content": {"application/json": {"schema": _ref("Envelope")}},
        }
    return responses


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _user(*, required: bool = True, many: bool = False, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if many:
        schema = {"type": "array", "items": schema, "minItems": 1}
    return {
        "name": "user",
        "in": "query",
        "required": required,
        "description": description or "The acting user.",
        "schema": schema,
        **({"style": "form", "explode": True} if many else {}),
    }


_TASK_ID: Final = _path_param("taskId", "The task id.")
_INSTANCE_ID: Final = _path_param("instanceId", "The process instance id.")
_DONE: Final = _envelope("Done", {"type": "string", "enum": [""]}, "Done.")
_TASKS: Final = _envelope(
    "TaskList", {"type": "array", "items": _ref("Task")}, "Open tasks, oldest first."
)
_INSTANCE: Final = _envelope("InstanceStarted", {"type": "string"}, "The new instance's id.")
_VARIABLES: Final = _envelope("VariablesReply", _ref("Variables"), "Variable name -> value.")


def _operation(summary: str, operation_id: str, **fields: Any) -> dict[str, Any]:
    return {"summary": summary, "operationId": operation_id, **fields}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.0 document of the runtime, as a JSON-ready dict."""
    p = API_PREFIX
    paths: dict[str, Any] = {
        f"{p}/process/start": {
            "post": _operation(
                "Start a process instance",
                "startProcess",
                requestBody=_json_body(_ref("StartRequest"), required=True),
                responses=_responses(_INSTANCE, 400, 404),
            )
        },
        f"{p}/process/{{processName}}/start": {
            "post": _operation(
                "Start a process instance (legacy): the body is the business object",
                "startProcessLegacy",
                parameters=[_path_param("processName", "The BPMN process id.")],
                requestBody=_json_body(_ref("Variables"), required=False),
                responses=_responses(_INSTANCE, 400, 404),
            )
        },
        f"{p}/tasks/{{taskId}}/claim": {
            "post": _operation(
                "Claim an unassigned task",
                "claimTask",
                parameters=[_TASK_ID, _user()],
                responses=_responses(_DONE, 400, 404, 409),
            )
        },
        f"{p}/tasks/{{taskId}}/unclaim": {
            "post": _operation(
                "Release a claim",
                "unclaimTask",
                parameters=[_TASK_ID, _user()],
                responses=_responses(_DONE, 400, 403, 404, 409),
            )
        },
        f"{p}/tasks/{{taskId}}/complete": {
            "post": _operation(
                "Complete a task, merging the body's variables into the instance data",
                "completeTask",
                parameters=[_TASK_ID, _user()],
                requestBody=_json_body(_ref("Variables"), required=False),
                responses=_responses(_DONE, 400, 403, 404, 409),
            )
        },
        f"{p}/instance/{{instanceId}}/tasks": {
            "get": _operation(
                "The open tasks of an instance",
                "instanceTasks",
                parameters=[_INSTANCE_ID],
                responses=_responses(_TASKS, 404),
            )
        },
        f"{p}/tasks": {
            "get": _operation(
                "Open tasks of a user, role or group (give exactly one)",
                "tasks",
                parameters=[
                    _user(
                        required=False, description="Assigned to, or offered to while unassigned."
                    ),
                    {
                        "name": "role",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "group",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
                responses=_responses(_TASKS, 400),
            )
        },
        f"{p}/tasks/{{taskId}}/variables": {
            "post": _operation(
                "The variables of a task's instance",
                "taskVariables",
                parameters=[_TASK_ID],
                requestBody=_json_body(_ref("Variables"), required=False),
                responses=_responses(_VARIABLES, 400, 404),
            )
        },
        f"{p}/tasks/{{taskId}}/assign": {
            "post": _operation(
                "Set the candidate users of a task (does not claim it)",
                "assignTask",
                parameters=[_TASK_ID, _user(many=True, description="The candidate users.")],
                responses=_responses(_DONE, 400, 404, 409),
            )
        },
        f"{p}/instance/{{instanceId}}/tasks/assign": {
            "post": _operation(
                "Make a user the candidate of every open task of an instance",
                "assignInstance",
                parameters=[_INSTANCE_ID, _user(description="The candidate user.")],
                responses=_responses(_DONE, 400, 404),
            )
        },
        f"{p}/refreshCache": {
            "post": _operation(
                "Rescan the processes folder",
                "refreshCache",
                responses=_responses(_DONE, 400),
            )
        },
        f"{p}/classAction": {
            "post": _operation(
                "Reload one process definition",
                "classAction",
                requestBody=_json_body(_ref("ProcessRef"), required=True),
                responses=_responses(_DONE, 400, 404),
            )
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ONEWEB Process Runtime (embedded)",
            "version": "1.0",
            "description": "ONEWEB's Process Runtime REST API, as the embedded runtime serves it.",
        },
        "paths": paths,
        "components": {"schemas": {**_SCHEMAS, **_REPLIES}},
    }
