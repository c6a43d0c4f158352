"""The README's graphql-ws snippet runs as written, with node, against ``oneweb-graphql serve``:
the first update lists the inbox, and a claim by another clerk arrives as a removal."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from pathlib import Path

import httpx

from backend.models import API_PREFIX

from .conftest import EXAMPLES, NODE_HINT, REPO, require_file, require_tool

SNIPPET = re.search(r"```js\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
README_URL = "ws://127.0.0.1:8000/graphql"
CLAIM = "mutation($id: ID!) { claimTask(input: {taskId: $id}) { errors { message } } }"
WAIT_S = 15.0


def _node_command(node: str) -> list[str]:
    # Node 20 has a WebSocket only behind this flag; 22 and later have it anyway.
    probe = subprocess.run(
        [node, "--experimental-websocket", "-e", ""], capture_output=True, check=False
    )
    return [node, "--experimental-websocket"] if probe.returncode == 0 else [node]


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def _until(lines: queue.Queue[str], seen: list[str], pattern: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not re.search(pattern, "".join(seen), re.DOTALL):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {pattern!r} in the snippet's output:\n{''.join(seen)}"
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            continue


def test_the_readme_subscription_snippet_prints_the_inbox_and_a_claim(
    live_url: str, tmp_path: Path
) -> None:
    node = require_tool("node", NODE_HINT)
    modules = require_file(EXAMPLES / "typescript" / "node_modules" / "graphql-ws", NODE_HINT)
    assert SNIPPET is not None, "README.md has no ```js block"
    assert README_URL in SNIPPET.group(1)
    base = live_url.removesuffix("/graphql")
    script = tmp_path / "subscribe.mjs"
    script.write_text(SNIPPET.group(1).replace(README_URL, base.replace("http", "ws") + "/graphql"))
    (tmp_path / "node_modules").symlink_to(modules.parent)

    started = httpx.post(
        f"{base}{API_PREFIX}/process/start",
        json={"processName": "BookingRoom", "object": {"customer": "Snippet", "nights": 1}},
    ).json()["data"]
    [task] = httpx.get(f"{base}{API_PREFIX}/instance/{started}/tasks").json()["data"]

    process = subprocess.Popen(
        [*_node_command(node), str(script)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        _until(lines, seen, rf"added: \[.*id: '{task['id']}', name: 'Choose Room'")
        # Another clerk claims it: alice's inbox loses it, pushed without waiting for a poll.
        claimed = httpx.post(
            live_url,
            json={"query": CLAIM, "variables": {"id": task["id"]}},
            headers={"X-Remote-User": "bob", "X-Remote-Groups": "Clerk"},
        ).json()
        assert claimed == {"data": {"claimTask": {"errors": []}}}, claimed
        _until(lines, seen, rf"removedIds: \[ '{task['id']}' \]")
    finally:
        process.kill()
        process.wait()
        reader.join(5)
        assert process.stdout is not None
        process.stdout.close()
