"""Side by side in one run: the facade, GraphQL Mesh, and a frontend calling REST itself.

All three answer the same 20-task inbox (5 instances x 4 tasks, 3 variables) from the same
canned upstream. Rounds are interleaved (facade, Mesh, direct, facade, ...) so that noise
from a shared machine hits each alike, and every figure is reported as a ratio to Mesh and to
the direct client as well as absolutely:

- upstream calls per inbox (the canned upstream's counter);
- p50 at 20 ms upstream latency, sequential inboxes;
- server CPU per inbox at upstream latency 0 (``/proc`` of the server process; the direct
  client has no server);
- inboxes/s at concurrency 8, upstream latency 0, and the cores the server used meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .mesh_peer import HERE as MESH_HERE
from .processes import Facade, LoadGenerator, Upstream
from .scenarios import INBOX, INBOX_INSTANCES, TASKS_PER_INSTANCE

__all__ = ["compare"]

CONCURRENCY = 8
LATENCY_MS = 20
_TASKS = INBOX_INSTANCES * TASKS_PER_INSTANCE


@dataclass
class _Peer:
    key: str
    label: str
    #: ``run(concurrency, count=..., seconds=...)`` -> the load generator's result.
    run: Callable[..., dict[str, Any]]
    cpu: Callable[[], float] | None
    calls: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    cpu_queries: int = 0
    queries: int = 0
    seconds: float = 0.0
    #: Server CPU seconds during the concurrency-8 runs: cores used = this / seconds.
    busy_s: float = 0.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def _check_inbox(name: str, tasks: list[dict[str, Any]]) -> None:
    """The reply is the whole inbox: 20 tasks, each with its instance's tasks and variables."""
    if len(tasks) != _TASKS:
        raise RuntimeError(f"{name}: {len(tasks)} tasks, not {_TASKS}")
    for task in tasks:
        if len(task["instance"]["tasks"]) != TASKS_PER_INSTANCE or len(task["variables"]) != 3:
            raise RuntimeError(f"{name}: an incomplete task: {task}")


def _graphql_peer(
    key: str, label: str, server: Any, load: LoadGenerator, body: str, headers: dict[str, str]
) -> _Peer:
    def run(concurrency: int, **amount: Any) -> dict[str, Any]:
        return load.run(server.graphql, body, headers, concurrency=concurrency, **amount)

    return _Peer(key, label, run, server.cpu_seconds)


def _peers(
    facade: Facade, mesh: Any | None, upstream: Upstream, load: LoadGenerator, user: str
) -> list[_Peer]:
    ours_body = orjson.dumps({"query": INBOX, "variables": {"user": user}}).decode()
    peers = [
        _graphql_peer("facade", "this facade", facade, load, ours_body, {"X-Remote-User": user})
    ]
    reply = facade.post(ours_body, {"X-Remote-User": user})
    _check_inbox("facade", reply["data"]["tasks"]["nodes"])
    if mesh is not None:
        query = (MESH_HERE / "inbox.graphql").read_text()
        mesh_body = orjson.dumps({"query": query, "variables": {"user": user}}).decode()
        reply = mesh.post(mesh_body, {})
        if reply.get("errors"):
            raise RuntimeError(f"mesh: {reply['errors'][:3]}")
        _check_inbox("mesh", reply["data"]["tasks"]["data"])
        peers.append(_graphql_peer("mesh", "GraphQL Mesh", mesh, load, mesh_body, {}))

    def direct(concurrency: int, **amount: Any) -> dict[str, Any]:
        rest = {"base": upstream.url, "user": user}
        return load.run("", "", {}, concurrency=concurrency, rest=rest, **amount)

    peers.append(_Peer("direct", "frontend calling REST (aiohttp)", direct, None))
    return peers


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or not theirs:
        return None
    return round(ours / theirs, 3)


def compare(
    facade: Facade,
    mesh: Any | None,
    upstream: Upstream,
    load: LoadGenerator,
    *,
    user: str,
    quick: bool,
    mesh_missing: str | None = None,
) -> dict[str, Any]:
    """Measure every peer in interleaved rounds; the rows and the facade's ratios."""
    peers = _peers(facade, mesh, upstream, load, user)
    rounds = 2 if quick else 5
    per_round_20 = 8 if quick else 15
    per_round_0 = 10 if quick else 25
    seconds = 1.0 if quick else 2.0
    upstream.set_latency(0)
    for peer in peers:
        peer.run(CONCURRENCY, seconds=0.5)  # warm-up: connections, caches, node's JIT
        upstream.reset()
        peer.run(1, count=1)
        peer.calls, missing = upstream.calls()
        if missing:
            raise RuntimeError(f"{peer.label}: not in the snapshot: {missing}")
    for _ in range(rounds):
        upstream.set_latency(LATENCY_MS)
        for peer in peers:
            peer.latencies += peer.run(1, count=per_round_20)["latencies_ms"]
        upstream.set_latency(0)
        for peer in peers:
            before = peer.cpu() if peer.cpu else 0.0
            done = peer.run(1, count=per_round_0)
            if peer.cpu:
                peer.cpu_s += peer.cpu() - before
                peer.cpu_queries += len(done["latencies_ms"])
        for peer in peers:
            before = peer.cpu() if peer.cpu else 0.0
            done = peer.run(CONCURRENCY, seconds=seconds)
            peer.queries += len(done["latencies_ms"])
            peer.seconds += done["seconds"]
            if peer.cpu:
                peer.busy_s += peer.cpu() - before
    rows = [
        {
            "peer": peer.key,
            "label": peer.label,
            "calls": peer.calls,
            "p50_ms_at_20": round(_percentile(peer.latencies, 50), 2),
            "p95_ms_at_20": round(_percentile(peer.latencies, 95), 2),
            "latency_samples": len(peer.latencies),
            "cpu_ms_per_inbox": (
                round(peer.cpu_s * 1000 / peer.cpu_queries, 2) if peer.cpu_queries else None
            ),
            "cpu_samples": peer.cpu_queries,
            "rps_c8": round(peer.queries / peer.seconds, 1),
            # On a shared machine a server gets what the scheduler gives it: how many
            # cores it used says whether inbox/s was bound by its CPU or by the machine.
            "cores_c8": round(peer.busy_s / peer.seconds, 2) if peer.cpu else None,
        }
        for peer in peers
    ]
    ours = rows[0]
    metrics = ("calls", "p50_ms_at_20", "cpu_ms_per_inbox", "rps_c8")
    ratios = {
        f"facade/{row['peer']}": {metric: _ratio(ours[metric], row[metric]) for metric in metrics}
        for row in rows[1:]
    }
    return {
        "inbox": f"{_TASKS} tasks in {INBOX_INSTANCES} instances, 3 variables each",
        "rounds": rounds,
        "upstream_ms": LATENCY_MS,
        "concurrency": CONCURRENCY,
        "mesh": (
            None
            if mesh is None
            else {"config": str(Path("bench/mesh/.meshrc.yaml")), **_mesh_versions()}
        ),
        "mesh_missing": mesh_missing,
        "rows": rows,
        "ratios": ratios,
    }


def _mesh_versions() -> dict[str, str]:
    package = orjson.loads((MESH_HERE / "package.json").read_bytes())
    return dict(package["dependencies"])
