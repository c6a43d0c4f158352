"""The breaking-change gate: schema/schema.graphql keeps every promise of the released SDL.

Clients generated from a released schema (the examples, every frontend built with codegen)
break when a type, field, argument or enum value they use goes away or changes type. Such a
change passes only when schema/released/schema.graphql is deliberately replaced in the same
commit (docs/frontend.md, "Releasing a schema version").
"""

from __future__ import annotations

import re
from pathlib import Path

from graphql import build_schema, find_breaking_changes

SCHEMA = Path(__file__).resolve().parents[2] / "schema"
CURRENT = SCHEMA / "schema.graphql"
RELEASED = SCHEMA / "released" / "schema.graphql"


def breaking_changes(released: str, current: str) -> list[str]:
    """What ``current`` breaks of ``released`` (both SDL), one line per change."""
    changes = find_breaking_changes(build_schema(released), build_schema(current))
    return [f"{change.type.name}: {change.description}" for change in changes]


def test_the_schema_makes_no_breaking_change_to_the_released_one() -> None:
    breaking = breaking_changes(RELEASED.read_text(), CURRENT.read_text())
    assert breaking == [], (
        "schema/schema.graphql breaks clients of the released schema:\n  "
        + "\n  ".join(breaking)
        + "\nMake the change additive, or release a new major version: see docs/frontend.md."
    )


def test_the_gate_catches_a_removed_field_and_a_narrowed_argument() -> None:
    released = CURRENT.read_text()
    instance_id = '    """The instance id."""\n    id: ID!\n'
    assignee = re.compile(r'  """[^"]*"""\n  assignee: String\n')
    assert assignee.search(released) and instance_id in released
    current = assignee.sub("", released, count=1)
    current = current.replace(instance_id, instance_id + "    shard: Int!\n", 1)

    breaking = breaking_changes(released, current)

    assert any("assignee was removed" in line for line in breaking), breaking
    assert any("shard" in line for line in breaking), breaking


def test_the_gate_lets_an_additive_change_through() -> None:
    released = CURRENT.read_text()
    current = (
        released + '\n"""A new type."""\ntype Added {\n  """A new field."""\n  name: String\n}\n'
    )
    current = current.replace("type Query {\n", 'type Query {\n  """New."""\n  added: Added\n', 1)

    assert current != released
    assert breaking_changes(released, current) == []
