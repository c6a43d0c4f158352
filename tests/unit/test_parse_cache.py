"""Documents are parsed once per text and shared; a document that does not parse is
reported as before, every time."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from schema import _parse, _ParseCache, build_schema

QUERY = '{ process(name: "BookingRoom") { name } }'


def test_the_same_text_is_parsed_once_and_each_request_gets_its_own_answer() -> None:
    schema = build_schema()
    _parse.cache_clear()
    first = schema.execute_sync(QUERY)
    second = schema.execute_sync(QUERY.replace("BookingRoom", "LeaveRequest"))
    third = schema.execute_sync(QUERY)

    assert first.data == third.data == {"process": {"name": "BookingRoom"}}
    assert second.data == {"process": {"name": "LeaveRequest"}}
    info = _parse.cache_info()
    assert (info.misses, info.hits) == (2, 1)


def test_a_document_that_does_not_parse_is_reported_each_time_and_not_kept() -> None:
    schema = build_schema()
    _parse.cache_clear()
    answers = [schema.execute_sync("{ process(name: ") for _ in range(2)]

    for answer in answers:
        assert answer.errors is not None
        assert answer.errors[0].message.startswith("Syntax Error")
    assert _parse.cache_info().currsize == 0


@strawberry.type
class _Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


@strawberry.type
class _Subscription:
    @strawberry.subscription
    async def count(self, upto: int) -> AsyncGenerator[int, None]:
        for number in range(upto):
            yield number


async def test_subscriptions_sharing_a_parse_each_run_with_their_own_variables() -> None:
    schema = strawberry.Schema(_Query, subscription=_Subscription, extensions=[_ParseCache])
    _parse.cache_clear()
    text = "subscription Count($upto: Int!) { count(upto: $upto) }"
    streams = [await schema.subscribe(text, variable_values={"upto": n}) for n in (2, 3)]
    # Both run at once, interleaved, on the one parse.
    first, second = (aiter(stream) for stream in streams)
    seen: list[list[object]] = [[], []]
    for _ in range(2):
        seen[0].append((await anext(first)).data)
        seen[1].append((await anext(second)).data)
    seen[1].append((await anext(second)).data)

    assert seen == [[{"count": 0}, {"count": 1}], [{"count": 0}, {"count": 1}, {"count": 2}]]
    info = _parse.cache_info()
    assert (info.misses, info.hits) == (1, 1)
