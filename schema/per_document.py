"""A value computed once per parsed document, found by the document's identity.

graphql-core's AST nodes are frozen dataclasses: hashing one hashes its whole tree, every
time. Keyed by the document, the validation cache hashed the inbox's document on every
request (12 us, warm), and the limits measured it twice more (23 us), all before the
first upstream call. The parse cache (``schema._ParseCache``) hands out one document
object per text, so a document seen before is found here by its ``id``; a weak
reference tells a reused ``id`` from the document an entry was made for.

    costs: PerDocument[Cost] = PerDocument()
    cost = costs.get(document, measure)
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from graphql import DocumentNode

__all__ = ["PerDocument"]

V = TypeVar("V")


class PerDocument(Generic[V]):
    """A bounded LRU of one value per document (and per ``extra`` key, such as the
    validation rules), computed on first use; a computation that raises is not kept."""

    def __init__(self, size: int = 128) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[weakref.ref[DocumentNode], V]]
        self._entries = OrderedDict()

    def get(
        self, document: DocumentNode, compute: Callable[[DocumentNode], V], *extra: Hashable
    ) -> V:
        key = (id(document), *extra)
        entry = self._entries.get(key)
        if entry is not None and entry[0]() is document:
            self._entries.move_to_end(key)
            return entry[1]
        value = compute(document)
        self._entries[key] = (weakref.ref(document), value)
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value
