"""The ``Mutation`` root: start, claim, unclaim, complete, assign, refresh."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from resolvers import mutation as resolve
from resolvers.context import Context

from .inputs import (
    AssignInstanceInput,
    AssignTaskInput,
    ClaimTaskInput,
    CompleteTaskInput,
    RefreshCacheInput,
    StartProcessInput,
    UnclaimTaskInput,
)
from .payloads import AssignInstancePayload, RefreshCachePayload, StartProcessPayload, TaskPayload

__all__ = ["Mutation"]

Info = strawberry.Info[Context, None]


def _path(info: Info) -> tuple[str | int, ...]:
    return tuple(info.path.as_list())


def _id(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


def _selected_names(selections: Iterable[Selection]) -> Iterator[str]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection.name
        else:  # a fragment spread or an inline fragment: its own selections count
            yield from _selected_names(selection.selections)


def _wants(info: Info) -> frozenset[str]:
    """Which payload fields needing a lookup (``task``, ``instance``) the query selects."""
    selected = {
        name for field in info.selected_fields for name in _selected_names(field.selections)
    }
    return frozenset(selected & resolve.ALL_PAYLOAD_FIELDS)


@strawberry.type(description="Acting on processes and tasks. Root fields run one after another.")
class Mutation:
    @strawberry.mutation(description="Start a process instance.")
    async def start_process(
        self,
        info: Info,
        input: Annotated[StartProcessInput, strawberry.argument(description="What to start.")],
    ) -> StartProcessPayload:
        return await resolve.start_process(  # type: ignore[return-value]
            info.context,
            _path(info),
            process_name=input.process_name,
            app_name=input.app_name,
            unique_id=input.unique_id,
            snap_version=input.snap_version,
            variables=input.variables,
            legacy=bool(input.legacy),
        )

    @strawberry.mutation(description="Claim an open task for the acting user.")
    async def claim_task(
        self,
        info: Info,
        input: Annotated[ClaimTaskInput, strawberry.argument(description="The task.")],
    ) -> TaskPayload:
        return await resolve.claim_task(  # type: ignore[return-value]
            info.context,
            _path(info),
            wants=_wants(info),
            task_id=str(input.task_id),
            user=input.user,
            instance_id=_id(input.instance_id),
        )

    @strawberry.mutation(description="Release the acting user's claim on a task.")
    async def unclaim_task(
        self,
        info: Info,
        input: Annotated[UnclaimTaskInput, strawberry.argument(description="The task.")],
    ) -> TaskPayload:
        return await resolve.unclaim_task(  # type: ignore[return-value]
            info.context,
            _path(info),
            wants=_wants(info),
            task_id=str(input.task_id),
            user=input.user,
            instance_id=_id(input.instance_id),
        )

    @strawberry.mutation(
        description="Complete a task as the acting user, merging variables into the instance."
    )
    async def complete_task(
        self,
        info: Info,
        input: Annotated[CompleteTaskInput, strawberry.argument(description="The task.")],
    ) -> TaskPayload:
        return await resolve.complete_task(  # type: ignore[return-value]
            info.context,
            _path(info),
            wants=_wants(info),
            task_id=str(input.task_id),
            user=input.user,
            instance_id=_id(input.instance_id),
            variables=input.variables,
        )

    @strawberry.mutation(description="Offer a task to exactly these users; nobody claims it.")
    async def assign_task(
        self,
        info: Info,
        input: Annotated[AssignTaskInput, strawberry.argument(description="The task.")],
    ) -> TaskPayload:
        return await resolve.assign_task(  # type: ignore[return-value]
            info.context,
            _path(info),
            wants=_wants(info),
            task_id=str(input.task_id),
            users=input.users,
            instance_id=_id(input.instance_id),
        )

    @strawberry.mutation(description="Offer every open task of an instance to one user.")
    async def assign_instance(
        self,
        info: Info,
        input: Annotated[AssignInstanceInput, strawberry.argument(description="The instance.")],
    ) -> AssignInstancePayload:
        return await resolve.assign_instance(  # type: ignore[return-value]
            info.context, _path(info), instance_id=str(input.instance_id), user=input.user
        )

    @strawberry.mutation(description="Reload all process definitions, or one.")
    async def refresh_cache(
        self,
        info: Info,
        input: Annotated[
            RefreshCacheInput | None,
            strawberry.argument(description="Which process; absent: all of them."),
        ] = None,
    ) -> RefreshCachePayload:
        return await resolve.refresh_cache(  # type: ignore[return-value]
            info.context, _path(info), process_name=None if input is None else input.process_name
        )
