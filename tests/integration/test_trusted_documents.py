"""Trusted documents: with the TypeScript example's own manifest, only its documents run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from server.app import create_app
from server.persisted import sha256_hex
from server.settings import Settings
from tests.support.http import TLS

from .conftest import FacadeFactory
from .harness import Facade, Upstream

#: What graphql-codegen's client preset emits for examples/typescript (kept current by
#: tests/clients/test_typescript_example.py).
MANIFEST = Path(__file__).parents[2] / "examples" / "typescript" / "persisted-documents.json"
AD_HOC = '{ tasks(group: "Clerk") { nodes { id variables { name value } } } }'


def _ids_by_operation() -> dict[str, str]:
    manifest: dict[str, str] = orjson.loads(MANIFEST.read_bytes())
    ids = {}
    for document_id, document in manifest.items():
        match = re.match(r"(?:query|mutation) (\w+)", document)
        assert match, document
        ids[match.group(1)] = document_id
    return ids


IDS = _ids_by_operation()
CLERK = {"X-Remote-User": "clerk1", "X-Remote-Groups": "Clerk"}


@pytest.fixture
def trusted(facade_factory: FacadeFactory, upstream: Upstream) -> Facade:
    return facade_factory(upstream.base_url, trusted_documents=MANIFEST)


async def _post(facade: Facade, body: dict[str, Any], **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:
        return await client.post("/graphql", json=body, headers={**CLERK, **headers})


async def _run(facade: Facade, operation: str, **variables: Any) -> dict[str, Any]:
    reply = await _post(facade, {"documentId": IDS[operation], "variables": variables})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_the_manifest_is_the_example_s_inbox_claim_and_complete() -> None:
    assert {"Inbox", "StartProcess", "ClaimTask", "CompleteTask"} <= set(IDS)
    assert all(document_id.startswith("sha256:") for document_id in IDS.values())


async def test_the_example_s_documents_run_the_walkthrough_by_document_id(
    trusted: Facade,
) -> None:
    started = await _run(trusted, "StartProcess", processName="BookingRoom", variables={})
    instance_id = started["startProcess"]["instance"]["id"]
    inbox = await _run(trusted, "Inbox")
    assert inbox["viewer"]["user"] == "clerk1"
    nodes = inbox["viewer"]["inbox"]["nodes"]
    [task] = [node for node in nodes if node["instanceId"] == instance_id]

    claimed = await _run(trusted, "ClaimTask", taskId=task["id"])
    completed = await _run(
        trusted, "CompleteTask", taskId=task["id"], variables={"roomBooked": False}
    )

    assert claimed["claimTask"]["task"]["assignee"] == "clerk1"
    next_tasks = completed["completeTask"]["instance"]["tasks"]
    assert [open_task["definitionId"] for open_task in next_tasks] == ["AddCustomerDetails"]


async def test_a_trusted_document_runs_by_bare_hash_apq_hash_or_its_exact_text(
    trusted: Facade,
) -> None:
    digest = IDS["Inbox"].removeprefix("sha256:")
    text = orjson.loads(MANIFEST.read_bytes())[IDS["Inbox"]]
    apq = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    variables = {"filter": {"definitionId": ["ChooseRoom"]}}

    for body in (
        {"documentId": digest, "variables": variables},
        {"extensions": apq, "variables": variables},
        {"query": text, "variables": variables},
    ):
        reply = await _post(trusted, body)
        assert reply.json()["data"]["viewer"]["inbox"] is not None, body


async def test_a_trusted_query_runs_over_get(trusted: Facade) -> None:
    async with httpx.AsyncClient(base_url=trusted.base_url, timeout=30, verify=TLS) as client:
        reply = await client.get(
            "/graphql",
            params={"documentId": IDS["Inbox"]},
            # A browser's Accept: still no GraphiQL page.
            headers={**CLERK, "Accept": "text/html,*/*"},
        )
    assert reply.json()["data"]["viewer"]["user"] == "clerk1"
    assert reply.json()["data"]["viewer"]["inbox"] is not None


@pytest.mark.parametrize(
    "body",
    [
        {"query": AD_HOC},
        {"query": "{"},  # refused before it is parsed: no syntax error
        {
            "query": AD_HOC,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(AD_HOC)}},
        },
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(AD_HOC)}}},
        {"documentId": f"sha256:{sha256_hex(AD_HOC)}"},
    ],
    ids=["ad-hoc", "unparseable", "apq-register", "apq-hash", "unknown-id"],
)
async def test_an_ad_hoc_document_is_refused_with_no_upstream_call(
    trusted: Facade, upstream: Upstream, body: dict[str, Any]
) -> None:
    upstream.start("BookingRoom")

    reply = await _post(trusted, body)
    spec = await _post(trusted, body, accept="application/graphql-response+json")

    assert reply.status_code == spec.status_code == 400
    for answer in (reply.json(), spec.json()):
        assert "data" not in answer
        [error] = answer["errors"]
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert upstream.paths() == []


async def test_a_refused_registration_does_not_make_the_hash_run_later(trusted: Facade) -> None:
    apq = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(AD_HOC)}}
    await _post(trusted, {"query": AD_HOC, "extensions": apq})
    reply = await _post(trusted, {"extensions": apq})
    assert reply.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"


def test_a_manifest_that_does_not_load_stops_the_start(tmp_path: Path) -> None:
    broken = tmp_path / "manifest.json"
    broken.write_text('{"sha256:' + "0" * 64 + '": "{ __typename }"}')
    with pytest.raises(ValueError, match="not the sha256 of its document"):
        create_app(Settings(base_url="http://bpm.example:8080", trusted_documents=broken))
