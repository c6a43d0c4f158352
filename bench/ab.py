"""``python -m bench.ab BASELINE [--rounds N]``: one change measured against a baseline checkout.

A is the facade from ``BASELINE`` (a folder with the baseline's source, e.g.
``git archive HEAD~1 | tar -x -C /tmp/base``; it runs on this checkout's virtualenv
with ``PYTHONPATH`` pointing there), B the facade from this checkout. Both serve the
bench's inbox from one canned upstream, in interleaved rounds (A first, then B first, ...): CPU per inbox (latency 0,
40 sequential), inbox/s at concurrency 8 (latency 0, 1.5 s), p50 at 20 ms upstream latency
(15 sequential). Prints each and B/A. How every lever in bench/README.md was measured.
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path

from . import snapshot
from .processes import Facade, LoadGenerator, Upstream
from .scenarios import inbox


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path, help="a folder with the baseline's source")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = {"ONEWEB_MAX_CONCURRENCY": "32"}
    with tempfile.TemporaryDirectory(prefix="oneweb-ab-") as tmp, ExitStack() as started:
        snapshot_path = Path(tmp) / "snapshot.json"
        snapshot.take(snapshot_path)
        # Each process is stopped on the way out, whatever failed: one left running (the
        # upstream) would hold the caller's output pipe open, and a reader of it would hang.
        upstream = Upstream(snapshot_path)
        started.callback(upstream.stop)
        load = LoadGenerator()
        started.callback(load.stop)
        facades: dict[str, Facade] = {}
        for name, extra in (("A", {"PYTHONPATH": str(args.baseline)}), ("B", {})):
            facades[name] = Facade(upstream.url, workers=1, env={**env, **extra})
            started.callback(facades[name].stop)
        scenario = inbox(snapshot.INBOX_USER)
        body, headers = scenario.body(), scenario.headers
        totals = {name: {"cpu": 0.0, "n": 0, "q": 0, "s": 0.0} for name in facades}
        latencies: dict[str, list[float]] = {name: [] for name in facades}
        for facade in facades.values():
            load.run(facade.graphql, body, headers, concurrency=8, seconds=1.0)
        for round_ in range(args.rounds):
            # A first in even rounds, B first in odd ones: neither always runs second.
            order = list(facades.items())[:: -1 if round_ % 2 else 1]
            upstream.set_latency(0)
            for name, facade in order:
                before = facade.cpu_seconds()
                load.run(facade.graphql, body, headers, concurrency=1, count=40)
                totals[name]["cpu"] += facade.cpu_seconds() - before
                totals[name]["n"] += 40
            for name, facade in order:
                done = load.run(facade.graphql, body, headers, concurrency=8, seconds=1.5)
                totals[name]["q"] += len(done["latencies_ms"])
                totals[name]["s"] += done["seconds"]
            upstream.set_latency(20)
            for name, facade in order:
                done = load.run(facade.graphql, body, headers, concurrency=1, count=15)
                latencies[name] += done["latencies_ms"]
    figures = {
        name: (t["cpu"] * 1000 / t["n"], t["q"] / t["s"], _median(latencies[name]))
        for name, t in totals.items()
    }
    for name, (cpu, rps, p50) in figures.items():
        print(
            f"{name}  CPU {cpu:.2f} ms/inbox  {rps:.1f} inbox/s at c=8  p50 {p50:.1f} ms at 20 ms"
        )
    (cpu_a, rps_a, p50_a), (cpu_b, rps_b, p50_b) = figures["A"], figures["B"]
    print(f"B/A  CPU {cpu_b / cpu_a:.3f}x  inbox/s {rps_b / rps_a:.3f}x  p50 {p50_b / p50_a:.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
