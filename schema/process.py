"""The ``Process`` type: a process definition by name."""

from __future__ import annotations

import strawberry

__all__ = ["Process"]


@strawberry.type(description="A process definition of the ONEWEB runtime, known by its name.")
class Process:
    name: str = strawberry.field(description="The process name (the BPMN process id).")
    app_name: str | None = strawberry.field(
        description="The ONEWEB application the process belongs to, where the upstream says."
    )
    snap_version: str | None = strawberry.field(
        description="The snapshot (version) of the application, where the upstream says."
    )
