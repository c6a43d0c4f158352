"""The embedded runtime's HTTP face: ONEWEB's Process Runtime REST API as a Starlette app.

Routes are absolute (``/BPMREST/service/runtime/...`` and ``/BPMREST/openapi.json``), so the
app can be served alone or inside the facade's app. Every answer is a ONEWEB envelope,
errors and unknown paths included; the HTTP status of an error equals its ``code``.

    app = create_app(db_path=default_db_path())
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.embedded import inputs
from backend.embedded.openapi import OPENAPI_PATH, openapi_document
from backend.embedded.runtime import Runtime
from backend.errors import DomainError
from backend.limits import check_json_depth
from backend.models import API_PREFIX, CODE_INTERNAL, CODE_NOT_FOUND, envelope

__all__ = ["EnvelopeResponse", "create_app"]

_ENCODED_SLASH: Final = b"%2f"


class EnvelopeResponse(JSONResponse):
    """A ONEWEB envelope as a JSON response, serialized with orjson (fast, strict JSON)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _error(code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return EnvelopeResponse(envelope(code=code, message=message), status_code=code, headers=headers)


class _EncodedSlashIsUnknown:
    """Answers 404 for a path with an encoded ``/`` in a segment, before routing.

    The server decodes ``%2F`` before routing, so ``/tasks/a%2Fclaim/...`` would otherwise
    reach another endpoint. No task, instance or process id of this runtime contains ``/``,
    so such an id is simply unknown.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path") or b""
        if scope["type"] == "http" and _ENCODED_SLASH in raw_path.lower():
            response = _error(CODE_NOT_FOUND, "unknown id: no id of this runtime contains '/'")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _Endpoints:
    """One method per REST endpoint; each reads the request, calls the runtime, answers."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @staticmethod
    def _ok(data: Any = "", *, total: int | None = None, message: str | None = None) -> Response:
        return EnvelopeResponse(envelope(data, total=total, message=message))

    def _tasks(self, tasks: list[dict[str, Any]]) -> Response:
        return self._ok(tasks, total=len(tasks))

    async def start(self, request: Request) -> Response:
        start = inputs.start_request(await inputs.json_object(request))
        instance_id = self.runtime.start(
            start.process_name,
            data=start.data,
            app_name=start.app_name,
            snap_version=start.snap_version,
            unique_id=start.unique_id,
        )
        return self._ok(instance_id, total=1)

    async def legacy_start(self, request: Request) -> Response:
        process_name = inputs.path_id(request, "process_name", "processName")
        data = await inputs.json_object(request, what="the business object")
        check_json_depth("object", data)
        instance_id = self.runtime.start(process_name, data=data)
        return self._ok(instance_id, total=1)

    async def claim(self, request: Request) -> Response:
        task_id = inputs.path_id(request, "task_id", "taskId")
        self.runtime.claim(task_id, user=inputs.one_query(request, "user"))
        return self._ok()

    async def unclaim(self, request: Request) -> Response:
        task_id = inputs.path_id(request, "task_id", "taskId")
        user = inputs.one_query(request, "user")
        self.runtime.unclaim(task_id, user=user)
        return self._ok()

    async def complete(self, request: Request) -> Response:
        task_id = inputs.path_id(request, "task_id", "taskId")
        user = inputs.one_query(request, "user")
        variables = await inputs.json_object(request, what="the variables")
        check_json_depth("variables", variables)
        self.runtime.complete(task_id, user=user, variables=variables)
        return self._ok()

    async def instance_tasks(self, request: Request) -> Response:
        instance_id = inputs.path_id(request, "instance_id", "instanceId")
        return self._tasks(self.runtime.instance_tasks(instance_id))

    async def tasks(self, request: Request) -> Response:
        kind, name = inputs.principal(request)
        return self._tasks(self.runtime.tasks_for(kind, name))

    async def variables(self, request: Request) -> Response:
        task_id = inputs.path_id(request, "task_id", "taskId")
        await inputs.json_object(request)  # empty or {}; anything else is malformed
        data = self.runtime.variables(task_id)
        return self._ok(data, total=len(data))

    async def assign(self, request: Request) -> Response:
        task_id = inputs.path_id(request, "task_id", "taskId")
        users = inputs.many_query(request, "user")
        self.runtime.assign(task_id, users=users)
        return self._ok()

    async def assign_instance(self, request: Request) -> Response:
        instance_id = inputs.path_id(request, "instance_id", "instanceId")
        user = inputs.one_query(request, "user")
        self.runtime.assign_instance(instance_id, user=user)
        return self._ok()

    async def refresh_cache(self, request: Request) -> Response:
        return self._ok(message=self.runtime.refresh())

    async def class_action(self, request: Request) -> Response:
        name = inputs.process_name_of(await inputs.json_object(request))
        return self._ok(message=self.runtime.reload(name))

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document())

    def routes(self) -> list[Route]:
        def post(path: str, endpoint: Any) -> Route:
            return Route(API_PREFIX + path, endpoint, methods=["POST"])

        def get(path: str, endpoint: Any) -> Route:
            return Route(API_PREFIX + path, endpoint, methods=["GET"])

        return [
            post("/process/start", self.start),
            post("/process/{process_name}/start", self.legacy_start),
            post("/tasks/{task_id}/claim", self.claim),
            post("/tasks/{task_id}/unclaim", self.unclaim),
            post("/tasks/{task_id}/complete", self.complete),
            get("/instance/{instance_id}/tasks", self.instance_tasks),
            get("/tasks", self.tasks),
            post("/tasks/{task_id}/variables", self.variables),
            post("/tasks/{task_id}/assign", self.assign),
            post("/instance/{instance_id}/tasks/assign", self.assign_instance),
            post("/refreshCache", self.refresh_cache),
            post("/classAction", self.class_action),
            Route(OPENAPI_PATH, self.openapi, methods=["GET"]),
        ]


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return _error(exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    where = f"{request.method} {request.url.path}"
    if exc.status_code == CODE_NOT_FOUND:
        message = f"no such endpoint: {where}"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"method not allowed: {where} (allowed: {allowed})"
    else:
        message = f"{exc.detail}: {where}"
    return _error(exc.status_code, message, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    return _error(CODE_INTERNAL, f"internal error: {type(exc).__name__}")


def create_app(*, db_path: Path, processes_dir: Path | None = None) -> Starlette:
    """The runtime's Starlette app over the SQLite file ``db_path``.

    ``processes_dir`` is the folder of ``.bpmn`` files (default: the bundled samples). The
    store opens here, not in the lifespan, so the app also works where no lifespan runs
    (``httpx.ASGITransport``); the runtime is ``app.state.runtime`` and its ``close()`` is
    idempotent; the lifespan's shutdown calls it too.
    """
    runtime = Runtime(db_path=db_path, processes_dir=processes_dir)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            runtime.close()

    app = Starlette(
        routes=_Endpoints(runtime).routes(),
        middleware=[Middleware(_EncodedSlashIsUnknown)],
        exception_handlers={
            DomainError: _domain_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
