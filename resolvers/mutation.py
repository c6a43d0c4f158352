"""What each mutation does: the upstream call, what it clears, and the outcome its payload shows.

A mutation's domain failures (unknown task, held by another user, not allowed, bad
input) become ``UserProblem`` entries naming the input field at fault. A failure of the
upstream itself becomes an entry with its ``UPSTREAM_*`` code and is also reported as a
top-level error, so that one failed mutation among many aliases nulls nothing else.
After a success the loaders forget what the mutation changed; the payload's fields then
read the fresh state lazily, through the same loaders, only where the query selects them
(``payload.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from backend.errors import DomainError, NotFound, OnewebError
from backend.limits import InputRefused, check_id, check_json_depth, check_name
from backend.models import Process

from .context import Context
from .instance import InstanceRef
from .loaders import PrincipalKey
from .payload import TaskOutcome, find_in_listings, principal_listings
from .problems import FieldGuess, UserProblem, problem_for
from .touched import Seen, Touched, announce, instance_listings, task_before

__all__ = [
    "ALL_PAYLOAD_FIELDS",
    "InstanceOutcome",
    "RefreshOutcome",
    "TaskOutcome",
    "UserProblem",
    "assign_instance",
    "assign_task",
    "claim_task",
    "complete_task",
    "refresh_cache",
    "start_process",
    "unclaim_task",
]

Path = tuple[str | int, ...]
TaskAction = Literal["claim", "unclaim", "complete", "assign"]

#: The payload fields a task mutation may have to look up; a caller passes those its query selects.
ALL_PAYLOAD_FIELDS: Final = frozenset({"task", "instance"})
_TASK_INPUT: Final = frozenset({"taskId", "instanceId", "user", "users", "variables"})


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


async def _attempt(
    ctx: Context, path: Path, guess: FieldGuess, call: Callable[[], Awaitable[object]]
) -> list[UserProblem]:
    """Run a mutation's upstream call; its failure as problems (empty list: it went through)."""
    try:
        await call()
    except _Refused as refused:
        return [refused.problem]
    except OnewebError as error:
        return [problem_for(ctx, error, path, guess)]
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


async def _checked_instance(ctx: Context, task_id: str, instance_id: str) -> bool:
    """Check the input's ``instanceId``: it exists and has the task open.

    Free where a listing already tied the task to it; else one tasks-by-instance read,
    which the loaders keep for the payload. Returns whether an upstream read was made.
    """
    if ctx.memory.instance_of(task_id) == instance_id:
        return False
    try:
        tasks = await ctx.loaders.tasks_by_instance.load(instance_id)
    except NotFound:
        raise _Refused(
            UserProblem(
                NotFound.graphql_code,
                f"no instance {instance_id!r}: check `instanceId`",
                ("input", "instanceId"),
            )
        ) from None
    if all(task.id != task_id for task in tasks):
        raise _Refused(
            UserProblem(
                NotFound.graphql_code,
                f"instance {instance_id!r} has no open task {task_id!r}: check `taskId`",
                ("input", "taskId"),
            )
        )
    return True


def _looks_up_before(action: TaskAction, wants: frozenset[str]) -> bool:
    # After an unclaim or a completion, no listing the facade can name may show the task:
    # find it while the acting user's listing still does.
    if action == "unclaim":
        return bool(wants)
    return action == "complete" and "instance" in wants


async def _task_mutation(
    ctx: Context,
    path: Path,
    *,
    action: TaskAction,
    task_id: str,
    instance_id: str | None,
    requested_user: str | None,
    users: Sequence[str] = (),
    wants: frozenset[str],
    guess: FieldGuess,
    call: Callable[[str], Awaitable[None]],
) -> TaskOutcome:
    known: list[str] = []
    acting: list[PrincipalKey] = [("user", user) for user in users]
    read_here = False
    before: list[Seen] = []  # the listings that showed the task, for live inboxes

    async def act() -> None:
        nonlocal read_here
        _checked(check_id, "taskId", task_id)
        _checked(check_id, "instanceId", instance_id)
        for user in users:
            _checked(check_name, "users", user)
        if action != "assign":
            acting.append(("user", _acting_user(ctx, requested_user)))
        if instance_id is not None:
            read_here = await _checked_instance(ctx, task_id, instance_id)
            known.append(instance_id)
        elif (remembered := ctx.memory.instance_of(task_id)) is not None:
            known.append(remembered)
        elif _looks_up_before(action, wants):
            read_here = True
            task = await find_in_listings(ctx, task_id, (acting, principal_listings(ctx)))
            if task is not None:
                known.append(task.instance_id)
        before.append(await task_before(ctx, task_id, known[0] if known else None))
        await call(acting[0][1] if acting else "")

    errors = await _attempt(ctx, path, guess, act)
    instance = known[0] if known else None
    if not errors:
        ctx.memory.forget(task_id)
        if instance is not None:
            ctx.loaders.tasks_by_instance.clear(instance)
        ctx.loaders.clear_lists()
        users = [name for _, name in acting]
        if action == "complete":
            ctx.loaders.variables_by_task.clear(task_id)
            opened = await instance_listings(ctx, instance or before[0].instance_id)
            announce(ctx, before[0].listings, opened, users=users)
            return TaskOutcome(task_id, instance, open=False)
        announce(ctx, before[0].listings, users=users)
        return TaskOutcome(task_id, instance, (tuple(acting), principal_listings(ctx)))
    if not read_here:  # refused: what this request read before may be stale
        if instance is not None:
            ctx.loaders.tasks_by_instance.clear(instance)
        ctx.loaders.clear_lists()
    return TaskOutcome(task_id, instance, (principal_listings(ctx), tuple(acting)), errors=errors)


def _guess(default: str) -> FieldGuess:
    return FieldGuess(("input", default), _TASK_INPUT)


async def claim_task(
    ctx: Context,
    path: Path,
    *,
    task_id: str,
    user: str | None,
    instance_id: str | None,
    wants: frozenset[str] = ALL_PAYLOAD_FIELDS,
) -> TaskOutcome:
    """Claim the task for the acting user (endpoint 3)."""
    return await _task_mutation(
        ctx,
        path,
        action="claim",
        task_id=task_id,
        instance_id=instance_id,
        requested_user=user,
        wants=wants,
        guess=_guess("user"),
        call=lambda acting: ctx.client.claim_task(task_id, acting, headers=ctx.headers),
    )


async def unclaim_task(
    ctx: Context,
    path: Path,
    *,
    task_id: str,
    user: str | None,
    instance_id: str | None,
    wants: frozenset[str] = ALL_PAYLOAD_FIELDS,
) -> TaskOutcome:
    """Release the acting user's claim on the task."""
    return await _task_mutation(
        ctx,
        path,
        action="unclaim",
        task_id=task_id,
        instance_id=instance_id,
        requested_user=user,
        wants=wants,
        guess=_guess("user"),
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
    wants: frozenset[str] = ALL_PAYLOAD_FIELDS,
) -> TaskOutcome:
    """Complete the task as the acting user, merging ``variables`` into the instance (endpoint 4)."""
    body = variables

    async def call(acting: str) -> None:
        await ctx.client.complete_task(task_id, acting, body, headers=ctx.headers)

    try:
        body = _object(variables, ("input", "variables"))
        _checked(check_json_depth, "variables", body)
    except _Refused as refused:
        return TaskOutcome(task_id, errors=[refused.problem])
    return await _task_mutation(
        ctx,
        path,
        action="complete",
        task_id=task_id,
        instance_id=instance_id,
        requested_user=user,
        wants=wants,
        guess=_guess("variables"),
        call=call,
    )


async def assign_task(
    ctx: Context,
    path: Path,
    *,
    task_id: str,
    users: Sequence[str],
    instance_id: str | None,
    wants: frozenset[str] = ALL_PAYLOAD_FIELDS,
) -> TaskOutcome:
    """Make ``users`` the task's candidate users (endpoint 8); nobody claims it."""
    if not users:
        problem = UserProblem(
            "BAD_USER_INPUT", "`users` must name at least one user", ("input", "users")
        )
        return TaskOutcome(task_id, errors=[problem])
    return await _task_mutation(
        ctx,
        path,
        action="assign",
        task_id=task_id,
        instance_id=instance_id,
        requested_user=None,
        users=users,
        wants=wants,
        guess=_guess("users"),
        call=lambda _acting: ctx.client.assign_task(task_id, users, headers=ctx.headers),
    )


async def assign_instance(
    ctx: Context, path: Path, *, instance_id: str, user: str
) -> InstanceOutcome:
    """Make ``user`` the one candidate of every open task of the instance (endpoint 9)."""

    before: list[Touched] = []

    async def call() -> None:
        _checked(check_id, "instanceId", instance_id)
        _checked(check_name, "user", user)
        before.append(await instance_listings(ctx, instance_id))
        await ctx.client.assign_instance(instance_id, user, headers=ctx.headers)

    guess = FieldGuess(("input", "user"), frozenset({"instanceId", "user"}))
    errors = await _attempt(ctx, path, guess, call)
    if errors:
        return InstanceOutcome(None, errors)
    ctx.loaders.tasks_by_instance.clear(instance_id)
    ctx.loaders.clear_lists()
    announce(ctx, *before, users=[user])
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

    guess = FieldGuess(("input", "variables"), frozenset({"processName", "variables"}))
    errors = await _attempt(ctx, path, guess, call)
    if errors:
        return InstanceOutcome(None, errors)
    ctx.loaders.clear_lists()
    announce(ctx, await instance_listings(ctx, started[0]))
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

    # A broken process file is the only 400 here: the process named, or the whole refresh.
    fault = ("input",) if process_name is None else ("input", "processName")
    errors = await _attempt(ctx, path, FieldGuess(fault, frozenset({"processName"})), call)
    if not errors:
        ctx.loaders.clear_everything()
    return RefreshOutcome(not errors, errors)
