"""The per-request ``Context``: credentials to forward, the principal, the loaders, the task memory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend.errors import BadInput, Forbidden, OnewebError

from .loaders import BatchObserver, Loaders, build_loaders
from .memory import InstanceIndex, TaskMemory
from .principal import Principal

if TYPE_CHECKING:
    from backend.client import UpstreamClient

    from .live import Hub

__all__ = ["Context", "ReportedError", "build_context"]


@dataclass(frozen=True, slots=True)
class ReportedError:
    """An upstream failure that a mutation turned into a payload error and that the
    response also lists as a top-level error (without nulling anything)."""

    error: OnewebError
    path: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a resolver may use, built fresh for every request and dropped with it.

    ``headers`` are the caller's credentials to forward upstream and nothing else;
    ``principal`` is the authenticated user (with groups and roles) or None.
    """

    client: UpstreamClient
    headers: Mapping[str, str]
    principal: Principal | None
    loaders: Loaders
    memory: TaskMemory
    allow_user_override: bool = False
    reported: list[ReportedError] = field(default_factory=list)
    #: The live inbox's pollers: a mutation that went through pokes them.
    hub: Hub | None = None

    def acting_user(self, requested: str | None, *, field_name: str = "user") -> str:
        """The user a mutation acts as: the ``user`` argument, else the principal.

        Raises ``BadInput`` when there is neither, and ``Forbidden`` when overrides are
        off and the argument names someone other than the principal.
        """
        principal = self.principal
        if requested is None or (principal is not None and requested == principal.user):
            if principal is None:
                raise BadInput(f"no acting user: pass `{field_name}` or authenticate the request")
            return principal.user
        if not self.allow_user_override:
            raise Forbidden(f"acting as another user ({requested!r}) is not allowed")
        return requested


def build_context(
    *,
    client: UpstreamClient,
    headers: Mapping[str, str],
    principal: Principal | None,
    index: InstanceIndex,
    allow_user_override: bool = False,
    loaders_enabled: bool = True,
    on_batch: BatchObserver | None = None,
    hub: Hub | None = None,
) -> Context:
    """A fresh ``Context`` whose loaders are bound to exactly these credentials."""
    memory = TaskMemory(index)
    loaders = build_loaders(
        client, headers=headers, memory=memory, enabled=loaders_enabled, on_batch=on_batch
    )
    return Context(
        client=client,
        headers=headers,
        principal=principal,
        loaders=loaders,
        memory=memory,
        allow_user_override=allow_user_override,
        hub=hub,
    )
