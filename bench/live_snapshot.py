"""Record what the live-inbox benchmark's upstream replays, from the embedded runtime.

The data: ``USERS`` users, each offered one Onboarding instance of their own (4 tasks) and
all in the group ``Clerk``, whose queue holds ``CLERK_TASKS`` Booking Room tasks. That makes
``USERS + 1`` distinct listings (each user's ``tasks?user=``, and ``tasks?group=Clerk``).

Then every claim the benchmark will make is made once, in order, through the real facade
(its requests captured), and after each claim the listings it changed are read again: the
canned upstream swaps those in when the claim arrives (``bench.upstream`` effects), so its
pollers see each claim as they would see the runtime's.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from backend.embedded.app import create_app as create_runtime_app
from backend.models import API_PREFIX

from .processes import Facade
from .snapshot import Capture, _offer_instances, _rest, _Served

__all__ = ["CLAIM", "CLERK", "CLERK_TASKS", "USERS", "Claim", "LiveData", "headers", "take"]

USERS = 50
CLERK = "Clerk"
CLERK_TASKS = 20
#: As a screen claims a task it lists: with its instance, which also tells the facade whom
#: to push to without a read where its pollers have not seen the task.
CLAIM = """mutation Claim($id: ID!, $instanceId: ID) {
  claimTask(input: {taskId: $id, instanceId: $instanceId}) { errors { message } }
}"""


def user_name(n: int) -> str:
    return f"clerk{n:02d}"


def headers(user: str) -> dict[str, str]:
    """The trusted identity headers of a benchmark user."""
    return {"X-Remote-User": user, "X-Remote-Groups": CLERK}


@dataclass(frozen=True)
class Claim:
    """One claim the benchmark makes: which task, by whom, from which queue."""

    task_id: str
    instance_id: str
    user: str
    #: ``"own"``: offered to the user alone; ``"clerk"``: from the shared group queue.
    queue: str


@dataclass(frozen=True)
class LiveData:
    """The users, the listings their inboxes are made of, and each phase's claims."""

    users: list[str]
    listings: list[str]
    phases: dict[str, list[Claim]]


def _listing_key(kind: str, name: str) -> str:
    return f"GET {API_PREFIX}/tasks?{kind}={name}"


def _read(http: httpx.Client, kind: str, name: str) -> tuple[int, str]:
    reply = http.get(f"{API_PREFIX}/tasks", params={kind: name})
    return reply.status_code, reply.text


def _claim(task: dict[str, Any], user: str, queue: str) -> Claim:
    return Claim(task["id"], task["instanceId"], user, queue)


def _tasks(reply: tuple[int, str]) -> Any:
    # The envelope's timestamp changes on every read; the tasks are what matter.
    return json.loads(reply[1])["data"]


def take(snapshot: Path, effects: Path, phases: list[tuple[str, str, int]]) -> LiveData:
    """Build the data, make each phase's claims (``(name, "own" | "clerk", count)``) in the
    order the benchmark will, write the snapshot and effects files; what was built.

    The order matters: a claim's effect is a listing as it was after every claim before it.
    """
    own = sum(count for _, queue, count in phases if queue == "own")
    clerk = sum(count for _, queue, count in phases if queue == "clerk")
    users = [user_name(n) for n in range(USERS)]
    listings = [("user", user) for user in users] + [("group", CLERK)]
    if own > 4 * USERS or clerk > CLERK_TASKS:
        raise ValueError("more claims than tasks")
    with tempfile.TemporaryDirectory(prefix="oneweb-bench-live-") as tmp:
        runtime = create_runtime_app(db_path=Path(tmp) / "runtime.sqlite3")
        capture = Capture(runtime)
        served = _Served(capture)
        facade: Facade | None = None
        effects_by_claim: dict[str, dict[str, tuple[int, str]]] = {}
        try:
            with httpx.Client(base_url=served.url, timeout=30) as http:
                # Own tasks first: oldest first, they lead every inbox.
                for user in users:
                    _offer_instances(http, user, 1)
                for n in range(CLERK_TASKS):
                    booking = {"customer": f"guest-{n}", "nights": 2}
                    _rest(
                        http,
                        "POST",
                        "/process/start",
                        json={"processName": "BookingRoom", "object": booking},
                    )
                state = {_listing_key(*key): _read(http, *key) for key in listings}
                initial = dict(state)
                offered = {user: _tasks(state[_listing_key("user", user)]) for user in users}
                queue = _tasks(state[_listing_key("group", CLERK)])
                # Spread the claims over the users: claim i is user i mod USERS's.
                own_claims = [
                    _claim(offered[users[i % USERS]][i // USERS], users[i % USERS], "own")
                    for i in range(own)
                ]
                clerk_claims = [
                    _claim(queue[i], users[(7 * i) % USERS], "clerk") for i in range(clerk)
                ]
                pools = {"own": iter(own_claims), "clerk": iter(clerk_claims)}
                by_phase = {
                    name: [next(pools[queue]) for _ in range(count)]
                    for name, queue, count in phases
                }
                in_order = [claim for claims in by_phase.values() for claim in claims]
                # A replica whose pollers never saw a task reads its instance to learn whom
                # a claim touches: those replies as they were before any claim.
                for instance_id in {claim.instance_id for claim in in_order}:
                    _rest(http, "GET", f"/instance/{instance_id}/tasks")
                facade = Facade(served.url, workers=1, env={})
                for claim in in_order:
                    before = set(capture.replies)
                    variables = {"id": claim.task_id, "instanceId": claim.instance_id}
                    reply = facade.post(
                        json.dumps({"query": CLAIM, "variables": variables}),
                        headers(claim.user),
                    )
                    if reply.get("errors") or reply["data"]["claimTask"]["errors"]:
                        raise RuntimeError(f"claim {claim} failed: {reply}")
                    triggers = [key for key in capture.replies if key not in before]
                    trigger = next(k for k in triggers if k.startswith("POST ") and "/claim" in k)
                    changed: dict[str, tuple[int, str]] = {}
                    for key in (("user", claim.user), ("group", CLERK)):
                        now = _read(http, *key)
                        if _tasks(now) != _tasks(state[_listing_key(*key)]):
                            changed[_listing_key(*key)] = state[_listing_key(*key)] = now
                    effects_by_claim[trigger] = changed
        finally:
            if facade is not None:
                facade.stop()
            served.stop()
            runtime.state.runtime.close()
    # Every listing as it was before the first claim; the claims' own replies as made.
    replies: dict[str, Any] = {**capture.replies, **initial}
    snapshot.write_text(json.dumps(replies))
    effects.write_text(json.dumps(effects_by_claim))
    return LiveData(
        users=users,
        listings=[_listing_key(*key) for key in listings],
        phases=by_phase,
    )
