"""Documents are parsed once per text and shared; a document that does not parse is
reported as before, every time."""

from __future__ import annotations

from schema import _parse, build_schema

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
