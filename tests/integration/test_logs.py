"""One JSON line per request, with the request id; never a credential nor a variable's value."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server.logs import configure_logging
from tests.support.http import TLS

from .conftest import FacadeFactory
from .harness import Upstream

TOKEN = "Bearer tok-5ecret-aaaa"
COOKIE = "session=c00kie-5ecret-bbbb"
VARIABLE = "var-5ecret-cccc"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """The process's log output as the server configures it (JSON, INFO), captured."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    handler = configure_logging(level="INFO", json=True, stream=stream)
    yield stream
    root.removeHandler(handler)
    root.handlers[:], root.level = saved
    for name in ("httpx", "httpcore", "aiohttp", "hpack", "spiff"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_request_is_one_json_line_with_its_id_and_operation(
    facade_factory: FacadeFactory, upstream: Upstream, log_output: io.StringIO
) -> None:
    upstream.start("BookingRoom")
    facade = facade_factory(upstream.base_url)
    reply = await facade.post(
        'query Inbox { tasks(group: "Clerk") { totalCount } }', headers={"X-Request-ID": "log-1"}
    )
    assert reply.status_code == 200
    [line] = [line for line in _lines(log_output) if line["logger"] == "oneweb_graphql.access"]
    assert line["message"] == "POST /graphql 200"
    assert line["level"] == "INFO"
    assert line["request_id"] == "log-1"
    assert line["operation"] == "Inbox"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert line["duration_ms"] >= 0
    assert "time" in line


async def test_no_credential_and_no_variable_value_is_logged(
    facade_factory: FacadeFactory, upstream: Upstream, log_output: io.StringIO
) -> None:
    instance_id = upstream.start("BookingRoom")
    task_id = upstream.open_tasks(instance_id)[0]["id"]
    facade = facade_factory(upstream.base_url)
    secrets = {"Authorization": TOKEN, "Cookie": COOKIE}
    # A query, a mutation that fails upstream (so that errors are logged too), a GET.
    await facade.post(
        "query($u: String!) { tasks(user: $u) { totalCount } }",
        {"u": VARIABLE},
        headers=secrets,
    )
    await facade.post(
        "mutation($t: ID!, $v: JSON) {"
        ' completeTask(input: {taskId: $t, user: "clerk", variables: $v}) { errors { code } } }',
        {"t": task_id, "v": {"roomBooked": VARIABLE}},
        headers=secrets,
    )
    await facade.post(
        'mutation { claimTask(input: {taskId: "no-such-task", user: "x"}) { errors { code } } }',
        headers=secrets,
    )
    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        await client.get(
            "/graphql",
            params={
                "query": "query($u: String!) { tasks(user: $u) { totalCount } }",
                "variables": json.dumps({"u": VARIABLE}),
            },
            headers=secrets,
        )
    output = log_output.getvalue()
    assert len([line for line in _lines(log_output) if line.get("path") == "/graphql"]) == 4
    for secret in ("tok-5ecret", "c00kie-5ecret", "var-5ecret"):
        assert secret not in output
