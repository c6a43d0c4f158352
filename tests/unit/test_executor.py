"""The executor's direct completion of plain fields and lists of objects answers exactly
as graphql-core's own executor, errors (message and path) included."""

from __future__ import annotations

import asyncio
from collections import deque
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType

from schema.executor import FacadeExecutor, is_awaitable, mark_plain


@strawberry.type
class Thing:
    name: str | None
    count: int
    tags: list[str]
    maybe_tags: list[str | None] | None


ROWS: list[Any] = []


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return ROWS

    @strawberry.field
    async def later(self) -> list[Thing]:
        return ROWS


QUERY = """{
  things { name count tags maybeTags }
  later { name count tags maybeTags alias: name withSkip: count @skip(if: false) }
}"""


def _attribute(name: str) -> Any:
    def read(root: Any, _info: Any) -> Any:
        return getattr(root, name)

    return read


def _schema(direct: bool) -> tuple[strawberry.Schema, int]:
    if not direct:  # graphql-core's own executor, as strawberry runs it
        return strawberry.Schema(query=Query), 0
    schema = strawberry.Schema(query=Query, execution_context_class=FacadeExecutor)
    marked = 0
    if direct:
        thing = schema._schema.type_map["Thing"]
        assert isinstance(thing, GraphQLObjectType)
        for name, field in thing.fields.items():
            python_name = {"maybeTags": "maybe_tags"}.get(name, name)
            marked += mark_plain(field, _attribute(python_name))
    return schema, marked


def _answer(direct: bool, rows: list[Any]) -> tuple[Any, list[tuple[str, list[Any]]]]:
    ROWS[:] = rows
    schema, marked = _schema(direct)
    assert marked == (4 if direct else 0)
    result = asyncio.run(schema.execute(QUERY))
    errors = sorted((error.message, list(error.path or [])) for error in result.errors or [])
    return result.data, errors


class Raising:
    """An object whose ``count`` raises, in the middle of a list."""

    name = "r"
    tags: list[str] = []
    maybe_tags = None

    @property
    def count(self) -> int:
        raise RuntimeError("count failed")


GOOD = SimpleNamespace(name="a", count=1, tags=["x", "y"], maybe_tags=None)
HOSTILE = {
    "values as they should be": [
        GOOD,
        SimpleNamespace(name=None, count=2, tags=("t",), maybe_tags=[None, "z"]),
        SimpleNamespace(name="c", count=3, tags=deque(["q"]), maybe_tags=None),
    ],
    "a value the scalar refuses": [
        GOOD,
        SimpleNamespace(name={"no": 1}, count=1, tags=[], maybe_tags=None),
    ],
    "a null in a non-null field": [
        SimpleNamespace(name="a", count=None, tags=[], maybe_tags=None),
        GOOD,
    ],
    "a null item in a list of non-null": [
        SimpleNamespace(name="a", count=1, tags=["x", None], maybe_tags=None)
    ],
    "an int too large for Int": [SimpleNamespace(name="a", count=2**40, tags=[], maybe_tags=None)],
    "a missing attribute": [SimpleNamespace(name="a", count=1, tags=[])],
    "a null object in a list of non-null objects": [GOOD, None],
    "a field that raises": [GOOD, Raising()],
    "a string where a list belongs": [
        SimpleNamespace(name="a", count=1, tags="xy", maybe_tags=None)
    ],
}


@pytest.mark.parametrize("rows", HOSTILE.values(), ids=HOSTILE.keys())
def test_direct_completion_answers_as_graphql_core(rows: list[Any]) -> None:
    usual = _answer(False, rows)
    direct = _answer(True, rows)
    assert direct == usual
    if rows is not HOSTILE["values as they should be"]:
        assert usual[1], "each hostile case is an error"


def test_a_field_with_arguments_or_an_object_type_is_not_marked() -> None:
    schema = strawberry.Schema(query=Query)
    query = schema._schema.type_map["Query"]
    assert isinstance(query, GraphQLObjectType)
    assert not mark_plain(query.fields["things"], lambda root, _info: root)


def test_is_awaitable_answers_per_value_as_graphql_core() -> None:
    async def coroutine() -> None:
        return None

    pending = coroutine()
    close = pending.close
    loop = asyncio.new_event_loop()
    try:
        assert is_awaitable(pending) and is_awaitable(loop.create_future())
        assert not is_awaitable(GOOD) and not is_awaitable(GOOD)  # cached per type
        assert not is_awaitable("x") and not is_awaitable(None)
        assert not is_awaitable(iter([]))
        assert not is_awaitable(str(x) for x in range(1))  # a plain generator is no coroutine
    finally:
        close()
        loop.close()
