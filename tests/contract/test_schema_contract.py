"""The exported schema keeps every name and type of the fixed API (contract.graphql), and equals the committed SDL."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from schema import sdl

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = build_schema((Path(__file__).parent / "contract.graphql").read_text())
OURS = build_schema(sdl())


def _named_types(schema: GraphQLSchema) -> list[str]:
    return sorted(name for name in schema.type_map if not name.startswith("__"))


def test_committed_sdl_equals_export() -> None:
    assert (ROOT / "schema" / "schema.graphql").read_text() == sdl()


@pytest.mark.parametrize("type_name", _named_types(CONTRACT))
def test_contract_type_exists_with_same_kind(type_name: str) -> None:
    assert type_name in OURS.type_map, f"{type_name} is missing"
    assert type(OURS.type_map[type_name]) is type(CONTRACT.type_map[type_name])


@pytest.mark.parametrize(
    "type_name",
    [
        name
        for name in _named_types(CONTRACT)
        if isinstance(CONTRACT.type_map[name], GraphQLObjectType)
    ],
)
def test_contract_object_fields_and_arguments_match(type_name: str) -> None:
    theirs = CONTRACT.type_map[type_name]
    ours = OURS.type_map[type_name]
    assert isinstance(theirs, GraphQLObjectType) and isinstance(ours, GraphQLObjectType)
    for field_name, field in theirs.fields.items():
        assert field_name in ours.fields, f"{type_name}.{field_name} is missing"
        our_field = ours.fields[field_name]
        assert str(our_field.type) == str(field.type), f"{type_name}.{field_name}"
        for arg_name, arg in field.args.items():
            assert arg_name in our_field.args, f"{type_name}.{field_name}({arg_name}) is missing"
            assert str(our_field.args[arg_name].type) == str(arg.type)
        for arg_name, arg in our_field.args.items():
            if arg_name not in field.args:
                assert not str(arg.type).endswith("!"), f"added argument {arg_name} is required"


@pytest.mark.parametrize(
    "type_name",
    [
        name
        for name in _named_types(CONTRACT)
        if isinstance(CONTRACT.type_map[name], GraphQLInputObjectType)
    ],
)
def test_contract_input_fields_match(type_name: str) -> None:
    theirs = CONTRACT.type_map[type_name]
    ours = OURS.type_map[type_name]
    assert isinstance(theirs, GraphQLInputObjectType) and isinstance(ours, GraphQLInputObjectType)
    for field_name, field in theirs.fields.items():
        assert field_name in ours.fields, f"{type_name}.{field_name} is missing"
        assert str(ours.fields[field_name].type) == str(field.type)
        assert ours.fields[field_name].default_value == field.default_value


@pytest.mark.parametrize(
    "type_name",
    [
        name
        for name in _named_types(CONTRACT)
        if isinstance(CONTRACT.type_map[name], GraphQLEnumType)
    ],
)
def test_contract_enum_values_exist(type_name: str) -> None:
    theirs = CONTRACT.type_map[type_name]
    ours = OURS.type_map[type_name]
    assert isinstance(theirs, GraphQLEnumType) and isinstance(ours, GraphQLEnumType)
    assert set(theirs.values) <= set(ours.values)


def test_tasks_takes_filter_and_order_before_the_page_arguments() -> None:
    query = OURS.type_map["Query"]
    assert isinstance(query, GraphQLObjectType)
    arguments = list(query.fields["tasks"].args)
    assert arguments.index("filter") < arguments.index("orderBy") < arguments.index("first")
    assert str(query.fields["tasks"].args["filter"].type) == "TaskFilter"
    assert str(query.fields["tasks"].args["orderBy"].type) == "[TaskOrder!]"


def test_every_type_field_and_argument_has_a_description() -> None:
    undocumented = []
    for name in _named_types(OURS):
        graphql_type = OURS.type_map[name]
        if name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not graphql_type.description:
            undocumented.append(name)
        fields = getattr(graphql_type, "fields", {})
        for field_name, field in fields.items():
            if not field.description:
                undocumented.append(f"{name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description:
                    undocumented.append(f"{name}.{field_name}({arg_name})")
    assert undocumented == []
