"""GraphiQL in a real browser with no network: every request to a host other than this
machine is blocked, and the IDE still loads, runs a query and shows the task.

Set ``GRAPHIQL_SCREENSHOT=docs/graphiql-offline.png`` to save what the browser shows.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from backend.models import API_PREFIX
from server.graphiql.page import DEFAULT_QUERY
from tests.support.http import TLS

# One worker runs the browser tests, so that Chromium starts once.
pytestmark = pytest.mark.xdist_group("browser")

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT = ".result-window .CodeMirror"
# The Headers tab is open (the demo identity shows); the Variables editor is hidden.
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
LOAD_TIMEOUT_MS = 15_000

#: What the Headers tab is prefilled with when the embedded runtime serves.
DEMO_HEADERS = {"X-Remote-User": "alice", "X-Remote-Groups": "Clerk,Employee,HR"}
INSTANCE_TASKS = "query ($id: ID!) { instance(id: $id) { tasks { id name } } }"

_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@dataclass
class Watched:
    """What the page did: every request, the ones stopped, errors, CSP violations."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser_context: Any) -> Iterator[tuple[Any, Watched]]:
    """A new tab whose requests may reach this machine only."""
    watched = Watched()

    def only_loopback(route: Any) -> None:
        url = route.request.url
        watched.requests.append(url)
        if urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            watched.blocked.append(url)
            route.abort("internetdisconnected")

    browser_context.route("**/*", only_loopback)
    tab = browser_context.new_page()
    tab.add_init_script(_WATCH_CSP)
    tab.on("websocket", lambda socket: watched.websockets.append(socket.url))
    tab.on("pageerror", lambda error: watched.errors.append(str(error)))
    tab.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    tab.on("response", lambda r: watched.failed.append(r.url) if r.status >= 400 else None)
    try:
        yield tab, watched
    finally:
        tab.close()
        browser_context.unroute("**/*")


def _start_booking(base_url: str, customer: str) -> str:
    reply = httpx.post(
        f"{base_url}{API_PREFIX}/process/start",
        json={"processName": "BookingRoom", "object": {"customer": customer, "nights": 2}},
        verify=TLS,
    )
    reply.raise_for_status()
    instance_id: str = reply.json()["data"]
    return instance_id


def _graphql(base_url: str, query: str, headers: dict[str, str], **variables: Any) -> Any:
    reply = httpx.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        verify=TLS,
    )
    reply.raise_for_status()
    body = reply.json()
    assert "errors" not in body, body
    return body["data"]


def _editor(tab: Any, selector: str) -> Any:
    return tab.locator(selector).first.evaluate("(element) => element.CodeMirror.getValue()")


def test_graphiql_runs_a_query_with_every_other_host_blocked(
    served: str, page: tuple[Any, Watched]
) -> None:
    tab, watched = page
    instance_id = _start_booking(served, f"Offline {uuid.uuid4().hex[:8]}")
    [task] = _graphql(served, INSTANCE_TASKS, DEMO_HEADERS, id=instance_id)["instance"]["tasks"]
    assert task["name"] == "Choose Room"
    # User override is off: without the groups header, alice's inbox lacks the Clerk task.
    alone = _graphql(served, DEFAULT_QUERY, {"X-Remote-User": "alice"})["viewer"]
    assert alone["user"] == "alice" and alone["groups"] == []
    assert task["id"] not in [node["id"] for node in alone["inbox"]["nodes"]]

    tab.goto(f"{served}/graphql", wait_until="load")
    tab.wait_for_selector(QUERY_EDITOR, timeout=LOAD_TIMEOUT_MS)
    # The schema arrived (the doc explorer needs it): introspection ran over this host.
    tab.wait_for_function(
        "() => !document.querySelector('.graphiql-spinner')", timeout=LOAD_TIMEOUT_MS
    )

    # Prefilled: the viewer's inbox, and the demo identity in the Headers tab.
    assert _editor(tab, QUERY_EDITOR) == DEFAULT_QUERY
    headers = json.loads(_editor(tab, HEADERS_EDITOR))
    assert headers == DEMO_HEADERS

    # Run the prefilled query as it is.
    tab.locator(QUERY_EDITOR).first.click()
    tab.keyboard.press("Control+Enter")
    tab.wait_for_function(
        "(id) => document.querySelector('.result-window').innerText.includes(id)",
        arg=task["id"],
        timeout=LOAD_TIMEOUT_MS,
    )

    result = json.loads(_editor(tab, RESULT))
    assert "errors" not in result, result
    viewer = result["data"]["viewer"]
    assert viewer["user"] == "alice"
    assert viewer["groups"] == ["Clerk", "Employee", "HR"]
    [shown] = [node for node in viewer["inbox"]["nodes"] if node["id"] == task["id"]]
    assert shown["name"] == "Choose Room" and shown["status"] == "READY"
    assert shown["process"]["name"] == "BookingRoom" and "Clerk" in shown["candidateGroups"]
    assert "Choose Room" in tab.locator(".result-window").inner_text()

    screenshot = os.environ.get("GRAPHIQL_SCREENSHOT")
    if screenshot:
        tab.screenshot(path=screenshot)

    assert watched.blocked == [], "the page tried to reach another host"
    assert watched.requests, "the route saw no request: the guard was not in place"
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in watched.requests)
    assert watched.websockets == []  # no subscription ran, so no socket was opened
    assert tab.evaluate("window.__cspViolations") == []
    assert watched.errors == []
    assert watched.failed == []
    # Every vendored file came from this facade: 9 files, the page, introspection, the query.
    assert sum("/graphiql/static/" in url for url in watched.requests) == 9


INBOX_SUBSCRIPTION = """\
subscription Live {
  inbox { removedIds }
}
"""


def test_a_subscription_goes_over_a_websocket_with_the_headers_tab_in_connection_init(
    served: str, page: tuple[Any, Watched]
) -> None:
    """The page is ready for subscriptions: graphql-transport-ws to this host's /graphql.

    The socket is answered by the test (the server side is not what is tested here): it
    acknowledges the connection, sends one result and completes.
    """
    tab, watched = page
    seen: dict[str, Any] = {"messages": []}

    def serve_socket(socket: Any) -> None:
        seen["url"], seen["protocols"] = socket.url, socket.protocols

        def on_message(text: str | bytes) -> None:
            message = json.loads(text)
            seen["messages"].append(message)
            if message["type"] == "connection_init":
                socket.send(json.dumps({"type": "connection_ack"}))
            elif message["type"] == "subscribe":
                payload = {"data": {"inbox": {"removedIds": ["from-the-socket"]}}}
                socket.send(json.dumps({"id": message["id"], "type": "next", "payload": payload}))
                socket.send(json.dumps({"id": message["id"], "type": "complete"}))

        socket.on_message(on_message)

    tab.route_web_socket("**/graphql", serve_socket)
    tab.goto(f"{served}/graphql", wait_until="load")
    tab.wait_for_selector(QUERY_EDITOR, timeout=LOAD_TIMEOUT_MS)
    tab.locator(QUERY_EDITOR).first.evaluate(
        "(element, query) => element.CodeMirror.setValue(query)", INBOX_SUBSCRIPTION
    )
    tab.locator(".graphiql-tab-active").filter(has_text="Live").wait_for()
    tab.locator(QUERY_EDITOR).first.click()
    tab.keyboard.press("Control+Enter")
    tab.wait_for_function(
        "() => document.querySelector('.result-window').innerText.includes('from-the-socket')",
        timeout=LOAD_TIMEOUT_MS,
    )

    assert seen["url"] == served.replace("http://", "ws://") + "/graphql"
    assert seen["protocols"] == ["graphql-transport-ws"]
    init, subscribe = seen["messages"][:2]
    assert init == {
        "type": "connection_init",
        "payload": DEMO_HEADERS,
    }
    assert subscribe["type"] == "subscribe"
    assert subscribe["payload"]["query"] == INBOX_SUBSCRIPTION
    assert subscribe["payload"]["operationName"] == "Live"
    assert watched.blocked == []
    assert tab.evaluate("window.__cspViolations") == []


LIVE_INBOX = """\
subscription LiveInbox {
  inbox { tasks { totalCount } added { id } changed { id assignee } removedIds }
}
"""
CLAIM_IN_GRAPHIQL = """\
mutation Claim {
  claimTask(input: {taskId: "%s"}) { errors { message } }
}
"""
#: The update the result panel shows, once ``predicate`` holds for it (null until then).
_SHOWN_UPDATE = """([taskId, which]) => {
  let update;
  try {
    const text = document.querySelector('.result-window .CodeMirror').CodeMirror.getValue();
    update = JSON.parse(text).data.inbox;
  } catch (error) { return null; }
  return update[which].some((task) => task.id === taskId) ? update : null;
}"""


def _shown_update(tab: Any, task_id: str, which: str) -> Any:
    """The first update on the result panel with ``task_id`` in its ``which`` list."""
    handle = tab.wait_for_function(_SHOWN_UPDATE, arg=[task_id, which], timeout=LOAD_TIMEOUT_MS)
    return handle.json_value()


def _run_in_graphiql(tab: Any, base_url: str, document: str, tab_title: str) -> None:
    """Open GraphiQL in ``tab``, put ``document`` in the editor and run it."""
    tab.goto(f"{base_url}/graphql", wait_until="load")
    tab.wait_for_selector(QUERY_EDITOR, timeout=LOAD_TIMEOUT_MS)
    tab.wait_for_function(
        "() => !document.querySelector('.graphiql-spinner')", timeout=LOAD_TIMEOUT_MS
    )
    tab.locator(QUERY_EDITOR).first.evaluate(
        "(element, query) => element.CodeMirror.setValue(query)", document
    )
    tab.locator(".graphiql-tab-active").filter(has_text=tab_title).wait_for()
    tab.locator(QUERY_EDITOR).first.click()
    tab.keyboard.press("Control+Enter")


def test_a_claim_in_another_tab_shows_up_in_the_live_inbox_of_the_first(
    served: str, page: tuple[Any, Watched], browser_context: Any
) -> None:
    """The real server end to end: one tab subscribes to the inbox, a second tab claims a
    task from it, and the first tab's result panel shows the update as it comes."""
    live, watched = page
    instance_id = _start_booking(served, f"Live {uuid.uuid4().hex[:8]}")
    [task] = _graphql(served, INSTANCE_TASKS, DEMO_HEADERS, id=instance_id)["instance"]["tasks"]

    _run_in_graphiql(live, served, LIVE_INBOX, "LiveInbox")
    first = _shown_update(live, task["id"], "added")
    assert first["removedIds"] == [] and first["changed"] == []

    other = browser_context.new_page()
    try:
        _run_in_graphiql(other, served, CLAIM_IN_GRAPHIQL % task["id"], "Claim")
        other.wait_for_function(
            "() => document.querySelector('.result-window').innerText.includes('claimTask')",
            timeout=LOAD_TIMEOUT_MS,
        )
        claimed = json.loads(_editor(other, RESULT))
        assert claimed == {"data": {"claimTask": {"errors": []}}}, claimed
    finally:
        other.close()

    # The demo user claimed it: still in the inbox, now held by alice.
    update = _shown_update(live, task["id"], "changed")
    assert update["changed"] == [{"id": task["id"], "assignee": "alice"}]
    assert update["added"] == [] and update["removedIds"] == []
    assert update["tasks"]["totalCount"] == first["tasks"]["totalCount"]
    assert watched.websockets == [served.replace("http://", "ws://") + "/graphql"]
    assert watched.blocked == []
    assert watched.errors == []
    assert live.evaluate("window.__cspViolations") == []
