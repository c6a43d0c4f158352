"""Fuzzing: schemathesis sends generated operations of the facade's own schema, valid and invalid.

Whatever it sends, the facade answers without a 5xx, with a well-formed GraphQL
response: JSON holding ``data`` and/or ``errors``, each error with a ``message``; and every
check schemathesis has (``schemathesis run -c all``) passes: no GraphQL server error (ST113),
no null in a non-null field, no invalid operation accepted. The one kind of finding allowed
is a valid operation refused with BAD_USER_INPUT for a rule the SDL cannot express.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.graphql import nodes

from schema import sdl

from .conftest import FacadeFactory
from .harness import Upstream, assert_well_formed

#: Schemathesis's code for a valid operation answered with a client error (ST113 is a server error).
POSITIVE_DATA_REFUSED = "ST206"
#: Examples drawn from valid and invalid operations together (~3 s on loopback).
EXAMPLES = 200

_JSON_VALUES = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
    st.text(max_size=30).map(nodes.String),
    st.booleans().map(nodes.Boolean),
    st.just(nodes.Null),
)
schemathesis.graphql.scalar("JSON", _JSON_VALUES)
schemathesis.graphql.scalar(
    "DateTime",
    st.datetimes().map(lambda moment: nodes.String(moment.isoformat() + "+00:00")),
)


def _refused_input(failure: Failure, reply: Any) -> bool:
    """A valid operation refused for a rule the SDL cannot express (``tasks`` takes exactly one
    of ``user``, ``role``, ``group``; ids are not empty, ``.`` or ``..``): every error is
    BAD_USER_INPUT. Schemathesis reports it (positive data acceptance); it is no defect."""
    errors = reply.get("errors") if isinstance(reply, dict) else None
    return (
        failure.code == POSITIVE_DATA_REFUSED
        and bool(errors)
        and all(error.get("extensions", {}).get("code") == "BAD_USER_INPUT" for error in errors)
    )


def _failure(failure: Failure, reply: Any) -> str:
    return f"{failure.code} {failure.title}: {failure.message}\n{str(reply)[:500]}"


def test_generated_operations_never_get_a_5xx_and_always_well_formed_graphql(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    for process in ("BookingRoom", "LeaveRequest", "BookingRoom"):
        upstream.start(process)
    facade = facade_factory(upstream.base_url)
    fuzz_schema = schemathesis.graphql.from_file(sdl())
    fuzz_schema.config.checks.update(included_check_names=["all"])
    url = facade.base_url + "/graphql"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run: CI stays reproducible
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(
            fuzz_schema.as_strategy(GenerationMode.POSITIVE),
            fuzz_schema.as_strategy(GenerationMode.NEGATIVE),
        )
    )
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers={"X-Remote-User": "fuzzer"}, timeout=10)
        assert_well_formed(response.status_code, response.content)
        try:
            case.validate_response(response)  # every check schemathesis has (`-c all`)
        except FailureGroup as group:
            found.extend((failure, response.json()) for failure in group.exceptions)
        except Failure as failure:
            found.append((failure, response.json()))

    found: list[tuple[Failure, Any]] = []
    fuzz()
    assert [
        _failure(failure, reply) for failure, reply in found if not _refused_input(failure, reply)
    ] == []
    # The run did reach the rules the SDL cannot express (it would find nothing otherwise).
    assert any(failure.code == POSITIVE_DATA_REFUSED for failure, _ in found)
