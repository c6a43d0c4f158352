"""``GET /metrics``: requests by operation and outcome, latency, upstream calls, batch sizes."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from server.metrics import ANONYMOUS, OTHER_OPERATIONS, Metrics
from tests.support.http import TLS

from .conftest import FacadeFactory
from .harness import Facade, Upstream

INBOX = """query Inbox { tasks(group: "Clerk") { nodes { id
  instance { tasks { id } } variables { name } } } }"""


async def _samples(facade: Facade) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        reply = await client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def _key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


async def test_a_query_is_counted_by_operation_outcome_and_upstream_endpoint(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    upstream.start("BookingRoom")
    upstream.start("BookingRoom")
    facade = facade_factory(upstream.base_url)
    assert "errors" not in await facade.execute(INBOX)
    samples = await _samples(facade)
    assert samples[_key("oneweb_graphql_requests_total", operation="Inbox", outcome="ok")] == 1
    assert samples[_key("oneweb_graphql_request_seconds_count", operation="Inbox")] == 1
    upstream_calls = "oneweb_graphql_upstream_calls_total"
    assert samples[_key(upstream_calls, endpoint="tasks_by_principal", status="200")] == 1
    assert samples[_key(upstream_calls, endpoint="tasks_by_instance", status="200")] == 2
    assert samples[_key(upstream_calls, endpoint="variables_by_task", status="200")] == 2
    # The two instances' and the two tasks' fetches went out as one batch each.
    batches = "oneweb_graphql_loader_batch_size"
    assert samples[_key(batches + "_count", loader="variables_by_task")] == 1
    assert samples[_key(batches + "_sum", loader="variables_by_task")] == 2
    assert samples[_key(batches + "_sum", loader="tasks_by_instance")] == 2


async def test_errors_are_counted_as_the_outcome_errors(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url)
    await facade.execute("query Broken { tasks { totalCount } }")  # no user, role nor group
    await facade.execute("{ nosuchfield }")
    samples = await _samples(facade)
    requests = "oneweb_graphql_requests_total"
    assert samples[_key(requests, operation="Broken", outcome="errors")] == 1
    assert samples[_key(requests, operation=ANONYMOUS, outcome="errors")] == 1


async def test_every_app_counts_in_its_own_registry(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    first = facade_factory(upstream.base_url)
    second = facade_factory(upstream.base_url)
    await first.execute('query Inbox { tasks(group: "Clerk") { totalCount } }')
    samples = await _samples(second)
    assert _key("oneweb_graphql_requests_total", operation="Inbox", outcome="ok") not in samples


async def test_metrics_can_be_switched_off(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, metrics=False)
    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        assert (await client.get("/metrics")).status_code == 404


def test_operation_names_past_the_limit_share_one_label() -> None:
    metrics = Metrics(max_operation_names=2)
    assert [metrics.operation_label(name) for name in ("A", "B", "C", "A")] == [
        "A",
        "B",
        OTHER_OPERATIONS,
        "A",
    ]
    assert metrics.operation_label(None) == ANONYMOUS
    assert metrics.operation_label("not a name") == OTHER_OPERATIONS
