"""Fuzzing: schemathesis sends generated operations of the facade's own schema, valid and invalid.

Whatever it sends, the facade answers without a 5xx, with a well-formed GraphQL
response: JSON holding ``data`` and/or ``errors``, each error with a ``message``.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes

from schema import sdl

from .conftest import FacadeFactory
from .harness import Upstream, assert_well_formed

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


def test_generated_operations_never_get_a_5xx_and_always_well_formed_graphql(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    for process in ("BookingRoom", "LeaveRequest", "BookingRoom"):
        upstream.start(process)
    facade = facade_factory(upstream.base_url)
    fuzz_schema = schemathesis.graphql.from_file(sdl())
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

    fuzz()
