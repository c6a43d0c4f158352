"""``python -m bench.critical_path [--baseline DIR]``: the inbox's critical path, the facade's
and the direct client's, cut at the same points.

At 20 ms upstream latency the inbox needs two levels of calls (40 ms); whatever a client of
the upstream adds sits in a few segments of its critical path. For the facade they are
measured per request inside its process (its upstream calls timed where
``UpstreamClient._call`` is entered and returns, the request where the ASGI app receives it
and sends the last body byte); for the direct client (``bench.load.rest_inbox``, as the
bench's peer runs it) inside the load generator, its calls timed where they start and end:

- before the list: request in -> the task-list call entered (parsing, validation, context);
- the list call: entered -> returned (20 ms of it the upstream's);
- the list reply -> the first second-level call entered (the tasks read, the calls started);
- the fan-out: first -> last second-level call entered (25 calls for the facade, 40 direct);
- last call -> last reply: the last call entered -> the last reply returned;
- after the last reply: the last reply returned -> the response's last byte sent (the
  facade) or the inbox joined (the direct client).

The two take turns in rounds on one canned upstream. "At the client" is the load
generator's p50 for each: the facade's is its inside time plus the hop (the request to
the facade and the answer back), which the direct client does not make.

With ``--baseline DIR`` the facade's code comes from ``DIR`` (``PYTHONPATH``), so one
change can be compared: the instrumentation only wraps ``_call`` and the ASGI app.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _serve(port: int, out: Path) -> None:
    """The facade process: the real app, its client's calls and its requests timed."""
    import uvicorn

    from backend.client import UpstreamClient
    from server.app import create_app_from_env

    # One JSON line per request, written at once: uvicorn ends the process by re-raising
    # the stopping signal, so nothing can wait for the end.
    sink = out.open("a", buffering=1)
    current: dict[str, Any] = {}
    original = UpstreamClient._call

    async def timed_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        entered = time.perf_counter()
        try:
            return await original(self, *args, **kwargs)
        finally:
            current.setdefault("calls", []).append((entered, time.perf_counter()))

    UpstreamClient._call = timed_call  # type: ignore[method-assign]
    app = create_app_from_env()

    async def timed_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await app(scope, receive, send)
            return
        current.clear()
        current["in"] = time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                current["out"] = time.perf_counter()
                sink.write(json.dumps(current) + "\n")

        await app(scope, receive, timed_send)

    uvicorn.run(timed_app, port=port, log_level="warning", access_log=False)


#: The segments reported, cut alike for the facade and the direct client.
ROWS = (
    "before the list",
    "the list call",
    "list reply -> first call",
    "fan-out",
    "last call -> last reply",
    "after the last reply",
    "inside, whole",
)


def _split(calls: list[tuple[float, float]], begin: float, end: float) -> dict[str, float] | None:
    """The segments of one inbox from its upstream calls' (start, end) and its own
    begin and end, all in one clock's ms: the list call is the one that starts first."""
    calls = sorted(calls)
    if len(calls) < 2:
        return None
    (list_in, list_out), rest = calls[0], calls[1:]
    last_start = max(start for start, _ in rest)
    last_end = max(end for _, end in rest)
    return {
        "before the list": list_in - begin,
        "the list call": list_out - list_in,
        "list reply -> first call": rest[0][0] - list_out,
        "fan-out": last_start - rest[0][0],
        "last call -> last reply": last_end - last_start,
        "after the last reply": end - last_end,
        "inside, whole": end - begin,
    }


def _facade_segments(record: dict[str, Any]) -> dict[str, float] | None:
    """A facade request's segments, from the times its process recorded (seconds)."""
    calls = [(start * 1000, end * 1000) for start, end in record.get("calls", [])]
    return _split(calls, record["in"] * 1000, record["out"] * 1000)


def _direct_segments(calls: list[list[float]], latency: float) -> dict[str, float] | None:
    """A direct inbox's segments: its calls in ms from its start, its end its latency."""
    return _split([(start, end) for start, end in calls], 0.0, latency)


def _report(name: str, measured: list[dict[str, float]], seen: list[float]) -> dict[str, float]:
    """Each row's median, and the client's p50 (what it waited, the hop included)."""
    if not measured:
        raise RuntimeError(f"{name}: no inbox had its upstream calls timed")
    medians = {row: statistics.median([segments[row] for segments in measured]) for row in ROWS}
    medians["at the client, p50"] = statistics.median(seen)
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="run the facade's code from this folder")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--count", type=int, default=15, help="inboxes per round and peer")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(int(args.serve[0]), Path(args.serve[1]))
        return 0

    import subprocess

    import httpx

    from . import snapshot
    from .processes import LoadGenerator, Upstream, _stop, free_port, wait_until_serving
    from .scenarios import inbox

    with tempfile.TemporaryDirectory(prefix="oneweb-critical-") as tmp:
        snapshot_path = Path(tmp) / "snapshot.json"
        snapshot.take(snapshot_path)
        upstream, load = Upstream(snapshot_path), LoadGenerator()
        port, out = free_port(), Path(tmp) / "records.json"
        # As the bench runs the facade (bench/processes.py).
        env = {
            **os.environ,
            "ONEWEB_BASE_URL": upstream.url,
            "ONEWEB_MAX_CONCURRENCY": "32",
            "ONEWEB_GC_TUNING": "true",
        }
        if args.baseline:
            env["PYTHONPATH"] = str(args.baseline)
        command = [sys.executable, str(HERE / "critical_path.py"), "--serve", str(port), str(out)]
        facade = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        facade_seen: list[float] = []
        direct_seen: list[float] = []
        direct: list[dict[str, float]] = []
        try:
            wait_until_serving(
                facade,
                "the facade",
                lambda: httpx.get(url + "/healthz", timeout=1).status_code == 200,
            )
            scenario = inbox(snapshot.INBOX_USER)
            rest = {"base": upstream.url, "user": snapshot.INBOX_USER, "timed": True}
            upstream.set_latency(20)
            graphql = url + "/graphql"
            body, headers = scenario.body(), scenario.headers

            def facade_round(count: int) -> None:
                done = load.run(graphql, body, headers, concurrency=1, count=count)
                facade_seen.extend(done["latencies_ms"])

            def direct_round(count: int) -> None:
                done = load.run("", "", {}, concurrency=1, count=count, rest=rest)
                direct_seen.extend(done["latencies_ms"])
                for calls, latency in zip(done["calls"], done["latencies_ms"], strict=True):
                    segments = _direct_segments(calls, latency)
                    if segments is not None:
                        direct.append(segments)

            # Warm both: the facade's records of its warm-up are dropped below.
            load.run(graphql, body, headers, concurrency=1, count=10)
            load.run("", "", {}, concurrency=1, count=10, rest=rest)
            turns = (facade_round, direct_round)
            for round_ in range(args.rounds):
                # Taking turns, each first in every other round: noise hits both alike.
                for run in turns[:: -1 if round_ % 2 else 1]:
                    run(args.count)
        finally:
            _stop(facade)
            load.stop()
            upstream.stop()
        records = [json.loads(line) for line in out.read_text().splitlines()]
        measured = [s for s in map(_facade_segments, records[10:]) if s]
    ours = _report("the facade", measured, facade_seen)
    theirs = _report("the direct client", direct, direct_seen)
    print(
        f"inbox at 20 ms upstream latency, {args.rounds} interleaved rounds of {args.count}, "
        "medians (ms):"
    )
    print(f"  {'':28s} {'facade':>8s} {'direct':>8s}")
    for row in (*ROWS, "at the client, p50"):
        print(f"  {row:28s} {ours[row]:8.2f} {theirs[row]:8.2f}")
    print(
        f"  {'the hop (client - inside)':28s} {ours['at the client, p50'] - ours['inside, whole']:8.2f}"
    )
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):  # run as a script in the facade process
        # After PYTHONPATH: with --baseline, the facade's code must come from there.
        sys.path.append(str(HERE.parent))
        __package__ = "bench"
    raise SystemExit(main())
