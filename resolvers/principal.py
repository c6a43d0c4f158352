"""Who a request acts for: the authenticated user with the groups and roles they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ListingKind", "Principal"]

#: What a task listing is for: ``tasks?user=``, ``?group=`` or ``?role=``.
ListingKind = Literal["user", "group", "role"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The request's authenticated user, with the groups and roles an identity provider
    (trusted headers or a verified token) vouches for.

        Principal("alice", groups=("Clerk",), roles=())
    """

    user: str
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def may_list(self, kind: ListingKind, name: str) -> bool:
        """Whether this principal may read the listing of ``kind`` ``name``: its own user,
        one of its groups or one of its roles."""
        if kind == "user":
            return name == self.user
        if kind == "group":
            return name in self.groups
        return name in self.roles

    @property
    def listings(self) -> tuple[tuple[ListingKind, str], ...]:
        """Every listing that makes up this principal's inbox: the user, each group, each role."""
        return (
            ("user", self.user),
            *(("group", group) for group in self.groups),
            *(("role", role) for role in self.roles),
        )
