"""Relay-style cursor pagination over a sorted list the facade fetched whole.

A cursor holds the position of its item in the order (the sort values and the id) and the
scope of the filter and order it was made for, not an offset: the next page starts after
that position in the list as it is now, so a task completed or added in between does not
shift a page onto tasks already seen or past tasks not yet seen. A cursor from another
scope is refused (``BadInput``), as is anything this module did not make.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from backend.errors import BadInput

__all__ = ["Edge", "Ordering", "Page", "decode_cursor", "encode_cursor", "paginate"]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)
#: A cursor's format; another version is refused, not misread.
_VERSION = 1
#: Where an item sits: its sort values, then its id.
Position = tuple[Any, ...]


class Ordering(Protocol[T_contra]):
    """How a list is sorted, as far as its cursors need to know."""

    @property
    def scope(self) -> str:
        """Names the filter and order; a cursor is valid only in the scope it was made in."""
        ...

    def position(self, item: T_contra) -> Position:
        """Where ``item`` sits (JSON values only)."""
        ...

    def compare(self, a: Position, b: Position) -> int:
        """-1, 0 or 1 as ``a`` sorts before, with or after ``b``."""
        ...

    def is_valid(self, candidate: Sequence[object]) -> bool:
        """Whether ``candidate``, read from a cursor, is a position of this ordering."""
        ...


def encode_cursor(scope: str, position: Position) -> str:
    """An opaque cursor for the item at ``position`` of a list sorted in ``scope``."""
    # The standard json module: timestamps past 64 bits stay exact, where orjson refuses them.
    text = json.dumps({"v": _VERSION, "s": scope, "p": list(position)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_cursor(cursor: str, ordering: Ordering[Any]) -> Position:
    """The position a cursor stands for; ``BadInput`` for one this module did not make, or
    made for another filter or order."""
    try:
        data: Any = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, RecursionError):
        raise BadInput(f"invalid cursor {cursor!r}") from None
    if (
        not isinstance(data, dict)
        or data.get("v") != _VERSION
        or not isinstance(data.get("s"), str)
        or not isinstance(data.get("p"), list)
    ):
        raise BadInput(f"invalid cursor {cursor!r}")
    if data["s"] != ordering.scope:
        raise BadInput(
            "this cursor belongs to a list with another filter or order: "
            "pass the same `filter` and `orderBy` as for the page it came from"
        )
    if not ordering.is_valid(data["p"]):
        raise BadInput(f"invalid cursor {cursor!r}")
    return tuple(data["p"])


@dataclass(frozen=True, slots=True)
class Edge(Generic[T]):
    """One item of a page and its cursor (made only when asked for: most screens never do)."""

    node: T
    scope: str
    position: Position

    @property
    def cursor(self) -> str:
        return encode_cursor(self.scope, self.position)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items with their cursors, and where it sits in the whole."""

    total_count: int
    edges: list[Edge[T]]
    has_next_page: bool
    has_previous_page: bool

    @property
    def page_info(self) -> Page[T]:
        """The page itself carries the Relay page info fields."""
        return self

    @property
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @property
    def start_cursor(self) -> str | None:
        return self.edges[0].cursor if self.edges else None

    @property
    def end_cursor(self) -> str | None:
        return self.edges[-1].cursor if self.edges else None


def paginate(
    items: Sequence[T], *, first: int | None, after: str | None, ordering: Ordering[T]
) -> Page[T]:
    """The page of ``items`` (sorted by ``ordering``) after the cursor ``after``, at most
    ``first`` long.

    >>> paginate(tasks, first=2, after=None, ordering=TaskOrdering.of(None, None)).has_next_page
    True
    """
    if first is not None and first < 0:
        raise BadInput("`first` must not be negative")
    if after is None:
        start = 0
    else:
        # Only the O(log n) items the search visits get a position.
        by_order = functools.cmp_to_key(ordering.compare)
        start = bisect.bisect_right(
            items,
            by_order(decode_cursor(after, ordering)),
            key=lambda item: by_order(ordering.position(item)),
        )
    end = len(items) if first is None else min(len(items), start + first)
    scope = ordering.scope
    edges = [Edge(items[i], scope, ordering.position(items[i])) for i in range(start, end)]
    return Page(
        total_count=len(items),
        edges=edges,
        has_next_page=end < len(items),
        has_previous_page=start > 0,
    )
