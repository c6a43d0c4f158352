"""Property-based: whatever schemathesis sends per the OpenAPI description, never a 5xx.

The schema is loaded from the same function that serves ``/BPMREST/openapi.json`` (test_app
checks the served copy), and every case goes over real HTTP to a runtime on a socket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from backend.embedded.openapi import openapi_document

if TYPE_CHECKING:
    from tests.conftest import RunningRuntime

# Bounded so that the whole run stays well under a minute on a small machine.
MAX_EXAMPLES = 40

schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    # One runtime serves every example of an operation: state piling up is fine here.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_no_request_gets_a_server_error(case: schemathesis.Case, runtime: RunningRuntime) -> None:
    case.call_and_validate(base_url=runtime.base_url, checks=[not_a_server_error])
