"""The README's walkthrough works as written: its headers, its operations, in its order."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from server.app import create_app
from server.settings import Settings
from tests.support.http import TLS

if TYPE_CHECKING:
    from tests.conftest import ServeFactory

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return [
        re.sub(r"^   ", "", block, flags=re.MULTILINE)
        for block in re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)
    ]


def test_the_walkthrough_runs_as_written(serve_factory: ServeFactory, tmp_path: Path) -> None:
    base_url = serve_factory(create_app(Settings(base_url=None, db=tmp_path / "walk.sqlite3")))
    headers = json.loads(_blocks("json")[0])
    operations = {re.match(r"(query|mutation) (\w+)", op).group(2): op for op in _blocks("graphql")}  # type: ignore[union-attr]
    with httpx.Client(base_url=base_url, headers=headers, verify=TLS) as client:

        def run(name: str, **variables: object) -> Any:
            reply = client.post(
                "/graphql", json={"query": operations[name], "variables": variables}
            )
            body = reply.json()
            assert "errors" not in body, body
            return body["data"]

        started = run("Start")["startProcess"]
        assert started["errors"] == []
        viewer = run("Inbox")["viewer"]
        assert (viewer["user"], viewer["groups"]) == ("alice", ["Clerk", "Employee", "HR"])
        inbox = viewer["inbox"]
        assert inbox["totalCount"] == 1
        task = inbox["nodes"][0]
        assert (task["name"], task["status"]) == ("Choose Room", "READY")
        assert {"name": "customer", "value": "Ada Lovelace"} in task["variables"]

        claimed = run("Claim", taskId=task["id"])["claimTask"]
        assert claimed["task"] == {"id": task["id"], "assignee": "alice", "status": "CLAIMED"}

        completed = run("Complete", taskId=task["id"])["completeTask"]
        assert completed["task"] is None
        assert [(t["name"], t["status"]) for t in completed["instance"]["tasks"]] == [
            ("Add Customer Details", "READY")
        ]


def test_the_curl_example_sends_the_walkthroughs_headers() -> None:
    curl = next(block for block in _blocks("sh") if "curl" in block)
    headers = json.loads(_blocks("json")[0])
    for name, value in headers.items():
        assert f"-H '{name}: {value}'" in curl
