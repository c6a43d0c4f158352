"""``python -m bench`` (``make bench``): every scenario against the real facade, in one run.

1. Snapshot: the embedded runtime (real BPMN) answers each scenario once through the
   facade; its replies are recorded (``bench.snapshot``).
2. A canned upstream replays them with injectable latency and counts calls
   (``bench.upstream``); a load generator sends the queries (``bench.load``); the facade
   runs as ``oneweb-graphql serve --upstream URL --workers N``. Each is its own process.
3. For loaders on (1 worker), loaders off (1 worker) and loaders on (2 workers): upstream
   calls per query, p50/p95 at upstream latency 0 and 20 ms, facade CPU per query, and
   requests/s at concurrency 1, 8 and 32.
4. With loaders on (1 worker), the peers side by side in interleaved rounds: GraphQL Mesh
   over the runtime's OpenAPI description (``bench/mesh/``; skipped, and said so, without
   node) and a frontend calling REST itself (``bench.peers``).
5. The scaling with workers: 1 and 2 workers (loaders on) side by side, in interleaved
   rounds at concurrency 32, so that a slow spell of the machine hits both alike.
6. The live inbox: 1,000 subscriptions over 50 inboxes on one process (``bench.live``).

Prints a table, writes ``bench/results.json`` and ``bench/latency.png``.

    python -m bench [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import live, peers, report, snapshot
from .mesh_peer import Mesh, MeshUnavailable
from .processes import Facade, LoadGenerator, Upstream
from .scenarios import Scenario, inbox

HERE = Path(__file__).resolve().parent
LATENCIES_MS = (0, 20)
CONCURRENCIES = (1, 8, 32)
#: Upstream calls in flight per facade process: the inbox's second level is 25 calls wide.
MAX_CONCURRENCY = 32


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def _samples(scenario: Scenario, latency_ms: int, quick: bool) -> int:
    """How many sequential queries to time: about 2-4 s each."""
    per_query_ms = max(scenario.levels * latency_ms, 1) + 8
    budget_ms = 1500 if quick else 4000
    return max(6, min(300, int(budget_ms / per_query_ms)))


def _check(scenario: Scenario, reply: dict[str, Any]) -> None:
    if "errors" in reply:
        raise RuntimeError(f"{scenario.name}: {reply['errors'][:3]}")
    for field, value in reply["data"].items():
        if isinstance(value, dict) and value.get("errors"):
            raise RuntimeError(f"{scenario.name}: {field}: {value['errors']}")


def _measure_scenario(
    scenario: Scenario, facade: Facade, upstream: Upstream, load: LoadGenerator, quick: bool
) -> dict[str, Any]:
    """Calls per query, then latency (and CPU at latency 0) of sequential queries."""
    upstream.set_latency(0)
    _check(scenario, facade.post(scenario.body(), scenario.headers))
    upstream.reset()
    facade.post(scenario.body(), scenario.headers)
    calls, missing = upstream.calls()
    if missing:
        raise RuntimeError(f"{scenario.name}: not in the snapshot: {missing}")
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "comparison": scenario.comparison,
        "note": scenario.note,
        "calls": calls,
        "lower_bound": scenario.lower_bound,
        "levels": scenario.levels,
        "latency": {},
    }
    body, headers = scenario.body(), scenario.headers
    for latency_ms in LATENCIES_MS:
        upstream.set_latency(latency_ms)
        count = _samples(scenario, latency_ms, quick)
        load.run(facade.graphql, body, headers, concurrency=1, count=max(3, count // 10))
        cpu_before = facade.cpu_seconds()
        run = load.run(facade.graphql, body, headers, concurrency=1, count=count)
        cpu = facade.cpu_seconds() - cpu_before
        latencies = run["latencies_ms"]
        limit_ms = scenario.levels * latency_ms
        p50 = _percentile(latencies, 50)
        entry = {
            "upstream_ms": latency_ms,
            "queries": len(latencies),
            "p50_ms": round(p50, 2),
            "p95_ms": round(_percentile(latencies, 95), 2),
            "limit_ms": limit_ms,
            "p50_over_limit": round(p50 / limit_ms, 3) if limit_ms else None,
        }
        if latency_ms == 0:
            entry["cpu_ms_per_query"] = round(cpu * 1000 / len(latencies), 2)
            result["cpu_ms_per_query"] = entry["cpu_ms_per_query"]
        result["latency"][str(latency_ms)] = entry
    upstream.set_latency(0)
    return result


def _measure_throughput(
    scenario: Scenario,
    facade: Facade,
    load: LoadGenerator,
    *,
    label: str,
    workers: int,
    quick: bool,
) -> list[dict[str, Any]]:
    """Requests/s and latency of ``scenario`` at each concurrency, upstream latency 0."""
    body, headers = scenario.body(), scenario.headers
    seconds = 1.5 if quick else 4.0
    rows = []
    for concurrency in CONCURRENCIES:
        load.run(facade.graphql, body, headers, concurrency=concurrency, seconds=0.5)
        run = load.run(facade.graphql, body, headers, concurrency=concurrency, seconds=seconds)
        latencies = run["latencies_ms"]
        rows.append(
            {
                "config": label,
                "workers": workers,
                "concurrency": concurrency,
                "queries": len(latencies),
                "rps": round(len(latencies) / run["seconds"], 1),
                "p50_ms": round(_percentile(latencies, 50), 2),
                "p95_ms": round(_percentile(latencies, 95), 2),
            }
        )
    return rows


def _measure_scaling(
    upstream: Upstream, load: LoadGenerator, env: dict[str, str], quick: bool, log: Path
) -> dict[str, Any]:
    """Inbox requests/s at concurrency 32 of 1 and of 2 workers, in interleaved rounds."""
    rounds, seconds = (2, 1.5) if quick else (3, 2.0)
    scenario = inbox(snapshot.INBOX_USER)
    body, headers = scenario.body(), scenario.headers
    facades = {
        workers: Facade(upstream.url, workers=workers, env=env, log=log) for workers in (1, 2)
    }
    measured: dict[int, list[float]] = {1: [], 2: []}
    cores: dict[int, list[float]] = {1: [], 2: []}
    try:
        for _ in range(rounds):
            for workers, facade in facades.items():
                load.run(facade.graphql, body, headers, concurrency=32, seconds=0.5)
                cpu = facade.cpu_seconds()
                run = load.run(facade.graphql, body, headers, concurrency=32, seconds=seconds)
                measured[workers].append(round(len(run["latencies_ms"]) / run["seconds"], 1))
                # The cores the facade's processes used: on a small machine the load
                # generator and the upstream take the rest, which bounds the ratio.
                cores[workers].append(round((facade.cpu_seconds() - cpu) / run["seconds"], 2))
    finally:
        for facade in facades.values():
            facade.stop()
    one, two = (_percentile(measured[w], 50) for w in (1, 2))
    return {
        "concurrency": 32,
        "rounds": rounds,
        "rps": measured,
        "cores": cores,
        "one_worker": one,
        "two_workers": two,
        "cores_one_worker": _percentile(cores[1], 50),
        "cores_two_workers": _percentile(cores[2], 50),
    }


def _compare_peers(
    facade: Facade, upstream: Upstream, load: LoadGenerator, quick: bool, log: Path
) -> dict[str, Any]:
    """The peer comparison, with GraphQL Mesh where it can run here."""
    mesh: Mesh | None = None
    missing: str | None = None
    print("peers: GraphQL Mesh (build and start) ...", flush=True)
    try:
        mesh = Mesh(upstream.url, log=log)
    except MeshUnavailable as error:
        missing = str(error)
        print(f"peers: {missing}", flush=True)
    print("peers: facade, Mesh and direct REST in interleaved rounds ...", flush=True)
    try:
        return peers.compare(
            facade,
            mesh,
            upstream,
            load,
            user=snapshot.INBOX_USER,
            quick=quick,
            mesh_missing=missing,
        )
    finally:
        if mesh is not None:
            mesh.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the facade (see bench/README.md).")
    parser.add_argument("--quick", action="store_true", help="fewer samples, shorter runs")
    parser.add_argument(
        "--peers-only",
        action="store_true",
        help="only the side-by-side comparison with the peers (for trying a change quickly)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where results go (default bench/; with --peers-only, nowhere unless given)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    env = {"ONEWEB_MAX_CONCURRENCY": str(MAX_CONCURRENCY)}

    with tempfile.TemporaryDirectory(prefix="oneweb-bench-") as tmp:
        snapshot_path = Path(tmp) / "snapshot.json"
        print("snapshot: recording the embedded runtime's replies ...", flush=True)
        scenarios = snapshot.take(snapshot_path)
        upstream = Upstream(snapshot_path)
        load = LoadGenerator()
        results: list[dict[str, Any]] = []
        throughput: list[dict[str, Any]] = []
        comparison: dict[str, Any] = {}
        scaling: dict[str, Any] | None = None
        loaded: dict[str, bool] = {}
        try:
            configs = (
                ("loaders on", True, 1, scenarios),
                ("loaders off", False, 1, [inbox(snapshot.INBOX_USER, comparison=True)]),
                ("loaders on", True, 2, []),
            )
            if args.peers_only:
                configs = (("loaders on", True, 1, []),)
            for label, loaders, workers, measured in configs:
                print(f"facade: {label}, {workers} worker(s) ...", flush=True)
                facade = Facade(
                    upstream.url,
                    workers=workers,
                    env={**env, "ONEWEB_LOADERS": str(loaders).lower()},
                    log=Path(tmp) / "facade.log",
                )
                try:
                    if workers == 1 and not loaded:
                        # What uvicorn's "auto" picked, from the process's own memory map.
                        loaded = {name: facade.loaded(name) for name in ("uvloop", "httptools")}
                    for scenario in measured:
                        results.append(
                            _measure_scenario(scenario, facade, upstream, load, args.quick)
                        )
                    if loaders and workers == 1:
                        comparison = _compare_peers(
                            facade, upstream, load, args.quick, Path(tmp) / "mesh.log"
                        )
                    if args.peers_only:
                        continue
                    throughput += _measure_throughput(
                        inbox(snapshot.INBOX_USER, comparison=not loaders),
                        facade,
                        load,
                        label=label,
                        workers=workers,
                        quick=args.quick,
                    )
                finally:
                    facade.stop()
            if not args.peers_only:
                print("facade: 1 and 2 workers, interleaved ...", flush=True)
                scaling = _measure_scaling(
                    upstream,
                    load,
                    {**env, "ONEWEB_LOADERS": "true"},
                    args.quick,
                    Path(tmp) / "facade.log",
                )
        finally:
            load.stop()
            upstream.stop()
        live_results = None
        if not args.peers_only:
            live_results = live.measure(Path(tmp), quick=args.quick, log=Path(tmp) / "live.log")

    summary = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "make bench" + (" (python -m bench --quick)" if args.quick else ""),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            # The machine may be shared with other work: how busy it was at the end.
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "setup": {
            "upstream": "canned replies recorded from the embedded runtime (bench/upstream.py)",
            "ONEWEB_MAX_CONCURRENCY": MAX_CONCURRENCY,
            "throughput_scenario": "inbox, upstream latency 0",
            "facade_loaded": loaded,
        },
        "scenarios": results,
        "throughput": throughput,
        "scaling": scaling,
        "peers": comparison,
        "live": live_results,
        "seconds": round(time.monotonic() - started, 1),
    }
    summary["targets"] = report.targets(summary)
    out = args.out or (None if args.peers_only else HERE)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        report.write(summary, out)
    print(report.table(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
