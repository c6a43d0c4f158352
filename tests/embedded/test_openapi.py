"""Property-based: whatever schemathesis sends per the OpenAPI description, never a 5xx.

The schema is loaded from the same function that serves ``/BPMREST/openapi.json`` (test_app
checks the served copy), and every case goes over real HTTP to a runtime on a socket.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error

from backend.embedded.app import create_app
from backend.embedded.openapi import openapi_document
from tests.support.servers import serving

# Bounded so that the whole run stays well under a minute on a small machine.
MAX_EXAMPLES = 40

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def runtime_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One runtime serves every example of every operation: state piling up is fine here."""
    app = create_app(db_path=tmp_path_factory.mktemp("openapi") / "runtime.sqlite3")
    try:
        with serving(app) as base_url:
            yield base_url
    finally:
        app.state.runtime.close()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None)
def test_no_request_gets_a_server_error(case: schemathesis.Case, runtime_url: str) -> None:
    case.call_and_validate(base_url=runtime_url, checks=[not_a_server_error])
