"""The ``Viewer`` type: who the request is for, and their inbox."""

from __future__ import annotations

import strawberry

from resolvers import inbox as resolve_inbox
from resolvers import task as resolve_task
from resolvers.context import Context
from resolvers.principal import Principal

from .lookahead import prefetch_page
from .task import TaskConnection
from .task_filter import (
    AfterArgument,
    FilterArgument,
    FirstArgument,
    OrderByArgument,
    to_filter,
    to_order,
)

__all__ = ["Viewer"]


@strawberry.type(
    description=(
        "The authenticated user the request is for (the trusted identity headers or the "
        "verified token), with the groups and roles the identity provider vouches for."
    )
)
class Viewer:
    user: str = strawberry.field(description="The user's name.")
    groups: list[str] = strawberry.field(description="The groups the user belongs to.")
    roles: list[str] = strawberry.field(description="The roles the user has.")

    @strawberry.field(
        description=(
            "The viewer's open tasks: those assigned to the viewer, plus unassigned tasks "
            "offered to the viewer, one of the viewer's groups or one of the viewer's roles; "
            "each task once. Costs one upstream listing per user, group and role "
            "(1 + groups + roles calls, all in flight together), whatever the page or filter."
        )
    )
    async def inbox(
        self,
        root: strawberry.Parent[Principal],
        info: strawberry.Info[Context, None],
        filter: FilterArgument = None,
        order_by: OrderByArgument = None,
        first: FirstArgument = None,
        after: AfterArgument = None,
    ) -> TaskConnection | None:
        tasks = await resolve_inbox.load_inbox(info.context, root)
        page = resolve_task.task_page(
            tasks, filter=to_filter(filter), order=to_order(order_by), first=first, after=after
        )
        await prefetch_page(info, page)
        return page  # type: ignore[return-value]
