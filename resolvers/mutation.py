"""What each mutation does: the upstream call, what it clears, and the outcome its payload shows.

A mutation's domain failures (unknown task, held by another user, not allowed, bad
input) become ``UserProblem`` entries. A failure of the upstream itself becomes an
entry with its ``UPSTREAM_*`` code and is also reported as a top-level error, so
that one failed mutation among many aliases nulls nothing else. After a success the
loaders forget what the mutation changed; the payload's fields then read the fresh
state lazily, through the same loaders, only where the query selects them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.errors import DomainError, NotFound, OnewebError, UpstreamFailure
from backend.limits import MAX_ID_CHARS, InputRefused, check_id, check_json_depth, check_name
from backend.models import Process, Task

from .context import Context, ReportedError
from .instance import InstanceRef

__all__ = [
    "InstanceOutcome",
    "RefreshOutcome",
    "TaskOutcome",
    "UserProblem",
    "assign_instance",
    "assign_task",
    "claim_task",
    "complete_task",
    "payload_instance",
    "payload_task",
    "refresh_cache",
    "start_process",
    "unclaim_task",
]

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class UserProblem:
    """A mutation failure the caller can act on: a code, a message, the input field at fault."""

    code: str
    message: str
    field: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What a task mutation did: which task, its instance where known, and its problems."""

    task_id: str
    instance_id: str | None = None
    #: Users whose task lists may show the task, searched when its instance is unknown.
    lookup_users: tuple[str, ...] = ()
    errors: list[UserProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class InstanceOutcome:
    """What a mutation on an instance did: the instance, and its problems."""

    instance: InstanceRef | None = None
    errors: list[UserProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    """Whether the definitions were refreshed."""

    ok: bool
    errors: list[UserProblem] = field(default_factory=list)


class _Refused(Exception):
    """Carries the problem of a mutation that must not go ahead."""

    def __init__(self, problem: UserProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _problem(
    ctx: Context, error: OnewebError, path: Path, fault: tuple[str, ...] | None
) -> UserProblem:
    if isinstance(error, UpstreamFailure):
        ctx.reported.append(ReportedError(error, path))
        return UserProblem(error.graphql_code, error.message)
    return UserProblem(error.graphql_code, error.message, fault)


async def _attempt(
    ctx: Context, path: Path, call: Callable[[], Awaitable[object]]
) -> list[UserProblem]:
    """Run a mutation's upstream call; its failure as problems (empty list: it went through)."""
    try:
        await call()
    except _Refused as refused:
        return [refused.problem]
    except OnewebError as error:
        return [_problem(ctx, error, path, None)]
    return []


def _checked(check: Callable[[str, Any], object], field: str, value: Any) -> None:
    """Refuse the mutation (a ``BAD_USER_INPUT`` problem naming ``input.<field>``) where
    ``value`` is over a limit; None passes."""
    if value is None:
        return
    try:
        check(field, value)
    except InputRefused as refused:
        raise _Refused(
            UserProblem(refused.graphql_code, refused.message, ("input", field))
        ) from None


def _known_instance(ctx: Context, task_id: str, instance_id: str | None) -> str | None:
    """The task's instance id where known: the input's (if it is an id), else remembered."""
    if instance_id is not None and 1 <= len(instance_id) <= MAX_ID_CHARS:
        return instance_id
    return ctx.memory.instance_of(task_id)


def _acting_user(ctx: Context, requested: str | None) -> str:
    _checked(check_name, "user", requested)
    try:
        return ctx.acting_user(requested)
    except DomainError as error:
        raise _Refused(UserProblem(error.graphql_code, error.message, ("input", "user"))) from None


def _object(value: Any, fault: tuple[str, ...]) -> Mapping[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise _Refused(UserProblem("BAD_USER_INPUT", "`variables` must be a JSON object", fault))


def _forget_task(ctx: Context, task_id: str, instance_id: str | None) -> None:
    ctx.memory.forget(task_id)
    if instance_id is not None:
        ctx.loaders.tasks_by_instance.clear(instance_id)
    ctx.loaders.clear_lists()


async def _task_mutation(
    ctx: Context,
    path: Path,
    *,
    task_id: str,
    instance_id: str | None,
    requested_user: str | None,
    call: Callable[[str], Awaitable[None]],
) -> TaskOutcome:
    acting: list[str] = []

    async def act() -> None:
        _checked(check_id, "taskId", task_id)
        _checked(check_id, "instanceId", instance_id)
        user = _acting_user(ctx, requested_user)
        acting.append(user)
        await call(user)

    errors = await _attempt(ctx, path, act)
    known_instance = _known_instance(ctx, task_id, instance_id)
    if not errors:
        _forget_task(ctx, task_id, known_instance)
    return TaskOutcome(task_id, known_instance, tuple(acting), errors)


async def claim_task(
    ctx: Context, path: Path, *, task_id: str, user: str | None, instance_id: str | None
) -> TaskOutcome:
    """Claim the task for the acting user (endpoint 3)."""
    return await _task_mutation(
        ctx,
        path,
        task_id=task_id,
        instance_id=instance_id,
        requested_user=user,
        call=lambda acting: ctx.client.claim_task(task_id, acting, headers=ctx.headers),
    )


async def unclaim_task(
    ctx: Context, path: Path, *, task_id: str, user: str | None, instance_id: str | None
) -> TaskOutcome:
    """Release the acting user's claim on the task."""
    return await _task_mutation(
        ctx,
        path,
        task_id=task_id,
        instance_id=instance_id,
        requested_user=user,
        call=lambda acting: ctx.client.unclaim_task(task_id, acting, headers=ctx.headers),
    )


async def complete_task(
    ctx: Context,
    path: Path,
    *,
    task_id: str,
    user: str | None,
    instance_id: str | None,
    variables: Any,
) -> TaskOutcome:
    """Complete the task as the acting user, merging ``variables`` into the instance (endpoint 4)."""

    async def call(acting: str) -> None:
        body = _object(variables, ("input", "variables"))
        _checked(check_json_depth, "variables", body)
        await ctx.client.complete_task(task_id, acting, body, headers=ctx.headers)

    outcome = await _task_mutation(
        ctx, path, task_id=task_id, instance_id=instance_id, requested_user=user, call=call
    )
    if not outcome.errors:
        ctx.loaders.variables_by_task.clear(task_id)
    return outcome


async def assign_task(
    ctx: Context, path: Path, *, task_id: str, users: Sequence[str], instance_id: str | None
) -> TaskOutcome:
    """Make ``users`` the task's candidate users (endpoint 8); nobody claims it."""

    async def call() -> None:
        _checked(check_id, "taskId", task_id)
        _checked(check_id, "instanceId", instance_id)
        for user in users:
            _checked(check_name, "users", user)
        if not users:
            raise _Refused(
                UserProblem(
                    "BAD_USER_INPUT", "`users` must name at least one user", ("input", "users")
                )
            )
        await ctx.client.assign_task(task_id, users, headers=ctx.headers)

    errors = await _attempt(ctx, path, call)
    known_instance = _known_instance(ctx, task_id, instance_id)
    if not errors:
        _forget_task(ctx, task_id, known_instance)
    return TaskOutcome(task_id, known_instance, tuple(users), errors)


async def assign_instance(
    ctx: Context, path: Path, *, instance_id: str, user: str
) -> InstanceOutcome:
    """Make ``user`` the one candidate of every open task of the instance (endpoint 9)."""

    async def call() -> None:
        _checked(check_id, "instanceId", instance_id)
        _checked(check_name, "user", user)
        await ctx.client.assign_instance(instance_id, user, headers=ctx.headers)

    errors = await _attempt(ctx, path, call)
    if errors:
        return InstanceOutcome(None, errors)
    ctx.loaders.tasks_by_instance.clear(instance_id)
    ctx.loaders.clear_lists()
    return InstanceOutcome(InstanceRef(instance_id))


async def start_process(
    ctx: Context,
    path: Path,
    *,
    process_name: str,
    app_name: str | None,
    unique_id: str | None,
    snap_version: str | None,
    variables: Any,
    legacy: bool,
) -> InstanceOutcome:
    """Start an instance (endpoint 1, or the legacy endpoint 2)."""
    started: list[str] = []

    async def call() -> None:
        _checked(check_id, "processName", process_name)
        _checked(check_id, "uniqueId", unique_id)
        body = _object(variables, ("input", "variables"))
        _checked(check_json_depth, "variables", body)
        if legacy:
            started.append(
                await ctx.client.start_process_legacy(process_name, body, headers=ctx.headers)
            )
        else:
            started.append(
                await ctx.client.start_process(
                    process_name=process_name,
                    app_name=app_name,
                    unique_id=unique_id,
                    snap_version=snap_version,
                    variables=body,
                    headers=ctx.headers,
                )
            )

    errors = await _attempt(ctx, path, call)
    if errors:
        return InstanceOutcome(None, errors)
    ctx.loaders.clear_lists()
    process = Process(name=process_name, app_name=app_name, snap_version=snap_version)
    return InstanceOutcome(InstanceRef(started[0], process))


async def refresh_cache(ctx: Context, path: Path, *, process_name: str | None) -> RefreshOutcome:
    """Reload every process definition (endpoint 10), or one (endpoint 11)."""

    async def call() -> None:
        _checked(check_id, "processName", process_name)
        if process_name is None:
            await ctx.client.refresh_cache(headers=ctx.headers)
        else:
            await ctx.client.refresh_process(process_name, headers=ctx.headers)

    errors = await _attempt(ctx, path, call)
    if not errors:
        ctx.loaders.clear_everything()
    return RefreshOutcome(not errors, errors)


async def payload_task(ctx: Context, outcome: TaskOutcome) -> Task | None:
    """The task as it is now, read through the loaders; None where it is no longer open."""
    if outcome.errors:
        return None
    if outcome.instance_id is not None:
        try:
            tasks = await ctx.loaders.tasks_by_instance.load(outcome.instance_id)
        except NotFound:
            return None
        return next((task for task in tasks if task.id == outcome.task_id), None)
    for user in outcome.lookup_users:
        for task in await ctx.loaders.tasks_by_principal.load(("user", user)):
            if task.id == outcome.task_id:
                return task
    return None


def payload_instance(ctx: Context, outcome: TaskOutcome) -> InstanceRef | None:
    """The task's instance where its id is known (from the input or any listing seen)."""
    if any(problem.code == NotFound.graphql_code for problem in outcome.errors):
        return None
    instance_id = outcome.instance_id or ctx.memory.instance_of(outcome.task_id)
    return None if instance_id is None else InstanceRef(instance_id)
