"""The ``Subscription`` root: the viewer's inbox, live."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from graphql import DocumentNode, GraphQLError

from resolvers import live
from resolvers.context import Context
from resolvers.live_follow import Handoff

from .task import Task, TaskConnection
from .task_filter import TaskFilter, TaskOrder, to_filter, to_order

__all__ = ["InboxUpdate", "Subscription"]


@strawberry.type(description="The viewer's inbox now, and how it changed since the last update.")
class InboxUpdate:
    tasks: TaskConnection = strawberry.field(
        description="The viewer's inbox now (the first page, per `first`)."
    )
    added: list[Task] = strawberry.field(
        description=(
            "Tasks that entered the page since the previous update (the first update: all)."
        )
    )
    changed: list[Task] = strawberry.field(
        description="Tasks still on the page, some field of which changed."
    )
    removed_ids: list[strawberry.ID] = strawberry.field(
        description="Ids of tasks that left the page (completed, claimed by another, ...)."
    )


@strawberry.type(
    description=(
        "Live updates, over WebSocket (`graphql-transport-ws`) or HTTP (a POST with "
        "`Accept: multipart/mixed;subscriptionSpec=1.0`)."
    )
)
class Subscription:
    @strawberry.subscription(
        description=(
            "The viewer's inbox, as `viewer.inbox` lists it: first at once (everything in "
            "`added`), then each time it changes. The facade polls each user, group and role "
            "listing once per interval for all subscribers together, and at once after a "
            "mutation through it. Refused with `UNAUTHENTICATED` without a principal."
        )
    )
    async def inbox(
        self,
        info: strawberry.Info[Context, None],
        filter: Annotated[
            TaskFilter | None, strawberry.argument(description="Keep only these tasks.")
        ] = None,
        order_by: Annotated[
            list[TaskOrder] | None,
            strawberry.argument(
                description="Sort by these terms, then by id; absent: oldest first."
            ),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="At most this many tasks; absent: all.")
        ] = None,
    ) -> AsyncGenerator[InboxUpdate, None]:
        ctx = info.context
        if ctx.principal is None:
            # The WebSocket handler refuses such a connection already; this guards the rest.
            raise GraphQLError(
                "a subscription needs an authenticated principal",
                extensions={"code": "UNAUTHENTICATED"},
            )
        if ctx.hub is None:
            raise RuntimeError("no live hub: the server did not start one")
        view = live.View(
            ctx.principal, filter=to_filter(filter), order=to_order(order_by), first=first
        )
        handoff = info.root_value
        if isinstance(handoff, Handoff):
            # The transport continues without this generator after the first update.
            raw = info._raw_info  # graphql-core's, which has the fragments
            document = DocumentNode(definitions=(raw.operation, *raw.fragments.values()))
            yield await handoff.first_update(ctx.hub, view, document)
            return
        async for update in live.watch(ctx.hub, view):
            yield update  # type: ignore[misc]
