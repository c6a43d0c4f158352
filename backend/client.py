"""The upstream REST client: one async method per endpoint of the ONEWEB Process Runtime API.

What each call sends and returns: ids percent-encoded as one path segment, query values
encoded, bodies as JSON, replies as ``Task`` models or plain data. How it travels (the
pooled HTTP client, the concurrency cap, retries, the circuit breaker, the envelope,
the typed errors of ``backend.errors``) lives in ``backend.transport``. Nothing above
``backend`` knows which HTTP library carries the calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import quote

from backend.breaker import BreakerState, CircuitBreaker
from backend.errors import BadInput, DomainError, UpstreamError, UpstreamFailure
from backend.exchange import Transport
from backend.models import Task
from backend.transport import Observer, UpstreamChannel

__all__ = [
    "DEFAULT_BREAKER_FAILURE_RATE",
    "DEFAULT_BREAKER_MIN_CALLS",
    "DEFAULT_BREAKER_RESET_S",
    "DEFAULT_BREAKER_WINDOW_S",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_RETRY_READS",
    "DEFAULT_TIMEOUT_S",
    "Observer",
    "UpstreamClient",
]

DEFAULT_TIMEOUT_S: Final = 10.0
#: The size of the connection pool, so that every call in flight has its connection.
#: The widest level of the bundled inbox (5 instances, 20 tasks: 25 calls) goes out in
#: one wave, with room for a second query's at the same time.
DEFAULT_MAX_CONCURRENCY: Final = 64
DEFAULT_RETRY_READS: Final = 1
#: The circuit opens when at least this share of the calls in the window failed ...
DEFAULT_BREAKER_FAILURE_RATE: Final = 0.5
#: ... the window holds at least this many calls ...
DEFAULT_BREAKER_MIN_CALLS: Final = 20
#: ... of the last this many seconds (and the failures span two routes, or one refused).
DEFAULT_BREAKER_WINDOW_S: Final = 10.0
DEFAULT_BREAKER_RESET_S: Final = 5.0

_PING_INSTANCE_ID: Final = "oneweb-graphql-readiness-probe"


class UpstreamClient:
    """An async client of one ONEWEB runtime, shared by every request of the process.

    It keeps no per-request state: headers (``Authorization``, ``Cookie``,
    ``X-Request-ID``) are passed to each call and never stored, and no cookie a
    response sets is kept. Open it once (in the lifespan), close it with ``aclose()``
    or ``async with``. Errors carry an ``endpoint``: ``start_process``,
    ``start_process_legacy``, ``claim_task``, ``unclaim_task``, ``complete_task``,
    ``tasks_by_instance``, ``tasks_by_principal``, ``variables_by_task``,
    ``assign_task``, ``assign_instance``, ``refresh_cache``, ``refresh_process``, ``ping``.
    ``transport`` is ``Http1Transport``'s pooled connections unless given (the embedded
    runtime's facade passes ``InProcessTransport``).

        async with UpstreamClient(base_url="http://bpm.example:8080") as client: ...
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        transport: Transport | None = None,
        retry_reads: int = DEFAULT_RETRY_READS,
        breaker_failure_rate: float = DEFAULT_BREAKER_FAILURE_RATE,
        breaker_min_calls: int = DEFAULT_BREAKER_MIN_CALLS,
        breaker_window_s: float = DEFAULT_BREAKER_WINDOW_S,
        breaker_reset_s: float = DEFAULT_BREAKER_RESET_S,
        observer: Observer | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if retry_reads < 0:
            raise ValueError(f"retry_reads must not be negative, got {retry_reads}")
        self._channel = UpstreamChannel(
            base_url=base_url,
            timeout=timeout,
            max_concurrency=max_concurrency,
            transport=transport,
            retry_reads=retry_reads,
            breaker=CircuitBreaker(
                failure_rate=breaker_failure_rate,
                min_calls=breaker_min_calls,
                window_s=breaker_window_s,
                reset_s=breaker_reset_s,
            ),
            observer=observer,
        )

    @property
    def base_url(self) -> str:
        """The upstream base URL (the application context root), as configured."""
        return str(self._channel.base_url)

    @property
    def circuit_state(self) -> BreakerState:
        """``"closed"``, ``"open"`` or ``"half_open"``: whether calls reach the upstream now."""
        return self._channel.breaker.state

    async def aclose(self) -> None:
        """Close the connection pool; the client cannot be used afterwards."""
        await self._channel.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- endpoints (docs/runtime.md lists them) ----------------------------------------

    async def start_process(
        self,
        *,
        process_name: str,
        app_name: str | None = None,
        unique_id: str | None = None,
        snap_version: str | None = None,
        variables: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Start an instance of a process (endpoint 1); returns the new instance id.

        instance_id = await client.start_process(process_name="BookingRoom", variables={})
        """
        fields = {
            "processName": process_name,
            "appName": app_name,
            "uniqueId": unique_id,
            "snapVersion": snap_version,
            "object": None if variables is None else dict(variables),
        }
        body = {key: value for key, value in fields.items() if value is not None}
        data = await self._call(
            "start_process", "POST", "/process/start", body=body, headers=headers
        )
        return _instance_id("start_process", data)

    async def start_process_legacy(
        self,
        process_name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Start an instance by the legacy endpoint 2 (the body is the business object).

        instance_id = await client.start_process_legacy("BookingRoom", {"guests": 2})
        """
        endpoint = "start_process_legacy"
        path = f"/process/{_segment(process_name, 'process name', endpoint)}/start"
        body = dict(variables or {})
        data = await self._call(endpoint, "POST", path, body=body, headers=headers)
        return _instance_id(endpoint, data)

    async def claim_task(
        self, task_id: str, user: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        """Claim an unassigned task for ``user`` (endpoint 3); Conflict if someone else holds it.

        await client.claim_task("t1", "alice")
        """
        await self._task_action("claim_task", task_id, "claim", [("user", user)], headers)

    async def unclaim_task(
        self, task_id: str, user: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        """Release ``user``'s claim on a task.

        await client.unclaim_task("t1", "alice")
        """
        await self._task_action("unclaim_task", task_id, "unclaim", [("user", user)], headers)

    async def complete_task(
        self,
        task_id: str,
        user: str,
        variables: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Complete a task as ``user`` (endpoint 4), merging ``variables`` into the instance.

        await client.complete_task("t1", "alice", {"roomBooked": False})
        """
        body = None if variables is None else dict(variables)
        await self._task_action(
            "complete_task", task_id, "complete", [("user", user)], headers, body
        )

    async def instance_tasks(
        self, instance_id: str, *, headers: Mapping[str, str] | None = None
    ) -> list[Task]:
        """The open tasks of an instance (endpoint 5).

        tasks = await client.instance_tasks("i1")
        """
        endpoint = "tasks_by_instance"
        path = f"/instance/{_segment(instance_id, 'instance id', endpoint)}/tasks"
        data = await self._call(endpoint, "GET", path, headers=headers, read=True)
        return _task_list(endpoint, data)

    async def tasks(
        self,
        *,
        user: str | None = None,
        role: str | None = None,
        group: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> list[Task]:
        """The open tasks of exactly one of a user, a role or a group (endpoint 6).

        tasks = await client.tasks(group="Clerk")
        """
        endpoint = "tasks_by_principal"
        given = [
            (name, value)
            for name, value in (("user", user), ("role", role), ("group", group))
            if value is not None
        ]
        if len(given) != 1:
            raise BadInput("exactly one of user, role or group is required", endpoint=endpoint)
        data = await self._call(endpoint, "GET", "/tasks", query=given, headers=headers, read=True)
        return _task_list(endpoint, data)

    async def task_variables(
        self, task_id: str, *, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The variables a task sees, name -> JSON value (endpoint 7).

        variables = await client.task_variables("t1")
        """
        endpoint = "variables_by_task"
        path = f"/tasks/{_segment(task_id, 'task id', endpoint)}/variables"
        data = await self._call(endpoint, "POST", path, body={}, headers=headers, read=True)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise UpstreamError(
                f"variables reply is {type(data).__name__}, not an object", endpoint=endpoint
            )
        return data

    async def assign_task(
        self, task_id: str, users: Sequence[str], *, headers: Mapping[str, str] | None = None
    ) -> None:
        """Make ``users`` the task's candidate users (endpoint 8); it does not claim.

        await client.assign_task("t1", ["alice", "bob"])
        """
        endpoint = "assign_task"
        if isinstance(users, str):
            raise TypeError("users must be a sequence of names, not one string")
        if not users:
            raise BadInput("at least one user is required", endpoint=endpoint)
        query = [("user", user) for user in users]
        await self._task_action(endpoint, task_id, "assign", query, headers)

    async def assign_instance(
        self, instance_id: str, user: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        """Make ``user`` the one candidate of every open task of an instance (endpoint 9).

        await client.assign_instance("i1", "alice")
        """
        endpoint = "assign_instance"
        path = f"/instance/{_segment(instance_id, 'instance id', endpoint)}/tasks/assign"
        await self._call(endpoint, "POST", path, query=[("user", user)], headers=headers)

    async def refresh_cache(self, *, headers: Mapping[str, str] | None = None) -> None:
        """Reload every process definition (endpoint 10).

        await client.refresh_cache()
        """
        await self._call("refresh_cache", "POST", "/refreshCache", headers=headers)

    async def refresh_process(
        self, process_name: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        """Reload one process definition (endpoint 11, ``/classAction``).

        await client.refresh_process("BookingRoom")
        """
        body = {"processName": process_name}
        await self._call("refresh_process", "POST", "/classAction", body=body, headers=headers)

    async def ping(self) -> bool:
        """Whether the upstream answers with a ONEWEB envelope now (any code); for ``/readyz``.

        A cheap lookup of an instance that does not exist; False while the circuit is open.

        ready = await client.ping()
        """
        path = f"/instance/{_PING_INSTANCE_ID}/tasks"
        try:
            await self._call("ping", "GET", path, headers=None)
        except DomainError:
            return True
        except UpstreamFailure:
            return False
        return True

    # -- one call ----------------------------------------------------------------------

    async def _task_action(
        self,
        endpoint: str,
        task_id: str,
        action: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str] | None,
        body: object | None = None,
    ) -> None:
        path = f"/tasks/{_segment(task_id, 'task id', endpoint)}/{action}"
        await self._call(endpoint, "POST", path, query=query, body=body, headers=headers)

    async def _call(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: object | None = None,
        headers: Mapping[str, str] | None,
        read: bool = False,
    ) -> Any:
        if query:
            path += "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in query)
        return await self._channel.call(
            endpoint, method, path, body=body, headers=headers, read=read
        )


def _segment(value: str, what: str, endpoint: str) -> str:
    """``value`` as one percent-encoded path segment; dot segments are refused before any call."""
    if value in ("", ".", ".."):
        raise BadInput(f"{what} must not be empty, '.' or '..'", endpoint=endpoint)
    return quote(value, safe="")


def _instance_id(endpoint: str, data: Any) -> str:
    if isinstance(data, str) and data:
        return data
    if isinstance(data, int) and not isinstance(data, bool):
        return str(data)
    raise UpstreamError("start reply has no instance id", endpoint=endpoint)


def _task_list(endpoint: str, data: Any) -> list[Task]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise UpstreamError(
            f"task list reply is {type(data).__name__}, not a list", endpoint=endpoint
        )
    tasks = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise UpstreamError(f"task list item {index} is not an object", endpoint=endpoint)
        try:
            tasks.append(Task.from_wire(item))
        except ValueError as exc:
            raise UpstreamError(
                f"task list item {index} is not a task: {exc}", endpoint=endpoint
            ) from exc
    return tasks
