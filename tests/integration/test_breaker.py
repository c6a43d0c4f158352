"""The circuit breaker sees real outages only: no caller's request and no bad record opens it.

Each test runs the facade at its default breaker settings (unless it says otherwise) over
real HTTP in front of the embedded runtime behind a recording upstream that fails the
way real servers do: a servlet container's HTML 400 for an encoded ``/``, a Java
exception in a 500 envelope, HTML 500 pages, garbage, hangs, a load balancer's 503s.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from backend.embedded.recorder import Fault, RecordedCall
from tests.support.http import TLS

from .conftest import FacadeFactory, UpstreamFactory
from .harness import Facade, Upstream

CLERK = {"X-Remote-User": "clerk1", "X-Remote-Groups": "Clerk"}
BOB = {"X-Remote-User": "bob"}
CLERK_INBOX = '{ tasks(group: "Clerk") { totalCount nodes { id variables { name value } } } }'
BOB_INBOX = """{ tasks(user: "bob") { totalCount nodes {
  id instance { id tasks { id } } variables { name value } } } }"""
ROUNDS = 20


class Inboxes:
    """Clerk's inbox of BookingRoom tasks and bob's of LeaveRequest tasks, with what each must be."""

    def __init__(self, upstream: Upstream, *, clerk_tasks: int, bob_tasks: int = 3) -> None:
        instances = [upstream.start("BookingRoom", {"n": n}) for n in range(clerk_tasks)]
        listed = upstream.rest("GET", "/tasks", params={"group": "Clerk"})
        task_of = {task["instanceId"]: task["id"] for task in listed}
        self.clerk_ids: list[str] = [task_of[instance_id] for instance_id in instances]
        self.clerk_nodes: dict[str, Any] = {
            task_id: [{"name": "n", "value": n}] for n, task_id in enumerate(self.clerk_ids)
        }
        self.bob_nodes = []
        for n in range(bob_tasks):
            instance_id = upstream.start("LeaveRequest", {"days": n})
            upstream.rest("POST", f"/instance/{instance_id}/tasks/assign", params={"user": "bob"})
            [task] = upstream.open_tasks(instance_id)
            self.bob_nodes.append(
                {
                    "id": task["id"],
                    "instance": {"id": instance_id, "tasks": [{"id": task["id"]}]},
                    "variables": [{"name": "days", "value": n}],
                }
            )

    def clerk_is_exact(self, reply: dict[str, Any], *, failed: dict[str, str]) -> bool:
        """Whether Clerk's inbox is whole except the ``variables`` of ``failed`` (id -> code)."""
        tasks = (reply.get("data") or {}).get("tasks")
        if tasks is None or tasks["totalCount"] != len(self.clerk_ids):
            return False
        nodes = {node["id"]: node["variables"] for node in tasks["nodes"]}
        expected = {
            task_id: None if task_id in failed else variables
            for task_id, variables in self.clerk_nodes.items()
        }
        order = [node["id"] for node in tasks["nodes"]]
        errors = {
            (order[error["path"][2]], error["extensions"]["code"])
            for error in reply.get("errors", ())
            if error.get("path", [])[-1:] == ["variables"]
        }
        return (
            nodes == expected
            and errors == set(failed.items())
            and len(reply.get("errors", ())) == len(failed)
        )

    def bob_is_exact(self, reply: dict[str, Any]) -> bool:
        expected = {"tasks": {"totalCount": len(self.bob_nodes), "nodes": self.bob_nodes}}
        return reply.get("data") == expected and "errors" not in reply


def _on(fragment: str, fault: Fault) -> Callable[[RecordedCall], Fault | None]:
    def decide(call: RecordedCall) -> Fault | None:
        return fault if fragment in call.raw_path else None

    return decide


async def _readyz(facade: Facade) -> httpx.Response:
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=10, verify=TLS) as client:
        return await client.get("/readyz")


Ask = Callable[..., Awaitable[dict[str, Any]]]


@contextlib.asynccontextmanager
async def _asking(facade: Facade) -> AsyncIterator[Ask]:
    """``ask(query, variables=None, headers=...)`` over one client: building one per request
    (its TLS context) costs more than the query."""
    async with httpx.AsyncClient(base_url=facade.base_url, timeout=30, verify=TLS) as client:

        async def ask(
            query: str, variables: dict[str, Any] | None = None, *, headers: dict[str, str]
        ) -> dict[str, Any]:
            body = {"query": query, "variables": variables or {}}
            reply = await client.post("/graphql", json=body, headers=headers)
            assert reply.status_code == 200, reply.text
            result: dict[str, Any] = reply.json()
            return result

        yield ask


async def _rounds(facade: Facade, inboxes: Inboxes, *, failed: dict[str, str]) -> tuple[int, int]:
    """``ROUNDS`` times Clerk's inbox and bob's together: how many of each were not exact."""
    clerk_hurt = bob_hurt = 0
    async with _asking(facade) as ask:
        for _ in range(ROUNDS):
            clerk, bob = await asyncio.gather(
                ask(CLERK_INBOX, headers=CLERK), ask(BOB_INBOX, headers=BOB)
            )
            clerk_hurt += not inboxes.clerk_is_exact(clerk, failed=failed)
            bob_hurt += not inboxes.bob_is_exact(bob)
    return clerk_hurt, bob_hurt


# -- one caller's crafted ids -----------------------------------------------------------

SLASHED_IDS = "{ " + " ".join(f'a{n}: instance(id: "x/{n}") {{ id }}' for n in range(5)) + " }"
LONG_IDS = (
    "query($a: ID!, $b: ID!, $c: ID!, $d: ID!, $e: ID!) { "
    + " ".join(f"{v}: instance(id: ${v}) {{ id }}" for v in "abcde")
    + " }"
)
#: A servlet container answers an encoded ``/`` with its own HTML 400 page.
SLASH_GETS_HTML_400 = _on("%2F", Fault.HTML_400)


async def test_crafted_ids_change_nothing_for_other_users_or_readiness(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    inboxes = Inboxes(upstream, clerk_tasks=4, bob_tasks=1)
    upstream.recorder.fault = SLASH_GETS_HTML_400
    facade = facade_factory(upstream.base_url)
    long_ids = {v: v * 70_000 for v in "abcde"}  # the upstream answers a non-JSON 400

    readiness = []
    for attack, variables in ((SLASHED_IDS, {}), (LONG_IDS, long_ids)):
        reply = await facade.execute(attack, variables, user="mallory")  # one request each
        assert all(value is None for value in reply["data"].values()), reply["data"]
        assert len(reply["errors"]) == 5
        ready = await _readyz(facade)
        readiness.append((ready.status_code, ready.json()["circuit"]))
    hurt = await _rounds(facade, inboxes, failed={})

    assert (readiness, hurt) == ([(200, "closed")] * 2, (0, 0)), (
        f"/readyz after each attack, and inboxes hurt (Clerk, bob) of {ROUNDS} each"
    )


# -- bad records upstream ---------------------------------------------------------------


async def test_poison_tasks_null_their_own_variables_and_nothing_in_any_other_inbox(
    facade_factory: FacadeFactory, upstream_factory: UpstreamFactory
) -> None:
    upstream = upstream_factory()
    inboxes = Inboxes(upstream, clerk_tasks=20, bob_tasks=1)
    # With a remote server's latency the poison answers (no lookup behind them) arrive
    # together, as they do from a real ONEWEB server; on loopback they interleave.
    upstream.recorder.latency_s = 0.02
    poison = inboxes.clerk_ids[:5]
    upstream.recorder.fault = lambda call: (
        Fault.ENVELOPE_500
        if any(f"/tasks/{t}/variables" in call.raw_path for t in poison)
        else None
    )
    facade = facade_factory(upstream.base_url)

    hurt = await _rounds(facade, inboxes, failed=dict.fromkeys(poison, "UPSTREAM_ERROR"))

    assert hurt == (0, 0), f"inboxes hurt (Clerk, bob) of {ROUNDS} each: {hurt}"
    assert (await _readyz(facade)).status_code == 200


SCENARIOS = [
    (Fault.HTML_500, "UPSTREAM_ERROR"),
    (Fault.GARBAGE, "UPSTREAM_ERROR"),
    (Fault.CODE_500, "UPSTREAM_ERROR"),
    (Fault.ENVELOPE_500, "UPSTREAM_ERROR"),
    (Fault.HANG, "UPSTREAM_TIMEOUT"),
]


async def test_fault_scenarios_one_after_another_under_variables_null_only_variables(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    # Ten tasks, two queries a scenario: the hang alone gives 20 timeouts of 22 calls in
    # the window, past the failure rate and the minimum calls; only its being one route
    # keeps the circuit closed.
    inboxes = Inboxes(upstream, clerk_tasks=10)
    # The hang's timeout: short, yet long enough that the listing is never cut on a busy machine.
    facade = facade_factory(upstream.base_url, timeout_s=1.0)
    async with _asking(facade) as ask:
        for fault, code in SCENARIOS:
            upstream.recorder.fault = _on("/variables", fault)
            for _ in range(2):
                reply = await ask(CLERK_INBOX, headers=CLERK)
                failed = dict.fromkeys(inboxes.clerk_ids, code)
                assert inboxes.clerk_is_exact(reply, failed=failed), (fault, reply)
        upstream.recorder.fault = None
        assert inboxes.clerk_is_exact(await ask(CLERK_INBOX, headers=CLERK), failed={})
    assert (await _readyz(facade)).json() == {"status": "ready", "circuit": "closed"}


# -- a real outage ------------------------------------------------------------------------

ACROSS_ROUTES = 'query($i: ID!) { tasks(group: "Clerk") { totalCount } instance(id: $i) { id } }'


async def test_503s_across_endpoints_open_the_circuit_and_only_the_probe_closes_it(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    instance_id = upstream.start("BookingRoom")
    facade = facade_factory(upstream.base_url, breaker_reset_s=0.5)
    upstream.recorder.fault = lambda call: Fault.HTML_503
    async with _asking(facade) as ask:
        for _ in range(10):  # 20 calls on two routes: the default minimum, all failing
            reply = await ask(ACROSS_ROUTES, {"i": instance_id}, headers=CLERK)
            assert reply["data"] == {"tasks": None, "instance": None}
        upstream.recorder.reset()

        reply = await ask(ACROSS_ROUTES, {"i": instance_id}, headers=CLERK)
        assert {error["message"] for error in reply["errors"]} == {"circuit open"}
        ready = await _readyz(facade)
        assert (ready.status_code, ready.json()["circuit"]) == (503, "open")
        assert upstream.recorder.calls == []  # failing fast: the upstream is left alone

        upstream.recorder.fault = None  # the upstream is back; the circuit does not know yet
        reply = await ask(ACROSS_ROUTES, {"i": instance_id}, headers=CLERK)
        assert {error["message"] for error in reply["errors"]} == {"circuit open"}
        await asyncio.sleep(0.5)
        ready = await _readyz(facade)  # the first call after the reset time is the probe
        assert ready.json() == {"status": "ready", "circuit": "closed"}
        assert len(upstream.recorder.calls) == 1
        reply = await ask(ACROSS_ROUTES, {"i": instance_id}, headers=CLERK)
        assert reply == {"data": {"tasks": {"totalCount": 1}, "instance": {"id": instance_id}}}


async def test_refused_connections_open_the_circuit(facade_factory: FacadeFactory) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    facade = facade_factory(f"http://127.0.0.1:{closed_port}", retry_reads=0)
    messages = []
    async with _asking(facade) as ask:
        for _ in range(21):  # a refused connection says nothing about the route: one will do
            reply = await ask(CLERK_INBOX, headers=CLERK)
            messages.append(reply["errors"][0]["message"])
    assert "circuit open" not in messages[:20]
    assert messages[20] == "circuit open"
    ready = await _readyz(facade)
    assert (ready.status_code, ready.json()) == (503, {"status": "unavailable", "circuit": "open"})
