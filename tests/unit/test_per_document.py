"""A value per parsed document: computed once per document object, bounded."""

from __future__ import annotations

import pytest
from graphql import DocumentNode, parse

from schema.per_document import PerDocument


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, document: DocumentNode) -> int:
        self.calls += 1
        return len(document.definitions)


def test_a_document_is_computed_once() -> None:
    cache: PerDocument[int] = PerDocument()
    compute, document = Counting(), parse("{ a } fragment F on Q { b }")

    assert cache.get(document, compute) == 2
    assert cache.get(document, compute) == 2
    assert compute.calls == 1


def test_an_equal_document_of_its_own_is_computed_again() -> None:
    # Found by identity, never by a deep comparison: equal texts parsed twice are two entries.
    cache: PerDocument[int] = PerDocument()
    compute = Counting()

    cache.get(parse("{ a }"), compute)
    cache.get(parse("{ a }"), compute)

    assert compute.calls == 2


def test_the_extra_key_keeps_values_apart() -> None:
    cache: PerDocument[str] = PerDocument()
    document = parse("{ a }")

    assert cache.get(document, lambda _: "first", "rules-1") == "first"
    assert cache.get(document, lambda _: "second", "rules-2") == "second"
    assert cache.get(document, lambda _: "not computed", "rules-1") == "first"


def test_the_least_recently_used_is_dropped_past_the_bound() -> None:
    cache: PerDocument[int] = PerDocument(size=2)
    compute = Counting()
    first, second, third = parse("{ a }"), parse("{ b }"), parse("{ c }")

    cache.get(first, compute)
    cache.get(second, compute)
    cache.get(first, compute)  # used again: now the second is the oldest
    cache.get(third, compute)
    cache.get(first, compute)
    assert compute.calls == 3
    cache.get(second, compute)
    assert compute.calls == 4


def test_a_computation_that_raises_is_not_kept() -> None:
    cache: PerDocument[int] = PerDocument()
    document = parse("{ a }")

    def failing(_: DocumentNode) -> int:
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get(document, failing)
    assert cache.get(document, lambda _: 7) == 7
