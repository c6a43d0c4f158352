"""The one-pass document measure agrees with strawberry's depth and alias rules, in linear time."""

from __future__ import annotations

import time

import pytest
from graphql import parse, validate
from strawberry.extensions.max_aliases import count_fields_with_alias
from strawberry.extensions.query_depth_limiter import create_validator

from schema import schema
from server.document_cost import largest_merge, measure

DOCUMENTS = [
    '{ tasks(user: "u") { nodes { id } } }',
    '{ a: tasks(user: "u") { nodes { id } } b: tasks(user: "v") { totalCount } }',
    '{ tasks(group: "g") { nodes { instance { tasks { id } } } } }',
    "{ __schema { types { name fields { name type { name ofType { name } } } } } }",
    '{ tasks(user: "u") { nodes { ...T } } } fragment T on Task { x: id instance { id } }',
    '{ tasks(user: "u") { nodes { ... on Task { instance { tasks { id } } } } } }',
    'query A { tasks(user: "u") { totalCount } } query B { t: tasks(user: "v") { nodes { id } } }',
    '{ ...Q ...Q } fragment Q on Query { q: tasks(role: "r") { nodes { ...T } } }'
    " fragment T on Task { i: instance { id } }",
]


def _strawberry_depths(source: str) -> dict[str, int]:
    depths: dict[str, int] = {}
    rule = create_validator(1000, None, callback=depths.update)
    validate(schema._schema, parse(source), [rule])
    return depths


@pytest.mark.parametrize("source", DOCUMENTS)
def test_depth_and_aliases_match_strawberrys_rules(source: str) -> None:
    document = parse(source)
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    operations = [d for d in document.definitions if d.kind == "operation_definition"]

    cost = measure(document)

    assert dict(cost.operation_depths) == _strawberry_depths(source)
    assert cost.aliases == sum(count_fields_with_alias(op, fragments) for op in operations)  # type: ignore[arg-type]


def test_each_spread_counts_its_fragment_in_full() -> None:
    cost = measure(parse("{ ...A ...A } fragment A on Query { a: __typename b: __typename }"))

    assert (cost.aliases, cost.selections, cost.spreads) == (4, 4, 2)


def test_a_cycle_and_an_unknown_fragment_count_as_empty() -> None:
    cost = measure(
        parse("{ ...A ...Missing } fragment A on Query { x ...B } fragment B on Query { ...A }")
    )

    assert cost.selections == 1
    assert cost.spreads == 4


def test_a_fragment_chain_of_two_thousand_does_not_recurse() -> None:
    parts = ["{ ...F0 }"] + [f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(1999)]
    parts.append("fragment F1999 on Query { __typename }")
    document = parse("\n".join(parts), max_tokens=100_000)

    cost = measure(document)

    assert (cost.selections, cost.spreads) == (1, 2000)
    assert largest_merge(document) == 1


def test_the_fragment_bomb_is_measured_in_linear_time() -> None:
    parts = ["{ ...F0 }"] + [
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(399)
    ]
    parts.append("fragment F399 on Query { __typename }")
    document = parse("\n".join(parts))

    started = time.perf_counter()
    cost = measure(document)
    elapsed = time.perf_counter() - started

    assert cost.selections == 10**12  # saturated, never a 120-digit number
    assert elapsed < 1.0


def test_largest_merge_counts_fields_merged_across_fragments_and_levels() -> None:
    document = parse(
        '{ t: tasks(user: "u") { nodes { id } } ...A }'
        ' fragment A on Query { t: tasks(user: "u") { nodes { id id } } }'
    )

    assert largest_merge(document) == 3  # nodes.id: one from the field, two from A


def test_an_invalid_document_is_measured_too() -> None:
    # The limits run before validation: unknown fields count like any other.
    assert measure(parse("{ nope { deeper { still } } }")).depth == 2
