"""Relay-style cursor pagination over a list the upstream returns whole."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from backend.errors import BadInput

__all__ = ["Edge", "Page", "decode_cursor", "encode_cursor", "paginate"]

T = TypeVar("T")
_PREFIX = "offset:"


def encode_cursor(offset: int) -> str:
    """An opaque cursor for the item at ``offset``."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The offset a cursor stands for; ``BadInput`` for anything this module did not make."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInput(f"invalid cursor {cursor!r}") from None
    if not text.startswith(_PREFIX) or not text[len(_PREFIX) :].isdigit():
        raise BadInput(f"invalid cursor {cursor!r}")
    return int(text[len(_PREFIX) :])


@dataclass(frozen=True, slots=True)
class Edge(Generic[T]):
    """One item of a page and its cursor."""

    cursor: str
    node: T


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


def paginate(items: Sequence[T], *, first: int | None, after: str | None) -> Page[T]:
    """The page of ``items`` after the cursor ``after``, at most ``first`` long.

    >>> paginate(["a", "b", "c"], first=2, after=None).has_next_page
    True
    """
    if first is not None and first < 0:
        raise BadInput("`first` must not be negative")
    start = 0 if after is None else decode_cursor(after) + 1
    end = len(items) if first is None else min(len(items), start + first)
    edges = [Edge(encode_cursor(offset), items[offset]) for offset in range(start, end)]
    return Page(
        total_count=len(items),
        edges=edges,
        has_next_page=end < len(items),
        has_previous_page=start > 0,
    )
