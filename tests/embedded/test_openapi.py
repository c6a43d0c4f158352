"""Property-based: whatever schemathesis sends per the OpenAPI description, never a 5xx.

The schema is loaded from the same function that serves ``/BPMREST/openapi.json`` (test_app
checks the served copy), and every case goes over real HTTP to a runtime on a socket.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from backend.embedded.app import create_app
from backend.embedded.openapi import openapi_document
from tests.support.servers import serving

# Bounded so that the whole run stays well under a minute on a small machine.
MAX_EXAMPLES = 40

schema = schemathesis.openapi.from_dict(openapi_document())
# A pytest parameter per operation, each with its own id: schemathesis' own parametrize
# gives its items one shared node id, of which pytest-xdist would run only the first.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.fixture(scope="module")
def runtime_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One runtime serves every example of every operation: state piling up is fine here."""
    app = create_app(db_path=tmp_path_factory.mktemp("openapi") / "runtime.sqlite3")
    try:
        with serving(app) as base_url:
            yield base_url
    finally:
        app.state.runtime.close()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_no_request_gets_a_server_error(
    operation: schemathesis.APIOperation, runtime_url: str
) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],  # generation speed is the machine's load
    )
    def examples(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=runtime_url, checks=[not_a_server_error])

    examples()
